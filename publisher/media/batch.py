"""`prepare_variants`: the variants of many images made up front, over several processes.

Each image is decoded once in one worker, which makes all of its requested specs largest
first and writes them into the shared `MediaCache` folder (its writes are atomic). Later
`MediaCache.variant` calls, in any process, then only read the cache. Requests already cached
are answered in the calling process, without starting any worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

from publisher.media.cache import MediaCache
from publisher.media.spec import MediaError, Variant, VariantSpec

Request = tuple[Path, str, VariantSpec]  # a source image, the sha256 of its bytes, a spec
Made = dict[tuple[str, VariantSpec], Variant | MediaError]  # by (sha256, spec)


def prepare_variants(cache_dir: Path, requests: Iterable[Request], workers: int = 2) -> Made:
    """Every requested variant, made where missing, with up to `workers` processes.

    A variant that cannot be made is its `MediaError` in the result, so one bad image does not
    stop the others. The biggest images are dealt first, so the workers finish together.
    """
    cache = MediaCache(cache_dir)
    made: Made = {}
    todo: dict[str, tuple[Path, list[VariantSpec]]] = {}
    for source, sha, spec in requests:
        cached = cache.cached(sha, spec)
        if cached is not None:
            made[sha, spec] = cached
        elif spec not in todo.setdefault(sha, (source, []))[1]:
            todo[sha][1].append(spec)
    jobs = sorted(todo.items(), key=lambda job: _pixels(job[1][0]), reverse=True)
    if workers <= 1 or len(jobs) <= 1:
        done = [_make(cache_dir, source, sha, specs) for sha, (source, specs) in jobs]
    else:
        with ProcessPoolExecutor(min(workers, len(jobs))) as pool:
            futures = [
                pool.submit(_make, cache_dir, source, sha, specs) for sha, (source, specs) in jobs
            ]
            done = [future.result() for future in futures]
    for result in done:
        made.update(result)
    return made


def _make(cache_dir: Path, source: Path, sha: str, specs: list[VariantSpec]) -> Made:
    """One image's variants (in a worker); per spec when one of them cannot be made."""
    cache = MediaCache(cache_dir)
    try:
        variants = cache.variants(source, sha, specs)
    except MediaError:
        return {(sha, spec): _attempt(cache, source, sha, spec) for spec in specs}
    return {(sha, spec): variant for spec, variant in zip(specs, variants, strict=True)}


def _attempt(cache: MediaCache, source: Path, sha: str, spec: VariantSpec) -> Variant | MediaError:
    try:
        return cache.variant(source, sha, spec)
    except MediaError as exc:
        return exc


def _pixels(source: Path) -> int:
    """The image's pixel count from its header, the measure of its cost (0 when unreadable)."""
    try:
        with Image.open(source) as image:
            return image.width * image.height
    except (OSError, ValueError, Image.DecompressionBombError):
        return 0
