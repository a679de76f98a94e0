"""What publishing produces and what it keeps between attempts."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from publisher.adapters.base import Call, Post
from publisher.store.tokens import TokenStore


class StepLog(Protocol):
    """Results of finished steps of one delivery, persisted as soon as each exists.

    A retry resumes after the last recorded step instead of repeating it (a Zalo article
    token, Facebook photo ids, a YouTube upload session). Clients may record their own
    sub-steps (for example "insert.session") through the same log.

    `marker` names the delivery on the platform: a client that can leave a hidden note in
    what it creates (an HTML comment in a WordPress post) writes it, so that a lookup
    recognises only what this delivery made, never a look-alike made by someone else.
    """

    @property
    def marker(self) -> str: ...

    def get(self, step: str) -> dict[str, Any] | None: ...

    def all(self) -> dict[str, dict[str, Any]]:
        """Every step's answer."""
        ...

    def record(self, step: str, result: dict[str, Any]) -> None: ...

    def attempt(self, step: str, failure: str | None = None) -> None:
        """Note that `step`'s request is about to leave (`failure` None), or that it failed
        with a PublishError kind known to have sent nothing."""
        ...

    def maybe_sent(self, step: str) -> bool:
        """`step` has no answer, but its last request may have reached the platform."""
        ...

    def first_attempt(self, step: str) -> dt.datetime | None:
        """When `step`'s first request was noted (None: never): nothing it made is older."""
        ...


class PlatformClient(Protocol):
    """The platform half of a channel: performs calls, never formats anything."""

    platform: str

    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        """Perform one call; return the platform's answer. Raise PublishError on failure."""
        ...

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        """(remote id, public URL) of the published post, from its steps' results."""
        ...

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        """The platform's answer for the post if it already holds it, else None.

        Used to settle an unknown outcome, from what `steps` recorded (answers, the
        delivery's marker, when each request was first noted). It must recognise only
        what this delivery made: a post by someone else that looks the same is not ours.
        The answer stands for the step named by its FOUND_STEP key (default: the post's
        last step); the steps after it still run (a Zalo broadcast after the article, a
        YouTube thumbnail after the video). None means the platform certainly does not
        hold it; raise LookupNotSupported where the platform cannot tell.
        """
        ...


FOUND_STEP = "_step"
# Clocks differ: a post the platform dates this much before our first request may be ours.
CLOCK_SLACK = dt.timedelta(minutes=10)


def made_after_attempt(created: dt.datetime | None, attempted: dt.datetime | None) -> bool:
    """Whether a post the platform dates `created` can be what a request first noted at
    `attempted` made: never one that existed before we asked (last year's look-alike).
    Without either time, it cannot be ruled out."""
    if created is None or attempted is None:
        return True
    return created >= attempted - CLOCK_SLACK


class LookupNotSupported(Exception):
    """The platform cannot tell whether (part of) a post exists: an unknown stays unknown."""


@dataclass(frozen=True)
class Receipt:
    """What was published: the remote id and address, and every step's answer."""

    channel: str
    item_id: str
    mode: Literal["live", "outbox"]
    remote_id: str
    url: str | None
    published_at: dt.datetime
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "item": self.item_id,
            "mode": self.mode,
            "remote_id": self.remote_id,
            "url": self.url,
            "published_at": self.published_at.isoformat(),
            "steps": self.steps,
        }


class MemoryStepLog:
    """A StepLog kept in memory (tests, dry runs)."""

    def __init__(
        self,
        marker: str = "publisher-memory",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.marker = marker
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.results: dict[str, dict[str, Any]] = {}
        self.attempts: dict[str, str | None] = {}
        self.first_attempts: dict[str, dt.datetime] = {}

    def get(self, step: str) -> dict[str, Any] | None:
        return self.results.get(step)

    def all(self) -> dict[str, dict[str, Any]]:
        return dict(self.results)

    def record(self, step: str, result: dict[str, Any]) -> None:
        self.results[step] = result

    def attempt(self, step: str, failure: str | None = None) -> None:
        self.attempts[step] = failure
        self.first_attempts.setdefault(step, self.clock())

    def maybe_sent(self, step: str) -> bool:
        return step in self.attempts and self.attempts[step] is None and step not in self.results

    def first_attempt(self, step: str) -> dt.datetime | None:
        return self.first_attempts.get(step)


@dataclass(frozen=True)
class ClientEnv:
    """What a live client is given: secrets by credential name, its token store, and the
    means to wait and time out (injected so tests neither sleep nor hang)."""

    secrets: Mapping[str, str]
    tokens: TokenStore
    state_dir: Path
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
