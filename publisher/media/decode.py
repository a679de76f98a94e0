"""Any image the loader accepts, decoded to upright sRGB RGB or RGBA pixels without metadata."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import (
    Image,
    ImageCms,
    ImageFile,
    ImageMath,
    ImageOps,
    UnidentifiedImageError,
    features,
)

from publisher.content.probe import bits_per_sample, check_decode_cost
from publisher.media.spec import MediaError

_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")  # what the loader accepts; "JPEG" also opens MPO
_TRANSPOSING = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height
_EXIF_ORIENTATION = 0x0112

Size = tuple[int, int]


@dataclass(frozen=True)
class Decoded:
    """A source decoded upright, in sRGB RGB/RGBA, possibly at a reduced JPEG draft scale."""

    image: Image.Image
    size: Size  # the full upright size, whatever scale `image` was decoded at
    full_scale: bool
    warnings: tuple[str, ...]
    # Whole-frame resizes already made from `image`: cheaper sources for smaller variants.
    levels: list[Image.Image] = field(default_factory=list)


def decode(source: Path, needed: Callable[[Size], Size]) -> Decoded:
    """Decode `source` at the smallest scale still at least `needed(upright size)`.

    An image costlier to decode than `MAX_IMAGE_MEGAPIXELS` is refused before it is decoded.
    """
    try:
        with _open(source) as image:
            animated = getattr(image, "is_animated", False)
            original = image.size
            reduced_from = _draft(image, needed)
            check_decode_cost(image.format or "?", original, image.size, bits_per_sample(image))
            image.load()
            icc = image.info.get("icc_profile")
            ImageOps.exif_transpose(image, in_place=True)
            size = reduced_from or image.size
            upright = _eight_bit(image)
    except MediaError:
        raise
    except Exception as exc:  # Pillow's plugins raise many exception types on damaged files
        raise _damaged(exc) from None
    rgb, colour_note = _to_srgb(upright, icc)
    rgb.info = {}  # no EXIF, ICC, text or dpi chunk may reach the output
    notes = ["animated image: only the first frame is used"] if animated else []
    warned = (*notes, *filter(None, [colour_note]))
    return Decoded(rgb, size, reduced_from is None, warned)


def _open(source: Path) -> ImageFile.ImageFile:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(source, formats=_FORMATS)
    limit = Image.MAX_IMAGE_PIXELS
    # Checked again because catch_warnings is process-wide and another thread may reset it.
    if limit and image.width * image.height > limit:
        image.close()
        raise _too_big(image.size)
    return image


def _damaged(exc: Exception) -> MediaError:
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return _too_big(None)
    if isinstance(exc, FileNotFoundError):
        return MediaError("the image file is missing")
    if isinstance(exc, UnidentifiedImageError):
        return MediaError("the file is not a readable image (corrupt or unsupported format)")
    if "truncated" in str(exc).lower():
        return MediaError("the image file is incomplete (truncated); copy or export it again")
    return MediaError(f"the image is damaged and cannot be decoded ({exc})")


def _too_big(size: Size | None) -> MediaError:
    limit = (Image.MAX_IMAGE_PIXELS or 0) / 1e6
    dims = f"{size[0]}x{size[1]} px, " if size else ""
    return MediaError(
        f"the image has too many pixels ({dims}over {limit:.0f} megapixels); resize it first"
    )


def _draft(image: ImageFile.ImageFile, needed: Callable[[Size], Size]) -> Size | None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers `needed`.

    Returns the full upright size when the decode is reduced, None when it stays at full
    scale. Only JPEGs can be drafted, so only theirs is the EXIF read before `load()` (it sits
    in the header); any other format would have to read its whole file for it.
    """
    if image.format not in ("JPEG", "MPO"):
        return None
    original = image.size
    transposed = image.getexif().get(_EXIF_ORIENTATION, 1) in _TRANSPOSING
    upright = original[::-1] if transposed else original
    wanted = needed(upright)
    image.draft(None, wanted[::-1] if transposed else wanted)
    return None if image.size == original else upright


def _eight_bit(image: Image.Image) -> Image.Image:
    """L, LA, RGB, RGBA or CMYK: the modes colour conversion and resizing handle."""
    if image.mode.startswith("I"):
        return _eight_bit_grey(image)
    if image.mode == "PA" or "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    return image.convert("RGB")


def _eight_bit_grey(image: Image.Image) -> Image.Image:
    """L, or LA when one 16-bit grey is marked transparent.

    Pillow's conversions of I;16 to L, LA or RGBA clip at 255 instead of scaling 16 bits to 8:
    any grey above 255 of 65 535 would come out white.
    """
    wide = image.convert("I")
    grey = wide.point(lambda value: value / 257).convert("L")
    transparent = image.info.get("transparency")
    if isinstance(transparent, int):
        opaque = ImageMath.lambda_eval(lambda args: (args["wide"] != transparent) * 255, wide=wide)
        grey.putalpha(opaque.convert("L"))
    return grey


def _to_srgb(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, str | None]:
    """RGB or RGBA in sRGB.

    The output carries no profile (smaller files, and the platforms strip profiles when they
    re-encode), so the pixels themselves must already be sRGB, the colour space every browser
    assumes. A profile that cannot be applied is dropped: slightly off colours beat no image.
    """
    alpha = image.getchannel("A") if image.mode in ("LA", "RGBA") else None
    base = image.convert(image.mode[:-1]) if alpha is not None else image
    rgb, note = base, None
    if icc and features.check("littlecms2"):
        rgb, note = _apply_profile(base, icc)
    elif base.mode == "CMYK":
        note = "CMYK image without a colour profile: colours may differ from print"
    if rgb.mode != "RGB":
        rgb = rgb.convert("RGB")
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb, note


def _apply_profile(image: Image.Image, icc: bytes) -> tuple[Image.Image, str | None]:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower():
            return image, None
        return ImageCms.profileToProfile(image, profile, _srgb(), outputMode="RGB"), None
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image, "the image's colour profile could not be applied; colours may shift"


@cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
