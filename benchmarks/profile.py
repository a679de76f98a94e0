"""Profiles of the figures that miss, with pyinstrument, as text files.

    python benchmarks/profile.py [--out DIR]

Needs pyinstrument in the environment publisher runs in (`pip install pyinstrument`).
Run `python benchmarks/run.py --quick` first: this reuses its corpora under
~/.cache/publisher-bench/work. Writes cold.txt (`publisher check`, cold render cache),
edit.txt (`check` again after one edit), images.txt (every variant of the image corpus,
one process) and startup.txt (`check` on the sample, warm).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from common import CACHE, reset_folder

WORK = CACHE / "work"
BENCH = Path(__file__).resolve().parent


def pyinstrument(out: Path, *target: str | Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pyinstrument",
        "-r",
        "text",
        "-o",
        str(out),
        *map(str, target),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def profile_render(out: Path) -> None:
    """Cold `check` (the pool's variants put back, as run.py does), then after one edit."""
    workspace = WORK / "articles" / "workspace"
    reset_folder(workspace / ".publisher")
    shutil.copytree(WORK / "articles" / "pool-media", workspace / ".publisher" / "cache" / "media")
    pyinstrument(out / "cold.txt", "-m", "publisher", "--root", workspace, "check")
    with (workspace / "content" / "tinh-01" / "bai-0001.md").open("a", encoding="utf-8") as file:
        file.write("\nMột câu mới.\n")
    pyinstrument(out / "edit.txt", "-m", "publisher", "--root", workspace, "check")
    pyinstrument(out / "startup.txt", "-m", "publisher", "--root", WORK / "sample", "check")


def profile_images(out: Path) -> None:
    """Every variant of the largest image corpus run.py made, cold, in one process."""
    corpus = max(WORK.glob("images-*"), key=lambda p: int(p.name.split("-")[1]))
    script = out / "images_driver.py"
    script.write_text(
        f"import sys; sys.path.insert(0, {str(BENCH)!r})\n"
        "from pathlib import Path\nimport bench_images\n"
        f"sources = bench_images.corpus(Path({str(corpus)!r}), {int(corpus.name.split('-')[1])})\n"
        f"bench_images.make_variants(Path({str(out / 'media')!r}), sources)\n",
        encoding="utf-8",
    )
    reset_folder(out / "media")
    pyinstrument(out / "images.txt", script)


def main() -> None:
    parser = argparse.ArgumentParser(description="Profile the slow figures with pyinstrument.")
    parser.add_argument("--out", type=Path, default=CACHE / "profiles")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    profile_render(out)
    profile_images(out)
    print(f"profiles written to {out}")


if __name__ == "__main__":
    main()
