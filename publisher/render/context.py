"""What rendering needs beyond the item: the portal's addresses, media and other items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from publisher.content.assets import Asset, is_external
from publisher.content.model import ContentItem
from publisher.render.plain import LinkResolver
from publisher.render.text import slugify

if TYPE_CHECKING:
    from publisher.adapters.portal import PortalSettings
    from publisher.media import MediaCache


@dataclass(frozen=True)
class RenderContext:
    """Shared, read-only inputs of every channel's `render`.

    The portal is the canonical home of every item: other channels link to its article
    and use its media addresses for images they must give by URL (Zalo). Once the portal
    article is published, its address is the one the portal gave (`published_urls`, from
    the delivery's receipt: WordPress may have made the slug unique); before, it is
    predicted from the item's slug, unique within the workspace (`slugs`).
    """

    root: Path
    portal: PortalSettings
    cache_dir: Path
    items_by_source: Mapping[Path, ContentItem]
    media: MediaCache
    slugs: Mapping[str, str] = field(default_factory=dict)  # item id -> its unique slug
    published_urls: Mapping[str, str] = field(default_factory=dict)  # item id -> receipt URL
    # (item file, href) -> public address: every channel resolves the same links
    resolved_links: dict[tuple[Path, str], str] = field(default_factory=dict, compare=False)

    @property
    def cards_dir(self) -> Path:
        return self.cache_dir / "cards"

    def slug(self, item: ContentItem) -> str:
        return self.slugs.get(item.id) or wanted_slug(item)

    def article_url(self, item: ContentItem) -> str | None:
        """Where the item's portal article is (or will be); None when it goes to no portal."""
        if "portal" not in item.channels:
            return None
        published = self.published_urls.get(item.id)
        if published:
            return published
        path = self.portal.article_path.format(slug=self.slug(item))
        return self.portal.base_url.rstrip("/") + "/" + path.lstrip("/")

    def media_url(self, file: Path) -> str:
        """Where the portal serves a media file (the static site copies it to media/)."""
        return f"{self.portal.base_url.rstrip('/')}/media/{quote(file.name)}"

    def link_resolver(self, item: ContentItem) -> LinkResolver:
        """Turns the body's links into public addresses: other items and files via the portal."""
        files = {asset.path: asset for asset in item.assets if asset.role == "file"}

        def resolve(href: str) -> str:
            key = (item.path_on_disk, href)
            if key not in self.resolved_links:
                self.resolved_links[key] = address(href)
            return self.resolved_links[key]

        def address(href: str) -> str:
            if is_external(href):
                return href
            target = (item.path_on_disk.parent / unquote(urlsplit(href).path)).resolve()
            linked = self.items_by_source.get(target) or self.items_by_source.get(
                target / "index.md"
            )
            if linked is not None:
                return self.article_url(linked) or href
            asset: Asset | None = files.get(target)
            return self.media_url(asset.path) if asset else href

        return resolve


def wanted_slug(item: ContentItem) -> str:
    """The slug an item asks for: its `portal: {slug}` or its (portal) title's."""
    block = item.meta.portal
    if block and block.slug:
        return block.slug
    return slugify(block.title if block and block.title else item.title)


def unique_slugs(items: Iterable[ContentItem]) -> dict[str, str]:
    """Each portal item's slug, made unique as WordPress does ("-2", "-3"): items are taken
    oldest first (date, then id), so an item dropped in later never takes an older one's
    address."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    on_portal = [item for item in items if "portal" in item.channels]
    for item in sorted(on_portal, key=lambda i: (i.meta.date or dt.date.min, i.id)):
        base = wanted_slug(item)
        slug, suffix = base, 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        slugs[item.id] = slug
    return slugs
