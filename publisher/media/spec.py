"""What a channel asks for (`VariantSpec`) and what it gets (`Variant`)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from PIL import ImageColor

from publisher.content import probe

# Bump when the same spec starts producing different pixels or bytes: old cache entries then miss.
PIPELINE_VERSION = 1
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png"}
_NAME = re.compile(r"[A-Za-z0-9._-]+")


class MediaError(probe.MediaError):
    """An image that cannot be turned into the variant; message says why, for an officer."""


@dataclass(frozen=True)
class VariantSpec:
    """What a channel needs from an image.

    fit: scale down (never up) inside the box, keeping the aspect ratio; pad: exactly the box,
    the image centred on `background`; crop: exactly the box, a centre crop after scaling to
    cover it. Images are never enlarged: a source smaller than the box keeps its size (crop
    then cuts the box's aspect ratio out of it, with a warning).
    """

    name: str
    max_width: int
    max_height: int
    fit: Literal["fit", "pad", "crop"] = "fit"
    format: Literal["JPEG", "PNG"] = "JPEG"
    max_bytes: int = 1_000_000
    min_width: int = 0
    background: str = "#ffffff"

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"variant name {self.name!r} must be letters, digits, '.', '_', '-'")
        if min(self.max_width, self.max_height, self.max_bytes) < 1 or self.min_width < 0:
            raise ValueError(f"variant {self.name}: sizes and byte budget must be positive")
        if self.fit not in ("fit", "pad", "crop") or self.format not in SUFFIXES:
            raise ValueError(f"variant {self.name}: unknown fit {self.fit!r} or {self.format!r}")
        ImageColor.getrgb(self.background)  # ValueError for a colour Pillow cannot draw

    def key(self) -> str:
        """A short hash of every field (and the pipeline version), stable across runs."""
        fields = json.dumps([PIPELINE_VERSION, asdict(self)], sort_keys=True)
        return hashlib.sha256(fields.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Variant:
    """An encoded variant in the cache folder."""

    path: Path
    width: int
    height: int
    format: str
    bytes: int
    quality: int | None
    warnings: tuple[str, ...]
    sha256: str = ""  # of the encoded bytes: what the cache gives back is checked against it
