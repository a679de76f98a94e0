"""What every benchmark shares: timing, the benchmark venv, and the figure record."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("PUBLISHER_BENCH_CACHE", Path.home() / ".cache" / "publisher-bench"))
PELICAN = "pelican==4.12.0"


@dataclass
class Figure:
    """One line of the results table: a measurement, its target and whether it meets it."""

    name: str
    measured: float
    unit: str
    target: float | None
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.measured <= self.target

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "measured": round(self.measured, 4),
            "unit": self.unit,
            "target": self.target,
            "passed": self.passed,
            "detail": self.detail,
        }


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` takes, wall clock."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run_process(command: Sequence[str | Path], cwd: Path | None = None) -> float:
    """Seconds a whole process takes; its output is discarded, a failure raises."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def publisher_command(*args: str | Path) -> list[str]:
    """The `publisher` console script of the interpreter running the benchmark."""
    script = Path(sys.executable).parent / "publisher"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "publisher"]
    return [*head, *map(str, args)]


def bench_venv(folder: Path | None = None) -> Path:
    """The benchmark-only venv holding Pelican, made on first use."""
    folder = folder or CACHE / "venv"
    python = folder / "bin" / "python"
    marker = folder / f".ready-{PELICAN}"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"creating the benchmark venv in {folder} ({PELICAN})", flush=True)
        venv.create(folder, with_pip=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", PELICAN, "markdown"]
        subprocess.run(pip, check=True)
        marker.touch()
    return folder


def reset_folder(path: Path) -> None:
    """Remove `path` whatever it holds."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)
