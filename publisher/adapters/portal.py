"""The agency's web portal: a static site by default, WordPress REST API when live."""

from __future__ import annotations

from pydantic import Field

from publisher.adapters.base import Channel, ChannelSettings, CredentialNames


class PortalCredentials(CredentialNames):
    username: str = "WORDPRESS_USERNAME"
    app_password: str = "WORDPRESS_APP_PASSWORD"


class PortalSettings(ChannelSettings):
    credentials: PortalCredentials = PortalCredentials()
    base_url: str = Field(
        default="http://localhost:8000",
        pattern=r"^https?://[^\s/]+",
        description="public address of the portal; every other channel links to its articles",
    )
    article_path: str = Field(default="/tin-tuc/{slug}/", description="path of an article; {slug}")
    site_name: str = "Cổng thông tin điện tử"
    wordpress_url: str | None = Field(default=None, description="WordPress site for live mode")

    def live_requirements(self) -> list[str]:
        return [] if self.wordpress_url else ["wordpress_url"]


class PortalChannel(Channel):
    name = "portal"
    label = "Cổng thông tin"
    settings_model = PortalSettings
