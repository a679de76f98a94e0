"""Shared fixtures: a workspace builder writing real files into a temporary folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
# The key that signs caches, for the tests and the processes they start: never the user's own.
os.environ.setdefault(
    "PUBLISHER_CACHE_KEY_FILE", str(Path(tempfile.mkdtemp(prefix="publisher-key-")) / "cache.key")
)

CHANNEL_FILES = {
    "portal": "enabled: true\nmode: outbox\nbase_url: https://bhxh.example.gov.vn\n",
    "facebook": "enabled: true\nmode: outbox\n",
    "zalo": "enabled: true\nmode: outbox\n",
    "youtube": "enabled: true\nmode: outbox\n",
    "telegram": "enabled: true\nmode: outbox\n",
}
SCHEDULES = """\
timezone: Asia/Ho_Chi_Minh
campaigns:
  - id: test
    name: Test
    start: 2026-12-01
    end: 2026-12-31
    channels:
      portal:
        slots:
          - days: weekdays
            times: ["08:00"]
"""


def calendar_yaml(
    slots: dict[str, list[str]],
    *,
    end: str = "2026-12-05",
    caps: dict[str, int] | None = None,
) -> str:
    """A one-campaign schedules.yaml from 1 December: daily `slots` per channel, a 2 h grace."""
    lines = [
        "timezone: Asia/Ho_Chi_Minh",
        "campaigns:",
        "  - id: test",
        "    name: Test",
        "    start: 2026-12-01",
        f"    end: {end}",
        "    grace: 2h",
        "    channels:",
    ]
    for channel, times in slots.items():
        quoted = ", ".join(f'"{t}"' for t in times)
        lines += [f"      {channel}:", "        slots:", "          - days: daily"]
        lines.append(f"            times: [{quoted}]")
        if caps and channel in caps:
            lines.append(f"        daily_cap: {caps[channel]}")
    return "\n".join(lines) + "\n"


class WorkspaceBuilder:
    """Writes a workspace file by file; text is written as UTF-8 bytes exactly as given."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "content").mkdir(parents=True, exist_ok=True)

    def write(self, rel: str, data: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    def article(self, rel: str, front_matter: str, body: str = "Nội dung bài viết.\n") -> Path:
        return self.write(f"content/{rel}", f"---\n{front_matter}---\n{body}")

    def image(
        self, rel: str, size: tuple[int, int] = (64, 48), fmt: str = "PNG", mode: str = "RGB"
    ) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new(mode, size, "#1b6ca8" if mode == "RGB" else 128).save(path, fmt)
        return path

    def standard_settings(self) -> WorkspaceBuilder:
        for name, text in CHANNEL_FILES.items():
            self.write(f"channels/{name}.yaml", text)
        self.write("schedules.yaml", SCHEDULES)
        return self


@pytest.fixture
def workspace(tmp_path: Path) -> WorkspaceBuilder:
    return WorkspaceBuilder(tmp_path / "ws").standard_settings()


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[[str], WorkspaceBuilder]:
    def make(name: str) -> WorkspaceBuilder:
        return WorkspaceBuilder(tmp_path / name)

    return make


def copy_sample(target: Path) -> Path:
    """The repository's sample workspace, copied so tests never write into the repository."""
    for name in ("content", "channels"):
        shutil.copytree(REPO_ROOT / name, target / name)
    shutil.copy(REPO_ROOT / "schedules.yaml", target / "schedules.yaml")
    return target


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    return copy_sample(tmp_path / "sample")
