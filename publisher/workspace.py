"""Locating a workspace and its parts (DESIGN section 2)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from publisher.errors import WorkspaceError

STATE_DIR = ".publisher"
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
    return Workspace(root, _environment(root / ".env", os.environ if environ is None else environ))


def _environment(env_file: Path, environ: Mapping[str, str]) -> dict[str, str]:
    values = (
        {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        if env_file.is_file()
        else {}
    )
    values.update(environ)
    return values
