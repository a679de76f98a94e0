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
- Message ids are sequential in each chat: the channel's, and the officers' group's (`check`),
  each its own sequence. Messages carry the entities their HTML made (bold, links, ...);
  Telegram's automatic ones (hashtags, bare URLs) are not modelled.
- `forwardMessage` (tdlib/telegram-bot-api): the source chat must be readable and hold the
  message, else 400 "message to forward not found" (also for an id past the channel's end or
  a deleted message); a channel with protected content refuses with 400 "message has
  protected content and can't be forwarded"; the bot must be able to post in the target.
  The copy is a new message of the target chat with the original's text or caption (plain)
  and entities, its photo sizes and `forward_origin` (type "channel", chat, message_id,
  date); forwarded alone, an album item loses its `media_group_id` (tdlib groups forwarded
  items only when two or more are forwarded together).
- `deleteMessage`: 400 "message to delete not found" when the chat holds no such message; in
  a group the bot deletes only its own messages ("message can't be deleted").
- `getChat` tells `has_protected_content` (only when true, as the Bot API does).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
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
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
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
class Chat:
    """A chat the bot knows, and every message in it, numbered in the chat's own sequence."""

    id: int
    title: str
    type: str
    username: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(101))

    def json(self) -> dict[str, Any]:
        chat = {"id": self.id, "type": self.type, "title": self.title}
        return chat | ({"username": self.username} if self.username else {})

    def named(self, chat_id: str) -> bool:
        names = [str(self.id)] + ([f"@{self.username}".lower()] if self.username else [])
        return chat_id.lower() in names

    def message(self, message_id: Any) -> dict[str, Any] | None:
        return next((m for m in self.messages if str(m["message_id"]) == str(message_id)), None)


@dataclass
class Channel(Chat):
    """The channel the bot posts to, its bot's rights and every message in it."""

    id: int = -1001234567890
    title: str = "BHXH tỉnh"
    type: str = "channel"
    username: str | None = "bhxh_tinh_tin_tuc"
    admin: bool = True
    can_post: bool = True
    kicked: bool = False
    migrated_to: int | None = None
    protected: bool = False


@dataclass
class Group(Chat):
    """The officers' private supergroup, where the bot is a member that may post."""

    id: int = -1009876500001
    title: str = "Cán bộ truyền thông BHXH"
    type: str = "supergroup"
    member: bool = True
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class FakeTelegram(FakePlatform):
    """The Bot API for one bot, one channel and the officers' group (`check`);
    `channel.messages` is what was posted."""

    def __init__(self, token: str, *, username: str = "bhxh_tinh_bot", bot_id: int = 7000000001):
        super().__init__()
        self.token: str | None = token
        self.bot = {"id": bot_id, "is_bot": True, "first_name": "BHXH tỉnh", "username": username}
        self.channel = Channel()
        self.check = Group()
        self.clock = time.time
        self._flood: list[int | None] = []
        self._groups = itertools.count(13_000_000_000_000_001)
        self._methods: dict[str, Callable[[Fields, Files], Any]] = {
            "getme": lambda fields, files: self.bot,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "sendmediagroup": self._send_media_group,
            "forwardmessage": self._forward_message,
            "deletemessage": self._delete_message,
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

    def protect_content(self, protected: bool = True) -> None:
        """The channel's "Restrict saving content": its messages can no longer be forwarded."""
        self.channel.protected = protected

    def post_by_someone_else(self, text: str) -> int:
        """An administrator (not the bot) posts `text` to the channel; its message id."""
        with self.lock:
            return self._post(self.channel, {"text": text})["message_id"]

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
        chat = self._chat(fields)
        if isinstance(chat, Group):  # a private group: only its members see it
            self._readable(chat)
        protected = {"has_protected_content": True} if getattr(chat, "protected", False) else {}
        return (
            chat.json()
            | extra
            | protected
            | {"accepted_gift_types": gifts | {"gifts_from_channels": False}}
        )

    def _get_chat_member(self, fields: Fields, files: Files) -> dict[str, Any]:
        channel = self._chat(fields)
        if str(fields.get("user_id")) != str(self.bot["id"]):
            raise bad_request("user not found")
        if isinstance(channel, Group):
            return {"status": "member" if channel.member else "left", "user": self.bot}
        if channel.kicked:
            return {"status": "kicked", "user": self.bot, "until_date": 0}
        if not channel.admin:
            return {"status": "left", "user": self.bot}
        return {"status": "administrator", "user": self.bot} | _rights(channel.can_post)

    def _send_message(self, fields: Fields, files: Files) -> dict[str, Any]:
        channel = self._sendable(fields)
        text, entities = parse(fields.get("text") or "", fields.get("parse_mode"))
        if not text:
            raise bad_request("message text is empty")
        if utf16(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
        preview = _json(fields, "link_preview_options", "link preview options")
        content = {"text": text, "entities": entities or None, "link_preview_options": preview}
        return self._post(channel, content)

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

    def _forward_message(self, fields: Fields, files: Files) -> dict[str, Any]:
        """The source message first (as the Bot API checks it), then protection, then the
        target chat: the copy is a new message there, sent by the bot."""
        source = self._readable(self._chat(fields, "from_chat_id"))
        original = source.message(fields.get("message_id"))
        if original is None:
            raise bad_request("message to forward not found")
        if isinstance(source, Channel) and source.protected:
            raise bad_request("message has protected content and can't be forwarded")
        target = self._sendable(fields)
        kept = ("text", "entities", "photo", "caption", "caption_entities")
        origin = {"type": "channel", "chat": source.json(), "message_id": original["message_id"]}
        origin["date"] = original["date"]
        copy = {key: original[key] for key in kept if key in original}
        return self._post(target, copy | {"forward_origin": origin})

    def _delete_message(self, fields: Fields, files: Files) -> bool:
        chat = self._readable(self._chat(fields))
        message = chat.message(fields.get("message_id"))
        if message is None:
            raise bad_request("message to delete not found")
        if isinstance(chat, Group) and message.get("from", {}).get("id") != self.bot["id"]:
            raise bad_request("message can't be deleted")
        chat.messages.remove(message)
        return True

    # -- checks -----------------------------------------------------------------------------
    def _chat(self, fields: Fields, name: str = "chat_id") -> Channel | Group:
        chat_id = str(fields.get(name) or "").strip()
        if not chat_id:
            raise bad_request(f"{name} is empty")
        chat = next((c for c in (self.channel, self.check) if c.named(chat_id)), None)
        if chat is None:
            raise bad_request("chat not found")
        if isinstance(chat, Channel) and chat.migrated_to:
            parameters = {"migrate_to_chat_id": chat.migrated_to}
            raise ApiError(
                400, "Bad Request: group chat was upgraded to a supergroup chat", parameters
            )
        return chat

    @staticmethod
    def _readable(chat: Channel | Group) -> Channel | Group:
        """The bot sees a chat's messages only while it is in the chat."""
        if isinstance(chat, Group):
            if not chat.member:
                raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        elif chat.kicked:
            raise ApiError(403, "Forbidden: bot was kicked from the channel chat")
        elif not chat.admin:
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        return chat

    def _sendable(self, fields: Fields) -> Channel | Group:
        """Flood control, then the chat, then the bot's right to post in it."""
        wait = self._flood.pop(0) if self._flood else None
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        chat = self._readable(self._chat(fields))
        if isinstance(chat, Channel) and not chat.can_post:
            raise bad_request("need administrator rights in the channel chat")
        return chat

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

    def _post(self, chat: Channel | Group, content: dict[str, Any]) -> dict[str, Any]:
        """A new message of `chat`, with the chat's next id: a channel signs its posts, in a
        group the bot is the sender."""
        about = chat.json()
        sender = {"sender_chat": about} if isinstance(chat, Channel) else {"from": self.bot}
        message = {"message_id": next(chat.ids), "date": int(self.clock()), "chat": about}
        message |= sender | {k: v for k, v in content.items() if v is not None}
        chat.messages.append(message)
        return message


# -- Telegram's HTML parse mode --------------------------------------------------------------
def parse(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The text Telegram shows, trimmed as Telegram trims it, and its entities; ApiError as
    Telegram words it."""
    if not parse_mode:
        return text.strip(), []
    if parse_mode.lower() != "html":
        raise bad_request("unsupported parse_mode")
    shown, entities = parse_html_entities(text)
    return _trimmed(shown, entities)


def parse_html(text: str) -> str:
    """Visible text of Telegram HTML; refuses other tags and unbalanced ones (tdlib parse_html)."""
    return parse_html_entities(text)[0]


def parse_html_entities(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Visible text of Telegram HTML and its entities (offsets and lengths in UTF-16 units)."""
    out: list[str] = []
    units = 0  # UTF-16 length of `out`
    stack: list[tuple[str, str, int]] = []  # tag, attributes, where its text starts
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        if text[i] == "<" and text.startswith("</", i):
            i = _end_tag(text, i, stack, units, entities)
        elif text[i] == "<":
            i = _start_tag(text, i, stack, units)
        else:
            shown, i = _entity(text, i) if text[i] == "&" else (text[i], i + 1)
            out.append(shown)
            units += utf16(shown)
    if stack:
        raise _unparsable(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _trimmed(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """The text without its surrounding whitespace; entities shifted and cut to fit."""
    shown = text.strip()
    start = utf16(text[: len(text) - len(text.lstrip())])
    kept = []
    for entity in entities:
        begin = max(entity["offset"] - start, 0)
        end = min(entity["offset"] + entity["length"] - start, utf16(shown))
        if end > begin:
            kept.append(entity | {"offset": begin, "length": end - begin})
    return shown, kept


def _entity(text: str, i: int) -> tuple[str, int]:
    match = _ENTITY.match(text, i)
    if match is None:
        return "&", i + 1
    name = match[1]
    if name.startswith("#"):
        number = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return (chr(number), match.end()) if 0 < number < 0x10FFFF else ("&", i + 1)
    return (_NAMED[name], match.end()) if name in _NAMED else ("&", i + 1)


def _start_tag(text: str, i: int, stack: list[tuple[str, str, int]], at: int) -> int:
    match = _START_TAG.match(text, i)
    if match is None:
        raise _unparsable(f"Unclosed start tag at byte offset {_offset(text, i)}")
    name = match[1].lower()
    if name not in TAGS:
        raise _unparsable(f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}')
    if name == "span" and "tg-spoiler" not in match[2]:
        raise _unparsable('Tag "span" must have class "tg-spoiler"')
    stack.append((name, match[2], at))
    return match.end()


def _end_tag(
    text: str, i: int, stack: list[tuple[str, str, int]], at: int, entities: list[dict[str, Any]]
) -> int:
    match = _END_TAG.match(text, i)
    offset = _offset(text, i)
    if match is None:
        raise _unparsable(f"Unclosed end tag at byte offset {offset}")
    if not stack:
        raise _unparsable(f"Unexpected end tag at byte offset {offset}")
    name = match[1].lower()
    if name and name != stack[-1][0]:
        found = f'expected "</{stack[-1][0]}>", found "</{name}>"'
        raise _unparsable(f"Unmatched end tag at byte offset {offset}, {found}")
    tag, attributes, start = stack.pop()
    entity: dict[str, Any] = {"type": ENTITY_TYPES.get(tag), "offset": start, "length": at - start}
    if tag == "a":
        href = _HREF.search(attributes)
        url = next((g for g in href.groups() if g is not None), "") if href else ""
        entity["url"] = _unescaped(url)
    if entity["type"] and entity["length"] and entity.get("url", True):
        entities.append(entity)
    return match.end()


def _unescaped(value: str) -> str:
    """An attribute's value with its character references decoded."""
    out: list[str] = []
    i = 0
    while i < len(value):
        shown, i = _entity(value, i) if value[i] == "&" else (value[i], i + 1)
        out.append(shown)
    return "".join(out)


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
    caption, entities = parse(raw, item.get("parse_mode"))
    if utf16(caption) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return {"caption": caption, "caption_entities": entities or None}


def _rights(can_post: bool) -> dict[str, bool]:
    """ChatMemberAdministrator's fields for a channel admin that may (or may not) post."""
    granted = ("manage_chat", "delete_messages", "manage_video_chats", "restrict_members")
    granted += ("change_info", "invite_users", "post_stories", "edit_stories", "delete_stories")
    rights = {f"can_{name}": True for name in (*granted, "edit_messages")}
    rights |= {"can_promote_members": False, "can_post_messages": can_post}
    return rights | {"can_be_edited": False, "is_anonymous": False}
