"""The runner process of the reliability tests: `publisher run` on a simulated clock.

It builds a CampaignRunner on the workspace exactly as `publisher run` does, announces the
plan, recovers what a previous process left `sending`, then ticks the simulated clock from
due time to due time until the calendar is done. Killed at any moment, it is started
again, and carries on from the state store and the clock it left in the context file.

What the harness adds, and nothing else: the simulated clock reaches the platform clients
(PublishService gives them the wall clock); the clients time out after `timeout` seconds;
the context file names the delivery each channel is working on, for the fakes; and a
crash point can be scoped to one channel (`crash`: the N-th passage of a point while a
delivery of that channel is dispatched), through PUBLISHER_CRASH_AT and
`crashpoints.configure`.

Exit codes: 0 the calendar is done; 3 a channel is paused (credentials refused: the
operator's turn, OPERATOR_DELAY after the pause); 4 nothing moves for another reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.publishing.service import PublishService
from publisher.scheduling import crashpoints
from publisher.scheduling.dispatcher import Dispatcher
from publisher.scheduling.runner import CampaignRunner
from publisher.store.deliveries import DeliveryStore
from publisher.workspace import open_workspace

from . import context

EXIT_DONE, EXIT_PAUSED, EXIT_STUCK = 0, 3, 4
OPERATOR_DELAY = dt.timedelta(minutes=30)  # from a channel's pause to the operator's restart
PUBLISH_TIME = dt.timedelta(seconds=20)  # simulated time one publication takes
LOG = "driver.log"
# Imported by the fork server before it forks drivers, so a restart costs no import time.
PRELOAD = (
    "tests.reliability.driver",
    "publisher.clients.facebook",
    "publisher.clients.portal",
    "publisher.clients.telegram",
    "publisher.clients.youtube",
    "publisher.clients.zalo",
    "googleapiclient.discovery",
    "googleapiclient.http",
    "telegram",
    "telegram.request",
    "httpx",
    "httpcore",
    "anyio",
    "trio",
    "sqlite3",
    "sqlalchemy.dialects.sqlite",
    "markdown.extensions",
    "PIL.TiffImagePlugin",
)


@dataclass(frozen=True)
class DriverConfig:
    root: str
    env: dict[str, str]
    start: dt.datetime
    end: dt.datetime
    timeout: float = 5.0
    downtime: dt.timedelta = dt.timedelta(0)  # simulated time lost by a restart
    crash: tuple[str, str, int] | None = None  # (channel, point, nth)
    seed: int = 0


class SimulatedClock:
    """The simulated now, kept in the context file so a restarted driver resumes from it,
    with what each thread (one per channel) is working on."""

    def __init__(self, folder: Path, start: dt.datetime, downtime: dt.timedelta) -> None:
        self.folder = folder
        last = context.read(folder)
        self.now = last.now + downtime if last else start
        self.lock = threading.Lock()  # the channels' threads enter and leave side by side
        self.local = threading.local()  # this thread's stack of work
        self.working: dict[str, context.Context] = {}  # by channel, the last entered last
        self.set(self.now)

    def current(self) -> dt.datetime:
        return self.now.astimezone(dt.UTC)

    def set(self, moment: dt.datetime) -> None:
        with self.lock:
            self.now = moment
            context.write(self.folder, moment, list(self.working.values()))

    def advance(self, by: dt.timedelta) -> None:
        with self.lock:
            self.now += by
            context.write(self.folder, self.now, list(self.working.values()))

    def enter(self, delivery: int, channel: str, activity: str) -> None:
        entered = context.Context(self.now, delivery, channel, activity)
        self._stack().append(entered)
        self._work(channel, entered)

    def leave(self) -> None:
        stack = self._stack()
        left = stack.pop()
        self._work(left.channel or "", stack[-1] if stack else None)

    @property
    def channel(self) -> str | None:
        stack = self._stack()
        return stack[-1].channel if stack else None

    def _stack(self) -> list[context.Context]:
        """This thread's work, innermost last (a lookup inside a dispatch)."""
        if not hasattr(self.local, "stack"):
            self.local.stack = []
        return self.local.stack

    def _work(self, channel: str, work: context.Context | None) -> None:
        """Record what `channel` now works on (None: nothing) and write the context file."""
        with self.lock:
            self.working.pop(channel, None)
            if work is not None:
                self.working[channel] = work
            context.write(self.folder, self.now, list(self.working.values()))


def observe(dispatcher: Dispatcher, clock: SimulatedClock) -> None:
    """Name the delivery being dispatched or settled in the context file."""
    for name in ("dispatch", "settle"):
        original = getattr(dispatcher, name)
        setattr(dispatcher, name, _observed(original, clock, name))


def _observed(original: Callable[..., Any], clock: SimulatedClock, activity: str) -> Any:
    @functools.wraps(original)
    def wrapper(*args: Any) -> Any:
        delivery = args[1] if activity == "settle" else args[0]
        clock.enter(delivery.id, delivery.channel, activity)
        try:
            return original(*args)
        finally:
            clock.leave()

    return wrapper


def take_time(service: PublishService, clock: SimulatedClock) -> None:
    """Every publication takes PUBLISH_TIME on the simulated clock, success or failure: a
    tick's later work happens later, as it does for real, so a wait a platform asks for is
    measured from its answer, never from the start of the tick."""
    publish = service.publish

    def timed(*args: Any) -> Any:
        try:
            return publish(*args)
        finally:
            clock.advance(PUBLISH_TIME)

    service.publish = timed  # type: ignore[method-assign]


def scope_crash(clock: SimulatedClock, channel: str, point: str, nth: int) -> None:
    """Arm PUBLISHER_CRASH_AT=point at the `nth` passage while `channel` is dispatched."""
    real = crashpoints.reach
    passed = 0

    def reach(name: str) -> None:
        nonlocal passed
        if name == point and clock.channel == channel:
            passed += 1
            if passed == nth:
                os.environ[crashpoints.ENVIRONMENT_VARIABLE] = point
                crashpoints.configure()  # the next line dies
        real(name)

    crashpoints.reach = reach  # type: ignore[assignment]


def tick_through(runner: CampaignRunner, clock: SimulatedClock, end: dt.datetime) -> int:
    """Tick from due time to due time until nothing is due before `end` (or before now, for
    a start after the end). A paused channel is the operator's turn OPERATOR_DELAY after the
    pause: the process ends then, as the operator stops it to fix the credentials."""
    deliveries = runner.store.deliveries
    moment = deliveries.next_due()
    while moment is not None and moment <= max(end, clock.now):
        moment = max(moment, clock.now)
        clock.set(moment)
        before = _event_count(deliveries)
        runner.tick(moment)
        following = deliveries.next_due()
        if following is not None and following <= moment and _event_count(deliveries) == before:
            return EXIT_PAUSED if deliveries.pauses() else EXIT_STUCK
        operator = _operator_turn(deliveries)
        if operator is not None and (following is None or operator <= following):
            clock.set(max(operator, clock.now))
            return EXIT_PAUSED
        moment = following
    return EXIT_PAUSED if deliveries.pauses() else EXIT_DONE


def _operator_turn(deliveries: DeliveryStore) -> dt.datetime | None:
    """When the operator acts on the earliest pause, if a channel is paused."""
    pauses = deliveries.pauses()
    return min(since for _, since in pauses.values()) + OPERATOR_DELAY if pauses else None


def _event_count(deliveries: DeliveryStore) -> int:
    from sqlalchemy import func, select

    from publisher.store import schema

    with deliveries.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(schema.events)).scalar() or 0


def _log_to(path: Path) -> None:
    """Warnings and a traceback, if any, go to the campaign's log (the fork server's stderr
    is pytest's, and lost)."""
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    os.close(log)
    sys.stderr.write(f"-- driver {os.getpid()}\n")


def main(config: DriverConfig) -> None:
    """The process's whole life; its exit code says how it ended (see the module docstring)."""
    os.environ.update(config.env)
    root = Path(config.root)
    _log_to(root / LOG)
    clock = SimulatedClock(root, config.start, config.downtime)
    if config.crash is not None:
        scope_crash(clock, *config.crash)
    runner = CampaignRunner(open_workspace(root), seed=config.seed, clock=clock.current)
    runner.dispatcher.service.timeout = config.timeout
    observe(runner.dispatcher, clock)
    take_time(runner.dispatcher.service, clock)
    runner.announce(clock.now)
    runner.recover(clock.now)
    code = tick_through(runner, clock, config.end)
    runner.close()
    sys.exit(code)
