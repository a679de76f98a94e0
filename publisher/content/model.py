"""The content model: what an item is once loaded and validated."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from publisher.content.assets import Asset, reference_path
from publisher.content.markdown import ParsedMarkdown
from publisher.content.schema import FrontMatter


class ItemKind(StrEnum):
    ARTICLE = "article"
    INFOGRAPHIC = "infographic"
    VIDEO = "video"


@dataclass(frozen=True)
class ContentItem:
    """One publishable item: an article, an infographic or a video, with its assets.

    `id` is the item's path inside `content/` without extension (a folder item's folder),
    stable across edits; `content_hash` changes whenever text, front matter or any asset
    byte changes. Times are aware datetimes in the workspace's time zone.
    """

    id: str
    path: str
    path_on_disk: Path
    kind: ItemKind
    meta: FrontMatter
    body: str
    document: ParsedMarkdown
    assets: tuple[Asset, ...]
    channels: tuple[str, ...]
    content_hash: str
    not_before: dt.datetime | None
    not_after: dt.datetime | None
    at: dt.datetime | None

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def status(self) -> str:
        return self.meta.status

    @property
    def media(self) -> Asset | None:
        """The infographic image or the video file the item is built around."""
        return next((a for a in self.assets if a.role == "media"), None)

    @property
    def cover(self) -> Asset | None:
        return self.cover_for(None)

    def image_for(self, src: str) -> Asset | None:
        """The body image a Markdown image `src` refers to."""
        try:
            target = (self.path_on_disk.parent / reference_path(src)).resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        return next((a for a in self.images if a.path == target), None)

    def cover_for(self, channel: str | None) -> Asset | None:
        """The cover a channel block sets, else the item's own cover."""
        covers = {a.channel: a for a in self.assets if a.role == "cover"}
        return covers.get(channel) or covers.get(None)

    @property
    def images(self) -> tuple[Asset, ...]:
        """Images shown in the body, in order."""
        return tuple(a for a in self.assets if a.role == "image")

    def summary_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "kind": self.kind.value,
            "title": self.title,
            "status": self.status,
            "channels": list(self.channels),
            "priority": self.meta.priority,
            "content_hash": self.content_hash,
        }
