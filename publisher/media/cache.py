"""`MediaCache`: variants on disk, `<sha[:2]>/<sha>-<spec key>.<ext>` plus a JSON sidecar."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path

from publisher.media.decode import Decoded, decode
from publisher.media.render import covers, needed_size, render
from publisher.media.spec import SUFFIXES, Variant, VariantSpec

_SHA256 = re.compile(r"[0-9a-f]{64}")


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

    def variant(self, source: Path, source_sha256: str, spec: VariantSpec) -> Variant:
        """The cached variant of `source` for `spec`, made first when missing.

        `source_sha256` must be the hash of the file's bytes: the cache trusts it.
        """
        if not _SHA256.fullmatch(source_sha256):
            raise ValueError(f"not a lowercase hex sha256: {source_sha256!r}")
        name = f"{source_sha256}-{spec.key()}{SUFFIXES[spec.format]}"
        path = self.cache_dir / source_sha256[:2] / name
        cached = _read(path)
        if cached is not None:
            return cached
        rendered = render(self._decoded(source, source_sha256, spec), spec)
        write_atomic(path, rendered.data)
        variant = Variant(
            path=path,
            width=rendered.size[0],
            height=rendered.size[1],
            format=spec.format,
            bytes=len(rendered.data),
            quality=rendered.quality,
            warnings=rendered.warnings,
        )
        write_atomic(_sidecar(path), json.dumps(_sidecar_fields(variant)).encode())
        return variant

    def _decoded(self, source: Path, sha: str, spec: VariantSpec) -> Decoded:
        self._specs.add(spec)
        last = self._last
        if last is not None and last[0] == sha and covers(last[1], spec):
            return last[1]
        specs = frozenset(self._specs)
        decoded = decode(source, lambda size: needed_size(size, specs))
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
        if path.stat().st_size == variant.bytes:
            return variant
    except (OSError, ValueError, TypeError, KeyError):
        pass
    return None


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
