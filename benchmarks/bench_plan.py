"""The plan of a national calendar: 63 provinces, 5 channels, 31 days, 3 slots a day.

    python benchmarks/bench_plan.py [--items N]    # one measurement, as JSON

One campaign per province (its own content folder), every channel with three daily slots
in December; 10,000 ready articles spread over the provinces with mixed priorities, dates
and windows. Each measurement runs in a fresh process: `make_plan` is timed and the peak
resident memory of that process (items and calendar included) is read after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import Figure, median

PROVINCES, DAYS, TIMES = 63, 31, ("07:30", "12:00", "19:30")


def national_calendar() -> object:
    """`Schedules` with one December campaign per province."""
    from publisher.adapters.names import CHANNEL_NAMES
    from publisher.settings.schedules import Schedules

    plans = {name: {"slots": [{"days": "daily", "times": list(TIMES)}]} for name in CHANNEL_NAMES}
    campaigns = [
        {
            "id": f"tinh-{p:02d}",
            "name": f"Tỉnh {p:02d}",
            "start": dt.date(2026, 12, 1),
            "end": dt.date(2026, 12, DAYS),
            "content": {"folders": [f"tinh-{p:02d}"]},
            "channels": plans,
        }
        for p in range(PROVINCES)
    ]
    return Schedules.model_validate({"timezone": "Asia/Ho_Chi_Minh", "campaigns": campaigns})


def national_items(count: int, seed: int = 8) -> list[object]:
    """`count` ready five-channel articles, as the loader would make them (without bodies)."""
    from publisher.adapters.names import CHANNEL_NAMES
    from publisher.content.model import ContentItem, ItemKind
    from publisher.content.schema import FrontMatter

    rng = random.Random(seed)
    zone = dt.timezone(dt.timedelta(hours=7))
    items = []
    for index in range(count):
        item_id = f"tinh-{index % PROVINCES:02d}/bai-{index:05d}"
        day = dt.date(2026, 11, 1) + dt.timedelta(days=rng.randrange(50))
        window = rng.random() < 0.3
        start = dt.datetime(2026, 12, 1 + rng.randrange(20), tzinfo=zone) if window else None
        meta = FrontMatter(
            title=f"Bài {index}", date=day, priority=rng.choice(("high", "normal", "low"))
        )
        items.append(
            ContentItem(
                id=item_id,
                path=f"content/{item_id}.md",
                path_on_disk=Path(f"/bench/content/{item_id}.md"),
                kind=ItemKind.ARTICLE,
                meta=meta,
                body="",
                document=None,  # type: ignore[arg-type]  # planning never reads it
                assets=(),
                channels=CHANNEL_NAMES,
                content_hash=f"{index:064x}",
                not_before=start,
                not_after=start + dt.timedelta(days=7) if start else None,
                at=None,
            )
        )
    return items


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    VmHWM belongs to the process image; `ru_maxrss` is not used where /proc exists because
    Linux carries the parent's peak over `fork` + `exec`, so a child of a large parent
    reports the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_in_process(count: int) -> dict[str, float]:
    """Build the calendar and items, time `make_plan`, report this process's peak memory."""
    from publisher.adapters.names import CHANNEL_NAMES
    from publisher.planning.planner import make_plan

    schedules, items = national_calendar(), national_items(count)
    before = peak_rss_mb()
    start = time.perf_counter()
    plan = make_plan(schedules, items, CHANNEL_NAMES)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    return {
        "seconds": seconds,
        "peak_rss_mb": peak,
        "rss_before_plan_mb": before,
        "posts": len(plan.posts),
        "unplaced": len(plan.unplaced),
    }


def measure(count: int) -> dict[str, float]:
    """One measurement in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--items", str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def run(count: int, runs: int) -> list[Figure]:
    rounds = [measure(count) for _ in range(runs)]
    seconds = median([r["seconds"] for r in rounds])
    peak = median([r["peak_rss_mb"] for r in rounds])
    detail = {
        "items": count,
        "slots": PROVINCES * 5 * DAYS * len(TIMES),
        "runs": rounds,
    }
    return [
        Figure(f"plan: {PROVINCES} provinces, {count} items (time)", seconds, "s", 2.0, detail),
        Figure("plan: peak memory of the process", peak, "MB", 300.0, {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Time one national plan; prints JSON.")
    parser.add_argument("--items", type=int, default=10_000)
    print(json.dumps(measure_in_process(parser.parse_args().items)))


if __name__ == "__main__":
    main()
