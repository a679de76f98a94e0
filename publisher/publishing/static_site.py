"""The portal's default mode: its page written into the static site under `.publisher/site/`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from publisher.adapters.base import Call, Post
from publisher.publishing.hosting import copy_once
from publisher.publishing.model import StepLog
from publisher.publishing.outbox import OutboxClient, write_json
from publisher.site import page_html, write_index

REGISTRY = "articles.json"


class StaticSiteClient(OutboxClient):
    """Writes the outbox documents and publishes the page, its media and the index."""

    def __init__(self, folder: Path, site_dir: Path, base_url: str, site_name: str) -> None:
        super().__init__(folder)
        self.site_dir = site_dir
        self.base_url = base_url
        self.site_name = site_name

    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        result = super().run(call, payload, steps)
        if call.step == "page":
            html = page_html(payload["html"], self.base_url, call.endpoint)
            target = self.site_dir / call.endpoint
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
        return result

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        remote_id, url = super().receipt(post, results)
        for path in post.media:
            copy_once(Path(path), self.site_dir / "media" / Path(path).name)
        page = next(call for call in post.calls if call.step == "page")
        self._register(post, page.endpoint)
        return remote_id, url

    def _register(self, post: Post, endpoint: str) -> None:
        registry_path = self.site_dir / REGISTRY
        articles = json.loads(registry_path.read_text("utf-8")) if registry_path.exists() else {}
        articles[post.item_id] = {"href": endpoint.removesuffix("index.html"), **post_meta(post)}
        write_json(registry_path, articles)
        write_index(self.site_dir, self.site_name, list(articles.values()))


def post_meta(post: Post) -> dict[str, str]:
    """Title and date for the index, read back from the page's Open Graph tags."""
    html = next(c.payload["html"] for c in post.calls if c.step == "page")
    return {"title": _meta(html, "og:title"), "date": _meta(html, "article:published_time")}


def _meta(html: str, name: str) -> str:
    marker = f'<meta property="{name}" content="'
    start = html.find(marker)
    if start < 0:
        return ""
    start += len(marker)
    import html as html_module

    return html_module.unescape(html[start : html.index('"', start)])
