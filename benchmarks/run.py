"""The benchmark harness of issue 8: every figure with its target, as a table and as JSON.

    python benchmarks/run.py [--quick] [--only NAME ...] [--venv DIR] [--work DIR]

Full run: 1,000 articles, 200 images, 5 runs of each figure. `--quick`: 200 articles,
40 images, 3 runs (a few minutes on two cores). The render-scaling group times tables,
lists and paragraphs up to 1 MB (about 20 s). Every figure is the median of its runs;
every ratio divides two medians measured in the same rounds. Pelican lives in a
benchmark-only venv made on first use (default ~/.cache/publisher-bench/venv).
Generated corpora go under --work (default ~/.cache/publisher-bench/work), never the repo.
Writes benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bench_images
import bench_plan
import bench_preview
import bench_publish
import bench_render
import bench_scaling
import bench_startup
from common import CACHE, Figure, bench_venv
from filelock import FileLock, Timeout

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True)
class Sizes:
    articles: int
    images: int
    runs: int
    startup_runs: int
    plan_items: int
    posts: int
    publish_runs: int
    preview_requests: int


FULL = Sizes(1000, 200, 5, 10, 10_000, 500, 3, 100)
QUICK = Sizes(200, 40, 3, 10, 10_000, 25, 3, 50)


def benchmarks(args: argparse.Namespace, sizes: Sizes) -> dict[str, Callable[[], list[Figure]]]:
    """Each figure group by name, ready to run."""
    work: Path = args.work
    return {
        "render": lambda: bench_render.run(
            work / "articles", sizes.articles, sizes.runs, bench_venv(args.venv)
        ),
        "scaling": lambda: bench_scaling.run(work / "scaling", sizes.runs),
        "images": lambda: bench_images.run(work, sizes.images, sizes.runs),
        "startup": lambda: bench_startup.run(work, sizes.startup_runs),
        "plan": lambda: bench_plan.run(sizes.plan_items, sizes.runs),
        "publish": lambda: bench_publish.run(sizes.posts, sizes.publish_runs, work / "publish"),
        "preview": lambda: bench_preview.run(sizes.preview_requests),
    }


def table(figures: list[Figure]) -> str:
    """Figure, measured, target and pass/miss, one line each."""
    width = max(len(f.name) for f in figures)
    lines = [f"{'figure':<{width}}  {'measured':>12}  {'target':>10}  result"]
    for figure in figures:
        target = "-" if figure.target is None else f"<= {figure.target:g}"
        verdict = {True: "pass", False: "MISS", None: "info"}[figure.passed]
        measured = f"{figure.measured:.3f} {figure.unit}"
        lines.append(f"{figure.name:<{width}}  {measured:>12}  {target:>10}  {verdict}")
    return "\n".join(lines)


def _run_group(groups: dict[str, Callable[[], list[Figure]]], name: str) -> list[Figure]:
    print(f"[{dt.datetime.now():%H:%M:%S}] {name} ...", file=sys.stderr, flush=True)
    return groups[name]()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks of issue 8.")
    parser.add_argument("--quick", action="store_true", help="smaller corpora, 3 runs")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these figure groups")
    parser.add_argument("--venv", type=Path, default=None, help="the benchmark venv folder")
    parser.add_argument("--work", type=Path, default=CACHE / "work", help="where corpora go")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    groups = benchmarks(args, sizes)
    args.work.mkdir(parents=True, exist_ok=True)
    try:  # two runs sharing a work folder would delete each other's corpora and caches
        with FileLock(args.work / ".lock", timeout=0):
            figures = [
                figure for name in args.only or list(groups) for figure in _run_group(groups, name)
            ]
    except Timeout:
        sys.exit(f"another benchmark run uses {args.work}; wait for it or pass --work DIR")
    print(table(figures))
    RESULTS.write_text(
        json.dumps(
            {
                "when": dt.datetime.now().isoformat(timespec="seconds"),
                "mode": "quick" if args.quick else "full",
                "sizes": sizes.__dict__,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "figures": [figure.to_json() for figure in figures],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
