"""`publisher preview --out DIR`: the preview's pages as static files, to send for approval."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from publisher.catalog import load_catalog
from publisher.naming import file_name_of, item_file_name
from publisher.preview.links import ExportLinks
from publisher.preview.pages import render_page
from publisher.preview.views import PreviewData
from publisher.store.database import open_workspace_store
from publisher.store.deliveries import utcnow
from publisher.workspace import Workspace


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    pages: int
    files: int


def export_preview(workspace: Workspace, folder: Path, lang: str = "vi") -> ExportReport:
    store = open_workspace_store(workspace)
    try:
        deliveries, pauses = store.deliveries.all(), store.deliveries.pauses()
    finally:
        store.close()
    data = PreviewData.build(load_catalog(workspace), deliveries)
    top = ExportLinks(0)
    stamp = utcnow().astimezone(data.zone).strftime("%d/%m/%Y %H:%M")

    def write(path: str, template: str, context: dict, links: ExportLinks) -> None:
        html = render_page(
            template,
            context,
            links=links,
            lang=lang,
            other_lang_url="",
            live_reload=False,
            workspace_name=workspace.root.name,
            generated_at=stamp,
        )
        _write(folder / path, html)

    write("index.html", "index.html", data.index(top), top)
    write("calendar.html", "calendar.html", data.calendar(top), top)
    write("status.html", "status.html", data.status(top, pauses), top)
    nested = top.at_depth(1)
    for item in data.catalog.items:
        name = item_file_name(item.id)
        write(f"items/{name}.html", "item.html", data.item(item, nested), nested)
        if "portal" in item.channels:
            _write(folder / f"portal/{name}.html", data.portal_page(item, nested))
    for path in sorted(top.files):
        shutil.copyfile(path, _ensure(folder / "files" / file_name_of(path)))
    for name in ("preview.css", "preview.js"):
        with resources.as_file(resources.files("publisher") / "static" / name) as source:
            shutil.copyfile(source, _ensure(folder / "static" / name))
    return ExportReport(folder, 3 + len(data.catalog.items), len(top.files))


def _ensure(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write(path: Path, text: str) -> None:
    _ensure(path).write_text(text, encoding="utf-8")
