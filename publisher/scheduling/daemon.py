"""`publisher run`: the long-running service.

APScheduler is only the alarm clock (in-memory jobs, an explicit time zone, late runs
always allowed); what is due and what happened live in the state store. One job wakes at
the next due delivery, a heartbeat every minute catches retries, and watchdog replans
when `content/`, `channels/` or `schedules.yaml` change. One instance per workspace (a
lock file); SIGTERM and Ctrl-C stop it after the current delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from publisher.errors import WorkspaceError
from publisher.scheduling.runner import CampaignRunner
from publisher.store.deliveries import utcnow
from publisher.workspace import Workspace, open_workspace

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 60
RELOAD_DEBOUNCE_SECONDS = 2.0


class Service:
    def __init__(self, workspace: Workspace, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.workspace = workspace
        self.clock = clock
        self.stopping = threading.Event()
        self.ready = threading.Event()  # set once the plan is announced and files are watched
        self._work_lock = threading.Lock()
        self._reload_timer: threading.Timer | None = None
        self.runner: CampaignRunner | None = None
        self.scheduler = None
        self.observer = None

    def run(self) -> None:
        lock = FileLock(self.workspace.state_dir / "run.lock", timeout=0)
        self.workspace.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire()
        except Timeout:
            raise WorkspaceError(
                "another 'publisher run' is already working on this workspace; stop it first "
                f"(lock: {self.workspace.state_dir / 'run.lock'})"
            ) from None
        try:
            self._start()
            self.stopping.wait()
        finally:
            self._stop()
            lock.release()

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
        """One tick, then the alarm set for the next due delivery."""
        if self.stopping.is_set() or self.runner is None:
            return
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
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        service = self

        class Changed(FileSystemEventHandler):
            def on_any_event(self, event: object) -> None:
                if ".publisher" not in str(getattr(event, "src_path", "")):
                    service._schedule_reload()

        self.observer = Observer()
        root = self.workspace.root
        for folder in (self.workspace.content_dir, self.workspace.channels_dir):
            if folder.is_dir():
                self.observer.schedule(Changed(), str(folder), recursive=True)
        self.observer.schedule(
            _OnlyFile(Changed(), self.workspace.schedules_path), str(root), recursive=False
        )
        self.observer.start()

    def _schedule_reload(self) -> None:
        """Editors write files in bursts: replan once the burst is over."""
        if self._reload_timer is not None:
            self._reload_timer.cancel()
        self._reload_timer = threading.Timer(RELOAD_DEBOUNCE_SECONDS, self._reload)
        self._reload_timer.daemon = True
        self._reload_timer.start()

    def _reload(self) -> None:
        if self.stopping.is_set() or self.runner is None:
            return
        with self._work_lock:
            catalog = self.runner.reload()
            self.runner.announce(self.clock())
            log.info("workspace changed: %d items, plan updated", len(catalog.items))
        self.work()

    def _stop(self) -> None:
        if self._reload_timer is not None:
            self._reload_timer.cancel()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        with self._work_lock:
            if self.runner is not None:
                self.runner.close()


class _OnlyFile:
    """A watchdog handler that passes on events about one file only."""

    def __init__(self, handler: object, path: Path) -> None:
        self.handler = handler
        self.path = str(path)

    def dispatch(self, event: object) -> None:
        if (
            getattr(event, "src_path", None) == self.path
            or getattr(event, "dest_path", None) == self.path
        ):
            self.handler.dispatch(event)  # type: ignore[attr-defined]


def serve(root: Path) -> None:
    service = Service(open_workspace(root))
    signal.signal(signal.SIGTERM, service.stop)
    signal.signal(signal.SIGINT, service.stop)
    service.run()
