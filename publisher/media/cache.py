"""`MediaCache`: variants on disk, `<sha[:2]>/<sha>-<spec key>.<ext>` plus a JSON sidecar.

What the cache gives back is checked, never trusted: a variant is reused only when its file
has the size its sidecar records and its header is an image of that format and size (a
sync conflict or a full disk can leave a few bytes where a photo was); before anything is
uploaded, its bytes are checked against the digest the sidecar records (`verified`).
Anything else is made again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from PIL import Image

from publisher.media.decode import Decoded, decode
from publisher.media.render import Rendered, covers, largest_first, needed_size, render
from publisher.media.spec import SUFFIXES, MediaError, Variant, VariantSpec

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SIGNATURES = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n"}


class MediaCache:
    """Variants cached on disk by (source sha256, spec key): a second request does no image work.

    Processes may share the folder (files are replaced atomically); use one object per thread.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        # Decoding is most of the cost and callers ask for several variants of one image in a
        # row: the last source stays decoded, at a scale that covers every spec seen so far.
        self._last: tuple[str, Decoded] | None = None
        self._specs: set[VariantSpec] = set()

    def variant(
        self,
        source: Path,
        source_sha256: str,
        spec: VariantSpec,
        along: Iterable[VariantSpec] = (),
    ) -> Variant:
        """The cached variant of `source` for `spec`, made first when missing.

        `source_sha256` must be the hash of the file's bytes: the cache trusts it. `along`:
        see `variants`.
        """
        return self.variants(source, source_sha256, [spec], along)[0]

    def variants(
        self,
        source: Path,
        source_sha256: str,
        specs: Iterable[VariantSpec],
        along: Iterable[VariantSpec] = (),
    ) -> list[Variant]:
        """The cached variants of `source` for `specs` (in that order), missing ones made first.

        Asking for all of an image's specs at once is cheapest: the missing ones are made from
        one decode, largest first, each resampled from a larger one already made. A spec that
        cannot be made raises `MediaError`, after the variants made before it were kept.
        `along`: specs to make from that decode too, if one is needed (what will be asked of
        the image next); one of them that cannot be made is left for its own request.
        """
        specs = list(specs)
        found = {spec: self.cached(source_sha256, spec) for spec in specs}
        done = {spec: variant for spec, variant in found.items() if variant is not None}
        missing = [spec for spec in found if spec not in done]
        if missing:
            extra = [
                spec
                for spec in dict.fromkeys(along)
                if spec not in found and self.cached(source_sha256, spec) is None
            ]
            decoded = self._decoded(source, source_sha256, missing + extra)
            density = None
            for spec in largest_first(decoded.size, missing + extra):
                try:
                    rendered = render(decoded, spec, density)
                except MediaError:
                    if spec in extra:
                        continue
                    raise
                density = rendered.density or density
                done[spec] = self._store(self._path(source_sha256, spec), spec, rendered)
        return [done[spec] for spec in specs]

    def cached(self, source_sha256: str, spec: VariantSpec) -> Variant | None:
        """The variant when it is in the cache (no image work at all), else None."""
        if not _SHA256.fullmatch(source_sha256):
            raise ValueError(f"not a lowercase hex sha256: {source_sha256!r}")
        return _read(self._path(source_sha256, spec))

    def _path(self, sha: str, spec: VariantSpec) -> Path:
        return self.cache_dir / sha[:2] / f"{sha}-{spec.key()}{SUFFIXES[spec.format]}"

    @staticmethod
    def _store(path: Path, spec: VariantSpec, rendered: Rendered) -> Variant:
        write_atomic(path, rendered.data)
        variant = Variant(
            path=path,
            width=rendered.size[0],
            height=rendered.size[1],
            format=spec.format,
            bytes=len(rendered.data),
            quality=rendered.quality,
            warnings=rendered.warnings,
            sha256=hashlib.sha256(rendered.data).hexdigest(),
        )
        write_atomic(_sidecar(path), json.dumps(_sidecar_fields(variant)).encode())
        return variant

    def _decoded(self, source: Path, sha: str, specs: list[VariantSpec]) -> Decoded:
        self._specs.update(specs)
        last = self._last
        if last is not None and last[0] == sha and all(covers(last[1], s) for s in specs):
            return last[1]
        every = frozenset(self._specs)
        decoded = decode(source, lambda size: needed_size(size, every))
        self._last = (sha, decoded)
        return decoded


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def _sidecar_fields(variant: Variant) -> dict[str, object]:
    fields = asdict(variant)
    del fields["path"]
    return fields


def _read(path: Path) -> Variant | None:
    """The cached variant, or None when missing, unreadable or not matching its image file."""
    try:
        fields = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        variant = Variant(path=path, **{**fields, "warnings": tuple(fields["warnings"])})
        same_size = path.stat().st_size == variant.bytes
        if variant.sha256 and same_size and starts_as(path, variant.format):
            return variant
    except (OSError, ValueError, TypeError, KeyError):
        pass
    return None


def starts_as(path: Path, image_format: str) -> bool:
    """Whether `path` starts with the signature of `image_format` (no image is opened)."""
    try:
        with path.open("rb") as file:
            return file.read(len(_SIGNATURES[image_format])) == _SIGNATURES[image_format]
    except OSError:
        return False


def usable(path: Path) -> bool:
    """A cached media file fit to hand out: a variant checked against its sidecar, or (a
    title card, which has none) a file with a PNG's signature."""
    return _read(path) is not None if _sidecar(path).is_file() else starts_as(path, "PNG")


def _opens(path: Path) -> bool:
    """Whether `path` decodes as an image, in full."""
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def forget(path: Path) -> None:
    """Remove a cached media file and its sidecar, so it is made again."""
    for stale in (path, _sidecar(path)):
        stale.unlink(missing_ok=True)


def verified(path: Path) -> bool:
    """A variant whose bytes are the ones made (the digest its sidecar records), or a file
    without a sidecar (a title card) that opens as an image. Read in full: before uploads."""
    variant = _read(path) if _sidecar(path).is_file() else None
    if variant is None:
        return not _sidecar(path).is_file() and _opens(path)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == variant.sha256
    except OSError:
        return False


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file, so no reader sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        temp.replace(path)  # atomic: readers see the old file or the whole new one
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
