"""Dispatching due deliveries: the one code path of `run` and `run --rehearse`.

The state store is the truth; whatever wakes us up (APScheduler, the rehearsal's
simulated clock) just calls `tick(now)`. Each due delivery is claimed atomically, its
intent committed before the platform call and its outcome after it.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field

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


@dataclass
class TickReport:
    published: list[Delivery] = field(default_factory=list)
    problems: list[Delivery] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        catalog: Catalog,
        deliveries: DeliveryStore,
        service: PublishService,
        seed: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.deliveries = deliveries
        self.service = service
        self.rng = random.Random(seed)

    def tick(self, now: dt.datetime) -> TickReport:
        """Publish everything due at `now`, in time order, portal posts first."""
        report = TickReport()
        paused = self.deliveries.pauses()
        for delivery in sorted(self.deliveries.due(now), key=_order):
            if delivery.channel in paused:
                continue
            outcome = self.dispatch(delivery, now)
            if outcome is None:
                continue
            if outcome.state == "published":
                report.published.append(outcome)
            elif outcome.state in ("failed", "unknown", "skipped-late"):
                report.problems.append(outcome)
            if outcome.error_kind == "auth":
                paused = self.deliveries.pauses()
        for delivery in self.deliveries.lookups_due(now):
            item = self.catalog.item(delivery.item_id)
            if item is not None and delivery.channel not in paused:
                self.settle(item, delivery, now)
        return report

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
        crashpoints.reach("before-intent")
        claimed = self.deliveries.claim(delivery, item.content_hash, now)
        if claimed is None:
            return None  # another worker has it
        crashpoints.reach("after-intent")
        try:
            receipt = self.service.publish(item, delivery.channel)
        except PublishError as error:
            return self._failed(item, claimed, error, now)
        crashpoints.reach("before-receipt")
        return self.deliveries.change(
            claimed,
            "published",
            now,
            receipt.url or receipt.remote_id,
            state="published",
            remote_id=receipt.remote_id,
            url=receipt.url,
            published_at=now,
            error=None,
            error_kind=None,
        )

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
                error_kind=LOOKUP_PENDING,
            )
        text = "found on the platform" if found else "the platform does not have it: sending again"
        kind = "found" if found else "not-found"
        return self.deliveries.change(
            delivery, kind, now, text, state="scheduled", due_at=now, error_kind=None
        )

    def _failed(
        self, item: ContentItem, delivery: Delivery, error: PublishError, now: dt.datetime
    ) -> Delivery:
        text = str(error)
        if error.kind == "retryable" and delivery.attempts < MAX_ATTEMPTS:
            retry = next_attempt(now, delivery.attempts, error.retry_after, self.rng)
            if self._day_is_full(delivery, retry):
                moved = self._next_free_slot(item, delivery, retry)
                if moved is None:
                    text = (
                        f"{text}; the retry at {retry:%d/%m %H:%M} UTC falls on a day that already "
                        f"has its daily cap of {delivery.channel} posts, and no free slot is left"
                    )
                    return self.deliveries.change(
                        delivery, "skipped-late", now, text, state="skipped-late", error=text
                    )
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
            self.deliveries.pause(delivery.channel, text, now)
            return self.deliveries.change(
                delivery,
                "paused",
                now,
                text,
                state="scheduled",
                error=text,
                error_kind="auth",
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
        if portal is None or portal.state == "published":
            return None
        if portal.state in ("failed", "skipped-late", "cancelled"):
            text = (
                f"the portal article was not published ({portal.state}); its link would be broken"
            )
            return self.deliveries.change(
                delivery, "failed", now, text, state="failed", error=text, error_kind="permanent"
            )
        if portal.state == "unknown":
            text = (
                f"waiting for the portal article (#{portal.id}), whose outcome is unknown: "
                f"check the portal, then 'publisher resolve {portal.id}'"
            )
            return self.deliveries.change(
                delivery,
                "waiting-for-portal",
                now,
                text,
                due_at=now + PORTAL_UNKNOWN_WAIT,
                error=text,
                error_kind=HELD_BY_PORTAL,
            )
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

    def _handle_lateness(
        self, item: ContentItem, delivery: Delivery, now: dt.datetime
    ) -> Delivery | None:
        """Late within the grace window: publish now. Later: move to the next free slot."""
        campaign = self._campaign(delivery)
        grace = campaign.grace if campaign else dt.timedelta(hours=2)
        lateness = now - delivery.due_at
        if lateness <= grace:
            if lateness > dt.timedelta(minutes=1):
                self.deliveries.change(
                    delivery, "late", now, f"{int(lateness.total_seconds() // 60)} min late"
                )
            return None
        new_time = self._next_free_slot(item, delivery, now)
        if new_time is None:
            text = f"missed by {lateness} and no free slot is left"
            return self.deliveries.change(
                delivery, "skipped-late", now, text, state="skipped-late", error=text
            )
        return self.deliveries.change(
            delivery,
            "moved",
            now,
            detail_json(missed=delivery.due_at.isoformat(), to=new_time.isoformat()),
            due_at=new_time,
        )

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


def _cancel_reason(item: ContentItem | None, delivery: Delivery) -> str:
    if item is None:
        return "the item is no longer in content/"
    if item.status != "ready":
        return "the item is now a draft"
    if delivery.channel not in item.channels:
        return f"the item is no longer published on {delivery.channel}"
    return ""


def _order(delivery: Delivery) -> tuple[dt.datetime, int, int]:
    from publisher.adapters.names import CHANNEL_NAMES

    return (delivery.due_at, CHANNEL_NAMES.index(delivery.channel), delivery.id)
