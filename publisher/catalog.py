"""Reading a whole workspace in one pass: channels, calendar and content, with every problem.

Like Pelican's first phase, this only reads and models; nothing is published or written.
"""

from __future__ import annotations

from dataclasses import dataclass

from publisher.content.loadcache import CACHE_FILE, LoadCache
from publisher.content.loader import load_content
from publisher.content.model import ContentItem
from publisher.problems import Problems
from publisher.settings.channels import ChannelConfig, load_channels
from publisher.settings.schedules import Schedules, load_schedules
from publisher.workspace import Workspace


@dataclass(frozen=True)
class Catalog:
    workspace: Workspace
    channels: dict[str, ChannelConfig]
    schedules: Schedules
    items: list[ContentItem]
    problems: Problems

    def item(self, item_id: str) -> ContentItem | None:
        return next((item for item in self.items if item.id == item_id), None)


def load_catalog(workspace: Workspace, workers: int = 1) -> Catalog:
    """`workers` 2 lets a forked process share a cold load (only where no thread runs)."""
    problems = Problems()
    cache = LoadCache(workspace.state_dir / "cache" / CACHE_FILE)
    if cache.discarded and cache.path is not None:
        problems.warning(workspace.rel(cache.path), cache.discarded)
    channels = load_channels(workspace, problems)
    schedules = load_schedules(workspace, problems, cache)
    items = load_content(workspace, channels, schedules.zone, problems, workers, cache)
    cache.save()
    return Catalog(workspace, channels, schedules, items, problems)
