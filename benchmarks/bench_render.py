"""Cold render and one-edit re-render of N articles for all five channels, against Pelican.

Ours: `publisher --root WS check` as a whole process (it loads every item and renders it
for every channel, caching each post under `.publisher/cache/render/`). Cold: `.publisher/`
removed, except the variants of the six shared pool images, made once before timing and
put back before every cold run, so the text figure does not measure image work (images
have their own figure). Edit: one article's body changed, `check` run again.

Pelican: `pelican content -o out -s pelicanconf.py` as a whole process, with its default
settings (content cache off), cold (empty output folder) and after the same edit (same
output folder; Pelican then rebuilds everything). Its rebuild with the content cache on is
measured too, for information.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from common import Figure, median, publisher_command, reset_folder, run_process
from corpus import write_articles, write_pelican_settings


@dataclass(frozen=True)
class Trees:
    """The generated workspace, the same articles for Pelican, and the article edited."""

    workspace: Path
    pelican: Path
    edited: str  # path inside content/ of the article each run edits
    pelican_bin: Path


def prepare(folder: Path, count: int, venv: Path) -> Trees:
    """Write the corpus, make the pool's variants once, prime Pelican's content cache."""
    write_articles(folder, count)
    trees = Trees(
        folder / "workspace", folder / "pelican", "tinh-00/bai-0000.md", venv / "bin" / "pelican"
    )
    run_process(publisher_command("--root", trees.workspace, "check"))
    shutil.copytree(trees.workspace / ".publisher" / "cache" / "media", folder / "pool-media")
    write_pelican_settings(trees.pelican, content_cache=True)
    run_process(_pelican(trees, "out-cache", "pelicanconf-cache.py"), cwd=trees.pelican)
    return trees


def rendered_channels(trees: Trees) -> dict[str, int]:
    """How many posts `check` cached per channel: proof that every channel was rendered."""
    store = trees.workspace / ".publisher" / "cache" / "render"
    return {channel.name: len(list(channel.glob("*.json"))) for channel in sorted(store.iterdir())}


def measure_once(trees: Trees, run: int) -> dict[str, float]:
    """One round of all five timings, so each ratio compares measurements of the same moment."""
    times = {"ours_cold": _ours_cold(trees)}
    _edit(trees.workspace / "content" / trees.edited, run)
    times["ours_edit"] = run_process(publisher_command("--root", trees.workspace, "check"))
    reset_folder(trees.pelican / "out")
    times["pelican_cold"] = run_process(_pelican(trees, "out", "pelicanconf.py"), cwd=trees.pelican)
    _edit(trees.pelican / "content" / trees.edited, run)
    times["pelican_edit"] = run_process(_pelican(trees, "out", "pelicanconf.py"), cwd=trees.pelican)
    times["pelican_edit_cached"] = run_process(
        _pelican(trees, "out-cache", "pelicanconf-cache.py"), cwd=trees.pelican
    )
    return times


def _ours_cold(trees: Trees) -> float:
    state = trees.workspace / ".publisher"
    reset_folder(state)
    shutil.copytree(trees.workspace.parent / "pool-media", state / "cache" / "media")
    return run_process(publisher_command("--root", trees.workspace, "check"))


def _pelican(trees: Trees, out: str, settings: str) -> list[str]:
    return [str(trees.pelican_bin), "content", "-o", out, "-s", settings, "-q"]


def _edit(article: Path, run: int) -> None:
    """Change the body of `article` (the same way in both trees)."""
    with article.open("a", encoding="utf-8") as file:
        file.write(f"\nCập nhật lần thứ {run + 1}: số liệu đã được điều chỉnh.\n")


def figures(rounds: list[dict[str, float]], count: int, channels: dict[str, int]) -> list[Figure]:
    """The two render figures, from the medians of every round."""
    med = {key: median([r[key] for r in rounds]) for key in rounds[0]}
    raw = {key: [round(r[key], 3) for r in rounds] for key in rounds[0]}
    common = {"articles": count, "seconds_median": {k: round(v, 3) for k, v in med.items()}}
    cold = Figure(
        f"cold render, {count} items x 5 channels / Pelican cold",
        med["ours_cold"] / med["pelican_cold"],
        "x",
        0.5,
        {**common, "runs": raw, "posts_per_channel": channels},
    )
    edit = Figure(
        "one item edited, re-render / Pelican rebuild (cache off, default)",
        med["ours_edit"] / med["pelican_edit"],
        "x",
        0.1,
        {
            **common,
            "ratio_to_pelican_rebuild_with_content_cache": round(
                med["ours_edit"] / med["pelican_edit_cached"], 3
            ),
        },
    )
    return [cold, edit]


def run(folder: Path, count: int, runs: int, venv: Path) -> list[Figure]:
    trees = prepare(folder, count, venv)
    channels = rendered_channels(trees)
    rounds = [measure_once(trees, index) for index in range(runs)]
    return figures(rounds, count, channels)
