"""The plan: which item goes to which channel when, deterministic and stable.

Items are taken in campaign order (priority, then date, then id) and each of their
channels gets the earliest free slot that respects the item's window (`not_before`,
`not_after`), the present, and the rule that an item's portal article goes out before its
social posts (which link to it): a social post whose portal article finds no slot is not
planned either, with that reason. A pinned item (`at`, or a channel block's `at`) goes at
exactly that time. Drafts are never planned. Posts already announced (`fixed`) keep their
time, so an item dropped in later takes the next free slot and moves nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from publisher.adapters.names import CHANNEL_NAMES
from publisher.content.model import ContentItem
from publisher.content.schema import PRIORITY_RANK
from publisher.planning.slots import TimeSlot, campaign_slots, campaign_zone
from publisher.settings.schedules import Campaign, Schedules

DeliveryKey = tuple[str, str]  # (item id, channel)
PORTAL_UNPLACED = "its portal article has no slot, and this post links to it"


@dataclass(frozen=True)
class PlannedPost:
    item_id: str
    channel: str
    at: dt.datetime
    campaign: str
    phase: str | None = None
    sprint: bool = False
    pinned: bool = False

    @property
    def key(self) -> DeliveryKey:
        return (self.item_id, self.channel)

    def to_json(self) -> dict[str, object]:
        return {
            "item": self.item_id,
            "channel": self.channel,
            "at": self.at.isoformat(),
            "campaign": self.campaign,
            "phase": self.phase,
            "sprint": self.sprint,
            "pinned": self.pinned,
        }


@dataclass(frozen=True)
class Unplaced:
    item_id: str
    channel: str | None
    reason: str


@dataclass
class Plan:
    posts: list[PlannedPost] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)

    def post(self, key: DeliveryKey) -> PlannedPost | None:
        return next((p for p in self.posts if p.key == key), None)


def make_plan(
    schedules: Schedules,
    items: Iterable[ContentItem],
    channels: tuple[str, ...],
    *,
    now: dt.datetime | None = None,
    fixed: Mapping[DeliveryKey, dt.datetime] | None = None,
) -> Plan:
    """Assign every ready item's enabled channels to slots (see the module docstring)."""
    fixed = dict(fixed or {})
    plan = Plan()
    ready = sorted((i for i in items if i.status == "ready"), key=_order)
    claimed: dict[str, list[ContentItem]] = {c.id: [] for c in schedules.campaigns}
    for item in ready:
        campaign = next((c for c in schedules.campaigns if _selects(c, item)), None)
        if campaign is None:
            plan.unplaced.append(
                Unplaced(item.id, None, "no campaign in schedules.yaml selects it")
            )
        else:
            claimed[campaign.id].append(item)
    for campaign in schedules.campaigns:
        zone = campaign_zone(campaign, schedules.zone)
        book = _SlotBook(campaign_slots(campaign, zone, channels), zone)
        _assign(campaign, zone, claimed[campaign.id], channels, book, fixed, now, plan)
    plan.posts.sort(key=lambda p: (p.at, CHANNEL_NAMES.index(p.channel), p.item_id))
    return plan


def _order(item: ContentItem) -> tuple[int, dt.date, str]:
    return (PRIORITY_RANK[item.meta.priority], item.meta.date or dt.date.max, item.id)


def _selects(campaign: Campaign, item: ContentItem) -> bool:
    folders, tags = campaign.content.folders, campaign.content.tags
    if not folders and not tags:
        return True
    in_folder = any(item.id.startswith(folder.strip("/") + "/") for folder in folders)
    tagged = bool({t.casefold() for t in tags} & {t.casefold() for t in item.meta.tags})
    return in_folder or tagged


class _SlotBook:
    """The campaign's free slots; taking a moment that is not a slot still uses one of
    that day's slots, so daily caps hold for pinned and announced posts too."""

    def __init__(self, slots: list[TimeSlot], zone: ZoneInfo) -> None:
        self.free = list(slots)
        self.zone = zone

    def occupy(self, channel: str, at: dt.datetime) -> TimeSlot | None:
        same_day = [
            s
            for s in self.free
            if s.channel == channel
            and s.at.astimezone(self.zone).date() == at.astimezone(self.zone).date()
        ]
        exact = next((s for s in same_day if s.at == at), None)
        chosen = exact or (same_day[-1] if same_day else None)
        if chosen is not None:
            self.free.remove(chosen)
        return chosen

    def first(
        self, channel: str, earliest: dt.datetime | None, latest: dt.datetime | None
    ) -> TimeSlot | None:
        for slot in self.free:
            if slot.channel != channel or (earliest is not None and slot.at < earliest):
                continue
            if latest is not None and slot.at > latest:
                return None
            self.free.remove(slot)
            return slot
        return None


def _assign(
    campaign: Campaign,
    zone: ZoneInfo,
    items: list[ContentItem],
    channels: tuple[str, ...],
    book: _SlotBook,
    fixed: dict[DeliveryKey, dt.datetime],
    now: dt.datetime | None,
    plan: Plan,
) -> None:
    wanted = [(i, c) for i in items for c in CHANNEL_NAMES if c in i.channels and c in channels]
    placed: dict[DeliveryKey, PlannedPost] = {}
    for item, channel in wanted:  # announced posts first, then pinned ones: they do not move
        at = fixed.get((item.id, channel))
        pinned = at is None
        at = at or pinned_time(item, channel, zone)
        if at is not None:
            slot = book.occupy(channel, at)
            placed[(item.id, channel)] = PlannedPost(
                item.id,
                channel,
                at,
                campaign.id,
                slot.phase if slot else None,
                bool(slot and slot.sprint),
                pinned,
            )
    for item, channel in wanted:
        if (item.id, channel) in placed:
            continue
        portal = placed.get((item.id, "portal"))
        on_portal = "portal" in item.channels and "portal" in channels
        if portal is None and channel != "portal" and on_portal:
            plan.unplaced.append(Unplaced(item.id, channel, PORTAL_UNPLACED))
            continue  # it links to the portal article, which goes out nowhere
        bounds = [t for t in (item.not_before, now, portal.at if portal else None) if t]
        slot = book.first(channel, max(bounds) if bounds else None, item.not_after)
        if slot is None:
            plan.unplaced.append(Unplaced(item.id, channel, _why_not(item, campaign)))
            continue
        placed[(item.id, channel)] = PlannedPost(
            item.id, channel, slot.at, campaign.id, slot.phase, slot.sprint
        )
    plan.posts.extend(placed.values())


def pinned_time(item: ContentItem, channel: str, zone: dt.tzinfo) -> dt.datetime | None:
    """The exact time `item` is pinned to on `channel` (`at`, or its channel block's)."""
    block = item.meta.override(channel)
    moment = (block.at if block and block.at else None) or item.meta.at
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _why_not(item: ContentItem, campaign: Campaign) -> str:
    if item.not_after is not None:
        return f"no free slot before not_after ({item.not_after:%d/%m/%Y %H:%M})"
    return f"no free slot left in campaign '{campaign.id}'"
