"""A Facebook Page through the Graph API."""

from __future__ import annotations

from pydantic import Field

from publisher.adapters.base import Channel, ChannelSettings, CredentialNames


class FacebookCredentials(CredentialNames):
    page_token: str = "FACEBOOK_PAGE_TOKEN"


class FacebookSettings(ChannelSettings):
    credentials: FacebookCredentials = FacebookCredentials()
    page_id: str | None = Field(default=None, pattern=r"^\d+$")
    graph_version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    api_base: str = "https://graph.facebook.com"

    def live_requirements(self) -> list[str]:
        return [] if self.page_id else ["page_id"]


class FacebookChannel(Channel):
    name = "facebook"
    label = "Facebook"
    settings_model = FacebookSettings
