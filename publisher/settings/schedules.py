"""The campaign calendar schema (`schedules.yaml`, DESIGN section 5).

A workspace time zone, then campaigns with a date range, the content they draw from,
blackout dates, a lateness grace window and per-channel publishing slots; phases (for
example the peak sprint) replace the campaign's slots for part of its range.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from publisher.adapters.names import CHANNEL_NAMES
from publisher.content.loadcache import LoadCache
from publisher.problems import Problems
from publisher.settings.yamlfile import read_yaml_file
from publisher.validation import validate_document
from publisher.workspace import Workspace

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {"daily": WEEKDAYS, "weekdays": WEEKDAYS[:5], "weekend": WEEKDAYS[5:]}
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


def _parse_duration(value: Any) -> Any:
    """'2h', '90m', '1h30m' or a number of minutes."""
    if isinstance(value, int):
        return dt.timedelta(minutes=value)
    if isinstance(value, str) and (match := _DURATION.match(value)) and any(match.groups()):
        hours, minutes = (int(g or 0) for g in match.groups())
        return dt.timedelta(hours=hours, minutes=minutes)
    raise ValueError("write a duration like '2h', '90m' or '1h30m'")


def _parse_time(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        hour, minute = value.strip().split(":")
        return dt.time(int(hour), int(minute))
    raise ValueError("write a time as HH:MM, for example '08:30'")


def _expand_days(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    days: list[str] = []
    for entry in value if isinstance(value, list) else []:
        key = (
            str(entry).strip().lower()[:3]
            if str(entry).lower() not in _DAY_GROUPS
            else str(entry).lower()
        )
        if key in _DAY_GROUPS:
            days.extend(_DAY_GROUPS[key])
        elif key in WEEKDAYS:
            days.append(key)
        else:
            raise ValueError(f"unknown day {entry!r}: use mon..sun, weekdays, weekend or daily")
    return days or value


LocalTime = Annotated[dt.time, BeforeValidator(_parse_time)]
Duration = Annotated[dt.timedelta, BeforeValidator(_parse_duration)]
Days = Annotated[
    list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]], BeforeValidator(_expand_days)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Slot(_Strict):
    """Either `days` + `times`, or a `cron` expression (minute hour day month weekday)."""

    days: Days | None = None
    times: list[LocalTime] | None = None
    cron: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Slot:
        if self.cron is not None:
            if self.days or self.times:
                raise ValueError("a slot has either 'cron' or 'days' and 'times', not both")
            _check_cron(self.cron)
        elif not self.times:
            raise ValueError("a slot needs 'times' (and optionally 'days') or a 'cron' expression")
        return self


def _check_cron(expression: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=ZoneInfo("UTC"))
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None


class ChannelPlan(_Strict):
    slots: list[Slot] = Field(min_length=1)
    daily_cap: int | None = Field(default=None, ge=1)


ChannelName = Literal[CHANNEL_NAMES]  # type: ignore[valid-type]
ChannelPlans = dict[ChannelName, ChannelPlan]


class ContentSelection(_Strict):
    folders: list[str] = []
    tags: list[str] = []


class Phase(_Strict):
    name: str
    start: dt.date
    end: dt.date
    sprint: bool = False
    channels: ChannelPlans = {}

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end < self.start:
            raise ValueError(f"phase '{self.name}' ends before it starts")
        return self


class Campaign(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    start: dt.date
    end: dt.date
    timezone: str | None = None
    content: ContentSelection = ContentSelection()
    grace: Duration = dt.timedelta(hours=2)
    blackout: list[dt.date] = []
    channels: ChannelPlans = {}
    phases: list[Phase] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return value if value is None else _zone(value).key

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        if self.end < self.start:
            raise ValueError(f"campaign '{self.id}' ends before it starts")
        for phase in self.phases:
            if phase.start < self.start or phase.end > self.end:
                raise ValueError(f"phase '{phase.name}' is outside the campaign's dates")
        if not self.channels and not any(p.channels for p in self.phases):
            raise ValueError(f"campaign '{self.id}' has no publishing slots for any channel")
        return self


class Schedules(_Strict):
    timezone: str = DEFAULT_TIMEZONE
    campaigns: list[Campaign] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value).key

    @model_validator(mode="after")
    def _unique_ids(self) -> Schedules:
        ids = [c.id for c in self.campaigns]
        if len(ids) != len(set(ids)):
            raise ValueError("two campaigns have the same id")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like 'Asia/Ho_Chi_Minh'"
        ) from None


def load_schedules(
    workspace: Workspace, problems: Problems, cache: LoadCache | None = None
) -> Schedules:
    """The validated calendar; an empty one (default time zone) when missing or invalid.

    A calendar without a single problem is remembered in `cache` by its text.
    """
    path = workspace.schedules_path
    rel = workspace.rel(path)
    if not path.is_file():
        problems.warning(rel, "schedules.yaml is missing: nothing will be scheduled")
        return Schedules()

    def clean() -> Schedules:
        found = Problems()
        schedules = _read_schedules(path, rel, found)
        if found.errors or found.warnings:
            raise _NotClean(found, schedules)
        return schedules

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        return (cache or LoadCache()).remember("schedules", f"{rel}\0{text}", clean)
    except _NotClean as outcome:
        problems.extend(outcome.problems)
        return outcome.schedules


class _NotClean(Exception):
    """A calendar with problems: reported every time, never remembered."""

    def __init__(self, problems: Problems, schedules: Schedules) -> None:
        super().__init__()
        self.problems = problems
        self.schedules = schedules


def _read_schedules(path: Path, rel: str, problems: Problems) -> Schedules:
    document = read_yaml_file(path, rel, problems)
    schedules = document and validate_document(Schedules, document, rel, problems)
    if schedules is None:
        timezone = (
            document.data.get("timezone") if document and isinstance(document.data, dict) else None
        )
        return Schedules(timezone=timezone) if _valid_zone(timezone) else Schedules()
    return schedules


def _valid_zone(name: object) -> bool:
    try:
        return isinstance(name, str) and bool(_zone(name))
    except ValueError:
        return False
