"""The five fakes, instrumented for crash and fault testing.

Every request a fake receives is stamped (a `Stamp`) with the simulated moment and the
delivery the runner was working on (read from the driver's context file), with the fault
injected into it, if any, and with the number of visible posts it created. Posts are what
a reader sees: WordPress posts, published Facebook posts, Zalo articles and broadcasts,
uploaded YouTube videos, Telegram messages (unpublished Facebook photos and WordPress
media are not posts: re-uploading them after a crash is harmless).

A `Killer` SIGKILLs the runner process from inside a fake while a request is in flight:
before the platform acts on it, or after it acted and before its answer leaves. A
`Storm` turns a seeded share of requests into faults, each shaped as its platform
shapes it (see `FAULTS`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from tests.fakes.base import Fault, Request, Response
from tests.fakes.facebook import PAGE_ID, FakeFacebook, graph_error
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wordpress import FakeWordPress, wp_error
from tests.fakes.youtube import FakeYouTube, google_error
from tests.fakes.zalo import ZaloFake, fail

from . import context

PACIFIC = ZoneInfo("America/Los_Angeles")
TELEGRAM_TOKEN = "7000000001:AAFakeTokenForTests_0123456789abcdef"
YOUTUBE_SECRETS = {
    "client_id": "123456-fakeclient.apps.googleusercontent.com",
    "client_secret": "GOCSPX-fake-client-secret-9f8e7d",
    "refresh_token": "1//0fake-refresh-token-abcdef123456",
}
STORM_KINDS = (
    "5xx",  # an error answer; the platform did nothing
    "5xx-after",  # the platform acted, then answered 5xx
    "timeout",  # no answer in time; the platform did nothing
    "timeout-after",  # the platform acted; its answer came after the client gave up
    "drop",  # the line dropped before the platform acted
    "drop-after",  # the platform acted, then the line dropped
    "rate-limit",  # the platform's own rate-limit answer, with the wait it asks for
    "token",  # the access token expired (or was refused)
)


TOKEN_PATHS = frozenset({"/token", "/v4/oa/access_token"})  # YouTube's and Zalo's OAuth


@dataclass
class Stamp:
    channel: str
    method: str
    path: str
    now: dt.datetime | None
    delivery: int | None
    activity: str
    fault: str | None = None
    retry_after: float | None = None
    created: int = 0
    status: int | None = None  # the answer's status, when the platform answered
    note: str = ""  # what the answer said, in short (ids made or found)


class Killer:
    """SIGKILLs the runner at the `nth` request to `channel`, before or after it is processed."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.target: tuple[str, int, str] | None = None
        self.counts: dict[str, int] = {}
        self.fired = False
        self.lock = threading.Lock()

    def arm(self, pid: int | None, target: tuple[str, int, str] | None) -> None:
        with self.lock:
            self.pid, self.target, self.counts, self.fired = pid, target, {}, False

    def due(self, channel: str) -> str | None:
        """The phase ("before" or "after") at which this request must kill, or None."""
        with self.lock:
            self.counts[channel] = self.counts.get(channel, 0) + 1
            if self.fired or self.target is None or self.pid is None:
                return None
            wanted, nth, phase = self.target
            if wanted != channel or self.counts[channel] != nth:
                return None
            self.fired = True
            return phase

    def kill(self) -> None:
        assert self.pid is not None and self.pid > 0
        kill_and_wait(self.pid)


def kill_and_wait(pid: int, seconds: float = 5.0) -> None:
    """SIGKILL `pid` and wait until it is dead (a zombie or gone), so nothing more is sent."""
    assert pid > 0, pid
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.002)


@dataclass
class TimeoutBudget:
    """How many timeouts of each kind a whole run may still inject (shared by its storms).

    A timeout costs the client's whole timeout in wall time, and that timeout is long (a
    busy machine must never turn a slow answer into a fault), so a run holds only a few.
    """

    each: int = 2
    used: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, kind: str) -> bool:
        with self.lock:
            if self.used.get(kind, 0) >= self.each:
                return False
            self.used[kind] = self.used.get(kind, 0) + 1
            return True


@dataclass
class Storm:
    """Turns `rate` of the requests into faults, drawn from a seeded generator; a timeout
    drawn beyond the run's budget drops the line at the same moment instead."""

    rate: float
    seed: int
    timeouts: TimeoutBudget = field(default_factory=TimeoutBudget)
    rng: random.Random = field(init=False)
    injected: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self, kinds: tuple[str, ...]) -> str | None:
        with self.lock:
            if self.rng.random() >= self.rate:
                return None
            kind = self.rng.choice(kinds)
            if kind.startswith("timeout") and not self.timeouts.take(kind):
                kind = kind.replace("timeout", "drop")
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    def wait(self, low: int, high: int) -> int:
        """A wait a rate limit asks for, in seconds (or minutes), drawn from the same seed."""
        with self.lock:
            return self.rng.randint(low, high)


class Recorder:
    """Shared by the five fakes of one campaign: stamps, the killer, the storm."""

    def __init__(self, folder: Path, storm: Storm | None = None) -> None:
        self.folder = folder
        self.storm = storm
        self.killer = Killer()
        self.stamps: list[Stamp] = []
        self.lock = threading.Lock()

    def stamp(self, channel: str, request: Request) -> Stamp:
        now = context.read(self.folder, channel)  # its channel's delivery
        stamp = Stamp(
            channel,
            request.method,
            request.path,
            now.now if now else None,
            now.delivery if now else None,
            now.activity if now else "?",
        )
        with self.lock:
            self.stamps.append(stamp)
        return stamp


class InstrumentedMixin:
    """Put first in the bases of a fake: stamps, kills and storm faults, then the fake."""

    platform: ClassVar[str]
    fault_kinds: ClassVar[tuple[str, ...]] = STORM_KINDS
    recorder: Recorder

    def visible(self) -> int:
        raise NotImplementedError

    def start(self) -> Any:
        started = super().start()  # type: ignore[misc]
        server = self._server  # type: ignore[attr-defined]
        # Headers and body leave in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back for tens of milliseconds.
        server.RequestHandlerClass.disable_nagle_algorithm = True
        self.active = 0
        self.active_lock = threading.Lock()
        server.process_request = self._counted(server.process_request)
        server.process_request_thread = self._finished(server.process_request_thread)
        return started

    def _counted(self, accept: Callable[..., None]) -> Callable[..., None]:
        def process_request(*args: Any) -> None:
            with self.active_lock:
                self.active += 1
            accept(*args)

        return process_request

    def _finished(self, handle: Callable[..., None]) -> Callable[..., None]:
        def process_request_thread(*args: Any) -> None:
            try:
                handle(*args)
            finally:
                with self.active_lock:
                    self.active -= 1

        return process_request_thread

    def _take_fault(self, request: Request) -> Fault | None:
        stamp = self.recorder.stamp(self.platform, request)
        phase = self.recorder.killer.due(self.platform)
        if phase == "before":
            self.recorder.killer.kill()
            return Fault(drop=True)
        fault = self._reply(request, stamp, storm=phase is None)
        if fault.response is not None and not (fault.hang or fault.drop):
            stamp.retry_after = self.asked_wait(fault.response, stamp)  # what the client reads
        if phase == "after":
            self.recorder.killer.kill()
            return Fault(drop=True)
        return fault

    def _reply(self, request: Request, stamp: Stamp, storm: bool) -> Fault:
        """A fault a test queued, else a storm fault, else the platform's own answer."""
        queued = super()._take_fault(request)  # type: ignore[misc]
        if queued is not None:
            stamp.fault = "queued"
            return queued
        weather = self.recorder.storm if storm else None
        kind = weather.pick(self.menu(request)) if weather else None
        if kind is None:
            return Fault(response=self._process(request, stamp))
        stamp.fault = kind
        return self._storm_fault(kind, request, stamp)

    def menu(self, request: Request) -> tuple[str, ...]:
        """The faults this request may meet: a token endpoint has no rate limit or quota."""
        if request.path in TOKEN_PATHS:
            return tuple(k for k in STORM_KINDS if k.startswith(("5xx", "timeout", "drop")))
        return self.fault_kinds

    def _process(self, request: Request, stamp: Stamp) -> Response:
        with self.lock:  # type: ignore[attr-defined]
            before = self.visible()
            response = self.route(request)  # type: ignore[attr-defined]
            stamp.created += self.visible() - before
        stamp.status, stamp.note = response.status, _note(response)
        return response

    def _storm_fault(self, kind: str, request: Request, stamp: Stamp) -> Fault:
        if kind == "rate-limit":
            return Fault(response=self.rate_limited())
        if kind in ("token", "quota"):
            return self.special_fault(kind, request, stamp)
        if kind.endswith("-after"):
            self._process(request, stamp)  # the platform acted; its answer is lost
        if kind.startswith("5xx"):
            return Fault(response=self.server_error())
        if kind.startswith("drop"):
            return Fault(drop=True)
        return Fault(hang=True)  # no answer until the client gives up

    # -- each platform's own shapes ---------------------------------------------------
    def server_error(self) -> Response:
        return Response(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>")

    def rate_limited(self) -> Response:
        raise NotImplementedError

    def special_fault(self, kind: str, request: Request, stamp: Stamp) -> Fault:
        """`token`: the access token expired or was refused; `quota`: YouTube's daily quota."""
        raise NotImplementedError

    def asked_wait(self, response: Response, stamp: Stamp) -> float | None:
        """The wait (seconds) this answer asks the client for, if it is a rate limit."""
        return None

    def _wait(self, low: int, high: int) -> int:
        storm = self.recorder.storm
        return storm.wait(low, high) if storm else high


def until_pacific_midnight(now: dt.datetime | None) -> float:
    """Seconds from `now` to the next midnight in America/Los_Angeles (YouTube's quota day)."""
    assert now is not None
    local = now.astimezone(PACIFIC)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), PACIFIC)
    return (midnight - now).total_seconds()


def _note(response: Response) -> str:
    """Ids (and slugs) in an answer, for the trail of a finding."""
    body = response.body if not isinstance(response.body, bytes) else _json_body(response)
    rows = body if isinstance(body, list) else [body]
    found = [
        f"{r.get('id')}{'/' + r['slug'] if 'slug' in r else ''}"
        for r in rows
        if isinstance(r, dict)
    ]
    return ",".join(found)[:120]


def _json_body(response: Response) -> dict[str, Any]:
    body = response.body
    if isinstance(body, bytes):
        try:
            body = json.loads(body or b"null")
        except ValueError:
            return {}
    return body if isinstance(body, dict) else {}


class Portal(InstrumentedMixin, FakeWordPress):
    platform = "portal"

    def visible(self) -> int:
        return len(self.posts)

    def server_error(self) -> Response:
        return wp_error(500, "internal_server_error", "There has been a critical error.")

    def rate_limited(self) -> Response:
        page = b"<html><body><h1>429 Too Many Requests</h1></body></html>"
        headers = {"Content-Type": "text/html", "Retry-After": str(self._wait(5, 600))}
        return Response(429, page, headers)

    def special_fault(self, kind: str, request: Request, stamp: Stamp) -> Fault:
        message = "The provided password is an invalid application password."
        return Fault(response=wp_error(401, "incorrect_password", message))

    def asked_wait(self, response: Response, stamp: Stamp) -> float | None:
        wait = response.headers.get("Retry-After")
        return float(wait) if response.status == 429 and wait else None


class Facebook(InstrumentedMixin, FakeFacebook):
    platform = "facebook"

    def visible(self) -> int:
        return len(self.published_posts())

    def server_error(self) -> Response:
        return graph_error(2, "An unexpected error has occurred.", status=500)

    def rate_limited(self) -> Response:
        minutes = self._wait(1, 30)
        usage = [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": minutes}]
        headers = {"X-Business-Use-Case-Usage": json.dumps({PAGE_ID: usage})}
        message = "(#80001) There have been too many calls to this Page account."
        return graph_error(80001, message, headers=headers)

    def special_fault(self, kind: str, request: Request, stamp: Stamp) -> Fault:
        message = "Error validating access token: Session has expired."
        return Fault(response=graph_error(190, message, subcode=463))

    def asked_wait(self, response: Response, stamp: Stamp) -> float | None:
        usage = response.headers.get("X-Business-Use-Case-Usage")
        if not usage:
            return None
        pages = json.loads(usage).values()
        minutes = max(u["estimated_time_to_regain_access"] for page in pages for u in page)
        return minutes * 60.0 if minutes > 0 else None


class Zalo(InstrumentedMixin, ZaloFake):
    platform = "zalo"

    def visible(self) -> int:
        return len(self.articles) + len(self.broadcasts)

    def rate_limited(self) -> Response:
        return fail(-32, "The application has reached the limit of API calls per minute")

    def special_fault(self, kind: str, request: Request, stamp: Stamp) -> Fault:
        with self.lock:
            self.expire_access_token()  # the real thing: -220, then a refresh
        return Fault(response=self._process(request, stamp))

    def asked_wait(self, response: Response, stamp: Stamp) -> float | None:
        return 60.0 if _json_body(response).get("error") == -32 else None  # Zalo names none


class YouTube(InstrumentedMixin, FakeYouTube):
    platform = "youtube"
    fault_kinds = (*STORM_KINDS, "quota")
    quota_day: dt.date | None = None

    def visible(self) -> int:
        return len(self.uploaded_videos())

    def server_error(self) -> Response:
        return google_error(503, "backendError", "Backend Error", "global")

    def rate_limited(self) -> Response:
        response = google_error(429, "rateLimitExceeded", "The request rate is too high.")
        response.headers["Retry-After"] = str(self._wait(1, 300))
        return response

    def special_fault(self, kind: str, request: Request, stamp: Stamp) -> Fault:
        with self.lock:
            if kind == "quota":
                self.exhaust_quota()  # every call fails until midnight Pacific time
            else:
                self.expire_tokens()  # the real thing: 401, then google-auth refreshes once
        return Fault(response=self._process(request, stamp))

    def _process(self, request: Request, stamp: Stamp) -> Response:
        day = stamp.now.astimezone(PACIFIC).date() if stamp.now else None
        with self.lock:
            if day != self.quota_day:  # YouTube's quota day starts at midnight Pacific time
                self.quota_day, self.quota_used = day, 0
        return super()._process(request, stamp)

    def asked_wait(self, response: Response, stamp: Stamp) -> float | None:
        reasons = {e.get("reason") for e in _json_body(response).get("error", {}).get("errors", [])}
        if "quotaExceeded" in reasons:
            return until_pacific_midnight(stamp.now)
        wait = response.headers.get("Retry-After")
        return float(wait) if wait and response.status in (403, 429) else None


class Telegram(InstrumentedMixin, FakeTelegram):
    platform = "telegram"

    def visible(self) -> int:
        return len(self.channel.messages)

    def rate_limited(self) -> Response:
        wait = self._wait(1, 120)
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {wait}",
            "parameters": {"retry_after": wait},
        }
        return Response(429, body)

    def special_fault(self, kind: str, request: Request, stamp: Stamp) -> Fault:
        body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
        return Fault(response=Response(401, body))

    def asked_wait(self, response: Response, stamp: Stamp) -> float | None:
        wait = (_json_body(response).get("parameters") or {}).get("retry_after")
        return float(wait) if response.status == 429 and wait else None


@dataclass
class Platforms:
    portal: Portal
    facebook: Facebook
    zalo: Zalo
    youtube: YouTube
    telegram: Telegram

    def all(self) -> list[Portal | Facebook | Zalo | YouTube | Telegram]:
        return [self.portal, self.facebook, self.zalo, self.youtube, self.telegram]

    def quiesce(self, seconds: float = 5.0) -> None:
        """Wait until no request of a dead runner is still in a platform's hands: accepted
        (one accept poll), read or being processed. `publisher run` gets the same from the
        delay before it looks up a delivery a crash interrupted (see docs/RELIABILITY.md)."""
        time.sleep(0.12)
        deadline = time.monotonic() + seconds
        while any(fake.active for fake in self.all()) and time.monotonic() < deadline:
            time.sleep(0.005)

    def held(self) -> int:
        """The visible posts the five platforms hold."""
        return sum(fake.visible() for fake in self.all())

    def stop(self) -> None:
        """Stop the five servers at once (each waits for its accept loop's next poll)."""
        stopping = [threading.Thread(target=fake.stop) for fake in self.all()]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


def start_platforms(recorder: Recorder, certificate: tuple[Path, Path]) -> Platforms:
    """The five fakes, started, sharing `recorder`; they date what they make by the
    simulated clock, as the runner's lookups compare those dates with its own."""

    def simulated_now() -> dt.datetime:
        now = context.read(recorder.folder)
        return now.now if now else dt.datetime.now(dt.UTC)

    fakes = Platforms(
        Portal(now=simulated_now),
        Facebook(clock=lambda: simulated_now().timestamp()),
        Zalo(now=simulated_now, fetch_images=False),  # its images are on the WordPress fake
        YouTube(*certificate, **YOUTUBE_SECRETS, now=simulated_now),
        Telegram(TELEGRAM_TOKEN),
    )
    for fake in fakes.all():
        fake.recorder = recorder
        fake.start()
    return fakes
