"""`publisher run`: the long-running service.

APScheduler is only the alarm clock (in-memory jobs, an explicit time zone, late runs
always allowed); what is due and what happened live in the state store. One job wakes at
the next due delivery, a heartbeat every minute catches retries, and watchdog replans
when `content/`, `channels/` or `schedules.yaml` change (not when they are only read); a
command that changed the store (`auth`, `retry`, `resolve`) wakes it at once. One instance
per workspace (a lock file); SIGTERM and Ctrl-C stop it after the current delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from filelock import Timeout

from publisher.errors import StoreError, StoreLocked, WorkspaceError
from publisher.scheduling.runner import CampaignRunner
from publisher.store.deliveries import utcnow
from publisher.watching import Debounced, watch_workspace
from publisher.workspace import Workspace, open_workspace, run_lock

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 60
RELOAD_DEBOUNCE_SECONDS = 2.0
WAKE_DEBOUNCE_SECONDS = 0.2


class Service:
    def __init__(self, workspace: Workspace, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.workspace = workspace
        self.clock = clock
        self.stopping = threading.Event()
        self.ready = threading.Event()  # set once the plan is announced and files are watched
        self._work_lock = threading.Lock()
        self._replan = Debounced(self._reload, RELOAD_DEBOUNCE_SECONDS)  # editors save in bursts
        self._wake = Debounced(self.work, WAKE_DEBOUNCE_SECONDS)  # a command changed the store
        self.runner: CampaignRunner | None = None
        self.scheduler = None
        self.observer = None
        self.failure: StoreError | None = None  # a damaged store stopped the service

    def run(self) -> None:
        """Work until stopped; a store found damaged meanwhile stops it with that error."""
        lock = run_lock(self.workspace)
        try:
            lock.acquire()
        except Timeout:
            raise WorkspaceError(
                "another 'publisher run' is already working on this workspace; stop it first "
                f"(lock: {lock.lock_file})"
            ) from None
        try:
            self._start()
            self.stopping.wait()
        finally:
            self._stop()
            lock.release()
        if self.failure is not None:
            raise self.failure

    def stop(self, *_: object) -> None:
        log.info("stopping after the current delivery")
        self.stopping.set()

    def _start(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.runner = CampaignRunner(self.workspace, clock=self.clock)
        now = self.clock()
        self.runner.announce(now)
        self.runner.recover(now)
        zone = self.runner.catalog.schedules.zone
        self.scheduler = BackgroundScheduler(
            timezone=zone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_job(self.work, "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat")
        self.scheduler.start()
        self._watch()
        self.ready.set()
        self.work()
        log.info("running; next post due %s", self.runner.store.deliveries.next_due())

    def work(self) -> None:
        """One tick, then the alarm set for the next due delivery. A locked store is tried
        again at the next heartbeat; a damaged one stops the service (nothing publishes)."""
        if not self.stopping.is_set() and self.runner is not None:
            self._guarded(self._tick)

    def _guarded(self, action: Callable[[], None]) -> None:
        """Run `action`; a locked store waits for the next heartbeat, a damaged one stops
        the service."""
        try:
            action()
        except StoreLocked as exc:
            log.warning("%s", exc)
        except StoreError as exc:
            log.error("%s", exc)
            self.failure = exc
            self.stopping.set()

    def _tick(self) -> None:
        assert self.runner is not None
        with self._work_lock:
            report = self.runner.tick(self.clock())
            for delivery in report.published:
                log.info("published %s on %s: %s", delivery.item_id, delivery.channel, delivery.url)
            for delivery in report.problems:
                log.warning(
                    "%s on %s: %s (%s)",
                    delivery.item_id,
                    delivery.channel,
                    delivery.state,
                    delivery.error,
                )
            self._set_alarm()

    def _set_alarm(self) -> None:
        assert self.runner is not None and self.scheduler is not None
        following = self.runner.store.deliveries.next_due()
        if following is not None:
            self.scheduler.add_job(
                self.work, "date", run_date=following, id="next-due", replace_existing=True
            )

    def _watch(self) -> None:
        self.observer = watch_workspace(self.workspace, self._replan, self._wake)

    def _reload(self) -> None:
        """Read the workspace again and announce what is new, then work."""
        if self.stopping.is_set() or self.runner is None:
            return
        self._guarded(self._replan_now)
        self.work()

    def _replan_now(self) -> None:
        assert self.runner is not None
        with self._work_lock:
            catalog = self.runner.reload()
            self.runner.announce(self.clock())
            log.info("workspace changed: %d items, plan updated", len(catalog.items))

    def _stop(self) -> None:
        self._replan.cancel()
        self._wake.cancel()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        with self._work_lock:
            if self.runner is not None:
                self.runner.close()


def serve(root: Path) -> None:
    service = Service(open_workspace(root))
    signal.signal(signal.SIGTERM, service.stop)
    signal.signal(signal.SIGINT, service.stop)
    service.run()
