"""Telegram Bot API client, through python-telegram-bot (PTB 22).

Performs the calls `publisher.adapters.telegram` renders: `sendMessage`, `sendPhoto` and
`sendMediaGroup`. Each is one step, so a failure at message 3 resumes at message 3.

PTB is asynchronous: every call runs in its own event loop with its own `Bot`, which is
initialised (`getMe`) first and shut down after, so no loop, socket or task outlives a call.
Errors: PTB's typed exceptions (telegram/error.py) become our four kinds in
`to_publish_error`, the one place that maps them.

The bot token is part of every URL PTB requests: it is removed from exception messages and
from the log records of PTB and httpx, which print those URLs.
Telegram gives a bot no way to read a channel's messages, so an unknown outcome stays unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from publisher.adapters.base import Call, Post
from publisher.adapters.telegram import TelegramSettings
from publisher.publishing.errors import FailureKind, PublishError, redact
from publisher.publishing.model import ClientEnv, LookupNotSupported, StepLog

if TYPE_CHECKING:
    from telegram import Bot, ChatMember

PLATFORM = "telegram"
ATTACH = "attach://"
SETTINGS_FILE = "channels/telegram.yaml"
ADMIN_HINT = "make the bot an administrator of the channel with the right to post messages"
# PTB's Bot logs its base URL and httpx logs every request URL: both hold the token.
URL_LOGGERS = ("telegram.Bot", "httpx")
# Telegram's 400 descriptions that say more than "rejected": (fragment, kind, what to do).
BAD_REQUESTS: tuple[tuple[str, FailureKind, str], ...] = (
    ("can't parse entities", "permanent", "the rendered HTML is not Telegram's: a render bug"),
    ("is too long", "permanent", "the rendered text exceeds Telegram's limit: a render bug"),
    ("chat not found", "permanent", f"check chat_id in {SETTINGS_FILE}"),
    ("rights", "auth", ADMIN_HINT),
)

T = TypeVar("T")
Action = Callable[["Bot"], Awaitable[T]]


def create_client(settings: TelegramSettings, env: ClientEnv) -> TelegramClient:
    """The live Telegram client; `env.secrets["bot_token"]` holds the bot's token."""
    return TelegramClient(settings, env)


def check_credentials(settings: TelegramSettings, env: ClientEnv) -> str:
    """Prove the token works and the bot may post: "bot @name can post to <chat title>"."""
    return create_client(settings, env).check()


class TelegramClient:
    """Sends one rendered call per `run`, each through a fresh, initialised `telegram.Bot`."""

    platform = PLATFORM

    def __init__(self, settings: TelegramSettings, env: ClientEnv) -> None:
        token = env.secrets.get("bot_token", "")
        if not token:
            variable = settings.credentials.bot_token
            raise PublishError(
                "auth", f"the bot token is not set: put it in {variable}", platform=PLATFORM
            )
        self.settings = settings
        self.env = env
        self._token = token
        _scrub_logs(token)

    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        """Send one message, photo or album; answer its message id(s) and chat id."""
        method, arguments = self._prepare(call, payload)

        async def send(bot: Bot) -> dict[str, Any]:
            return _answer(await getattr(bot, method)(**arguments))

        return self._session(send)

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        """The first message is the post: its id, and its t.me address when the chat is public."""
        first = results[post.calls[0].step]
        chat = self.settings.chat_id or ""
        username = chat[1:] if chat.startswith("@") else first.get("chat_username")
        url = f"https://t.me/{username}/{first['message_id']}" if username else None
        return str(first["message_id"]), url

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        raise LookupNotSupported(
            "Telegram gives a bot no way to read a channel's messages: look at the channel, "
            "then mark the delivery published or failed"
        )

    def check(self) -> str:
        """getMe, getChat and getChatMember: the bot is an administrator that can post."""
        chat_id = self.settings.chat_id
        if not chat_id:
            raise PublishError(
                "permanent", f"chat_id is not set in {SETTINGS_FILE}", platform=PLATFORM
            )
        return self._session(lambda bot: _rights(bot, chat_id))

    # -- plumbing -------------------------------------------------------------------
    def _prepare(self, call: Call, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """PTB's method and arguments; media files are read here, before anything is sent."""
        build = PREPARERS.get(call.endpoint)
        try:
            if build is None:
                raise ValueError(f"{call.endpoint} is not a call this client makes")
            return build(payload, call.files)
        except OSError as exc:
            message = f"{call.step}: cannot read a media file ({exc}); render the item again"
            raise PublishError("permanent", message, platform=PLATFORM) from None
        except (KeyError, ValueError, TypeError) as exc:
            message = f"{call.step}: cannot build {call.endpoint} ({exc!r}): a render bug"
            raise PublishError("permanent", message, platform=PLATFORM) from None

    def _session(self, action: Action[T]) -> T:
        return asyncio.run(self._in_session(action))

    async def _in_session(self, action: Action[T]) -> T:
        bot = self._bot()
        try:
            # Nothing is posted before getMe succeeds, so its failures are never "unknown".
            await self._guarded(bot.initialize(), sent=False)
            return await self._guarded(action(bot))
        finally:
            with contextlib.suppress(Exception):  # the outcome is settled; closing can't change it
                await bot.shutdown()

    async def _guarded(self, awaitable: Awaitable[T], *, sent: bool = True) -> T:
        try:
            return await awaitable
        except PublishError:
            raise
        except Exception as exc:
            raise to_publish_error(exc, self._token, sent=sent) from None

    def _bot(self) -> Bot:
        from telegram import Bot
        from telegram.request import HTTPXRequest

        seconds = self.env.timeout
        request = HTTPXRequest(
            connect_timeout=seconds,
            read_timeout=seconds,
            write_timeout=seconds,
            media_write_timeout=seconds,
            pool_timeout=seconds,
        )
        base = self.settings.api_base.rstrip("/")
        return Bot(
            self._token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot", request=request
        )


def to_publish_error(exc: BaseException, token: str, *, sent: bool = True) -> PublishError:
    """The one place where PTB's exceptions become our kinds, the token removed.

    Most specific class first: BadRequest and TimedOut are subclasses of NetworkError.
    `sent=False` (getMe failed, nothing was posted) turns "unknown" into "retryable".
    """
    from telegram import error as tg

    text = str(exc) or type(exc).__name__

    def fail(kind: FailureKind, message: str, status: int | None = None) -> PublishError:
        wait = _seconds(exc) if isinstance(exc, tg.RetryAfter) else None
        if kind == "unknown" and not sent:
            kind, message = "retryable", f"{message} (getMe failed: nothing was posted)"
        clean = redact(message, [token])
        return PublishError(kind, clean, platform=PLATFORM, http_status=status, retry_after=wait)

    if isinstance(exc, tg.RetryAfter):
        return fail("retryable", f"flood control: Telegram asks to wait {_seconds(exc):g} s", 429)
    if isinstance(exc, tg.InvalidToken):
        return fail(
            "auth", f"Telegram refused the bot token ({text}); check it with @BotFather", 401
        )
    if isinstance(exc, tg.Forbidden):
        return fail("auth", f"{text}: {ADMIN_HINT}", 403)
    if isinstance(exc, tg.ChatMigrated):
        where = f"set chat_id to {exc.new_chat_id} in {SETTINGS_FILE}"
        return fail("permanent", f"the chat moved to {exc.new_chat_id}: {where}", 400)
    if isinstance(exc, tg.BadRequest):
        kind, hint = _bad_request(text)
        return fail(kind, f"{text}: {hint}" if hint else text, 400)
    if isinstance(exc, tg.NetworkError):  # TimedOut, 5xx, a dropped connection
        if _never_sent(exc):
            return fail("retryable", f"{text}: Telegram could not be reached")
        return fail("unknown", f"{text}: the post may be in the channel; look before resending")
    if isinstance(exc, tg.Conflict | tg.EndPointNotFound):
        return fail("permanent", text, 409 if isinstance(exc, tg.Conflict) else 404)
    return fail("unknown", f"{type(exc).__name__}: {text}; the post may be in the channel")


def _bad_request(text: str) -> tuple[FailureKind, str]:
    lowered = text.lower()
    return next(((k, hint) for frag, k, hint in BAD_REQUESTS if frag in lowered), ("permanent", ""))


def _seconds(exc: Any) -> float:
    """RetryAfter.retry_after: an int (deprecated, warns) or a timedelta (PTB_TIMEDELTA=true)."""
    from telegram.warnings import PTBDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    return float(wait.total_seconds() if hasattr(wait, "total_seconds") else wait)


def _never_sent(exc: BaseException) -> bool:
    """Whether httpx failed before the request left: connect error or timeout, pool timeout."""
    import httpx

    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


# -- building PTB's arguments from the rendered payloads ---------------------------------
def _message(payload: dict[str, Any], files: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    from telegram import LinkPreviewOptions

    preview = payload.get("link_preview_options")
    return "send_message", {
        "chat_id": _chat(payload),
        "text": payload["text"],
        "parse_mode": payload.get("parse_mode"),
        "link_preview_options": LinkPreviewOptions(**preview) if preview else None,
    }


def _photo(payload: dict[str, Any], files: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    photo, filename = _media(payload["photo"], files)
    return "send_photo", {
        "chat_id": _chat(payload),
        "photo": photo,
        "filename": filename,
        "caption": payload.get("caption"),
        "parse_mode": payload.get("parse_mode"),
    }


def _album(payload: dict[str, Any], files: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    from telegram import InputMediaDocument, InputMediaPhoto, InputMediaVideo

    kinds = {"photo": InputMediaPhoto, "video": InputMediaVideo, "document": InputMediaDocument}
    media = []
    for item in payload["media"]:
        content, filename = _media(item["media"], files)
        caption = {"caption": item.get("caption"), "parse_mode": item.get("parse_mode")}
        media.append(kinds[item["type"]](content, filename=filename, **caption))
    return "send_media_group", {"chat_id": _chat(payload), "media": media}


PREPARERS: dict[str, Callable[..., tuple[str, dict[str, Any]]]] = {
    "sendMessage": _message,
    "sendPhoto": _photo,
    "sendMediaGroup": _album,
}


def _chat(payload: dict[str, Any]) -> str:
    chat = str(payload["chat_id"])
    if chat.startswith("{"):  # rendered without a chat_id setting
        raise ValueError(f"chat_id is not set in {SETTINGS_FILE}")
    return chat


def _media(value: str, files: Mapping[str, str]) -> tuple[str | bytes, str | None]:
    """An "attach://<name>" reference read from its file; a file_id or URL as it is."""
    if not value.startswith(ATTACH):
        return value, None
    path = Path(files[value.removeprefix(ATTACH)])
    return path.read_bytes(), path.name


def _answer(sent: Any) -> dict[str, Any]:
    """Message ids by which later steps and the receipt refer to what was posted."""
    messages = list(sent) if isinstance(sent, tuple | list) else [sent]
    chat = messages[0].chat
    answer = {"message_id": messages[0].message_id, "chat_id": chat.id}
    if chat.username:
        answer["chat_username"] = chat.username
    if isinstance(sent, tuple | list):
        answer["message_ids"] = [message.message_id for message in messages]
    return answer


async def _rights(bot: Bot, chat_id: str) -> str:
    chat = await bot.get_chat(chat_id)
    member = await bot.get_chat_member(chat_id, bot.id)
    who, where = f"bot @{bot.username}", chat.title or chat_id
    if _can_post(member, chat.type):
        return f"{who} can post to {where}"
    raise PublishError("auth", f"{who} cannot post to {where}: {ADMIN_HINT}", platform=PLATFORM)


def _can_post(member: ChatMember, chat_type: str) -> bool:
    if member.status == "creator":
        return True
    if chat_type == "channel":
        return member.status == "administrator" and bool(member.can_post_messages)
    return member.status in ("administrator", "member") or bool(
        getattr(member, "can_send_messages", False)
    )


# -- keeping the token out of log records ------------------------------------------------
class _TokenScrubber(logging.Filter):
    """Replaces known bot tokens in the records of the loggers that print request URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.tokens)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_SCRUBBER = _TokenScrubber()


def _scrub_logs(token: str) -> None:
    _SCRUBBER.tokens.add(token)
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUBBER not in logger.filters:
            logger.addFilter(_SCRUBBER)
