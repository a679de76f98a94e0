"""Image variants for every channel of M images, against merely decoding them.

Decode: Pillow `open` + `load` of every image at full size, one process. Ours: the seven
variant specs the adapters ask for, on every image, cold cache; once in one process
(`MediaCache.variants`, all of an image's specs in one call) and once with
`prepare_variants` over two worker processes sharing the cache folder. Then a second run on
the same cache, which must write nothing. Every variant is checked against its byte budget.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from common import Figure, median, reset_folder, timed
from corpus import write_images
from PIL import Image

from publisher.adapters import facebook, portal, telegram, youtube, zalo
from publisher.media import MediaCache, MediaError, Variant, VariantSpec, prepare_variants
from publisher.media.spec import SUFFIXES

SPECS: tuple[VariantSpec, ...] = (
    portal.IMAGE,
    portal.OG_IMAGE,
    facebook.PHOTO,
    zalo.IMAGE,
    zalo.COVER,
    youtube.THUMBNAIL,
    telegram.PHOTO,
)

Source = tuple[Path, str]  # an image and the sha256 of its bytes


def corpus(folder: Path, count: int) -> list[Source]:
    """The generated images (made once, kept in the benchmark cache) with their hashes."""
    marker = folder / f".ready-{count}"
    if not marker.exists():
        reset_folder(folder)
        write_images(folder, count)
        marker.touch()
    paths = sorted(p for p in folder.iterdir() if p.suffix in (".jpg", ".png"))
    return [(path, hashlib.sha256(path.read_bytes()).hexdigest()) for path in paths]


def decode_all(sources: list[Source]) -> None:
    for path, _ in sources:
        with Image.open(path) as image:
            image.load()


def make_variants(cache_dir: Path, sources: list[Source]) -> list[Variant]:
    """Every spec of every source through one `MediaCache`, one process."""
    media = MediaCache(cache_dir)
    return [variant for path, sha in sources for variant in media.variants(path, sha, SPECS)]


def make_variants_parallel(cache_dir: Path, sources: list[Source], workers: int) -> list[Variant]:
    """The same through `prepare_variants`, over `workers` processes."""
    requests = [(path, sha, spec) for path, sha in sources for spec in SPECS]
    made = prepare_variants(cache_dir, requests, workers)
    variants = [made[sha, spec] for _, sha, spec in requests]
    errors = [str(v) for v in variants if isinstance(v, MediaError)]
    if errors:
        raise RuntimeError(f"variants failed: {errors[:3]}")
    return [v for v in variants if isinstance(v, Variant)]


def over_budget(variants: list[Variant]) -> list[str]:
    """Variants larger than their spec allows, or whose file does not match its record."""
    budgets = {spec.key(): spec.max_bytes for spec in SPECS}
    return [
        str(v.path)
        for v in variants
        if v.bytes > budgets[v.path.stem.rsplit("-", 1)[1]] or v.path.stat().st_size != v.bytes
    ]


def files_of(folder: Path) -> dict[Path, int]:
    """Every file under `folder` with its modification time, to tell what a run wrote."""
    return {path: path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}


def measure_once(folder: Path, sources: list[Source]) -> dict[str, float]:
    """Decode, cold variants in one then two processes."""
    one, two = folder / "media-1", folder / "media-2"
    times = {"decode": timed(lambda: decode_all(sources))}
    reset_folder(one)
    times["variants_1"] = timed(lambda: make_variants(one, sources))
    reset_folder(two)
    times["variants_2"] = timed(lambda: make_variants_parallel(two, sources, 2))
    return times


def missing(cache_dir: Path, sources: list[Source]) -> int:
    """Variants whose image or sidecar file is not in the cache folder."""
    paths = [
        cache_dir / sha[:2] / f"{sha}-{spec.key()}{SUFFIXES[spec.format]}"
        for _, sha in sources
        for spec in SPECS
    ]
    return sum(1 for path in paths if not (path.is_file() and path.with_suffix(".json").is_file()))


def second_run(cache_dir: Path, sources: list[Source]) -> tuple[float, int, list[Variant]]:
    """Seconds and files written by a run on a warm cache, and the variants it returns."""
    before = files_of(cache_dir)
    seconds = timed(lambda: make_variants(cache_dir, sources))
    variants = make_variants(cache_dir, sources)
    after = files_of(cache_dir)
    written = sum(1 for path, mtime in after.items() if before.get(path) != mtime)
    return seconds, written, variants


def run(folder: Path, count: int, runs: int) -> list[Figure]:
    sources = corpus(folder / f"images-{count}", count)
    decode_all(sources)  # the files into the page cache, once
    rounds = [measure_once(folder, sources) for _ in range(runs)]
    med = {key: median([r[key] for r in rounds]) for key in rounds[0]}
    absent = missing(folder / "media-1", sources)
    warm_seconds, written, variants = second_run(folder / "media-1", sources)
    detail = {
        "images": count,
        "variants_per_image": len(SPECS),
        "seconds_median": {k: round(v, 3) for k, v in med.items()},
        "runs": {k: [round(r[k], 3) for r in rounds] for k in rounds[0]},
        "over_budget": over_budget(variants),
        "missing_before_second_run": absent,
        "second_run_seconds": round(warm_seconds, 4),
        "second_run_files_written": written,
    }
    return [
        Figure(
            f"image variants, {count} images x {len(SPECS)}, 1 process / decode",
            med["variants_1"] / med["decode"],
            "x",
            2.0,
            detail,
        ),
        Figure(
            f"image variants, {count} images x {len(SPECS)}, 2 processes / decode",
            med["variants_2"] / med["decode"],
            "x",
            2.0,
            {"seconds_median": detail["seconds_median"]},
        ),
        Figure(
            "image variants: over budget + files written on 2nd run",
            float(len(detail["over_budget"]) + written),
            "count",
            0.0,
            {"second_run_seconds": detail["second_run_seconds"]},
        ),
    ]
