"""The front matter schema: every key an item may set, with its type.

Unknown keys are errors, not silently dropped: a misspelt `chanels:` must not quietly
publish an item everywhere. Per-channel blocks override the item's fields for that channel.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Status = Literal["ready", "draft"]
Priority = Literal["high", "normal", "low"]
PRIORITY_RANK: dict[str, int] = {"high": 0, "normal": 1, "low": 2}

_YOUTUBE_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


def _comma_list(value: Any) -> Any:
    """Accept `tags: a, b` as well as `tags: [a, b]`."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _lowercase(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Text = Annotated[
    str, Field(min_length=1), BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)
]
TextList = Annotated[list[Text], BeforeValidator(_comma_list)]
DateOrTime = dt.datetime | dt.date


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelOverride(_Strict):
    """Fields an item may set differently for one channel."""

    title: Text | None = None
    summary: Text | None = None
    tags: TextList | None = None
    cover: Text | None = None
    at: dt.datetime | None = None


class Chapter(_Strict):
    at: Annotated[str, Field(pattern=r"^(\d+:)?\d{1,2}:\d{2}$")]
    title: Text


class YouTubeOverride(ChannelOverride):
    video_id: Annotated[str, Field(pattern=_YOUTUBE_VIDEO_ID.pattern)] | None = None
    category_id: Annotated[str, Field(pattern=r"^\d+$"), BeforeValidator(str)] | None = None
    privacy: (
        Annotated[Literal["public", "unlisted", "private"], BeforeValidator(_lowercase)] | None
    ) = None
    chapters: list[Chapter] = []


class PortalOverride(ChannelOverride):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)] | None = None


class ZaloOverride(ChannelOverride):
    broadcast: bool | None = None


class FrontMatter(_Strict):
    """An item's front matter as written by the officer."""

    title: Text
    summary: Text | None = None
    date: dt.date | None = None
    author: Text | None = None
    tags: TextList = []
    channels: Annotated[list[Text], BeforeValidator(_comma_list)] | None = None
    cover: Text | None = None
    status: Annotated[Status, BeforeValidator(_lowercase)] = "ready"
    priority: Annotated[Priority, BeforeValidator(_lowercase)] = "normal"
    not_before: DateOrTime | None = None
    not_after: DateOrTime | None = None
    at: dt.datetime | None = None
    portal: PortalOverride | None = None
    facebook: ChannelOverride | None = None
    zalo: ZaloOverride | None = None
    youtube: YouTubeOverride | None = None
    telegram: ChannelOverride | None = None

    @model_validator(mode="after")
    def _window_is_ordered(self) -> FrontMatter:
        if (
            self.not_before
            and self.not_after
            and _as_datetime(self.not_before) > _as_datetime(self.not_after, end_of_day=True)
        ):
            raise ValueError("'not_before' is later than 'not_after'")
        return self

    def override(self, channel: str) -> ChannelOverride | None:
        return getattr(self, channel, None)


def _as_datetime(value: DateOrTime, end_of_day: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time.max if end_of_day else dt.time.min)
