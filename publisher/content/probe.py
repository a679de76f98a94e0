"""Probing media files: format, size and mode read from headers, never a full decode.

What decoding an image will cost is known from its header too (its size, its format and
bit depth, and for a JPEG the reduced scale libjpeg can decode it at), so an image that
would cost far more than any post can show is refused here, before anything decodes it.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".avi"})
_EXIF_ORIENTATION = 0x0112
_JPEG_END = b"\xff\xd9"
_JPEG_BLOCK = 1 << 20  # bytes read at a time while looking for a JPEG's end marker
_FORMAT_SUFFIXES = {
    "JPEG": {".jpg", ".jpeg"},
    "MPO": {".jpg", ".jpeg"},  # multi-picture JPEG, as some phone cameras save
    "PNG": {".png"},
    "GIF": {".gif"},
    "WEBP": {".webp"},
}
# The long side of the largest image any channel makes (Telegram's photo): decoding more is waste.
LARGEST_VARIANT = 2560
# Decoding budgets, in megapixels as `decode_megapixels` counts them. Per image: a 2x export of
# a 1080x8000 infographic (34.6) or a 40-megapixel PNG, at about 400 MB of memory at most; a
# JPEG photo of any size Pillow opens decodes at a reduced scale, 26 megapixels at most. Per
# item: 25 phone photos of 12 megapixels, or 7 images at the limit; and 100 images, since
# each costs 10 to 25 ms however small (seven variants, fourteen files).
MAX_IMAGE_MEGAPIXELS = 40
MAX_ITEM_MEGAPIXELS = 300
MAX_ITEM_IMAGES = 100


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
    bits: int  # per sample: 16 for a 16-bit PNG, else 8
    decoded: tuple[int, int]  # the size decoded for the largest variant (a JPEG's is reduced)

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000

    @property
    def decode_megapixels(self) -> float:
        """What decoding the image costs (see `decode_megapixels`)."""
        return decode_megapixels(self.format, self.decoded, self.bits)


@dataclass(frozen=True)
class VideoInfo:
    container: str


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def decode_megapixels(fmt: str, decoded: tuple[int, int], bits: int) -> float:
    """The cost of decoding `decoded` pixels, in megapixels of an 8-bit JPEG or PNG.

    A WebP counts double (libwebp decodes into a canvas of its own, copied twice on the way:
    about 16 bytes of memory a pixel against 6 to 10), and so does a 16-bit PNG (twice the
    data to inflate, and a 16-bit grey needs 32-bit intermediates).
    """
    return decoded[0] * decoded[1] * _weight(fmt, bits) / 1_000_000


def _weight(fmt: str, bits: int) -> int:
    return 2 if fmt == "WEBP" or bits > 8 else 1


def check_decode_cost(fmt: str, size: tuple[int, int], decoded: tuple[int, int], bits: int) -> None:
    """Refuse, before it is decoded, an image costlier to decode than `MAX_IMAGE_MEGAPIXELS`.

    `size` is the image's own, `decoded` what its decoder would make (smaller for a JPEG
    decoded at a reduced scale).
    """
    if decode_megapixels(fmt, decoded, bits) <= MAX_IMAGE_MEGAPIXELS:
        return
    allowed = MAX_IMAGE_MEGAPIXELS // _weight(fmt, bits)
    if bits > 8:
        kind, advice = "a 16-bit PNG", ", at 8 bits per channel"
    elif fmt == "WEBP":
        kind, advice = "a WebP image", " (as JPEG or PNG)"
    else:
        kind, advice = "an image", ""
    reduced = f", decoded at {decoded[0]}x{decoded[1]} px" if decoded != size else ""
    megapixels = math.ceil(size[0] * size[1] / 100_000) / 10  # rounded up: never "20.0 > 20"
    raise MediaError(
        f"the image is {size[0]}x{size[1]} px ({megapixels} megapixels{reduced}), more than "
        f"the {allowed} megapixels {kind} may have; no channel shows more than "
        f"{LARGEST_VARIANT} px on the long side: export it at most {LARGEST_VARIANT} px on its "
        f"long side{advice}"
    )


def bits_per_sample(image: ImageFile.ImageFile) -> int:
    """16 for a 16-bit PNG (its decoder's raw mode says so: "RGB;16B", "I;16B"), else 8."""
    if image.format == "PNG" and image.tile and ";16" in str(image.tile[0].args):
        return 16
    return 8


def decoded_size(image: ImageFile.ImageFile) -> tuple[int, int]:
    """The size `image` decodes at for a variant of `LARGEST_VARIANT` px: a JPEG's is reduced
    by 1/2, 1/4 or 1/8 where that still covers it (`Image.draft`, which changes `image`)."""
    if image.format not in ("JPEG", "MPO"):
        return image.size
    scale = min(1.0, LARGEST_VARIANT / max(image.size))
    image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    return image.size


def probe_image(path: Path) -> ImageInfo:
    """Read an image's header; refuse empty, corrupt, mislabelled and oversized files, and
    images costlier to decode than `MAX_IMAGE_MEGAPIXELS` (from the header: nothing decodes)."""
    if path.stat().st_size == 0:
        raise MediaError("the image file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()  # structure and checksums, without decoding pixels
            with Image.open(path) as image:
                info = _header(image)
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
    check_decode_cost(info.format, (info.width, info.height), info.decoded, info.bits)
    if info.format in ("JPEG", "MPO") and not _jpeg_is_complete(path):
        raise MediaError(
            "the image is damaged: the file is incomplete (truncated); copy or export it again"
        )
    return info


def _header(image: ImageFile.ImageFile) -> ImageInfo:
    """What the header of an open image says (the JPEG draft is set last: it resizes `image`)."""
    size, mode, frames = image.size, image.mode, getattr(image, "n_frames", 1)
    return ImageInfo(
        format=image.format or "?",
        width=size[0],
        height=size[1],
        mode=mode,
        orientation=_orientation(image),
        frames=frames,
        bits=bits_per_sample(image),
        decoded=decoded_size(image),
    )


def _jpeg_is_complete(path: Path) -> bool:
    """Whether the JPEG's image data ends with its end marker (a copy cut short does not).

    Pillow's verify() does nothing for JPEG, and a full decode is costly; the compressed data
    after the start-of-scan marker holds no FF D9 pair except the end marker itself, so one
    byte search finds it. Data some phones append after the image (motion photos) is fine.
    Only what is needed is read: the segment headers up to the scan, then the file's last two
    bytes (an image that ends its file) or else the data after the scan, a block at a time,
    up to the first end marker.
    """
    with path.open("rb") as file:
        scan = _scan_start(file)
        if scan is None:
            return False
        end = file.seek(0, os.SEEK_END)
        if end - scan >= 2:
            file.seek(end - 2)
            if file.read(2) == _JPEG_END:
                return True
        file.seek(scan)
        previous = b""
        while block := file.read(_JPEG_BLOCK):
            if previous + block[:1] == _JPEG_END or _JPEG_END in block:
                return True
            previous = block[-1:]
    return False


def _scan_start(file: BinaryIO) -> int | None:
    """Where a JPEG's compressed data starts (after its first start-of-scan segment), read
    from the segment headers alone; None when the markers before it are broken."""
    position = 2  # after SOI
    while True:
        file.seek(position)
        head = file.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return None
        marker = head[1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
        elif marker == 0xDA:  # start of scan: the compressed data follows its header
            return position + 2 + int.from_bytes(head[2:4], "big")
        else:
            position += 2 + int.from_bytes(head[2:4], "big")


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8) the header holds; 1 when it is missing or not a valid value.

    A PNG without EXIF before its pixels is not asked for more: its getexif() would decode the
    whole image to look for an eXIf chunk after them (decoding applies such a late one).
    """
    if image.format == "PNG" and "exif" not in image.info:
        return 1
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
