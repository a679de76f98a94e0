"""The preview's item page, warm: the 95th percentile from `benchmarks/preview.py`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from common import Figure

PREVIEW = Path(__file__).resolve().parent / "preview.py"


def timings(runs: int) -> dict[str, tuple[float, float]]:
    """Median and p95 (ms) of every page preview.py measures."""
    done = subprocess.run(
        [sys.executable, str(PREVIEW), "--runs", str(runs)],
        capture_output=True,
        text=True,
        check=True,
    )
    pages = {}
    for line in done.stdout.splitlines()[1:]:
        page, median_ms, p95_ms = line.split()
        pages[page] = (float(median_ms), float(p95_ms))
    return pages


def run(runs: int) -> list[Figure]:
    pages = timings(runs)
    item = next(page for page in pages if page.startswith("/items/"))
    detail = {"requests_per_page": runs, "ms_median_p95": pages}
    return [Figure("preview item page, p95 warm", pages[item][1], "ms", 50.0, detail)]
