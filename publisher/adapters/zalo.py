"""A Zalo Official Account through the Zalo OA Open API (articles and broadcasts)."""

from __future__ import annotations

from pydantic import Field

from publisher.adapters.base import Channel, ChannelSettings, CredentialNames


class ZaloCredentials(CredentialNames):
    app_id: str = "ZALO_APP_ID"
    app_secret: str = "ZALO_APP_SECRET"
    refresh_token: str = "ZALO_REFRESH_TOKEN"


class ZaloSettings(ChannelSettings):
    credentials: ZaloCredentials = ZaloCredentials()
    author: str = Field(default="Bảo hiểm xã hội", max_length=50, description="article author")
    broadcast: bool = Field(default=False, description="send each article to followers")
    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"


class ZaloChannel(Channel):
    name = "zalo"
    label = "Zalo OA"
    settings_model = ZaloSettings
