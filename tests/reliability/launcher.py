"""Starting the driver as a separate process, and killing it.

Drivers are forked by a multiprocessing fork server that has imported publisher and the
client libraries once: each driver is a real process of its own (own memory, own SQLite
connections, killed by a real SIGKILL) that starts in milliseconds instead of a second,
which is what lets the crash matrix restart the runner hundreds of times in CI.
"""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import dataclass

from . import driver
from .platforms import Killer, kill_and_wait

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(list(driver.PRELOAD))
DEADLINE = 120.0  # seconds: a driver still alive by then has hung, which is a failure


@dataclass
class Ended:
    exitcode: int | None
    killed: bool  # ended by SIGKILL (ours)
    hung: bool = False


def run_driver(
    config: driver.DriverConfig,
    killer: Killer,
    inflight: tuple[str, int, str] | None = None,
    timer: float | None = None,
) -> Ended:
    """Run one driver to its end; `inflight` arms the fakes' killer, `timer` kills after a delay."""
    process = _CONTEXT.Process(target=driver.main, args=(config,), daemon=True)
    process.start()
    assert process.pid is not None
    killer.arm(process.pid, inflight)
    alarm = _Alarm(process.pid, timer)
    process.join(DEADLINE)
    hung = process.is_alive()
    alarm.cancel()
    if hung:
        kill_and_wait(process.pid)
        process.join(5)
    killer.arm(None, None)
    return Ended(process.exitcode, process.exitcode == -9 and not hung, hung)


class _Alarm:
    """SIGKILL after `seconds`, unless cancelled first (never a pid that may be reused)."""

    def __init__(self, pid: int, seconds: float | None) -> None:
        self.pid = pid
        self.lock = threading.Lock()
        self.cancelled = False
        self.timer = threading.Timer(seconds or 0, self._fire)
        if seconds is not None:
            self.timer.start()

    def _fire(self) -> None:
        with self.lock:
            if not self.cancelled:
                kill_and_wait(self.pid)

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
        self.timer.cancel()
