"""One campaign: a fresh workspace, its five fakes, and the runner started until it is done."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from publisher.store.database import Store, open_store
from publisher.store.deliveries import Delivery, Event
from tests.fakes.youtube import make_certificate

from . import context, driver, history
from .launcher import Ended, run_driver
from .platforms import Platforms, Recorder, Storm, start_platforms
from .workspace import CHANNELS, SECRET_KEY, build, campaign_bounds, credentials

MAX_OPERATOR_RESTARTS = 40
# The clients' timeout: long enough that a starved CPU never turns a slow answer into a
# fault; a timeout fault holds its answer until the client gives up.
HARNESS_TIMEOUT = 5.0
T = TypeVar("T")
UNFINISHED = ("scheduled", "sending")


@dataclass(frozen=True)
class Kill:
    """How one start of the runner ends: `kind` is point, inflight, timer or none."""

    kind: str
    channel: str | None = None
    where: str | None = None  # the crash point, or the in-flight phase (before, after)
    nth: int = 1
    seconds: float = 0.0


@dataclass
class Start:
    kill: Kill
    ended: Ended
    channel: str | None  # the channel being worked on when the process died
    activity: str
    left_sending: int  # deliveries the dead process left `sending`


@dataclass
class Campaign:
    folder: Path
    certificate: tuple[Path, Path]
    seed: int
    storm: Storm | None = None
    template: Path | None = None
    timeout: float = HARNESS_TIMEOUT
    starts: list[Start] = field(default_factory=list)
    operator: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.root = self.folder / "ws"
        self.root.mkdir(parents=True)
        self.recorder = Recorder(self.root, self.storm)
        self.fakes: Platforms = start_platforms(self.recorder, self.certificate)
        build(self.root, self.fakes, self.certificate[0], self.template)
        self.rng = random.Random(self.seed)

    # -- starting the runner ---------------------------------------------------------------
    def launch(self, kill: Kill = Kill("none")) -> Start:
        start, end = campaign_bounds()
        downtime = dt.timedelta(minutes=self.rng.choice((0, 1, 5, 30)))
        config = driver.DriverConfig(
            str(self.root),
            credentials(),
            start,
            end,
            timeout=self.timeout,
            downtime=downtime if self.starts else dt.timedelta(0),
            crash=(kill.channel, kill.where, kill.nth) if kill.kind == "point" else None,  # type: ignore[arg-type]
            seed=self.seed,
        )
        inflight = (kill.channel, kill.nth, kill.where) if kill.kind == "inflight" else None
        timer = kill.seconds if kill.kind == "timer" else None
        ended = run_driver(config, self.recorder.killer, inflight, timer)  # type: ignore[arg-type]
        assert not ended.hung, f"the runner hung ({kill})"
        if ended.killed and kill.kind == "timer":
            self.fakes.quiesce()  # it may have died with a request on the line
        where = context.read(self.root, kill.channel)  # the aimed channel, if any
        busy = where is not None and where.activity != "idle"
        started = Start(
            kill,
            ended,
            where.channel if busy and where else None,
            where.activity if where else "?",
            sum(d.state == "sending" for d in self.deliveries()) if ended.killed else 0,
        )
        self.starts.append(started)
        return started

    def finish(self) -> None:
        """Start the runner without a kill until the calendar is done (the operator's part:
        a restart after a pause, new Zalo tokens when the stored refresh token was lost).
        A runner that ends any other way is started again, as systemd would, and counted."""
        for _ in range(MAX_OPERATOR_RESTARTS):
            ended = self.launch().ended
            if ended.exitcode == driver.EXIT_DONE:
                return
            if ended.exitcode == driver.EXIT_PAUSED:
                self.operate()
                continue
            self.operator[f"restart (runner ended with {ended.exitcode})"] += 1
            if ended.exitcode == 1:  # an exception: a bug, even if a restart gets over it
                raise AssertionError(f"the runner failed:\n{self.log_tail()}")
            if ended.exitcode == driver.EXIT_STUCK:
                raise AssertionError(f"the runner cannot go on: {self.stuck()}")
        raise AssertionError(f"not done after {MAX_OPERATOR_RESTARTS} restarts: {self.stuck()}")

    def log_tail(self, lines: int = 15) -> str:
        log = self.root / driver.LOG
        return (
            "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""
        )

    def operate(self) -> None:
        """What an operator does about a paused channel before starting `publisher run` again."""
        store = open_store(self.root / ".publisher", secret_key=SECRET_KEY)
        try:
            for channel, (reason, _) in store.deliveries.pauses().items():
                self.operator[f"restart ({channel} paused)"] += 1
                if channel == "zalo" and "refresh token" in reason:
                    access, refresh = self.fakes.zalo.issue_tokens()  # `publisher auth zalo`
                    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
                    store.tokens("zalo").put_many(
                        {"access_token": (access, far), "refresh_token": (refresh, None)}
                    )
                    self.operator["zalo re-authorised (refresh token lost)"] += 1
        finally:
            store.close()

    def stuck(self) -> str:
        """What is due and not moving, for the message of a runner that cannot finish."""
        moving = ("scheduled", "sending", "unknown")
        left = [f"#{d.id} {d.channel} {d.state} due {d.due_at}" for d in self.deliveries()]
        return "; ".join(line for line in left if line.split()[2] in moving)

    # -- reading the outcome ---------------------------------------------------------------
    def deliveries(self) -> list[Delivery]:
        return self._read(lambda store: store.deliveries.all())

    def events(self) -> list[Event]:
        return self._read(lambda store: store.deliveries.events())

    def _read(self, what: Callable[[Store], T]) -> T:
        store = open_store(self.root / ".publisher")
        try:
            return what(store)
        finally:
            store.close()

    def remaining(self) -> Counter[str]:
        """Unfinished deliveries by channel (every channel before the first start)."""
        deliveries = self.deliveries()
        if not deliveries:
            return Counter(dict.fromkeys(CHANNELS, 1))
        return Counter(d.channel for d in deliveries if d.state in UNFINISHED)

    def verdict(self, wanted: dict[tuple[str, str], int]) -> history.Verdict:
        """The history checked against what the fakes hold (`wanted`: history.planned())."""
        stamps = self.recorder.stamps
        return history.judge(wanted, self.deliveries(), self.events(), stamps, self.fakes.held())

    def close(self) -> None:
        self.fakes.stop()


@dataclass(frozen=True)
class Setup:
    certificate: tuple[Path, Path]
    template: Path  # a workspace whose resized images later campaigns copy
    wanted: dict[tuple[str, str], int]  # history.planned()


def prepare(folder: Path, seed: int) -> Setup:
    """One clean campaign first: it must publish everything, and lends its images."""
    certificate = make_certificate(folder)
    template = Campaign(folder / "template", certificate, seed)
    try:
        template.finish()
        wanted = history.planned(template.root)
        verdict = template.verdict(wanted)
    finally:
        template.close()
    assert verdict.problems == [] and set(verdict.states) == {"published"}, verdict
    return Setup(certificate, template.root, wanted)
