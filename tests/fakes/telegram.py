"""A fake Telegram Bot API server: the contract the publisher relies on (CHANNELS.md 4 and 6).

- `/bot<TOKEN>/<method>`: a malformed token answers 404 "Not Found", a well-formed unknown
  one 401 "Unauthorized", an unknown method 404, as Telegram does.
- Bodies are form-encoded, JSON, or multipart where a file is its own part (`photo`) or an
  `attach://<part>` reference (each `media` item of `sendMediaGroup`).
- Text and captions are parsed as Telegram's HTML parse mode does (tdlib `parse_html`): only
  Telegram's tags, balanced; entities `&lt; &gt; &amp; &quot;` and numeric ones. Limits are
  counted on the parsed, trimmed text in UTF-16 code units: 4096 for a message, 1024 for a
  caption. Other parse modes are refused (not modelled).
- A channel accepts posts from an administrator with `can_post_messages` only: otherwise
  403 "bot is not a member of the channel chat" (or "was kicked"), or 400 "need
  administrator rights".
- Errors: `{"ok": false, "error_code": N, "description": ..., "parameters": {...}}` with the
  HTTP status equal to `error_code`; 429 carries `parameters.retry_after`.
- An album holds 2..10 items (the Bot API documentation's range); the wording of the error
  for a single item is this fake's own.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .base import FakePlatform, Request, Response

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ALBUM_MIN, ALBUM_MAX = 2, 10
TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre"}
    | {"blockquote", "tg-spoiler", "span", "tg-emoji"}
)
_PATH = re.compile(r"/bot(?P<token>[^/]*)/(?P<method>\w+)")
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
_START_TAG = re.compile(r"<([^\s>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_END_TAG = re.compile(r"</([^\s>]*)\s*>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);?")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
Fields = dict[str, Any]
Files = dict[str, tuple[str, bytes, str]]


class ApiError(Exception):
    """A Bot API error answer."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def response(self) -> Response:
        body = {"ok": False, "error_code": self.code, "description": self.description}
        return Response(
            self.code, body | ({"parameters": self.parameters} if self.parameters else {})
        )


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Channel:
    """The channel the bot posts to, its bot's rights and every message in it."""

    id: int = -1001234567890
    username: str = "bhxh_tinh_tin_tuc"
    title: str = "BHXH tỉnh"
    admin: bool = True
    can_post: bool = True
    kicked: bool = False
    migrated_to: int | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "type": "channel", "title": self.title, "username": self.username}

    def named(self, chat_id: str) -> bool:
        return chat_id.lower() in (f"@{self.username}".lower(), str(self.id))


class FakeTelegram(FakePlatform):
    """The Bot API for one bot and one channel; `channel.messages` is what was posted."""

    def __init__(self, token: str, *, username: str = "bhxh_tinh_bot", bot_id: int = 7000000001):
        super().__init__()
        self.token: str | None = token
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "BHXH tỉnh", "username": username}
        self.channel = Channel()
        self._flood: list[int | None] = []
        self._ids = itertools.count(101)
        self._groups = itertools.count(13_000_000_000_000_001)
        self._methods: dict[str, Callable[[Fields, Files], Any]] = {
            "getme": lambda fields, files: self.bot,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "sendmediagroup": self._send_media_group,
        }

    # -- test controls ----------------------------------------------------------------
    def revoke_token(self) -> None:
        """As @BotFather's /revoke: the old token answers 401 from now on."""
        self.token = None

    def set_admin(self, admin: bool = True, *, can_post: bool = True) -> None:
        self.channel.admin, self.channel.can_post = admin, can_post

    def kick(self) -> None:
        self.channel.kicked = True

    def migrate(self, new_id: int) -> None:
        self.channel.migrated_to = new_id

    def rate_limit(self, retry_after: int, times: int = 1, *, after: int = 0) -> None:
        """The next `times` sends after `after` successful ones answer 429 (flood control)."""
        with self.lock:
            self._flood = [None] * after + [retry_after] * times

    # -- routing ------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        try:
            return Response(200, {"ok": True, "result": self._answer(request)})
        except ApiError as error:
            return error.response()

    def _answer(self, request: Request) -> Any:
        match = _PATH.fullmatch(request.path)
        if not match or not _TOKEN_SHAPE.fullmatch(match["token"]):
            raise ApiError(404, "Not Found")
        if match["token"] != self.token:
            raise ApiError(401, "Unauthorized")
        method = self._methods.get(match["method"].lower())
        if method is None:
            raise ApiError(404, "Not Found")
        fields, files = _parameters(request)
        return method(fields, files)

    # -- methods --------------------------------------------------------------------------
    def _get_chat(self, fields: Fields, files: Files) -> dict[str, Any]:
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        extra = {"accent_color_id": 0, "max_reaction_count": 11}
        return (
            self._chat(fields).json()
            | extra
            | {"accepted_gift_types": gifts | {"gifts_from_channels": False}}
        )

    def _get_chat_member(self, fields: Fields, files: Files) -> dict[str, Any]:
        channel = self._chat(fields)
        if str(fields.get("user_id")) != str(self.bot["id"]):
            raise bad_request("user not found")
        if channel.kicked:
            return {"status": "kicked", "user": self.bot, "until_date": 0}
        if not channel.admin:
            return {"status": "left", "user": self.bot}
        return {"status": "administrator", "user": self.bot} | _rights(channel.can_post)

    def _send_message(self, fields: Fields, files: Files) -> dict[str, Any]:
        channel = self._sendable(fields)
        text = parse(fields.get("text") or "", fields.get("parse_mode"))
        if not text:
            raise bad_request("message text is empty")
        if utf16(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
        preview = _json(fields, "link_preview_options", "link preview options")
        return self._post(channel, {"text": text, "link_preview_options": preview})

    def _send_photo(self, fields: Fields, files: Files) -> dict[str, Any]:
        channel = self._sendable(fields)
        photo = _upload(fields.get("photo"), files, "photo")
        content = {"photo": [self._photo_size(photo)]} | _caption(fields)
        return self._post(channel, content)

    def _send_media_group(self, fields: Fields, files: Files) -> list[dict[str, Any]]:
        channel = self._sendable(fields)
        if "media" not in fields:
            raise bad_request('parameter "media" is required')
        media = _json(fields, "media", "media")
        if not isinstance(media, list) or not media:
            raise bad_request("there are no messages to send")
        if len(media) > ALBUM_MAX:
            raise bad_request("too many messages to send as an album")
        if len(media) < ALBUM_MIN:
            raise bad_request(f"an album must hold {ALBUM_MIN}-{ALBUM_MAX} media")
        contents = [self._album_item(item, files) for item in media]
        group = str(next(self._groups))
        return [self._post(channel, c | {"media_group_id": group}) for c in contents]

    # -- checks -----------------------------------------------------------------------------
    def _chat(self, fields: Fields) -> Channel:
        chat_id = str(fields.get("chat_id") or "").strip()
        if not chat_id:
            raise bad_request("chat_id is empty")
        if not self.channel.named(chat_id):
            raise bad_request("chat not found")
        if self.channel.migrated_to:
            parameters = {"migrate_to_chat_id": self.channel.migrated_to}
            raise ApiError(
                400, "Bad Request: group chat was upgraded to a supergroup chat", parameters
            )
        return self.channel

    def _sendable(self, fields: Fields) -> Channel:
        """Flood control, then the chat, then the bot's right to post in it."""
        wait = self._flood.pop(0) if self._flood else None
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        channel = self._chat(fields)
        if channel.kicked:
            raise ApiError(403, "Forbidden: bot was kicked from the channel chat")
        if not channel.admin:
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        if not channel.can_post:
            raise bad_request("need administrator rights in the channel chat")
        return channel

    def _album_item(self, item: Any, files: Files) -> dict[str, Any]:
        if not isinstance(item, dict) or item.get("type") != "photo":
            raise bad_request("can't parse InputMedia: only photos are modelled by this fake")
        media = item.get("media", "")
        name = media.removeprefix("attach://")
        if not media.startswith("attach://") or name not in files:
            raise bad_request("can't parse InputMedia: media not found")
        return {"photo": [self._photo_size(files[name][1])]} | _caption(item)

    def _photo_size(self, data: bytes) -> dict[str, Any]:
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except Exception:
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        unique = f"fake-{len(data)}-{width}x{height}"
        size = {"width": width, "height": height, "file_size": len(data)}
        return {"file_id": f"AgAC{unique}", "file_unique_id": unique} | size

    def _post(self, channel: Channel, content: dict[str, Any]) -> dict[str, Any]:
        chat = channel.json()
        message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat}
        message |= {"sender_chat": chat} | {k: v for k, v in content.items() if v is not None}
        channel.messages.append(message)
        return message


# -- Telegram's HTML parse mode --------------------------------------------------------------
def parse(text: str, parse_mode: str | None) -> str:
    """The text Telegram shows, trimmed as Telegram trims it; ApiError as Telegram words it."""
    if not parse_mode:
        return text.strip()
    if parse_mode.lower() != "html":
        raise bad_request("unsupported parse_mode")
    return parse_html(text).strip()


def parse_html(text: str) -> str:
    """Visible text of Telegram HTML; refuses other tags and unbalanced ones (tdlib parse_html)."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&":
            decoded, i = _entity(text, i)
            out.append(decoded)
        elif text[i] != "<":
            out.append(text[i])
            i += 1
        elif text.startswith("</", i):
            i = _end_tag(text, i, stack)
        else:
            i = _start_tag(text, i, stack)
    if stack:
        raise _unparsable(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _entity(text: str, i: int) -> tuple[str, int]:
    match = _ENTITY.match(text, i)
    if match is None:
        return "&", i + 1
    name = match[1]
    if name.startswith("#"):
        number = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return (chr(number), match.end()) if 0 < number < 0x10FFFF else ("&", i + 1)
    return (_NAMED[name], match.end()) if name in _NAMED else ("&", i + 1)


def _start_tag(text: str, i: int, stack: list[str]) -> int:
    match = _START_TAG.match(text, i)
    if match is None:
        raise _unparsable(f"Unclosed start tag at byte offset {_offset(text, i)}")
    name = match[1].lower()
    if name not in TAGS:
        raise _unparsable(f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}')
    if name == "span" and "tg-spoiler" not in match[2]:
        raise _unparsable('Tag "span" must have class "tg-spoiler"')
    stack.append(name)
    return match.end()


def _end_tag(text: str, i: int, stack: list[str]) -> int:
    match = _END_TAG.match(text, i)
    offset = _offset(text, i)
    if match is None:
        raise _unparsable(f"Unclosed end tag at byte offset {offset}")
    if not stack:
        raise _unparsable(f"Unexpected end tag at byte offset {offset}")
    name = match[1].lower()
    if name and name != stack[-1]:
        found = f'expected "</{stack[-1]}>", found "</{name}>"'
        raise _unparsable(f"Unmatched end tag at byte offset {offset}, {found}")
    stack.pop()
    return match.end()


def _unparsable(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


def utf16(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# -- request parameters ---------------------------------------------------------------------
def _parameters(request: Request) -> tuple[Fields, Files]:
    fields: Fields = {k: v[-1] for k, v in request.query.items()}
    if request.headers.get("content-type", "").startswith("application/json"):
        return fields | (request.json() or {}), {}
    form, files = request.form() if request.body else ({}, {})
    return fields | form, files


def _json(fields: Fields, name: str, label: str) -> Any:
    """A parameter holding an object: a JSON string in forms, an object in JSON bodies."""
    value = fields.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(f"can't parse {label} JSON object") from None


def _upload(value: Any, files: Files, name: str) -> bytes:
    """A file sent as its own part, or as "attach://<part>"; the fake holds no file_ids."""
    if value is None and name in files:
        return files[name][1]
    if isinstance(value, str) and value.startswith("attach://"):
        part = files.get(value.removeprefix("attach://"))
        if part is None:
            raise bad_request(f"there is no {name} in the request")
        return part[1]
    if value:
        raise bad_request("wrong file identifier/HTTP URL specified")
    raise bad_request(f"there is no {name} in the request")


def _caption(item: Mapping[str, Any]) -> dict[str, Any]:
    raw = item.get("caption")
    if not raw:
        return {}
    caption = parse(raw, item.get("parse_mode"))
    if utf16(caption) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return {"caption": caption}


def _rights(can_post: bool) -> dict[str, bool]:
    """ChatMemberAdministrator's fields for a channel admin that may (or may not) post."""
    granted = ("manage_chat", "delete_messages", "manage_video_chats", "restrict_members")
    granted += ("change_info", "invite_users", "post_stories", "edit_stories", "delete_stories")
    rights = {f"can_{name}": True for name in (*granted, "edit_messages")}
    rights |= {"can_promote_members": False, "can_post_messages": can_post}
    return rights | {"can_be_edited": False, "is_anonymous": False}
