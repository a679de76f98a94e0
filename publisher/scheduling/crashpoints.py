"""Named crash points: deterministic process deaths for crash testing.

The publishing path calls `reach("name")` at the moments where a crash matters most (before
the intent is committed, after it, before a request, after its answer, before the receipt).
In production `PUBLISHER_CRASH_AT` is unset and `reach` returns at once: its whole cost is
one dict lookup (the module global `_target`) and a comparison with None.

When `PUBLISHER_CRASH_AT` names a point ("after-response") or its N-th passage
("after-response:3"), the process sends itself SIGKILL there: no `finally`, no `atexit`,
no flush, exactly what a power cut or the OOM killer does. FoundationDB's simulation
testing and Jepsen-style fault injection work the same way: the code under test carries
its own fault points, so a test can kill it between two precise steps, reproducibly,
instead of hoping a random kill lands there. tests/test_crash_matrix.py drives them.

The variable is read when this module is imported; `configure()` reads it again (or takes
a spec) for a harness that sets it later in an already running process.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

ENVIRONMENT_VARIABLE = "PUBLISHER_CRASH_AT"
POINTS = (
    "before-intent",  # dispatcher: the delivery is due, nothing is committed yet
    "after-intent",  # dispatcher: `sending` is committed, no request has been sent
    "before-request",  # executor: this step's request is about to be sent
    "after-response",  # executor: the platform answered, the answer is not recorded yet
    "after-step",  # executor: the step's answer is committed
    "before-receipt",  # dispatcher: every step is done, `published` is not committed yet
)


@dataclass
class _Target:
    name: str
    nth: int
    passed: int = 0


def parse(spec: str | None) -> _Target | None:
    """ "name" or "name:N" (N >= 1, the N-th passage); None or "" for no crash point."""
    if not spec or not spec.strip():
        return None
    name, _, count = spec.strip().partition(":")
    nth = int(count) if count else 1
    if name not in POINTS or nth < 1:
        known = ", ".join(POINTS)
        raise ValueError(f"{ENVIRONMENT_VARIABLE}={spec!r}: expected NAME[:N>=1], NAME in {known}")
    return _Target(name, nth)


_target: _Target | None = parse(os.environ.get(ENVIRONMENT_VARIABLE))


def configure(spec: str | None = None) -> None:
    """Arm `spec` (default: PUBLISHER_CRASH_AT as it is now), counting passages from zero."""
    global _target
    _target = parse(spec if spec is not None else os.environ.get(ENVIRONMENT_VARIABLE))


def reach(name: str) -> None:
    """Die here with SIGKILL if PUBLISHER_CRASH_AT names this passage; else do nothing."""
    if _target is None:
        return
    _passed(_target, name)


def _passed(target: _Target, name: str) -> None:
    if name != target.name:
        return
    target.passed += 1
    if target.passed == target.nth:
        os.kill(os.getpid(), signal.SIGKILL)
