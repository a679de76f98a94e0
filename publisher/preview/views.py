"""The data behind each preview page, built from the catalog, the plan, the renders and
the state store. Pure data: the web app and the static export both render it."""

from __future__ import annotations

import calendar as month_grid
import datetime as dt
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from publisher.adapters.base import Post
from publisher.adapters.registry import CHANNEL_TYPES
from publisher.catalog import Catalog
from publisher.content.model import ContentItem
from publisher.content.probe import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from publisher.planning.planner import Plan, make_plan
from publisher.planning.slots import phase_on
from publisher.preview.mockups import mock_for
from publisher.render.service import Renderer
from publisher.store.deliveries import Delivery, utcnow

DATE = "%d/%m/%Y"
DATE_TIME = "%d/%m/%Y %H:%M"
STATE_ORDER = (
    "failed",
    "unknown",
    "sending",
    "scheduled",
    "published",
    "skipped-late",
    "cancelled",
)
# What the preview may serve of what the pages show: passive media only (never SVG, HTML,
# XML or scripts, which would run in the preview's origin), from content/ or the caches of
# media variants and title cards.
SERVED_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
SERVED_CACHES = ("media", "cards")


class Links(Protocol):
    def item(self, item_id: str) -> str: ...
    def portal(self, item_id: str) -> str: ...
    def media(self, path: str) -> str: ...


@dataclass
class PreviewData:
    """One consistent reading of the workspace; rebuilt whenever a file changes."""

    catalog: Catalog
    renderer: Renderer
    plan: Plan
    deliveries: dict[tuple[str, str], Delivery]
    posts: dict[tuple[str, str], Post] = field(default_factory=dict)
    # The files the pages may show (the items' assets, then each drawn post's media), by
    # their path under the workspace as /files/ addresses carry it.
    files: dict[str, Path] = field(default_factory=dict)
    # Held while drawing a post: the renderer's caches are not thread-safe.
    render_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        deliveries: list[Delivery],
        render_lock: threading.Lock | None = None,
    ) -> PreviewData:
        """`render_lock`: one lock for every reading, so a render of the previous one that
        still runs in the background never overlaps this one's."""
        renderer = Renderer(catalog)
        by_key = {(d.item_id, d.channel): d for d in deliveries}
        fixed = {key: d.due_at for key, d in by_key.items() if d.state != "cancelled"}
        enabled = tuple(n for n, c in catalog.channels.items() if c.enabled)
        plan = make_plan(catalog.schedules, catalog.items, enabled, now=utcnow(), fixed=fixed)
        data = cls(catalog, renderer, plan, by_key, render_lock=render_lock or threading.Lock())
        data._may_show(asset.path for item in catalog.items for asset in item.assets)
        return data

    @property
    def zone(self) -> dt.tzinfo:
        return self.catalog.schedules.zone

    def post(self, item: ContentItem, channel: str) -> Post:
        key = (item.id, channel)
        post = self.posts.get(key)
        if post is None:
            with self.render_lock:
                post = self.posts.get(key)  # drawn meanwhile by another request
                if post is None:
                    post = self.renderer.render(item, channel)
                    uploads = (path for call in post.calls for path in call.files.values())
                    self._may_show([*post.media, *uploads])
                    self.posts[key] = post
        return post

    def rendered(self, items: Sequence[ContentItem]) -> bool:
        """Whether every post of `items` is drawn, so their pages are quick to make."""
        return all((item.id, channel) in self.posts for item in items for channel in item.channels)

    def prepare(self, items: Sequence[ContentItem]) -> None:
        """Draw every post of `items`: the slow part of a page (media variants, cards)."""
        for item in items:
            for channel in item.channels:
                self.post(item, channel)

    def served_file(self, path: str) -> Path | None:
        """The file at `path` under the workspace, if a page may show it."""
        return self.files.get(path)

    def _may_show(self, paths: Iterable[str | Path]) -> None:
        root = self.catalog.workspace.root.resolve()
        for path in paths:
            try:
                target = Path(path).resolve()
                relative = PurePosixPath(target.relative_to(root).as_posix())
            except (OSError, RuntimeError, ValueError):
                continue
            if _servable(relative):
                self.files[relative.as_posix()] = target

    def state(self, item: ContentItem, channel: str) -> str:
        delivery = self.deliveries.get((item.id, channel))
        if delivery is not None:
            return delivery.state
        return "planned" if self.plan.post((item.id, channel)) else "not planned"

    # -- pages ------------------------------------------------------------------------------
    def index(self, links: Links) -> dict[str, Any]:
        rows = [self._row(item, links) for item in self.catalog.items]
        problems = [
            {
                "severity": p.severity,
                "file": p.file,
                "line": p.line,
                "channel": p.channel,
                "message": p.message,
            }
            for p in [*self.catalog.problems.errors, *self.catalog.problems.warnings]
        ]
        names = [(name, CHANNEL_TYPES[name].label) for name in CHANNEL_TYPES]
        return {"items": rows, "problems": problems, "channel_names": names}

    def item(self, item: ContentItem, links: Links) -> dict[str, Any]:
        channels = [self._channel(item, name, links) for name in item.channels]
        summary = item.meta.summary or ""
        return {
            "item": {
                "id": item.id,
                "title": item.title,
                "kind": item.kind.value,
                "status": item.status,
                "path": item.path,
                "summary": summary,
            },
            "channels": channels,
        }

    def portal_page(self, item: ContentItem, links: Links) -> str:
        """The portal page, with its (not yet public) media served by the preview."""
        post = self.post(item, "portal")
        page = next((c for c in post.calls if c.step == "page"), None)
        if page is None:
            return "<p>WordPress: see the request on the item page.</p>"
        html = page.payload["html"]
        base = self.renderer.context.portal.base_url.rstrip("/")
        for path in post.media:
            name = path.rsplit("/", 1)[-1]
            html = html.replace(f"{base}/media/{name}", links.media(path))
        return html

    def calendar(self, links: Links, today: dt.date | None = None) -> dict[str, Any]:
        today = today or utcnow().astimezone(self.zone).date()
        titles = {item.id: item.title for item in self.catalog.items}
        by_day: dict[dt.date, list[dict[str, Any]]] = {}
        for post in self.plan.posts:
            local_time = post.at.astimezone(self.zone)
            delivery = self.deliveries.get(post.key)
            by_day.setdefault(local_time.date(), []).append(
                {
                    "time": local_time.strftime("%H:%M"),
                    "channel": post.channel,
                    "channel_label": CHANNEL_TYPES[post.channel].label,
                    "title": titles.get(post.item_id, post.item_id),
                    "url": links.item(post.item_id),
                    "state": delivery.state if delivery else "planned",
                }
            )
        return {"months": [self._month(y, m, by_day, today) for y, m in self._months()]}

    def status(self, links: Links, pauses: dict[str, tuple[str, dt.datetime]]) -> dict[str, Any]:
        deliveries = sorted(self.deliveries.values(), key=lambda d: d.due_at)
        titles = {item.id: item.title for item in self.catalog.items}

        def row(d: Delivery, **extra: Any) -> dict[str, Any]:
            return {
                "id": d.id,
                "title": titles.get(d.item_id, d.item_id),
                "url": links.item(d.item_id),
                "channel": d.channel,
                "channel_label": CHANNEL_TYPES[d.channel].label,
                **extra,
            }

        def when(d: Delivery) -> str:
            return self._local(d.updated_at)

        counts = {state: sum(1 for d in deliveries if d.state == state) for state in STATE_ORDER}
        return {
            "counts": counts,
            "paused": [
                {"channel_label": CHANNEL_TYPES[c].label, "reason": r, "since": self._local(at)}
                for c, (r, at) in pauses.items()
            ],
            "failed": [
                row(d, error=d.error or "", when=when(d))
                for d in deliveries
                if d.state in ("failed", "skipped-late")
            ],
            "unknown": [
                row(d, error=d.error or "", when=when(d), advice=_advice(d))
                for d in deliveries
                if d.state == "unknown"
            ],
            "recent": [
                row(d, published_at=self._local(d.published_at), link=d.url)
                for d in sorted(
                    (d for d in deliveries if d.state == "published"),
                    key=lambda d: d.published_at or d.due_at,
                    reverse=True,
                )[:20]
            ],
            "upcoming": [
                row(d, due_at=self._local(d.due_at)) for d in deliveries if d.state == "scheduled"
            ][:20],
        }

    # -- parts ------------------------------------------------------------------------------
    def _row(self, item: ContentItem, links: Links) -> dict[str, Any]:
        channels = []
        for name in item.channels:
            post = self.post(item, name)
            channels.append(
                {
                    "name": name,
                    "label": CHANNEL_TYPES[name].label,
                    "state": self.state(item, name),
                    "warnings": len(post.warnings),
                    "errors": len(post.errors),
                }
            )
        states = [c["state"] for c in channels]
        planned = [p.at for p in self.plan.posts if p.item_id == item.id]
        return {
            "id": item.id,
            "title": item.title,
            "kind": item.kind.value,
            "status": item.status,
            "state": _overall(states) if item.status == "ready" else "not planned",
            "next_at": self._local(min(planned)) if planned else "",
            "url": links.item(item.id),
            "channels": channels,
        }

    def _channel(self, item: ContentItem, name: str, links: Links) -> dict[str, Any]:
        post = self.post(item, name)
        names = {path.rsplit("/", 1)[-1]: path for path in post.media}
        mock = mock_for(post, links.media, names)
        if mock is not None and name == "portal":
            mock["page_url"] = links.portal(item.id)
        if mock is not None and name == "facebook" and mock["link"]:
            mock["link"] |= self._link_card(item, links)
        if mock is not None and name == "zalo":
            mock["date"] = item.meta.date.strftime(DATE) if item.meta.date else ""
        unplaced = [
            f"not planned: {u.reason}"
            for u in self.plan.unplaced
            if u.item_id == item.id and u.channel in (name, None)
            and self.state(item, name) == "not planned"
        ]
        return {
            "name": name,
            "label": CHANNEL_TYPES[name].label,
            "warnings": [*unplaced, *post.warnings],
            "errors": list(post.errors),
            "counts": [
                {**c.to_json(), "within": c.within, "percent": c.used * 100 // max(c.limit, 1)}
                for c in post.counts
            ],
            "raw_json": json.dumps([c.to_json() for c in post.calls], ensure_ascii=False, indent=2),
            "mock": mock,
        }

    def _link_card(self, item: ContentItem, links: Links) -> dict[str, Any]:
        """What Facebook scrapes from the portal page's Open Graph tags."""
        portal = self.post(item, "portal") if "portal" in item.channels else None
        image = links.media(portal.media[0]) if portal and portal.media else None
        return {"title": item.title, "description": item.meta.summary or "", "image": image}

    def _months(self) -> list[tuple[int, int]]:
        campaigns = self.catalog.schedules.campaigns
        if not campaigns:
            return []
        first = min(c.start for c in campaigns)
        last = max(c.end for c in campaigns)
        months, year, month = [], first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    def _month(
        self, year: int, month: int, posts: dict[dt.date, list], today: dt.date
    ) -> dict[str, Any]:
        weeks = month_grid.Calendar(firstweekday=0).monthdatescalendar(year, month)
        return {
            "label": f"Tháng {month:02d}/{year}",
            "weeks": [[self._cell(day, month, posts, today) for day in week] for week in weeks],
        }

    def _cell(
        self, day: dt.date, month: int, posts: dict[dt.date, list], today: dt.date
    ) -> dict[str, Any]:
        campaign = next(
            (c for c in self.catalog.schedules.campaigns if c.start <= day <= c.end), None
        )
        phase = phase_on(campaign, day) if campaign else None
        return {
            "day": day.day,
            "date": day.strftime(DATE),
            "in_month": day.month == month,
            "today": day == today,
            "blackout": bool(campaign and day in campaign.blackout),
            "sprint": bool(phase and phase.sprint),
            "phase": phase.name if phase else None,
            "posts": sorted(posts.get(day, []), key=lambda p: p["time"]),
        }

    def _local(self, moment: dt.datetime | None) -> str:
        return moment.astimezone(self.zone).strftime(DATE_TIME) if moment else ""


def _servable(path: PurePosixPath) -> bool:
    """Passive media in content/ or the media caches, never a hidden file or folder."""
    parts = path.parts
    if parts[:1] == ("content",):
        inside = parts[1:]
    elif len(parts) > 3 and parts[:2] == (".publisher", "cache") and parts[2] in SERVED_CACHES:
        inside = parts[3:]
    else:
        return False
    hidden = any(part.startswith(".") for part in inside)
    return not hidden and path.suffix.lower() in SERVED_SUFFIXES


def _overall(states: list[str]) -> str:
    for state in ("failed", "unknown", "sending"):
        if state in states:
            return state
    if states and all(s == "published" for s in states):
        return "published"
    if "scheduled" in states:
        return "scheduled"
    return "planned" if "planned" in states else "not planned"


def _advice(delivery: Delivery) -> str:
    return (
        f"publisher resolve {delivery.id} --published  |  "
        f"publisher resolve {delivery.id} --not-published"
    )
