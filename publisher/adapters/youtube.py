"""A YouTube channel through the Data API v3: video metadata, thumbnails and uploads."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from publisher.adapters.base import Channel, ChannelSettings, CredentialNames


class YouTubeCredentials(CredentialNames):
    client_id: str = "YOUTUBE_CLIENT_ID"
    client_secret: str = "YOUTUBE_CLIENT_SECRET"
    refresh_token: str = "YOUTUBE_REFRESH_TOKEN"


class YouTubeSettings(ChannelSettings):
    credentials: YouTubeCredentials = YouTubeCredentials()
    category_id: str = Field(default="25", pattern=r"^\d+$", description="25: News & Politics")
    privacy: Literal["public", "unlisted", "private"] = "public"
    api_base: str = "https://youtube.googleapis.com"


class YouTubeChannel(Channel):
    name = "youtube"
    label = "YouTube"
    settings_model = YouTubeSettings
    needs_video = True
