"""Start-up: `publisher --help` and `publisher check` on the sample, against `python -c pass`.

`check` runs on a copy of the sample workspace whose render cache is warm, so what is left
is importing, loading and reading the cache. `python -X importtime` tells which imports
dominate.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from common import REPO, Figure, median, publisher_command, run_process

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def sample_copy(folder: Path) -> Path:
    """A copy of the sample workspace (content, channels, calendar) with a warm cache."""
    root = folder / "sample"
    shutil.rmtree(root, ignore_errors=True)
    for name in ("content", "channels"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "schedules.yaml", root / "schedules.yaml")
    run_process(publisher_command("--root", root, "check"))
    return root


def slowest_imports(command: list[str], count: int = 8) -> list[tuple[str, float]]:
    """The top-level imports with the largest cumulative time, in ms, under -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command], capture_output=True, text=True, check=False
    )
    top: dict[str, float] = {}
    for match in _IMPORT_LINE.finditer(done.stderr):
        if len(match.group(3)) <= 1:  # a module imported by __main__ itself, not a dependency
            name = match.group(4)
            top[name] = max(top.get(name, 0.0), int(match.group(2)) / 1000)
    return sorted(top.items(), key=lambda pair: -pair[1])[:count]


def run(folder: Path, runs: int) -> list[Figure]:
    sample = sample_copy(folder)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "publisher --help": publisher_command("--help"),
        "publisher check (sample, warm)": publisher_command("--root", sample, "check"),
    }
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so a noisy moment hits every command alike
        for name, command in commands.items():
            seconds[name].append(run_process(command))
    med = {name: median(values) * 1000 for name, values in seconds.items()}
    base = med["python -c pass"]
    detail = {
        "ms_median": {name: round(ms, 1) for name, ms in med.items()},
        "slowest_imports_ms_check": slowest_imports(
            ["-m", "publisher", "--root", str(sample), "check"]
        ),
        "slowest_imports_ms_help": slowest_imports(["-m", "publisher", "--help"]),
    }
    return [
        Figure(
            "start-up: publisher --help - python -c pass",
            med["publisher --help"] - base,
            "ms",
            150,
            detail,
        ),
        Figure(
            "start-up: publisher check (sample) - python -c pass",
            med["publisher check (sample, warm)"] - base,
            "ms",
            150,
            {"ms_median": detail["ms_median"]},
        ),
    ]
