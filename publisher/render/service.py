"""Rendering a catalog's items for their channels, cached by what each render depends on.

A render depends on the item (its content hash), the channel's settings, the portal's
settings (article URLs) and the addresses of other items it may link to. The results are
kept as JSON under `.publisher/cache/render/` (one file per item), so unchanged items are
never rendered again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path

from publisher.adapters.base import Channel, Post
from publisher.adapters.portal import PortalSettings
from publisher.adapters.registry import CHANNEL_TYPES
from publisher.catalog import Catalog
from publisher.content.model import ContentItem
from publisher.media import MediaCache
from publisher.media.cache import forget, usable, verified
from publisher.parallel import share_work
from publisher.render.common import making_together
from publisher.render.context import RenderContext, unique_slugs

log = logging.getLogger(__name__)


class Renderer:
    """Renders items of one catalog; every channel shares one context and media cache.

    Each item's posts are kept together in one JSON file, `render/<item digest>.json`,
    mapping each channel to the key its post was made for and the post; a key that no
    longer matches (the item, a setting or the code changed) is rendered again.
    """

    def __init__(self, catalog: Catalog, portal_urls: Mapping[str, str] | None = None) -> None:
        """`portal_urls`: the addresses published portal articles got (item id -> URL),
        which the other channels link to instead of the predicted ones."""
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
            slugs=unique_slugs(catalog.items),
            published_urls=dict(portal_urls or {}),
        )
        self.channels: dict[str, Channel] = {
            name: CHANNEL_TYPES[name](config.settings) for name, config in catalog.channels.items()
        }
        self._store = cache_dir / "render"
        self._posts: dict[str, Post] = {}  # renders and cache reads of this process, by key
        self._keys_of_links()

    def portal_published(self, item_id: str, url: str) -> None:
        """A portal article went out at `url`: posts that link to it are made again."""
        urls = self.context.published_urls
        if urls.get(item_id) != url:
            assert isinstance(urls, dict)
            urls[item_id] = url
            self.context.resolved_links.clear()
            self._keys_of_links()

    def _keys_of_links(self) -> None:
        """What every post of a channel depends on beside its item: the code, the channel's
        and the portal's settings, and every article address a post may link to."""
        context = self.context
        links = _digest(
            [
                sorted((str(p), context.slug(i)) for p, i in context.items_by_source.items()),
                sorted(context.published_urls.items()),
            ]
        )
        portal_json = context.portal.model_dump_json()
        self._channel_keys = {
            name: _digest([_code_version(), name, channel.settings.model_dump_json(), portal_json])
            + links
            for name, channel in self.channels.items()
        }

    def render(self, item: ContentItem, channel: str, for_upload: bool = False) -> Post:
        """One post, its media files checked: a long-lived renderer (the service's) must not
        hand out a post whose cached media were deleted or damaged meanwhile; it is rendered
        again. `for_upload` reads each file in full against the digest it was made with."""
        post = self.render_item(item, (channel,))[channel]
        damaged = [Path(m) for m in post.media if not self._fit(Path(m), for_upload)]
        if not damaged:
            return post
        for path in damaged:
            if self._made_here(path):
                forget(path)
        self._posts.pop(self._key(item, channel), None)
        stored = self._read(item)
        stored.pop(channel, None)
        self._write(item, stored)
        return self.render_item(item, (channel,))[channel]

    def _fit(self, path: Path, for_upload: bool) -> bool:
        """A media file fit to hand out: one this renderer made is checked (in full, for an
        upload); a file of the workspace's own (a video to upload) has to exist."""
        if not self._made_here(path):
            return path.is_file()
        return verified(path) if for_upload else usable(path)

    def _made_here(self, path: Path) -> bool:
        return path.is_relative_to(self.context.cache_dir)

    def render_item(
        self, item: ContentItem, channels: tuple[str, ...] | None = None
    ) -> dict[str, Post]:
        """The item's posts for `channels` (default: its own), rendering what is not cached."""
        wanted = channels or item.channels
        keys = {name: self._key(item, name) for name in wanted}
        posts = {name: self._posts[key] for name, key in keys.items() if key in self._posts}
        if len(posts) < len(wanted):
            stored = self._read(item)
            for name in wanted:
                entry = stored.get(name)
                if name not in posts and entry and entry.get("key") == keys[name]:
                    post = _post(entry, lambda path: self._fit(path, for_upload=False))
                    if post is not None:
                        posts[name] = self._posts[keys[name]] = post
            missing = [name for name in wanted if name not in posts]
            specs = (spec for name in missing for spec in self.channels[name].image_specs)
            with making_together(specs):
                for name in missing:
                    posts[name] = self._posts[keys[name]] = self._render(item, name)
            if missing:
                for name in missing:
                    stored[name] = {"key": keys[name], "post": posts[name].to_json()}
                self._write(item, stored)
        return {name: posts[name] for name in wanted}

    def prepare(self, items: Sequence[ContentItem], workers: int = 1) -> None:
        """Render `items` for all their channels ahead of use, a forked process taking
        half of them when `workers` is 2 (see parallel.py); later calls find them ready."""

        def render_all(part: Sequence[ContentItem]) -> dict[str, Post]:
            for item in part:
                self.render_item(item)
            return self._posts

        stored = sum(1 for _ in self._store.glob("*.json")) if self._store.is_dir() else 0
        if stored < len(items) // 2:  # a cold run: worth a second process
            share_work(items, render_all, self._posts.update, workers)

    def _render(self, item: ContentItem, channel: str) -> Post:
        try:
            return self.channels[channel].render(item, self.context)
        except Exception as exc:  # one broken item must not stop the campaign
            log.exception("rendering %s for %s failed", item.id, channel)
            return Post(
                channel, item.id, item.content_hash, (), errors=(f"rendering failed: {exc}",)
            )

    def _key(self, item: ContentItem, channel: str) -> str:
        return item.content_hash + self._channel_keys[channel]

    def _path(self, item: ContentItem) -> Path:
        name = hashlib.sha256(item.id.encode()).hexdigest()[:32]
        return self._store / f"{name}.json"

    def _read(self, item: ContentItem) -> dict[str, dict]:
        try:
            stored = json.loads(self._path(item).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return stored if isinstance(stored, dict) else {}

    def _write(self, item: ContentItem, stored: dict[str, dict]) -> None:
        target = self._path(item)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        temporary.replace(target)  # readers see the whole file or none


def _post(entry: dict, fit: Callable[[Path], bool]) -> Post | None:
    """A stored post, if it reads back and every media file it sends is `fit` to use."""
    try:
        post = Post.from_json(entry["post"])
    except (KeyError, TypeError, ValueError):
        return None
    return post if all(fit(Path(m)) for m in post.media) else None


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
