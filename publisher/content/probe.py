"""Probing media files: format, size and mode read from headers, never a full decode."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".avi"})
_EXIF_ORIENTATION = 0x0112
_FORMAT_SUFFIXES = {
    "JPEG": {".jpg", ".jpeg"},
    "MPO": {".jpg", ".jpeg"},  # multi-picture JPEG, as some phone cameras save
    "PNG": {".png"},
    "GIF": {".gif"},
    "WEBP": {".webp"},
}


class MediaError(Exception):
    """The file cannot be used as the media it claims to be."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    mode: str
    orientation: int
    frames: int

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000


@dataclass(frozen=True)
class VideoInfo:
    container: str


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def probe_image(path: Path) -> ImageInfo:
    """Read an image's header; refuse empty, corrupt, mislabelled and oversized files."""
    if path.stat().st_size == 0:
        raise MediaError("the image file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()  # structure and checksums, without decoding pixels
            with Image.open(path) as image:
                info = ImageInfo(
                    format=image.format or "?",
                    width=image.width,
                    height=image.height,
                    mode=image.mode,
                    orientation=int(image.getexif().get(_EXIF_ORIENTATION, 1) or 1),
                    frames=getattr(image, "n_frames", 1),
                )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(
            f"the image has too many pixels (over {Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels); "
            "resize it before adding it"
        ) from None
    except UnidentifiedImageError:
        raise MediaError(
            "the file is not a readable image (corrupt or unsupported format)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(f"the image is damaged ({exc})") from None
    if path.suffix.lower() not in _FORMAT_SUFFIXES.get(info.format, {path.suffix.lower()}):
        raise MediaError(
            f"the file is a {info.format} image but is named '{path.suffix}'; rename it"
        )
    if info.format not in _FORMAT_SUFFIXES:
        raise MediaError(f"{info.format} images are not supported; use JPEG or PNG")
    return info


def probe_video(path: Path) -> VideoInfo:
    """Check a video's container signature (the platforms transcode; we only refuse junk)."""
    with path.open("rb") as file:
        head = file.read(16)
    if not head:
        raise MediaError("the video file is empty (0 bytes)")
    if head[4:8] == b"ftyp":
        return VideoInfo("mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return VideoInfo("webm")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return VideoInfo("avi")
    raise MediaError("the file is not a video in a known format (MP4, MOV, WebM or AVI)")
