"""Publishing slots: the times each channel may post on, from `schedules.yaml`.

A slot is a local wall-clock time in the campaign's time zone, stored as an aware
datetime. On a phase's days the phase's channel plans replace the campaign's; blackout
dates have no slots; a channel's daily cap keeps only the day's first slots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from publisher.adapters.names import CHANNEL_NAMES
from publisher.settings.schedules import WEEKDAYS, Campaign, ChannelPlan, Phase, Slot


@dataclass(frozen=True, order=True)
class TimeSlot:
    """One moment a channel may publish, in one campaign (and maybe one phase)."""

    at: dt.datetime
    channel_rank: int
    channel: str
    campaign: str
    phase: str | None = None
    sprint: bool = False


def campaign_zone(campaign: Campaign, default: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(campaign.timezone) if campaign.timezone else default


def days_of(campaign: Campaign) -> Iterator[dt.date]:
    day = campaign.start
    while day <= campaign.end:
        yield day
        day += dt.timedelta(days=1)


def phase_on(campaign: Campaign, day: dt.date) -> Phase | None:
    return next((p for p in campaign.phases if p.start <= day <= p.end), None)


def channel_plan(
    campaign: Campaign, day: dt.date, channel: str
) -> tuple[ChannelPlan | None, Phase | None]:
    phase = phase_on(campaign, day)
    if phase is not None and channel in phase.channels:
        return phase.channels[channel], phase
    return campaign.channels.get(channel), phase


def campaign_slots(campaign: Campaign, zone: ZoneInfo, channels: tuple[str, ...]) -> list[TimeSlot]:
    """Every slot of the campaign for the given channels, in time order."""
    slots: list[TimeSlot] = []
    blackout = set(campaign.blackout)
    for day in days_of(campaign):
        if day in blackout:
            continue
        for channel in channels:
            plan, phase = channel_plan(campaign, day, channel)
            if plan is None:
                continue
            times = sorted({t for slot in plan.slots for t in times_on(day, slot, zone)})
            for moment in times[: plan.daily_cap] if plan.daily_cap else times:
                slots.append(
                    TimeSlot(
                        moment,
                        CHANNEL_NAMES.index(channel),
                        channel,
                        campaign.id,
                        phase.name if phase else None,
                        bool(phase and phase.sprint),
                    )
                )
    return sorted(slots)


def times_on(day: dt.date, slot: Slot, zone: ZoneInfo) -> list[dt.datetime]:
    """The slot's local times on `day`, as aware datetimes."""
    if slot.cron is not None:
        return _cron_times(day, slot.cron, zone)
    if slot.days and WEEKDAYS[day.weekday()] not in slot.days:
        return []
    return [dt.datetime.combine(day, t, tzinfo=zone) for t in slot.times or []]


def _cron_times(day: dt.date, expression: str, zone: ZoneInfo) -> list[dt.datetime]:
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(expression, timezone=zone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = start + dt.timedelta(days=1)
    times: list[dt.datetime] = []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end:
        times.append(moment)
        moment = trigger.get_next_fire_time(moment, moment + dt.timedelta(seconds=1))
    return times
