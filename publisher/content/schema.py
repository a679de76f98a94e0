"""The front matter schema: every key an item may set, with its type.

Unknown keys are errors, not silently dropped: a misspelt `chanels:` must not quietly
publish an item everywhere. Per-channel blocks override the item's fields for that channel.
Lengths are capped far above what any platform shows, only to catch a whole article pasted
into the title or thousands of tags, with a message that says what to do.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

Status = Literal["ready", "draft"]
Priority = Literal["high", "normal", "low"]
PRIORITY_RANK: dict[str, int] = {"high": 0, "normal": 1, "low": 2}

_YOUTUBE_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
MAX_TITLE = 500  # YouTube shows 100 characters, Zalo 150
MAX_SUMMARY = 5_000
MAX_AUTHOR = 200
MAX_TAG = 100
MAX_TAGS = 100  # YouTube takes 15 hashtags


def _comma_list(value: Any) -> Any:
    """Accept `tags: a, b` as well as `tags: [a, b]`."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _lowercase(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _at_most(limit: int, advice: str) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > limit:
            raise PydanticCustomError(
                "too_long",
                "is {length} characters long; at most {limit} are allowed: {advice}",
                {"length": f"{len(value):,}", "limit": f"{limit:,}", "advice": advice},
            )
        return value

    return AfterValidator(check)


def _at_most_tags(value: list[str]) -> list[str]:
    if len(value) > MAX_TAGS:
        raise PydanticCustomError(
            "too_many",
            "{count} tags; at most {limit} are allowed: keep the few that matter, each becomes "
            "a hashtag",
            {"count": f"{len(value):,}", "limit": MAX_TAGS},
        )
    return value


Text = Annotated[
    str, Field(min_length=1), BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)
]
Title = Annotated[Text, _at_most(MAX_TITLE, "put the text in the body and keep a short title")]
Summary = Annotated[Text, _at_most(MAX_SUMMARY, "keep the summary to a few sentences")]
Author = Annotated[Text, _at_most(MAX_AUTHOR, "name the office or the person")]
Tag = Annotated[Text, _at_most(MAX_TAG, "a tag becomes a hashtag; keep it to a few words")]
Tags = Annotated[list[Tag], BeforeValidator(_comma_list), AfterValidator(_at_most_tags)]
DateOrTime = dt.datetime | dt.date


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelOverride(_Strict):
    """Fields an item may set differently for one channel."""

    title: Title | None = None
    summary: Summary | None = None
    tags: Tags | None = None
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

    title: Title
    summary: Summary | None = None
    date: dt.date | None = None
    author: Author | None = None
    tags: Tags = []
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

    @field_validator("not_after")
    @classmethod
    def _window_is_ordered(
        cls, value: DateOrTime | None, info: ValidationInfo
    ) -> DateOrTime | None:
        before = info.data.get("not_before")
        if before and value and _later(before, value):
            raise PydanticCustomError(
                "window",
                "{after} is before not_before ({before}), so the item could never be published; "
                "correct one of the two dates",
                {"after": str(value), "before": str(before)},
            )
        return value

    def override(self, channel: str) -> ChannelOverride | None:
        return getattr(self, channel, None)


def _later(before: DateOrTime, after: DateOrTime) -> bool:
    """Whether `before` falls after `after` (a date alone in `after` covers its whole day)."""
    start, end = _as_datetime(before), _as_datetime(after, end_of_day=True)
    if (start.tzinfo is None) != (end.tzinfo is None):
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return start > end


def _as_datetime(value: DateOrTime, end_of_day: bool = False) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time.max if end_of_day else dt.time.min)
