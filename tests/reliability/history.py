"""Checking a campaign's history against the promises, and the figures of a run.

Ground truth is what the fakes hold (each post stamped with its delivery); the claim is
what the state store says. Every attempt (a claim, `sending`) is classified by what the
store recorded next: ok (published), failed (a retry, a pause, a refusal) or
indeterminate (unknown, or interrupted by a crash).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from publisher.adapters.base import Post
from publisher.catalog import load_catalog
from publisher.render.service import Renderer
from publisher.store.deliveries import HELD_BY_PORTAL, Delivery, Event
from publisher.workspace import open_workspace

from .platforms import Stamp
from .workspace import DAILY_CAPS, ZONE, credentials

OUTCOMES = {
    "published": "ok",
    "retry": "failed",
    "paused": "failed",
    "failed": "failed",
    "unknown": "indeterminate",
    "interrupted": "indeterminate",
}


def expected_posts(post: Post) -> int:
    """How many visible posts the platform holds once `post` is fully published."""
    if post.channel == "telegram":
        return sum(
            len(c.payload.get("media") or ()) if c.endpoint == "sendMediaGroup" else 1
            for c in post.calls
        )
    if post.channel == "youtube":
        return sum(c.step == "insert" for c in post.calls)
    if post.channel == "zalo":
        return sum(c.step in ("create", "broadcast") for c in post.calls)
    return 1


def planned(root: Path) -> dict[tuple[str, str], int]:
    """Every (item, channel) the workspace plans, with the posts it must end up as."""
    catalog = load_catalog(open_workspace(root, credentials()))
    renderer = Renderer(catalog)
    return {
        (item.id, channel): expected_posts(renderer.render(item, channel))
        for item in catalog.items
        for channel in item.channels
        if catalog.channels[channel].enabled
    }


def attempts(events: list[Event]) -> Counter[str]:
    """invoked, ok, failed, indeterminate: each claim and what the store recorded after it."""
    counts: Counter[str] = Counter()
    open_attempts: set[int] = set()
    for event in events:
        if event.kind == "sending":
            counts["invoked"] += 1
            open_attempts.add(event.delivery_id)
        elif event.delivery_id in open_attempts and event.kind in OUTCOMES:
            counts[OUTCOMES[event.kind]] += 1
            open_attempts.discard(event.delivery_id)
    counts["never concluded"] = len(open_attempts)
    return counts


@dataclass
class Verdict:
    """What one campaign's history shows; `problems` lists every broken promise."""

    states: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    unknown_reasons: Counter[str] = field(default_factory=Counter)  # "channel: why", shortened
    duplicates: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def judge(
    wanted: dict[tuple[str, str], int],
    deliveries: list[Delivery],
    events: list[Event],
    stamps: list[Stamp],
    held: int,
) -> Verdict:
    """`wanted`: `planned()`; `held`: the posts the fakes hold, all of them attributed."""
    verdict = Verdict(attempts=attempts(events))
    posts = posts_by_delivery(stamps)
    if sum(posts.values()) != held:
        verdict.problems.append(f"{held} posts on the fakes, {sum(posts.values())} attributed")
    found = {(d.item_id, d.channel): d for d in deliveries}
    for key in wanted.keys() - found.keys():
        verdict.losses.append(f"{key}: planned but no delivery")
    for key, delivery in found.items():
        portal = found.get((delivery.item_id, "portal"))
        if _held_by_unknown_portal(delivery, portal):
            verdict.states["held (portal unknown)"] += 1
            continue
        verdict.states[delivery.state] += 1
        _judge_delivery(verdict, delivery, posts.get(delivery.id, 0), wanted.get(key, 1))
        if delivery.state in ("scheduled", "sending"):
            verdict.problems.append(_recent_events(delivery, events))
    verdict.duplicates = [_with_trail(line, stamps) for line in verdict.duplicates]
    verdict.problems += verdict.duplicates + verdict.losses
    return verdict


def _recent_events(delivery: Delivery, events: list[Event]) -> str:
    """What happened last to a delivery that did not finish, to replay a finding."""
    recent = [f"{e.kind} at {e.at:%d %H:%M}" for e in events if e.delivery_id == delivery.id]
    return f"#{delivery.id} due {delivery.due_at:%d %H:%M}: {', '.join(recent[-6:])}"


def _held_by_unknown_portal(delivery: Delivery, portal: Delivery | None) -> bool:
    """A social post waiting, visibly, for an operator to settle its portal article."""
    return (
        delivery.state == "scheduled"
        and delivery.error_kind == HELD_BY_PORTAL
        and portal is not None
        and portal.state == "unknown"
    )


def _with_trail(line: str, stamps: list[Stamp]) -> str:
    """A duplicate's message, with the requests that made posts for its delivery."""
    delivery = int(line.split()[0].removeprefix("#"))
    trail = [
        f"{s.method} {s.path} at {s.now:%d %H:%M} ({s.activity}, {s.fault or 'no fault'}, "
        f"{s.status}: {s.note}, {s.created} made)"
        for s in stamps
        if s.delivery == delivery and s.now is not None
    ]
    return f"{line}; its requests: {'; '.join(trail)}"


def _judge_delivery(verdict: Verdict, delivery: Delivery, held: int, expected: int) -> None:
    name = f"#{delivery.id} {delivery.item_id} on {delivery.channel} ({delivery.state})"
    if held > expected:
        verdict.duplicates.append(f"{name}: {held} posts on the platform, {expected} expected")
    if delivery.state == "published" and held < expected:
        verdict.losses.append(f"{name}: published, but {held} of {expected} posts exist")
    if delivery.state in ("scheduled", "sending", "cancelled"):
        verdict.problems.append(f"{name}: ended {delivery.state}")
    if delivery.state in ("failed", "skipped-late") and not delivery.error:
        verdict.problems.append(f"{name}: {delivery.state} without a reason")
    if delivery.state == "unknown":
        verdict.unknown[delivery.channel] += 1
        reason = (delivery.error or "no reason").removeprefix(f"{delivery.channel}: ")
        reason = reason.split(";")[0].split(" (")[0][:70]
        verdict.unknown_reasons[f"{delivery.channel}: {reason}"] += 1


def posts_by_delivery(stamps: list[Stamp]) -> Counter[int]:
    posts: Counter[int] = Counter()
    for stamp in stamps:
        if stamp.created:
            posts[stamp.delivery if stamp.delivery is not None else -1] += stamp.created
    return posts


# -- the storm's extra promises --------------------------------------------------------------
def early_requests(stamps: list[Stamp]) -> list[str]:
    """Requests of a delivery sent before the wait a rate limit (or quota) asked for."""
    early = []
    waiting: dict[int, tuple[Stamp, dt.datetime]] = {}
    for stamp in stamps:
        if stamp.delivery is None or stamp.now is None:
            continue
        asked = waiting.pop(stamp.delivery, None)
        if asked is not None and stamp.now < asked[1]:
            first = asked[0]
            early.append(
                f"delivery #{stamp.delivery} on {stamp.channel}: {stamp.method} {stamp.path} at "
                f"{stamp.now:%d %H:%M:%S}, but at {first.now:%d %H:%M:%S} the platform asked "
                f"to wait {first.retry_after:g} s ({first.fault})"
            )
        if stamp.retry_after is not None and stamp.activity == "dispatch":
            waiting[stamp.delivery] = (stamp, stamp.now + dt.timedelta(seconds=stamp.retry_after))
    return early


def channel_wide_early(stamps: list[Stamp]) -> int:
    """Requests to a platform (any delivery) inside a wait it asked for: for information."""
    until: dict[str, dt.datetime] = {}
    count = 0
    for stamp in stamps:
        if stamp.now is None:
            continue
        if stamp.now < until.get(stamp.channel, stamp.now):
            count += 1
        if stamp.retry_after is not None:
            until[stamp.channel] = stamp.now + dt.timedelta(seconds=stamp.retry_after)
    return count


def quota_outcomes(stamps: list[Stamp], events: list[Event]) -> Counter[str]:
    """What the store recorded for the delivery next, after each YouTube quota exhaustion
    (the failure is recorded when the answer is in, on the simulated clock)."""
    by_delivery: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        by_delivery[event.delivery_id].append(event)
    outcomes: Counter[str] = Counter()
    for stamp in stamps:
        if stamp.fault == "quota" and stamp.activity == "dispatch" and stamp.now is not None:
            after = (e.kind for e in by_delivery.get(stamp.delivery or -1, []) if e.at >= stamp.now)
            outcomes[next((kind for kind in after if kind in OUTCOMES), "none")] += 1
    return outcomes


def cap_excess(stamps: list[Stamp]) -> list[str]:
    """Channels and local days with more posts than the calendar's daily cap."""
    first_post: dict[int, Stamp] = {}
    for stamp in stamps:
        if stamp.created and stamp.delivery is not None and stamp.now is not None:
            first_post.setdefault(stamp.delivery, stamp)
    per_day = Counter((s.channel, s.now.astimezone(ZONE).date()) for s in first_post.values())
    return [
        f"{channel} on {day}: {count} posts, daily_cap {DAILY_CAPS[channel]}"
        for (channel, day), count in sorted(per_day.items())
        if count > DAILY_CAPS[channel]
    ]
