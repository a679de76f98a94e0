"""Locating a workspace and its parts (DESIGN section 2)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from filelock import FileLock

from publisher.errors import WorkspaceError

STATE_DIR = ".publisher"
RUN_LOCK_FILE = "run.lock"  # held by the one `publisher run` of a workspace
WAKE_FILE = "wake"  # touched when the store changed under a running `publisher run`
SECRET_KEY_VARIABLE = "PUBLISHER_SECRET_KEY"  # seals tokens at rest (publisher.store.sealing)


@dataclass(frozen=True)
class Workspace:
    """A campaign folder: `content/`, `channels/`, `schedules.yaml`, `.env`, `.publisher/`."""

    root: Path
    env: Mapping[str, str]

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def channels_dir(self) -> Path:
        return self.root / "channels"

    @property
    def schedules_path(self) -> Path:
        return self.root / "schedules.yaml"

    @property
    def state_dir(self) -> Path:
        """Git-ignored state: database, caches, outbox, logs. Created on first use."""
        return self.root / STATE_DIR

    def rel(self, path: Path) -> str:
        """`path` relative to the workspace, with forward slashes, for messages and ids."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def run_lock(workspace: Workspace) -> FileLock:
    """The lock a running `publisher run` holds (taken without waiting)."""
    return FileLock(workspace.state_dir / RUN_LOCK_FILE, timeout=0, mode=0o600)


def notify_runner(workspace: Workspace) -> None:
    """Tell a running `publisher run` to look at the store now (it watches this file)."""
    wake = workspace.state_dir / WAKE_FILE
    wake.parent.mkdir(parents=True, exist_ok=True)
    wake.touch()  # an existing file gets a new modification time


def open_workspace(root: Path, environ: Mapping[str, str] | None = None) -> Workspace:
    """Open the workspace at `root`; credentials come from `environ` over `.env`."""
    root = root.expanduser().absolute()
    if not root.is_dir():
        raise WorkspaceError(f"workspace folder not found: {root}")
    if not (root / "content").is_dir():
        raise WorkspaceError(
            f"{root} is not a publisher workspace: it has no content/ folder "
            "(pass --root DIR to choose another folder)"
        )
    private_state_dir(root / STATE_DIR)
    return Workspace(root, _environment(root / ".env", os.environ if environ is None else environ))


def private_state_dir(path: Path) -> Path:
    """The state folder, made if missing and readable by its owner only (it holds tokens).

    A file where the folder should be stops every command with what to do.
    """
    if path.exists() and not path.is_dir():
        raise WorkspaceError(
            f"{path} is a file, but publisher keeps its state in a folder of that name: "
            "move the file aside (publisher makes the folder anew)"
        )
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        reason = exc.strerror or exc
        raise WorkspaceError(f"cannot make or use the state folder {path}: {reason}") from None
    return path


def _environment(env_file: Path, environ: Mapping[str, str]) -> dict[str, str]:
    values = (
        {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        if env_file.is_file()
        else {}
    )
    values.update(environ)
    return values
