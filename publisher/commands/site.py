"""`publisher site`: the portal's static site, written to a folder."""

from __future__ import annotations

from pathlib import Path

from publisher.catalog import load_catalog
from publisher.commands.output import console
from publisher.render.service import Renderer
from publisher.site import write_site
from publisher.workspace import open_workspace


def run_site(root: Path, out: Path | None) -> int:
    catalog = load_catalog(open_workspace(root))
    folder = out or catalog.workspace.state_dir / "site"
    report = write_site(catalog, Renderer(catalog), folder)
    console().print(f"{report.pages} articles and {report.media} media files written to {folder}")
    return 1 if catalog.problems.has_errors() else 0
