"""A Telegram channel through the Bot API (python-telegram-bot)."""

from __future__ import annotations

from pydantic import Field

from publisher.adapters.base import Channel, ChannelSettings, CredentialNames


class TelegramCredentials(CredentialNames):
    bot_token: str = "TELEGRAM_BOT_TOKEN"


class TelegramSettings(ChannelSettings):
    credentials: TelegramCredentials = TelegramCredentials()
    chat_id: str | None = Field(
        default=None, pattern=r"^(@[A-Za-z][A-Za-z0-9_]{4,}|-?\d+)$", description="@username or id"
    )
    api_base: str = "https://api.telegram.org"

    def live_requirements(self) -> list[str]:
        return [] if self.chat_id else ["chat_id"]


class TelegramChannel(Channel):
    name = "telegram"
    label = "Telegram"
    settings_model = TelegramSettings
