"""Watching a workspace: edits to its content, channels and calendar, and wake-up calls.

`publisher run` replans and the preview reloads when an officer saves a file; only real
changes count. Opening or reading a file (an editor, a backup, `grep`, `publisher check`,
publishing itself reading media) must never start a reload, or a reload that reads the
files would start the next one. A command that changed the state store under a running
`publisher run` (credentials fixed, a delivery resolved) touches `.publisher/wake`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.workspace import WAKE_FILE, Workspace

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent
    from watchdog.observers.api import BaseObserver

# watchdog's event types that mean a file or folder changed ("closed": closed after writing)
CHANGES = frozenset({"created", "deleted", "modified", "moved", "closed"})


class Debounced:
    """Calls `action` once, `seconds` after the last of a burst of `__call__`s."""

    def __init__(self, action: Callable[[], object], seconds: float) -> None:
        self.action = action
        self.seconds = seconds
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.seconds, self.action)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


def is_edit(event: FileSystemEvent, workspace: Workspace) -> bool:
    """A change to a file of content/, channels/ or to schedules.yaml (not a mere read)."""
    if event.event_type not in CHANGES:
        return False
    paths = [Path(str(event.src_path)), Path(str(getattr(event, "dest_path", "") or ""))]
    return any(_watched(path, workspace) for path in paths if str(path) not in ("", "."))


def _watched(path: Path, workspace: Workspace) -> bool:
    if path == workspace.schedules_path:
        return True
    folders = (workspace.content_dir, workspace.channels_dir)
    return any(path.is_relative_to(folder) for folder in folders)


def watch_workspace(
    workspace: Workspace,
    on_edit: Callable[[], None],
    on_wake: Callable[[], None] | None = None,
) -> BaseObserver:
    """Start watching; `on_edit` on every edit, `on_wake` when `.publisher/wake` is touched.

    Both are called on watchdog's thread: hand long work to another (see `Debounced`).
    """
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    wake = workspace.state_dir / WAKE_FILE

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type not in CHANGES:
                return
            if on_wake is not None and Path(str(event.src_path)) == wake:
                on_wake()
            elif is_edit(event, workspace):
                on_edit()

    observer = Observer()
    for folder in (workspace.content_dir, workspace.channels_dir):
        if folder.is_dir():
            observer.schedule(Handler(), str(folder), recursive=True)
    observer.schedule(Handler(), str(workspace.root), recursive=False)
    if on_wake is not None:
        workspace.state_dir.mkdir(parents=True, exist_ok=True)
        observer.schedule(Handler(), str(workspace.state_dir), recursive=False)
    observer.start()
    return observer
