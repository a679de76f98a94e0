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
    """Writes the outbox documents and publishes the page, its media and the index.

    An address the site already gave another item is never taken over: the page goes to
    the next free one ("-2", as WordPress does), and the receipt says where it went.
    """

    def __init__(
        self, folder: Path, site_dir: Path, base_url: str, site_name: str, item_id: str
    ) -> None:
        super().__init__(folder, "portal")
        self.site_dir = site_dir
        self.base_url = base_url.rstrip("/")
        self.site_name = site_name
        self.item_id = item_id

    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        result = super().run(call, payload, steps)
        if call.step == "page":
            endpoint = self._free_endpoint(call.endpoint)
            asked, given = self._address(call.endpoint), self._address(endpoint)
            html = payload["html"].replace(f'"{asked}"', f'"{given}"')  # its canonical address
            target = self.site_dir / endpoint
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page_html(html, self.base_url, endpoint), encoding="utf-8")
            result = {**result, "endpoint": endpoint, "url": given}
        return result

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        remote_id, url = super().receipt(post, results)
        for path in post.media:
            copy_once(Path(path), self.site_dir / "media" / Path(path).name)
        page = results.get("page") or {}
        endpoint = page.get("endpoint") or next(c for c in post.calls if c.step == "page").endpoint
        self._register(post, endpoint)
        return remote_id, page.get("url") or url

    def _free_endpoint(self, endpoint: str) -> str:
        """`endpoint`, or the first "-2", "-3"... of it that no other item's page holds."""
        taken = {
            entry["href"]
            for item_id, entry in self._registry().items()
            if item_id != self.item_id and isinstance(entry, dict) and "href" in entry
        }
        folder = endpoint.removesuffix("/index.html")
        candidate, suffix = endpoint, 2
        while candidate.removesuffix("index.html") in taken:
            candidate, suffix = f"{folder}-{suffix}/index.html", suffix + 1
        return candidate

    def _address(self, endpoint: str) -> str:
        return f"{self.base_url}/{endpoint.removesuffix('index.html')}"

    def _registry(self) -> dict[str, Any]:
        registry_path = self.site_dir / REGISTRY
        if not registry_path.exists():
            return {}
        articles = json.loads(registry_path.read_text("utf-8"))
        return articles if isinstance(articles, dict) else {}

    def _register(self, post: Post, endpoint: str) -> None:
        articles = self._registry()
        articles[post.item_id] = {"href": endpoint.removesuffix("index.html"), **post_meta(post)}
        write_json(self.site_dir / REGISTRY, articles)
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
