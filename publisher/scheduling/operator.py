"""What an officer does by hand, through the same delivery record as `run`.

`publisher publish` sends one post now, `retry` sends a failed one again and `resolve`
settles an outcome nobody could look up. None of them calls a platform on its own: each
goes through the delivery (one per item and channel), its claim (two senders never both
send), the lookup rule (an interrupted attempt is looked up before anything is sent
again) and its history, which every view reads.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from filelock import Timeout

from publisher.content.model import ContentItem
from publisher.errors import PublisherError
from publisher.planning.planner import make_plan, pinned_time
from publisher.publishing.service import delivery_key
from publisher.scheduling.runner import CampaignRunner
from publisher.store.deliveries import Delivery
from publisher.workspace import Workspace, run_lock

MANUAL_CAMPAIGN = "manual"  # the campaign of a post published by hand outside the plan


class Refused(PublisherError):
    """The officer's request is not carried out; the message says why and what to do."""


class WrongState(Refused):
    """The delivery is not in a state the command applies to (a usage error, exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Outcome:
    """What became of the delivery, and whether anything was sent this time."""

    delivery: Delivery
    sent: bool


def runner_active(workspace: Workspace) -> bool:
    """Whether a `publisher run` holds this workspace's run lock right now."""
    lock = run_lock(workspace)
    try:
        lock.acquire()
    except Timeout:
        return True
    lock.release()
    return False


def outside_window(item: ContentItem, channel: str, now: dt.datetime, zone: dt.tzinfo) -> str:
    """Why `item` may not go out on `channel` now (a draft, before `not_before` or a pinned
    time, after `not_after`), or ''."""
    if item.status != "ready":
        return f"'{item.id}' is a draft (status: {item.status})"
    if item.not_before is not None and now < item.not_before:
        return f"'{item.id}' is not to be published before {_local(item.not_before, zone)}"
    if item.not_after is not None and now > item.not_after:
        return f"'{item.id}' was not to be published after {_local(item.not_after, zone)}"
    pinned = pinned_time(item, channel, zone)
    if pinned is not None and now < pinned:
        return f"'{item.id}' is pinned to {_local(pinned, zone)} on {channel}"
    return ""


def publish_now(
    runner: CampaignRunner, item: ContentItem, channel: str, now: dt.datetime, force: bool
) -> Outcome:
    """Send `item` on `channel` now, as `run` would at its slot.

    Refused: a draft or an item outside its window (unless `force`); a social post whose
    portal article is not out yet (it links there); a post being sent right now. A post
    already published is not sent again. An interrupted attempt is looked up first.
    """
    zone = runner.catalog.schedules.zone
    refusal = outside_window(item, channel, now, zone)
    if refusal and not force:
        raise Refused(f"{refusal}: nothing was sent; add --force to publish it anyway")
    deliveries = runner.store.deliveries
    portal = deliveries.find(item.id, "portal")
    links_to_portal = channel != "portal" and "portal" in item.channels
    if links_to_portal and (portal is None or portal.state != "published"):
        raise Refused(
            f"the portal article of '{item.id}' is not published yet, and the {channel} "
            f"post links to it: publish it first (publisher publish {item.id} "
            "--channel portal)"
        )
    delivery = _delivery(runner, item, channel, now)
    if delivery.state == "published":
        return Outcome(delivery, sent=False)
    if delivery.state == "sending":
        if runner_active(runner.workspace):
            raise Refused(f"#{delivery.id} is being sent right now by 'publisher run'")
        delivery = runner.recover_one(delivery, now)
    if delivery.state == "unknown":
        delivery = runner.dispatcher.settle(item, delivery, now)
        if delivery.state == "unknown":
            return Outcome(delivery, sent=False)
    if delivery.state != "scheduled":  # failed, skipped-late or cancelled: a fresh try
        delivery = _reopen(runner, delivery, "publish-requested", now)
    sent = runner.dispatcher.send(item, delivery, now)
    if sent is not None and _settled_for_now(sent, runner.dispatcher.moment(now)):
        sent = runner.dispatcher.send(item, sent, now)  # the lookup found it: finish the rest
    if sent is None:
        raise Refused(f"#{delivery.id} is being sent right now by 'publisher run'")
    return Outcome(sent, sent=True)


def _settled_for_now(delivery: Delivery, now: dt.datetime) -> bool:
    """An unknown outcome the lookup settled at once: scheduled again, due now, no error."""
    return delivery.state == "scheduled" and delivery.error_kind is None and delivery.due_at <= now


def retry(runner: CampaignRunner, delivery: Delivery, now: dt.datetime) -> Delivery:
    """Schedule a failed, skipped or cancelled delivery to be sent at the next tick."""
    if delivery.state not in ("failed", "skipped-late", "cancelled"):
        unknown = delivery.state == "unknown"
        hint = " (use 'publisher resolve' for an unknown outcome)" if unknown else ""
        raise WrongState(
            f"delivery #{delivery.id} is {delivery.state}: only failed, skipped-late or "
            f"cancelled ones can be retried{hint}"
        )
    deliveries = runner.store.deliveries
    again = _reopen(runner, delivery, "retry-requested", now)
    if delivery.error_kind == "auth":
        deliveries.unpause(delivery.channel)
        deliveries.release_held(now)
    return again


def resolve(
    runner: CampaignRunner,
    delivery: Delivery,
    published: bool,
    url: str | None,
    now: dt.datetime,
) -> Delivery:
    """Settle an outcome the platform could not tell, part by part.

    Only one request of a delivery can be open (the one whose answer was lost); the
    officer says whether that part is in the channel. Published: it is recorded as done
    and the parts after it are sent; not published: it is sent again, then the rest. A
    delivery whose every part is done is published.
    """
    if delivery.state not in ("unknown", "sending", "failed"):
        raise WrongState(f"delivery #{delivery.id} is {delivery.state}; nothing to resolve")
    if delivery.state == "sending" and runner_active(runner.workspace):
        raise Refused(f"#{delivery.id} is being sent right now by 'publisher run'")
    deliveries = runner.store.deliveries
    item = runner.catalog.item(delivery.item_id)
    remaining = _settle_open_part(runner, item, delivery, published, url) if item else []
    if published and not remaining:
        resolved = deliveries.change(
            delivery,
            "resolved",
            now,
            "published, says an operator",
            state="published",
            published_at=now,
            url=url or delivery.url,
            error=None,
            error_kind=None,
        )
    else:
        what = (
            f"the open part is in the channel, says an operator; {', '.join(remaining)} to send"
            if published
            else "not published, says an operator: sent again"
        )
        resolved = deliveries.change(
            delivery,
            "resolved",
            now,
            what,
            state="scheduled",
            due_at=now,
            error=None,
            error_kind=None,
        )
    if delivery.channel == "portal":
        deliveries.release_held(now, delivery.item_id)
    return resolved


def _settle_open_part(
    runner: CampaignRunner,
    item: ContentItem,
    delivery: Delivery,
    published: bool,
    url: str | None,
) -> list[str]:
    """Record the officer's word on the open request; the steps still to send (none when
    the officer saw a post whose every request was answered or never left)."""
    post = runner.dispatcher.service.renderer.render(item, delivery.channel)
    steps = runner.store.steps(delivery_key(item, delivery.channel))
    open_call = next((c for c in post.calls if steps.maybe_sent(c.step)), None)
    if open_call is not None and published:
        needed_by = [
            c.step
            for c in post.calls
            if f"${open_call.step}." in json.dumps([c.endpoint, c.payload], ensure_ascii=False)
        ]
        if needed_by:
            raise Refused(
                f"the {', '.join(needed_by)} step needs what the platform answered to "
                f"{open_call.step}, which only its lookup can tell: run 'publisher run' to let "
                "it look, or resolve as not published if the part is surely not there"
            )
        steps.record(open_call.step, {"settled": "operator", **({"url": url} if url else {})})
    elif open_call is not None:
        steps.attempt(open_call.step, "operator: not published")
    if open_call is None and published:
        return []  # no part was left open: the officer saw the post, the records could not
    return [c.step for c in post.calls if steps.get(c.step) is None]


def _reopen(runner: CampaignRunner, delivery: Delivery, kind: str, now: dt.datetime) -> Delivery:
    """An officer asks for a delivery that ended to be sent again, now."""
    return runner.store.deliveries.change(
        delivery,
        kind,
        now,
        "by an operator",
        state="scheduled",
        due_at=now,
        error=None,
        error_kind=None,
    )


def _delivery(
    runner: CampaignRunner, item: ContentItem, channel: str, now: dt.datetime
) -> Delivery:
    """The item's delivery on `channel`; recorded now if the plan has not announced it."""
    deliveries = runner.store.deliveries
    found = deliveries.find(item.id, channel)
    if found is not None:
        return found
    catalog = runner.catalog
    enabled = tuple(n for n, c in catalog.channels.items() if c.enabled)
    planned = make_plan(catalog.schedules, [item], enabled, now=now).post((item.id, channel))
    campaign = planned.campaign if planned else MANUAL_CAMPAIGN
    deliveries.announce([(item.id, channel, campaign, now)], now)
    found = deliveries.find(item.id, channel)
    assert found is not None
    return found


def _local(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")

