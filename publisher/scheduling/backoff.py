"""When to try a retryable delivery again: exponential with jitter, never before the
wait the platform asked for."""

from __future__ import annotations

import datetime as dt
import random

BASE = dt.timedelta(minutes=1)
CAP = dt.timedelta(hours=1)
MAX_ATTEMPTS = 8


def next_attempt(
    now: dt.datetime, attempts: int, retry_after: float | None, rng: random.Random
) -> dt.datetime:
    """`now` + min(CAP, BASE * 2**(attempts-1)) with ±20 % jitter, at least `retry_after`."""
    delay = min(CAP, BASE * 2 ** max(attempts - 1, 0)) * rng.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, dt.timedelta(seconds=retry_after))
    return now + delay
