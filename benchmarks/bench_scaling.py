"""Render time as a function of input size: tables, lists and paragraphs, channel by channel.

    python benchmarks/bench_scaling.py [--runs N] [--work DIR]   # the table of ms per KB

One article per input: tables of 250, 1,000, 4,000 and 16,000 rows, tight lists of 1,000,
4,000 and 16,000 items (20,000 lines is the most an article may have) and one paragraph of
10, 50, 100 and 200 KB, in Vietnamese words. Each is loaded once; then the document model
(the lines every channel renders from) and each channel's `render` are timed, the median
of `runs`. Time per KB of Markdown at each size shows the curve: linear work keeps it flat
(or falling, while a fixed cost spreads), quadratic work multiplies it by the growth of the
input. The figure per channel is the curve's exponent over each kind's two largest inputs,
where a fixed cost (cutting a text to a platform's limit) is paid at both: 1 is linear, 2
quadratic; a curve whose largest input renders in under 1 ms is too fast to tell.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
from collections.abc import Callable
from pathlib import Path

from common import CACHE, Figure, median, reset_folder, timed
from corpus import paragraph, sentence, write_settings

from publisher.catalog import Catalog, load_catalog
from publisher.render.common import body_lines
from publisher.render.service import Renderer
from publisher.workspace import open_workspace

STAGES = ("document", "portal", "facebook", "zalo", "youtube", "telegram")


def table(rng: random.Random, rows: int) -> str:
    head = "| Đơn vị | Số tiền | Ghi chú |\n|---|---|---|\n"
    return head + "".join(
        f"| Công ty số {row} | {rng.randrange(10**6, 10**9):,} đồng | {sentence(rng, 2, 6)} |\n"
        for row in range(rows)
    )


def bullets(rng: random.Random, items: int) -> str:
    return "".join(f"- {sentence(rng, 3, 8)}\n" for _ in range(items))


def long_paragraph(rng: random.Random, kilobytes: int) -> str:
    parts: list[str] = []
    size = 0
    while size < kilobytes * 1024:
        parts.append(paragraph(rng))
        size += len(parts[-1].encode()) + 1
    return " ".join(parts) + "\n"


INPUTS: dict[str, tuple[Callable[[random.Random, int], str], tuple[int, ...]]] = {
    "table rows": (table, (250, 1000, 4000, 16_000)),
    "list items": (bullets, (1000, 4000, 16_000)),
    "paragraph KB": (long_paragraph, (10, 50, 100, 200)),
}


def write_workspace(folder: Path) -> dict[str, tuple[str, int, float]]:
    """One article per input; by item id: its kind, its size and its body's KB."""
    reset_folder(folder)
    write_settings(folder)
    articles = {}
    for kind, (make, sizes) in INPUTS.items():
        for size in sizes:
            body = make(random.Random(size), size)
            item_id = f"{kind.split()[0]}-{size}"
            path = folder / "content" / f"{item_id}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            front = f"---\ntitle: {kind} {size}\nsummary: Tóm tắt\ntags: [BHXH]\n---\n"
            path.write_text(front + body, encoding="utf-8")
            articles[item_id] = (kind, size, len(body.encode()) / 1024)
    return articles


def measure(folder: Path, runs: int) -> dict[str, dict[int, dict[str, float]]]:
    """By kind and size: the body's KB and each stage's median milliseconds."""
    articles = write_workspace(folder)
    catalog = load_catalog(open_workspace(folder, {}))
    renderer = Renderer(catalog)
    found: dict[str, dict[int, dict[str, float]]] = {kind: {} for kind in INPUTS}
    # The loaded inputs (megabytes of trees) out of the collector's sight: a render's time is
    # then its own work and the collection of what it allocates, not passes over the others.
    gc.collect()
    gc.freeze()
    try:
        _time_all(catalog, renderer, articles, found, runs)
    finally:
        gc.unfreeze()
    return found


def _time_all(
    catalog: Catalog,
    renderer: Renderer,
    articles: dict[str, tuple[str, int, float]],
    found: dict[str, dict[int, dict[str, float]]],
    runs: int,
) -> None:
    for item_id, (kind, size, kilobytes) in articles.items():
        item = catalog.item(item_id)
        if item is None:
            raise RuntimeError(f"{item_id} did not load: {catalog.problems.errors[:3]}")
        times: dict[str, list[float]] = {stage: [] for stage in STAGES}
        for _ in range(runs):
            body_lines.cache_clear()
            times["document"].append(timed(lambda item=item: body_lines(item.document.tree)))
            for name in STAGES[1:]:
                channel = renderer.channels[name]
                times[name].append(timed(lambda c=channel, i=item: c.render(i, renderer.context)))
        found[kind][size] = {"kb": kilobytes} | {
            stage: median(values) * 1000 for stage, values in times.items()
        }


def per_kb(found: dict[str, dict[int, dict[str, float]]], stage: str) -> dict[str, list[float]]:
    """Milliseconds per KB of each kind's inputs, smallest first."""
    return {
        kind: [sizes[size][stage] / sizes[size]["kb"] for size in sorted(sizes)]
        for kind, sizes in found.items()
    }


def exponent(sizes: dict[int, dict[str, float]], stage: str) -> float | None:
    """log(time ratio) / log(KB ratio) over the two largest inputs; None under 1 ms."""
    small, large = (sizes[size] for size in sorted(sizes)[-2:])
    if large[stage] < 1.0:
        return None
    return math.log(large[stage] / small[stage]) / math.log(large["kb"] / small["kb"])


def figures(found: dict[str, dict[int, dict[str, float]]], runs: int) -> list[Figure]:
    inputs = {
        kind: {size: round(sizes[size]["kb"], 1) for size in sorted(sizes)}
        for kind, sizes in found.items()
    }
    result = []
    for stage in STAGES:
        exponents = {kind: exponent(sizes, stage) for kind, sizes in found.items()}
        measured = [value for value in exponents.values() if value is not None]
        detail = {
            "runs": runs,
            "kb_by_size": inputs,
            "ms_per_kb": {
                kind: [round(v, 4) for v in curve] for kind, curve in per_kb(found, stage).items()
            },
            "exponents": {k: None if v is None else round(v, 2) for k, v in exponents.items()},
        }
        name = f"render time ~ input size ^ k (1 linear, 2 quadratic): {stage}"
        result.append(Figure(name, max(measured, default=0.0), "k", 1.3, detail))
    return result


def run(folder: Path, runs: int) -> list[Figure]:
    return figures(measure(folder, runs), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time rendering against input size.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=CACHE / "work")
    args = parser.parse_args()
    found = measure(args.work / "scaling", args.runs)
    print(f"{'input':<22}{'KB':>8}" + "".join(f"{stage:>10}" for stage in STAGES))
    for kind, sizes in found.items():
        for size in sorted(sizes):
            row = sizes[size]
            cells = "".join(f"{row[stage] / row['kb']:>10.3f}" for stage in STAGES)
            print(f"{kind + ' ' + format(size, ','):<22}{row['kb']:>8.1f}{cells}")
    print("(milliseconds per KB of Markdown; flat down a column means linear)")


if __name__ == "__main__":
    main()
