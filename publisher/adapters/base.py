"""What every channel adapter declares: its name, its settings schema and what it accepts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from publisher.render.text import Count

if TYPE_CHECKING:
    from publisher.content.model import ContentItem
    from publisher.media import VariantSpec
    from publisher.publishing.model import ClientEnv, PlatformClient
    from publisher.render.context import RenderContext

Mode = Literal["live", "outbox"]
# The method of a call that asks the portal to host a file another platform fetches by
# address; the answer's "url" is that address (see publisher.publishing.hosting).
HOST_METHOD = "HOST"


class CredentialNames(BaseModel):
    """Names of the environment variables holding a channel's credentials (never the values)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Credentials that name something rather than unlock it (a user name, an app id): they
    # are never scrubbed from messages, where they would mangle words ("administrator").
    public: ClassVar[frozenset[str]] = frozenset()

    def missing(self, env: Mapping[str, str]) -> list[str]:
        return [name for name in self.model_dump().values() if not env.get(name)]

    def secret_values(self, values: Mapping[str, str]) -> list[str]:
        """The secrets among credential `values` (by credential name), to scrub from messages."""
        return [value for name, value in values.items() if name not in self.public and value]


class ChannelSettings(BaseModel):
    """Settings every `channels/<name>.yaml` may hold; each channel adds its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    mode: Mode | None = Field(
        default=None, description="live or outbox; unset: live when every credential is set"
    )
    credentials: CredentialNames = CredentialNames()
    hashtags: list[str] = Field(default=[], description="hashtags added to every post")
    footer: str | None = Field(default=None, description="text added at the end of every post")

    def live_requirements(self) -> list[str]:
        """Settings that live publishing needs but that are not set (credentials aside)."""
        return []

    def transport_problem(self) -> tuple[Literal["error", "warning"], str] | None:
        """Why this channel's credentials would not travel safely, if they would not."""
        return None


class SocialSettings(ChannelSettings):
    """Settings of the channels that carry a post's text (all but the portal and Zalo)."""

    text: Literal["full", "summary"] = Field(
        default="full", description="the whole article, or only its summary, before the link"
    )


class Channel(ABC):
    """A publishing channel: `render` is pure formatting into the platform's shape."""

    name: ClassVar[str]
    label: ClassVar[str]
    settings_model: ClassVar[type[ChannelSettings]] = ChannelSettings
    needs_video: ClassVar[bool] = False
    # Every variant `render` may ask of an image: all of them are made from one decode.
    image_specs: ClassVar[tuple[VariantSpec, ...]] = ()

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    @abstractmethod
    def render(self, item: ContentItem, context: RenderContext) -> Post:
        """The post `item` becomes here, within every limit; problems as warnings/errors."""

    @abstractmethod
    def live_client(self, env: ClientEnv) -> PlatformClient:
        """The platform's client; its library is imported here only, never at start-up."""


@dataclass(frozen=True)
class Call:
    """One request the live client sends, in the platform's own field names.

    `payload` is the JSON body or form fields; `files` maps upload fields to media files.
    A value "$step.field" stands for a field of an earlier step's answer (a Zalo article
    id, Facebook photo ids) that exists only once that step has run.
    """

    step: str
    method: str
    endpoint: str
    payload: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "method": self.method,
            "endpoint": self.endpoint,
            "payload": self.payload,
            "files": self.files,
        }


@dataclass(frozen=True)
class Post:
    """What one item becomes on one channel: the calls, the media, and what to fix."""

    channel: str
    item_id: str
    content_hash: str
    calls: tuple[Call, ...]
    media: tuple[str, ...] = ()
    url: str | None = None
    counts: tuple[Count, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def publishable(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "item": self.item_id,
            "content_hash": self.content_hash,
            "url": self.url,
            "requests": [call.to_json() for call in self.calls],
            "media": list(self.media),
            "counts": [count.to_json() for count in self.counts],
            "warnings": list(self.warnings),
            "errors": list(self.errors),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Post:
        return cls(
            channel=data["channel"],
            item_id=data["item"],
            content_hash=data["content_hash"],
            calls=tuple(Call(**call) for call in data["requests"]),
            media=tuple(data["media"]),
            url=data["url"],
            counts=tuple(Count(**count) for count in data["counts"]),
            warnings=tuple(data["warnings"]),
            errors=tuple(data["errors"]),
        )
