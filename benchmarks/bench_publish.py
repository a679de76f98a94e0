"""Publishing P posts over the five channels against slow platforms, against the slowest channel.

The platforms: each channel's outbox client (which writes the exact request a live call
sends) behind a wrapper that answers every request after 200 ms and lets a channel take at
most 4 requests a second (its rate limit). Every post is announced in a fresh state store,
due at once, and one `Dispatcher.tick` of `publisher run` publishes them all (render from
the warm cache, every delivery claimed, every step and receipt recorded), as it does after
a backlog. The reference is the slowest channel's own deliveries published alone by the
same tick, serialized, under the same limits. Target: all five channels together within
1.2 times that (channels run concurrently).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Figure, median, publisher_command, reset_folder, run_process
from corpus import write_articles

from publisher.adapters.base import Post
from publisher.adapters.names import CHANNEL_NAMES
from publisher.catalog import Catalog, load_catalog
from publisher.publishing.model import PlatformClient
from publisher.publishing.service import PublishService
from publisher.scheduling.dispatcher import Dispatcher
from publisher.store.database import open_store
from publisher.workspace import open_workspace

LATENCY = 0.200  # seconds a platform takes to answer
INTERVAL = 0.250  # seconds between two requests to one channel (4 a second)


@dataclass
class SlowPlatform:
    """Wraps a client: every request waits for the channel's rate limit, then answers late."""

    inner: PlatformClient
    last: dict[str, float]  # per channel, when its last request started (shared)

    @property
    def platform(self) -> str:
        return self.inner.platform

    def run(self, call: Any, payload: dict[str, Any], steps: Any) -> dict[str, Any]:
        wait = self.last.get(self.platform, 0.0) + INTERVAL - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        self.last[self.platform] = time.perf_counter()
        time.sleep(LATENCY)
        return self.inner.run(call, payload, steps)

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        return self.inner.receipt(post, results)

    def find_existing(self, post: Post, results: Mapping[str, dict[str, Any]]) -> Any:
        return self.inner.find_existing(post, results)


class SlowService(PublishService):
    """`PublishService` whose every client is a `SlowPlatform`."""

    def __init__(self, catalog: Catalog, state_dir: Path) -> None:
        super().__init__(catalog, open_store(state_dir), state_dir=state_dir)
        self.last: dict[str, float] = {}

    def client(self, channel: str, post: Post) -> PlatformClient:
        slow = SlowPlatform(super().client(channel, post), self.last)
        return slow  # type: ignore[return-value]


def publish_all(catalog: Catalog, state_dir: Path, channels: tuple[str, ...]) -> float:
    """Seconds one dispatcher tick takes to publish every item on `channels`, all due."""
    reset_folder(state_dir)
    service = SlowService(catalog, state_dir)
    deliveries = service.store.deliveries
    now = dt.datetime.now(dt.UTC)
    posts = [(i.id, c, "bench", now) for c in channels for i in catalog.items if c in i.channels]
    deliveries.announce(posts, now)
    dispatcher = Dispatcher(catalog, deliveries, service, seed=0)
    start = time.perf_counter()
    report = dispatcher.tick(now)
    elapsed = time.perf_counter() - start
    service.store.close()
    if len(report.published) != len(posts):
        raise RuntimeError(f"{len(report.published)} of {len(posts)} posts published")
    return elapsed


def requests_per_channel(catalog: Catalog, state_dir: Path) -> dict[str, int]:
    """How many requests each channel's posts make (their calls), from the render cache."""
    reset_folder(state_dir)
    renderer = SlowService(catalog, state_dir).renderer
    return {
        channel: sum(len(renderer.render(item, channel).calls) for item in catalog.items)
        for channel in CHANNEL_NAMES
    }


def run(posts: int, runs: int, folder: Path) -> list[Figure]:
    write_articles(folder, posts // len(CHANNEL_NAMES))
    workspace = folder / "workspace"
    run_process(publisher_command("--root", workspace, "check"))  # renders cached, not timed
    catalog = load_catalog(open_workspace(workspace))
    counts = requests_per_channel(catalog, folder / "state")
    slowest = max(counts, key=counts.__getitem__)
    together, alone = [], []
    for _ in range(runs):
        together.append(publish_all(catalog, folder / "state", CHANNEL_NAMES))
        alone.append(publish_all(catalog, folder / "state", (slowest,)))
    detail = {
        "posts": len(catalog.items) * len(CHANNEL_NAMES),
        "requests_per_channel": counts,
        "slowest_channel": slowest,
        "seconds_median": {"all": round(median(together), 3), slowest: round(median(alone), 3)},
        "latency_s": LATENCY,
        "rate_limit_interval_s": INTERVAL,
    }
    return [
        Figure(
            f"publish {detail['posts']} posts x 5 channels / slowest channel alone",
            median(together) / median(alone),
            "x",
            1.2,
            detail,
        )
    ]
