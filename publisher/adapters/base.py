"""What every channel adapter declares: its name, its settings schema and what it accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["live", "outbox"]


class CredentialNames(BaseModel):
    """Names of the environment variables holding a channel's secrets (never the secrets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def missing(self, env: Mapping[str, str]) -> list[str]:
        return [name for name in self.model_dump().values() if not env.get(name)]


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


class Channel:
    """A publishing channel. `render` and `publish` halves are added per platform."""

    name: ClassVar[str]
    label: ClassVar[str]
    settings_model: ClassVar[type[ChannelSettings]] = ChannelSettings
    needs_video: ClassVar[bool] = False
