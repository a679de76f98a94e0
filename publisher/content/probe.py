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
                    orientation=_orientation(image),
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
    except MemoryError:
        raise MediaError("the image is too large to read; resize it before adding it") from None
    except Exception as exc:  # Pillow's plugins raise many kinds of errors on damaged files
        if "truncated" in str(exc).lower() or isinstance(exc, EOFError):
            raise MediaError(
                "the image is damaged: the file is incomplete (truncated); copy or export it again"
            ) from None
        raise MediaError(f"the image is damaged ({exc or type(exc).__name__})") from None
    if info.format not in _FORMAT_SUFFIXES:
        raise MediaError(f"{info.format} images are not supported; use JPEG or PNG")
    if path.suffix.lower() not in _FORMAT_SUFFIXES[info.format]:
        raise MediaError(
            f"the file is a {info.format} image but is named '{path.suffix}'; rename it"
        )
    if info.format in ("JPEG", "MPO") and not _jpeg_is_complete(path):
        raise MediaError(
            "the image is damaged: the file is incomplete (truncated); copy or export it again"
        )
    return info


def _jpeg_is_complete(path: Path) -> bool:
    """Whether the JPEG's image data ends with its end marker (a copy cut short does not).

    Pillow's verify() does nothing for JPEG, and a full decode is costly; the compressed data
    after the start-of-scan marker holds no FF D9 pair except the end marker itself, so one
    byte search finds it. Data some phones append after the image (motion photos) is fine.
    """
    data = path.read_bytes()
    position = 2  # after SOI
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan: the compressed data follows
            return data.find(b"\xff\xd9", position + 2 + length) >= 0
        position += 2 + length
    return False


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8); 1 when it is missing or not a valid value."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a damaged EXIF block must not make the picture unusable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def probe_video(path: Path) -> VideoInfo:
    """Check a video's container signature (the platforms transcode; we only refuse junk)."""
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError as exc:
        raise MediaError(f"the video file cannot be read ({exc.strerror})") from None
    if not head:
        raise MediaError("the video file is empty (0 bytes)")
    if head[4:8] == b"ftyp":
        return VideoInfo("mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return VideoInfo("webm")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return VideoInfo("avi")
    raise MediaError("the file is not a video in a known format (MP4, MOV, WebM or AVI)")
