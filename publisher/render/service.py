"""Rendering a catalog's items for their channels, cached by what each render depends on.

A render depends on the item (its content hash), the channel's settings, the portal's
settings (article URLs) and the addresses of other items it may link to. The result is
kept as JSON under `.publisher/cache/render/`, so unchanged items are never rendered again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from functools import cache
from pathlib import Path

from publisher.adapters.base import Channel, Post
from publisher.adapters.portal import PortalSettings
from publisher.adapters.registry import CHANNEL_TYPES
from publisher.catalog import Catalog
from publisher.content.model import ContentItem
from publisher.media import MediaCache
from publisher.render.context import RenderContext

log = logging.getLogger(__name__)


class Renderer:
    """Renders items of one catalog; every channel shares one context and media cache."""

    def __init__(self, catalog: Catalog) -> None:
        cache_dir = catalog.workspace.state_dir / "cache"
        portal = catalog.channels["portal"].settings
        assert isinstance(portal, PortalSettings)
        by_source = {item.path_on_disk: item for item in catalog.items}
        self.context = RenderContext(
            root=catalog.workspace.root,
            portal=portal,
            cache_dir=cache_dir,
            items_by_source=by_source,
            media=MediaCache(cache_dir / "media"),
        )
        self.channels: dict[str, Channel] = {
            name: CHANNEL_TYPES[name](config.settings) for name, config in catalog.channels.items()
        }
        self._store = cache_dir / "render"
        self._links = _digest(sorted((str(p), self.context.slug(i)) for p, i in by_source.items()))

    def render(self, item: ContentItem, channel: str) -> Post:
        key = self._key(item, channel)
        cached = self._load(channel, key)
        if cached is not None:
            return cached
        try:
            post = self.channels[channel].render(item, self.context)
        except Exception as exc:  # one broken item must not stop the campaign
            log.exception("rendering %s for %s failed", item.id, channel)
            return Post(
                channel, item.id, item.content_hash, (), errors=(f"rendering failed: {exc}",)
            )
        self._save(channel, key, post)
        return post

    def render_item(
        self, item: ContentItem, channels: tuple[str, ...] | None = None
    ) -> dict[str, Post]:
        return {name: self.render(item, name) for name in channels or item.channels}

    def _key(self, item: ContentItem, channel: str) -> str:
        settings = self.channels[channel].settings.model_dump_json()
        portal = self.context.portal.model_dump_json()
        return _digest([_code_version(), item.content_hash, channel, settings, portal, self._links])

    def _load(self, channel: str, key: str) -> Post | None:
        path = self._store / channel / f"{key}.json"
        try:
            post = Post.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return post if all(Path(m).exists() for m in post.media) else None

    def _save(self, channel: str, key: str, post: Post) -> None:
        folder = self._store / channel
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, encoding="utf-8") as file:
            json.dump(post.to_json(), file, ensure_ascii=False)
        Path(file.name).replace(folder / f"{key}.json")


@cache
def _code_version() -> str:
    """A digest of the code that renders, so a new release never serves stale renders."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("render", "adapters", "media", "templates"):
        for path in sorted((package / folder).rglob("*")):
            if path.suffix in (".py", ".html"):
                digest.update(path.read_bytes())
    digest.update((package / "cards.py").read_bytes())
    return digest.hexdigest()


def _digest(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:32]
