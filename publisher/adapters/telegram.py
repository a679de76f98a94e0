"""A Telegram channel through the Bot API (python-telegram-bot).

Render: Telegram HTML (only the tags it accepts). Text up to 4096 and captions up to 1024
characters after entity parsing, counted in UTF-16 units as Telegram does. Items with
photos become a photo (or an album of 2-10) with a short caption, followed by the full
text when it does not fit the caption; long text is split between paragraphs.
Photos: upload <= 10 MB, width + height <= 10000, aspect ratio <= 20.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from publisher.adapters.base import Call, Channel, CredentialNames, Post, SocialSettings
from publisher.content.model import ContentItem
from publisher.media import VariantSpec
from publisher.render.common import Findings, ItemView, make_post, variants, view
from publisher.render.context import RenderContext
from publisher.render.document import Line, Run
from publisher.render.telegram_html import pack_within, visible_length
from publisher.render.text import Count, hashtags, truncate

if TYPE_CHECKING:
    from publisher.publishing.model import ClientEnv, PlatformClient

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ALBUM_MAX = 10
PHOTO = VariantSpec("telegram-photo", 2560, 2560, "fit", "JPEG", 9_000_000)
CHAT_ID = r"^(@[A-Za-z][A-Za-z0-9_]{4,}|-?\d+)$"


class TelegramCredentials(CredentialNames):
    bot_token: str = "TELEGRAM_BOT_TOKEN"


class TelegramSettings(SocialSettings):
    credentials: TelegramCredentials = TelegramCredentials()
    chat_id: str | None = Field(default=None, pattern=CHAT_ID, description="@username or id")
    check_chat_id: str | None = Field(
        default=None,
        pattern=CHAT_ID,
        description=(
            "@username or id of the officers' own chat (a private group) where the bot may "
            "post: used to check, after an interrupted send, which messages reached the channel"
        ),
    )
    api_base: str = "https://api.telegram.org"
    max_messages: int = Field(default=4, ge=1, le=20, description="text messages per item")
    read_more: str = "Xem chi tiết trên Cổng thông tin"

    def live_requirements(self) -> list[str]:
        return [] if self.chat_id else ["chat_id"]

    @model_validator(mode="after")
    def _check_chat_is_not_the_channel(self) -> TelegramSettings:
        """Checking forwards the channel's messages to the check chat: never to the channel."""
        if self.check_chat_id and self.check_chat_id.lower() == (self.chat_id or "").lower():
            raise ValueError("check_chat_id must name the officers' own chat, not the channel")
        return self


class TelegramChannel(Channel):
    name = "telegram"
    label = "Telegram"
    settings_model = TelegramSettings
    settings: TelegramSettings
    image_specs = (PHOTO,)

    def live_client(self, env: ClientEnv) -> PlatformClient:
        from publisher.clients.telegram import create_client

        return create_client(self.settings, env)

    def render(self, item: ContentItem, context: RenderContext) -> Post:
        seen = view(item, self.name, context)
        findings = Findings()
        messages = self._messages(seen, findings)
        photos = seen.photos
        if len(photos) > ALBUM_MAX:
            findings.warnings.append(
                f"an album holds {ALBUM_MAX} photos; {len(photos) - ALBUM_MAX} more are left out"
            )
        made = [str(v.path) for v in variants(photos[:ALBUM_MAX], PHOTO, context, findings)]
        calls = self._calls(seen, messages, made)
        counts = [Count(c.step, _visible(c), _limit(c), "utf16") for c in calls if _visible(c)]
        return make_post(self.name, seen, findings, calls, made, counts)

    def _messages(self, seen: ItemView, findings: Findings) -> list[str]:
        tags = " ".join(hashtags([*seen.tags, *self.settings.hashtags]))
        closing = [Line("text", (Run(tags),))] if tags else []
        if seen.url:
            closing.insert(0, Line("text", (Run(self.settings.read_more, href=seen.url),)))
        title = Line("heading", (Run(seen.title),))
        body = list(seen.text_lines(self.settings.text))
        most = self.settings.max_messages
        messages, needed = pack_within([title], body, closing, seen.resolve, TEXT_LIMIT, most)
        if needed > most:
            findings.warnings.append(
                f"the text needs {needed} messages; it was cut to {most} ending with the link "
                "to the portal"
            )
        return messages

    def _caption(self, seen: ItemView, messages: list[str]) -> tuple[str, bool]:
        """The photo caption, and whether it already holds the whole text."""
        if len(messages) == 1 and visible_length(messages[0]) <= CAPTION_LIMIT:
            return messages[0], True
        title = f"<b>{html.escape(seen.title, quote=False)}</b>"
        room = CAPTION_LIMIT - visible_length(title) - 2
        summary = (
            html.escape(truncate(seen.summary, room, "utf16"), quote=False) if room > 20 else ""
        )
        return (f"{title}\n\n{summary}" if summary else title), False

    def _calls(self, seen: ItemView, messages: list[str], photos: list[str]) -> tuple[Call, ...]:
        chat = self.settings.chat_id or "{chat_id}"
        text_calls = [
            Call(
                f"message_{i}",
                "POST",
                "sendMessage",
                {
                    "chat_id": chat,
                    "text": text,
                    "parse_mode": "HTML",
                    "link_preview_options": (
                        {"url": seen.url, "is_disabled": i > 0}
                        if seen.url
                        else {"is_disabled": True}
                    ),
                },
            )
            for i, text in enumerate(messages)
        ]
        if not photos:
            return tuple(text_calls)
        caption, complete = self._caption(seen, messages)
        first = self._photo_call(chat, photos, caption)
        return (first,) if complete else (first, *text_calls)

    @staticmethod
    def _photo_call(chat: str, photos: list[str], caption: str) -> Call:
        if len(photos) == 1:
            payload = {
                "chat_id": chat,
                "photo": "attach://photo_0",
                "caption": caption,
                "parse_mode": "HTML",
            }
            return Call("photo", "POST", "sendPhoto", payload, {"photo_0": photos[0]})
        media = [
            {"type": "photo", "media": f"attach://photo_{i}"}
            | ({"caption": caption, "parse_mode": "HTML"} if i == 0 else {})
            for i in range(len(photos))
        ]
        files = {f"photo_{i}": path for i, path in enumerate(photos)}
        return Call("album", "POST", "sendMediaGroup", {"chat_id": chat, "media": media}, files)


def _visible(call: Call) -> int:
    if call.step.startswith("message"):
        return visible_length(call.payload["text"])
    caption = call.payload.get("caption") or next(
        (m.get("caption", "") for m in call.payload.get("media", []) if m.get("caption")), ""
    )
    return visible_length(caption)


def _limit(call: Call) -> int:
    return TEXT_LIMIT if call.step.startswith("message") else CAPTION_LIMIT
