"""Watching the workspace: real edits replan, reads never do, a wake file wakes `run`."""

from __future__ import annotations

import threading
from pathlib import Path

from publisher.watching import watch_workspace
from publisher.workspace import notify_runner, open_workspace

from .conftest import WorkspaceBuilder

WAIT = 60.0  # generous: the observer thread may be slow on a busy machine


def test_reading_a_file_is_no_edit_and_writing_one_is(workspace: WorkspaceBuilder) -> None:
    """`cat` of an article (opened, closed without writing) once started a reload loop."""
    article = workspace.article("a.md", "title: Bài A\n")
    opened = open_workspace(workspace.root, {})
    edits: list[bool] = []
    written = threading.Event()
    seen = threading.Event()

    def on_edit() -> None:
        edits.append(written.is_set())  # False: an edit reported before anything was written
        seen.set()

    observer = watch_workspace(opened, on_edit)
    try:
        for _ in range(3):
            article.read_text(encoding="utf-8")  # an editor, a backup, grep, check...
        (opened.state_dir / "cache").mkdir(parents=True, exist_ok=True)
        (opened.state_dir / "cache" / "x.json").write_text("{}")  # the tool's own state
        written.set()
        workspace.article("b.md", "title: Bài B\n")
        assert seen.wait(WAIT), "the write was never reported"
    finally:
        observer.stop()
        observer.join()
    assert edits and all(edits), edits


def test_a_touched_wake_file_wakes_the_runner(workspace: WorkspaceBuilder) -> None:
    opened = open_workspace(workspace.root, {})
    woken = threading.Event()
    edits: list[str] = []
    observer = watch_workspace(opened, lambda: edits.append("edit"), woken.set)
    try:
        notify_runner(opened)
        assert woken.wait(WAIT)
    finally:
        observer.stop()
        observer.join()
    assert edits == []  # the wake file is state, not an edit of the workspace


def test_schedules_yaml_is_watched_and_other_root_files_are_not(
    workspace: WorkspaceBuilder,
) -> None:
    opened = open_workspace(workspace.root, {})
    edits: list[Path] = []
    written = threading.Event()
    seen = threading.Event()

    def on_edit() -> None:
        edits.append(Path("schedules.yaml") if written.is_set() else Path("notes.txt"))
        seen.set()

    observer = watch_workspace(opened, on_edit)
    try:
        (workspace.root / "notes.txt").write_text("ghi chú")
        written.set()
        schedules = workspace.root / "schedules.yaml"
        schedules.write_text(schedules.read_text(encoding="utf-8"), encoding="utf-8")
        assert seen.wait(WAIT)
    finally:
        observer.stop()
        observer.join()
    assert Path("notes.txt") not in edits
