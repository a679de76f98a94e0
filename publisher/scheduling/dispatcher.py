"""Dispatching due deliveries: the one code path of `run` and `run --rehearse`.

The state store is the truth; whatever wakes us up (APScheduler, the rehearsal's
simulated clock) just calls `tick(now)`. Each due delivery is claimed atomically, its
intent committed before the platform call and its outcome after it.

Within a tick the channels publish side by side, one thread per channel, each channel's
posts one after the other in due order: a channel's rate limits and the waits its platform
asks for are never shared with, nor dodged by, a second thread. A social post links to its
portal article: when that article is due in the same tick, the post waits for it to be done.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from publisher.adapters.names import CHANNEL_NAMES
from publisher.catalog import Catalog
from publisher.content.model import ContentItem
from publisher.planning.planner import make_plan
from publisher.planning.slots import campaign_slots, campaign_zone
from publisher.publishing.errors import PublishError
from publisher.publishing.model import LookupNotSupported
from publisher.publishing.service import PublishService
from publisher.scheduling import crashpoints
from publisher.scheduling.backoff import MAX_ATTEMPTS, next_attempt
from publisher.settings.schedules import Campaign
from publisher.store.deliveries import (
    HELD_BY_PORTAL,
    LOOKUP_PENDING,
    Delivery,
    DeliveryStore,
    detail_json,
)

log = logging.getLogger(__name__)
PORTAL_WAIT = dt.timedelta(minutes=5)
PORTAL_UNKNOWN_WAIT = dt.timedelta(hours=1)  # an operator has to look: no need to poll often
LOOKUP_RETRY = dt.timedelta(minutes=15)  # a failed lookup (the platform busy, a timeout) again


SETTLED = {  # what a lookup found: the event kind and its text
    "found": ("found", "found on the platform: the steps after it go on"),
    "not found": ("not-found", "the platform does not have it: sending again"),
    "nothing open": ("not-found", "no request was left without an answer: sending again"),
}


Outcome = tuple[tuple[dt.datetime, int, int], Delivery]  # the due order, what it became


@dataclass
class TickReport:
    published: list[Delivery] = field(default_factory=list)
    problems: list[Delivery] = field(default_factory=list)

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> TickReport:
        """What a tick published and what went wrong, in due order whatever thread did it."""
        report = cls()
        for _, outcome in sorted(outcomes, key=lambda pair: pair[0]):
            if outcome.state == "published":
                report.published.append(outcome)
            elif outcome.state in ("failed", "unknown", "skipped-late"):
                report.problems.append(outcome)
        return report


class PortalGates:
    """The portal articles due in one tick, each a gate its social posts wait at: they link
    to it, so they go out once it is done (whatever became of it), not 5 minutes later."""

    def __init__(self, due: Sequence[Delivery]) -> None:
        self.gates = {d.item_id: threading.Event() for d in due if d.channel == "portal"}

    def wait(self, delivery: Delivery) -> None:
        """Hold a social post until its portal article due in this tick is done."""
        gate = self.gates.get(delivery.item_id)
        if delivery.channel != "portal" and gate is not None:
            gate.wait()

    def open(self, delivery: Delivery) -> None:
        """A portal article is done: let its social posts go."""
        gate = self.gates.get(delivery.item_id)
        if delivery.channel == "portal" and gate is not None:
            gate.set()

    def open_all(self, deliveries: Sequence[Delivery]) -> None:
        """Let every social post of these portal articles go, whatever became of them."""
        for delivery in deliveries:
            self.open(delivery)


class Dispatcher:
    def __init__(
        self,
        catalog: Catalog,
        deliveries: DeliveryStore,
        service: PublishService,
        seed: int | None = None,
        workers: int | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """`workers`: how many channels publish side by side; None, all of them; 1, every
        post one after the other on the calling thread, the portal's first. `clock`: the
        time while a tick works (a platform's answer comes later than the tick began);
        None for a simulated clock that stands still during a tick."""
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        self.catalog = catalog
        self.deliveries = deliveries
        self.service = service
        self.workers = workers
        self.clock = clock
        # One generator per channel: its retry times do not depend on how threads interleave.
        self.rngs = {
            name: random.Random(None if seed is None else f"{seed}:{name}")
            for name in CHANNEL_NAMES
        }

    def tick(self, now: dt.datetime) -> TickReport:
        """Publish everything due at `now`, each channel in due order, side by side, social
        posts after their portal article; then repeat the lookups that are due."""
        due = sorted(self.deliveries.due(now), key=_order)
        report = TickReport.of(self._dispatch_all(due, now))
        paused = self.deliveries.pauses()
        for delivery in self.deliveries.lookups_due(now):
            item = self.catalog.item(delivery.item_id)
            if item is None or delivery.channel in paused:
                continue
            if self._defer_while_held(delivery, now) is None:
                self.settle(item, delivery, now)
        return report

    def moment(self, now: dt.datetime) -> dt.datetime:
        """The time now, within a tick that began at `now`."""
        return max(now, self.clock()) if self.clock is not None else now

    def _dispatch_all(self, due: list[Delivery], now: dt.datetime) -> list[Outcome]:
        """Each channel's queue on a thread of its own (with one worker, all on this one)."""
        gates = PortalGates(due)
        queues = self._queues(due)
        if len(queues) <= 1:
            return [outcome for queue in queues for outcome in self._drain(queue, gates, now)]
        self._render_ahead(due)
        threads = min(self.workers or len(queues), len(queues))
        with ThreadPoolExecutor(threads, thread_name_prefix="publish") as pool:
            drained = list(pool.map(lambda queue: self._drain(queue, gates, now), queues))
        return [outcome for outcomes in drained for outcome in outcomes]

    def _queues(self, due: list[Delivery]) -> list[list[Delivery]]:
        """One queue per channel in due order, the portal's first (a pool takes them in that
        order, so the portal never waits for a thread); with one worker, a single queue: the
        portal's posts, then the others in due order."""
        if self.workers == 1:
            serial = sorted(due, key=lambda delivery: delivery.channel != "portal")
            return [serial] if serial else []
        by_channel: dict[str, list[Delivery]] = {}
        for delivery in due:
            by_channel.setdefault(delivery.channel, []).append(delivery)
        return [by_channel[name] for name in CHANNEL_NAMES if name in by_channel]

    def _render_ahead(self, deliveries: Sequence[Delivery]) -> None:
        """Render the posts on this thread before the channels fan out: the renderer and its
        media cache are made for one thread, and the workers then find every post ready."""
        for delivery in deliveries:
            item = self.catalog.item(delivery.item_id)
            if not _cancel_reason(item, delivery):
                assert item is not None
                self.service.renderer.render(item, delivery.channel)

    def _drain(self, queue: list[Delivery], gates: PortalGates, now: dt.datetime) -> list[Outcome]:
        """Dispatch a queue one delivery after the other, each social post once its portal
        article due in this tick is done, skipping paused channels; rejected credentials
        pause their channel for the rest of the queue."""
        outcomes: list[Outcome] = []
        paused = self.deliveries.pauses()
        try:
            for delivery in queue:
                gates.wait(delivery)
                if delivery.channel in paused or self._defer_while_held(delivery, now):
                    outcome = None
                else:
                    outcome = self.dispatch(delivery, now)
                gates.open(delivery)
                if outcome is None:
                    continue
                outcomes.append((_order(delivery), outcome))
                if outcome.error_kind == "auth":
                    paused = self.deliveries.pauses()
        finally:
            gates.open_all(queue)  # never leave a social post waiting for a dead thread
        return outcomes

    def dispatch(self, delivery: Delivery, now: dt.datetime) -> Delivery | None:
        item = self.catalog.item(delivery.item_id)
        reason = _cancel_reason(item, delivery)
        if reason:
            return self.deliveries.change(delivery, "cancelled", now, reason, state="cancelled")
        assert item is not None
        waiting = self._wait_for_portal(item, delivery, now)
        if waiting is not None:
            return waiting
        late = self._handle_lateness(item, delivery, now)
        if late is not None:
            return late
        return self.send(item, delivery, now)

    def send(self, item: ContentItem, delivery: Delivery, now: dt.datetime) -> Delivery | None:
        """Claim the delivery, publish what is left of it, record the outcome: the one way a
        post goes out, whoever asks (`run`, `publish`). None: someone else has it."""
        crashpoints.reach("before-intent")
        claimed = self.deliveries.claim(delivery, item.content_hash, now)
        if claimed is None:
            return None  # another worker has it
        crashpoints.reach("after-intent")
        try:
            receipt = self.service.publish(item, delivery.channel)
        except PublishError as error:
            return self._failed(item, claimed, error, self.moment(now))
        crashpoints.reach("before-receipt")
        done = self.moment(now)
        published = self.deliveries.change(
            claimed,
            "published",
            done,
            receipt.url or receipt.remote_id,
            state="published",
            remote_id=receipt.remote_id,
            url=receipt.url,
            published_at=done,
            error=None,
            error_kind=None,
        )
        if delivery.channel == "portal" and receipt.url:
            self.service.renderer.portal_published(item.id, receipt.url)
        return published

    def settle(self, item: ContentItem, delivery: Delivery, now: dt.datetime) -> Delivery:
        """Settle an unknown outcome by looking the post up on the platform.

        Found: its steps are recorded and it is scheduled again, so the next tick only
        finishes what is left. Not found: scheduled again, to be sent. A failed lookup is
        repeated every LOOKUP_RETRY. No lookup, or a step that may have gone out and cannot
        be looked up: it stays unknown, with the reason, in `status`, for an operator.
        """
        try:
            found = self.service.record_existing(item, delivery.channel)
        except LookupNotSupported as reason:
            text, error = str(reason), delivery.error or ""
            if text not in error:
                error = f"{error}; {text}" if error else text
            return self.deliveries.change(
                delivery, "cannot-check", now, text, error=error, error_kind="unknown"
            )
        except PublishError as error:
            return self.deliveries.change(
                delivery,
                "lookup-failed",
                now,
                detail_json(error=str(error), again=(now + LOOKUP_RETRY).isoformat()),
                due_at=now + LOOKUP_RETRY,
                error=f"looking the post up failed ({error}); tried again every 15 minutes",
                error_kind=LOOKUP_PENDING,
            )
        kind, text = SETTLED[found]
        return self.deliveries.change(
            delivery, kind, now, text, state="scheduled", due_at=now, error_kind=None
        )

    def _failed(
        self, item: ContentItem, delivery: Delivery, error: PublishError, now: dt.datetime
    ) -> Delivery:
        """Record a failure that happened at `now` (the moment the platform answered, not
        the start of the tick: a wait it asked for counts from its answer)."""
        text = str(error)
        platform = error.platform if error.platform in CHANNEL_NAMES else delivery.channel
        if error.kind == "retryable" and error.retry_after:
            until = now + dt.timedelta(seconds=error.retry_after)
            self.deliveries.hold(platform, until, text)  # nothing goes there before
        if error.kind == "retryable" and delivery.attempts < MAX_ATTEMPTS:
            retry = next_attempt(
                now, delivery.attempts, error.retry_after, self.rngs[delivery.channel]
            )
            moved = self._within_cap(item, delivery, retry)
            if moved is None:
                text = f"{text}; {self._no_room(delivery, retry)}"
                return self._skip(delivery, now, text)
            retry = moved
            return self.deliveries.change(
                delivery,
                "retry",
                now,
                detail_json(error=text, at=retry.isoformat()),
                state="scheduled",
                due_at=retry,
                error=text,
                error_kind=error.kind,
            )
        if error.kind == "retryable":
            text = f"gave up after {delivery.attempts} attempts: {text}"
        if error.kind == "auth":
            self.deliveries.pause(platform, text, now)
            later = {} if platform == delivery.channel else {"due_at": now + PORTAL_UNKNOWN_WAIT}
            return self.deliveries.change(
                delivery,
                "paused",
                now,
                text,
                state="scheduled",
                error=text,
                error_kind="auth",
                **later,
            )
        if error.kind == "unknown":
            unknown = self.deliveries.change(
                delivery, "unknown", now, text, state="unknown", error=text, error_kind="unknown"
            )
            return self.settle(item, unknown, now)
        return self.deliveries.change(
            delivery, "failed", now, text, state="failed", error=text, error_kind=error.kind
        )

    def _wait_for_portal(
        self, item: ContentItem, delivery: Delivery, now: dt.datetime
    ) -> Delivery | None:
        """Social posts link to the portal article: they wait until it is published."""
        if delivery.channel == "portal" or "portal" not in item.channels:
            return None
        portal = self.deliveries.find(item.id, "portal")
        if portal is None:
            return self._hold_for_portal(
                delivery,
                now,
                "waiting for the portal article, which has no place in the calendar yet "
                "(see 'publisher plan'): this post links to it",
            )
        if portal.state == "published":
            return None
        if portal.state in ("failed", "skipped-late", "cancelled"):
            text = (
                f"the portal article was not published ({portal.state}); its link would be broken"
            )
            return self.deliveries.change(
                delivery, "failed", now, text, state="failed", error=text, error_kind="permanent"
            )
        held = _held_because(portal, self.deliveries.pauses())
        if held:
            text = f"waiting for the portal article (#{portal.id}), {held}"
            return self._hold_for_portal(delivery, now, text)
        wait_until = max(portal.due_at, now) + PORTAL_WAIT
        released = (
            {"error": None, "error_kind": None} if delivery.error_kind == HELD_BY_PORTAL else {}
        )
        return self.deliveries.change(
            delivery,
            "waiting-for-portal",
            now,
            wait_until.isoformat(),
            due_at=wait_until,
            **released,
        )

    def _defer_while_held(self, delivery: Delivery, now: dt.datetime) -> Delivery | None:
        """A delivery whose platform asked everyone to wait is moved to the end of the
        wait (or, past a full day, to the next free slot), without an attempt; None when
        its platform is not held."""
        hold = self.deliveries.holds().get(delivery.channel)
        if hold is None or hold[0] <= now or delivery.due_at >= hold[0]:
            return None
        until, reason = hold
        item = self.catalog.item(delivery.item_id)
        moved = self._within_cap(item, delivery, until) if item else until
        if moved is None:
            text = f"{reason}; {self._no_room(delivery, until)}"
            return self._skip(delivery, now, text)
        return self.deliveries.change(
            delivery,
            "held",
            now,
            detail_json(until=moved.isoformat(), because=reason),
            due_at=moved,
        )

    def _within_cap(
        self, item: ContentItem, delivery: Delivery, moment: dt.datetime
    ) -> dt.datetime | None:
        """`moment`, or the next free slot when its day already has the channel's daily cap
        of posts; None when no slot is left."""
        if not self._day_is_full(delivery, moment):
            return moment
        return self._next_free_slot(item, delivery, moment)

    def _skip(self, delivery: Delivery, now: dt.datetime, why: str) -> Delivery:
        """Give up on a delivery no slot is left for, with the reason."""
        return self.deliveries.change(
            delivery, "skipped-late", now, why, state="skipped-late", error=why
        )

    def _no_room(self, delivery: Delivery, moment: dt.datetime) -> str:
        return (
            f"{moment:%d/%m %H:%M} UTC falls on a day that already has its daily cap of "
            f"{delivery.channel} posts, and no free slot is left"
        )

    def _hold_for_portal(self, delivery: Delivery, now: dt.datetime, why: str) -> Delivery:
        """Hold a social post back, with the reason, until someone acts on its article
        (looked at again hourly: an officer has to do something first)."""
        return self.deliveries.change(
            delivery,
            "waiting-for-portal",
            now,
            why,
            due_at=now + PORTAL_UNKNOWN_WAIT,
            error=why,
            error_kind=HELD_BY_PORTAL,
        )

    def _handle_lateness(
        self, item: ContentItem, delivery: Delivery, now: dt.datetime
    ) -> Delivery | None:
        """Late within the grace window: publish now, unless now is on a day that already
        has its daily cap of posts (a late post crossed midnight). Later, or on a full day:
        move to the next free slot, or skip with the reason when none is left."""
        campaign = self._campaign(delivery)
        grace = campaign.grace if campaign else dt.timedelta(hours=2)
        lateness = now - delivery.due_at
        crossed_midnight = self._local_day(now) != self._local_day(delivery.due_at)
        if lateness <= grace and not (crossed_midnight and self._day_is_full(delivery, now)):
            if lateness > dt.timedelta(minutes=1):
                self.deliveries.change(
                    delivery, "late", now, f"{int(lateness.total_seconds() // 60)} min late"
                )
            return None
        new_time = self._next_free_slot(item, delivery, now)
        if new_time is None:
            text = f"missed by {lateness} and no free slot is left"
            return self._skip(delivery, now, text)
        return self.deliveries.change(
            delivery,
            "moved",
            now,
            detail_json(missed=delivery.due_at.isoformat(), to=new_time.isoformat()),
            due_at=new_time,
        )

    def _local_day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.catalog.schedules.zone).date()

    def _campaign(self, delivery: Delivery) -> Campaign | None:
        return next(
            (c for c in self.catalog.schedules.campaigns if c.id == delivery.campaign), None
        )

    def _day_is_full(self, delivery: Delivery, moment: dt.datetime) -> bool:
        """Whether the local day of `moment` already has as many posts on the delivery's
        channel as it has slots (its daily cap; none on a blackout day or outside the
        campaign), not counting the delivery itself."""
        campaign = self._campaign(delivery)
        if campaign is None:
            return False
        zone = campaign_zone(campaign, self.catalog.schedules.zone)
        day = moment.astimezone(zone).date()
        slots = [
            s
            for s in campaign_slots(campaign, zone, (delivery.channel,))
            if s.at.astimezone(zone).date() == day
        ]
        taken = [
            d
            for d in self.deliveries.all()
            if d.channel == delivery.channel
            and d.id != delivery.id
            and d.state not in ("cancelled", "failed", "skipped-late")
            and (d.published_at or d.due_at).astimezone(zone).date() == day
        ]
        return len(taken) >= len(slots)

    def _next_free_slot(
        self, item: ContentItem, delivery: Delivery, now: dt.datetime
    ) -> dt.datetime | None:
        if (
            item.meta.at is not None
            or (item.meta.override(delivery.channel) or item.meta).at is not None
        ):
            return None  # pinned to an exact time: a later slot is not what was asked
        fixed = {
            (d.item_id, d.channel): d.due_at
            for d in self.deliveries.all()
            if d.id != delivery.id and d.state != "cancelled"
        }
        enabled = tuple(n for n, c in self.catalog.channels.items() if c.enabled)
        items = [i for i in self.catalog.items if i.id != item.id]  # they hold their slots
        plan = make_plan(self.catalog.schedules, [*items, item], enabled, now=now, fixed=fixed)
        post = plan.post((item.id, delivery.channel))
        return post.at if post else None


def _held_because(portal: Delivery, pauses: dict[str, tuple[str, dt.datetime]]) -> str:
    """Why a portal article keeps its social posts waiting for an operator, or ''."""
    if portal.state == "unknown":
        return f"whose outcome is unknown: check the portal, then 'publisher resolve {portal.id}'"
    if portal.state == "scheduled" and "portal" in pauses:
        return f"and the portal channel is paused ({pauses['portal'][0]})"
    return ""


def _cancel_reason(item: ContentItem | None, delivery: Delivery) -> str:
    if item is None:
        return "the item is no longer in content/"
    if item.status != "ready":
        return "the item is now a draft"
    if delivery.channel not in item.channels:
        return f"the item is no longer published on {delivery.channel}"
    return ""


def _order(delivery: Delivery) -> tuple[dt.datetime, int, int]:
    return (delivery.due_at, CHANNEL_NAMES.index(delivery.channel), delivery.id)
