"""Telegram Bot API client, through python-telegram-bot (PTB 22).

Performs the calls `publisher.adapters.telegram` renders: `sendMessage`, `sendPhoto` and
`sendMediaGroup`. Each is one step, so a failure at message 3 resumes at message 3.

A bot cannot read a channel, so a step whose answer was lost is looked for another way:
message ids in a channel are sequential, and a message forwarded to the officers' own chat
(`check_chat_id`) comes back whole. The ids after the last one this delivery knows are
forwarded there one by one (each copy deleted again) and compared with what the step sent.

PTB is asynchronous: every call runs in its own event loop with its own `Bot`, which is
initialised (`getMe`) first and shut down after, so no loop, socket or task outlives a call.
Errors: PTB's typed exceptions (telegram/error.py) become our four kinds in
`to_publish_error`, the one place that maps them.

The bot token is part of every URL PTB requests: it is removed from exception messages and
from the log records of PTB and httpx, which print those URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from publisher.adapters.base import Call, Post
from publisher.adapters.telegram import TelegramSettings
from publisher.htmltext import text_of_html
from publisher.publishing.errors import FailureKind, PublishError, redact
from publisher.publishing.model import FOUND_STEP, ClientEnv, LookupNotSupported, StepLog

if TYPE_CHECKING:
    from telegram import Bot, ChatFullInfo, ChatMember, Message

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

# Looking for a step whose answer was lost: how far past the last known message id to look,
# and how many ids in a row holding no message (deleted, or not yet used) end the channel.
PROBE_WINDOW = 20
END_OF_CHANNEL = 3
NOT_FOUND = "message to forward not found"
SET_CHECK_CHAT = (
    f"Setting check_chat_id in {SETTINGS_FILE} (the officers' own chat, where the bot may "
    "post) lets the tool check this by itself"
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
        """The first message is the post: its id, and its t.me address when the chat is public.

        A step an officer settled has no message id: the first id known stands in for the
        post's; with none, the id is "" and the address the officer gave, if any.
        """
        answers = [results[call.step] for call in post.calls if call.step in results]
        first = next((answer for answer in answers if "message_id" in answer), None)
        if first is None:
            return "", next((answer["url"] for answer in answers if answer.get("url")), None)
        chat = self.settings.chat_id or ""
        username = chat[1:] if chat.startswith("@") else first.get("chat_username")
        url = f"https://t.me/{username}/{first['message_id']}" if username else None
        return str(first["message_id"]), url

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        """The open step's answer, found among the channel's messages after the last one
        this delivery knows; None when every id up to the channel's end was seen and none
        is the step's. Nothing is posted to the channel.

        LookupNotSupported, saying what an officer should check, where this cannot tell: the
        post's first part (no known id to start from), no `check_chat_id`, a channel that
        protects its content, PROBE_WINDOW messages of other people, a refused forward.
        """
        index = next(i for i, call in enumerate(post.calls) if steps.maybe_sent(call.step))
        call = post.calls[index]
        part = _part(post, call)
        known = [n for earlier in post.calls[:index] for n in _message_ids(steps.get(earlier.step))]
        check_chat = self.settings.check_chat_id
        if not known:
            hint = "" if check_chat else f"{SET_CHECK_CHAT} for the parts after the first"
            raise unsettled(part, "no earlier message of the post is known to start from", hint)
        if not check_chat:
            raise unsettled(part, "check_chat_id is not set", SET_CHECK_CHAT)
        search = _Search(call, part, check_chat, max(known))
        return self._session(search.run, posts=False)

    def check(self) -> str:
        """getMe, getChat and getChatMember: the bot is an administrator that can post."""
        chat_id = self.settings.chat_id
        if not chat_id:
            raise PublishError(
                "permanent", f"chat_id is not set in {SETTINGS_FILE}", platform=PLATFORM
            )
        return self._session(lambda bot: _rights(bot, chat_id), posts=False)

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

    def _session(self, action: Action[T], *, posts: bool = True) -> T:
        """`action` with an initialised bot; `posts=False`: it posts nothing to the channel."""
        return asyncio.run(self._in_session(action, posts))

    async def _in_session(self, action: Action[T], posts: bool) -> T:
        bot = self._bot()
        try:
            # Nothing is posted before getMe succeeds, so its failures are never "unknown".
            await self._guarded(bot.initialize(), sent=False)
            return await self._guarded(action(bot), sent=posts)
        finally:
            with contextlib.suppress(Exception):  # the outcome is settled; closing can't change it
                await bot.shutdown()

    async def _guarded(self, awaitable: Awaitable[T], *, sent: bool) -> T:
        try:
            return await awaitable
        except (PublishError, LookupNotSupported):
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
    `sent=False` (getMe failed, or a lookup: nothing was posted) turns "unknown" into
    "retryable".
    """
    from telegram import error as tg

    text = str(exc) or type(exc).__name__

    def fail(kind: FailureKind, message: str, status: int | None = None) -> PublishError:
        wait = _seconds(exc) if isinstance(exc, tg.RetryAfter) else None
        if kind == "unknown" and not sent:
            kind, message = "retryable", f"{text}: nothing was posted to the channel"
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


# -- looking for a step whose answer was lost ------------------------------------------
@dataclass(frozen=True)
class _Search:
    """The channel's messages after `after`, forwarded one by one to `check_chat` (each copy
    deleted again), compared with what `call` sent."""

    call: Call
    part: str  # the call as an officer finds it in the channel
    check_chat: str
    after: int

    async def run(self, bot: Bot) -> dict[str, Any] | None:
        channel = await bot.get_chat(_chat(self.call.payload))
        if channel.has_protected_content:
            self.give_up("the channel protects its content, so its messages cannot be forwarded")
        check = await self._check_chat(bot)
        if check.id == channel.id:
            self.give_up("check_chat_id names the channel itself; it must be the officers' chat")
        copies: list[int] = []
        try:
            return await self._probe(bot, channel, check.id, copies)
        finally:
            for copy in copies:
                with contextlib.suppress(Exception):  # best effort: a copy left is only clutter
                    await bot.delete_message(check.id, copy)

    async def _probe(
        self, bot: Bot, channel: ChatFullInfo, check: int, copies: list[int]
    ) -> dict[str, Any] | None:
        """Candidate ids in order: the step's message(s) at consecutive ids, or the channel's
        end (END_OF_CHANNEL ids in a row without a message) with none of them seen."""
        wanted = _wanted(self.call)
        run: list[int] = []  # consecutive ids showing the step's first items
        missing = 0
        for candidate in range(self.after + 1, self.after + 1 + PROBE_WINDOW):
            seen = await self._forward(bot, channel.id, check, candidate)
            if seen is not None:
                copies.append(seen.message_id)
            if run and (seen is None or not _shows(seen, wanted[len(run)])):
                self.give_up(f"only part of it is at messages {run[0]}-{run[-1]}")
            if seen is None:
                missing += 1
                if missing == END_OF_CHANNEL:
                    return None
                continue
            missing = 0
            if _shows(seen, wanted[len(run)]):
                run.append(candidate)
            if len(run) == len(wanted):
                return _found(self.call, channel, run)
        self.give_up(
            f"the {PROBE_WINDOW} messages after the last one known are other posts, "
            "and the tool looks no further"
        )

    async def _check_chat(self, bot: Bot) -> ChatFullInfo:
        from telegram.error import BadRequest, Forbidden

        try:
            return await bot.get_chat(self.check_chat)
        except (BadRequest, Forbidden) as exc:
            self.give_up(f"the bot cannot use check_chat_id {self.check_chat} ({exc})")

    async def _forward(self, bot: Bot, channel: int, check: int, candidate: int) -> Message | None:
        """The copy of message `candidate`, or None where the channel holds no such message."""
        from telegram.error import BadRequest, Forbidden

        try:
            return await bot.forward_message(check, channel, candidate)
        except BadRequest as exc:
            if NOT_FOUND in str(exc).lower():
                return None
            self.give_up(f"forwarding message {candidate} to check_chat_id was refused ({exc})")
        except Forbidden as exc:
            self.give_up(f"forwarding message {candidate} to check_chat_id was refused ({exc})")

    def give_up(self, reason: str) -> NoReturn:
        raise unsettled(self.part, reason)


def unsettled(part: str, reason: str, hint: str = "") -> LookupNotSupported:
    """What an officer should check, and the command that settles it."""
    return LookupNotSupported(
        f"whether {part} reached the channel cannot be checked: {reason}. Look for it in the "
        "channel, then run 'publisher resolve N --published' if it is there or "
        "'publisher resolve N --not-published' if it is not (N: the delivery's number in "
        "'publisher status')." + (f" {hint}." if hint else "")
    )


def _part(post: Post, call: Call) -> str:
    """`call` as an officer finds it in the channel: 'message 2 of 3 ("Begins…")'."""
    begins = _wanted(call)[0][1]
    begins = f' ("{begins[:40]}…")' if len(begins) > 40 else f' ("{begins}")' if begins else ""
    if call.endpoint == "sendMediaGroup":
        media = call.payload["media"]
        kinds = {item["type"] for item in media}
        noun = f"{kinds.pop()}s" if len(kinds) == 1 else "items"
        return f"the album of {len(media)} {noun}{begins}"
    if call.endpoint == "sendPhoto":
        return f"the photo{begins}"
    messages = [c for c in post.calls if c.endpoint == call.endpoint]
    return f"message {messages.index(call) + 1} of {len(messages)}{begins}"


def _message_ids(answer: dict[str, Any] | None) -> list[int]:
    """The message ids a step's answer holds (none for a step an officer settled)."""
    if not answer:
        return []
    return [int(n) for n in answer.get("message_ids") or [answer.get("message_id")] if n]


def _wanted(call: Call) -> list[tuple[str, str]]:
    """What each message of `call` shows: its kind and its text or caption, plain."""
    if call.endpoint == "sendMediaGroup":
        return [(item["type"], _shown(item)) for item in call.payload["media"]]
    return [("text" if call.endpoint == "sendMessage" else "photo", _shown(call.payload))]


def _shown(payload: Mapping[str, Any]) -> str:
    """The text or caption Telegram shows for `payload` (HTML parsed), whitespace collapsed."""
    raw = payload.get("text") or payload.get("caption") or ""
    html = str(payload.get("parse_mode") or "").lower() == "html"
    return _plain(text_of_html(raw) if html else raw)


def _shows(message: Message, wanted: tuple[str, str]) -> bool:
    kind = next(
        (k for k in ("photo", "video", "document", "text") if getattr(message, k)), "other"
    )
    return (kind, _plain(message.text or message.caption)) == wanted


def _plain(text: str | None) -> str:
    return " ".join((text or "").split())


def _found(call: Call, channel: ChatFullInfo, ids: list[int]) -> dict[str, Any]:
    """The answer `call` would have had (as `_answer` makes it), for the step it stands for."""
    answer: dict[str, Any] = {"message_id": ids[0], "chat_id": channel.id}
    if channel.username:
        answer["chat_username"] = channel.username
    if call.endpoint == "sendMediaGroup":
        answer["message_ids"] = ids
    return answer | {FOUND_STEP: call.step}


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
