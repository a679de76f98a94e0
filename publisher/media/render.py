"""From decoded pixels to an encoded variant: layout, resampling and the byte budget."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image

from publisher.media.decode import Decoded, Size
from publisher.media.spec import MediaError, VariantSpec

# reduce() by whole factors first, then LANCZOS by at most 1.5x: several times faster than a
# LANCZOS pass over a whole camera photo, and well below the JPEG encoder's own error.
_RESIZE_GAP = 1.5
_SNAP = 0.97  # fit and pad may land this much short of the box to skip resampling
_QUALITY_START, _QUALITY_FLOOR, _MAX_ENCODES = 85, 40, 4
_SHRINK, _MAX_SHRINKS = 0.8, 6

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Rendered:
    """The encoded bytes of a variant and what to say about them."""

    size: Size
    data: bytes
    quality: int | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Layout:
    """Which part of the source goes where: `region` (source px) becomes `size`, on `canvas`."""

    region: Box
    size: Size
    canvas: Size


@dataclass(frozen=True)
class _Encoded:
    data: bytes
    quality: int | None
    note: str | None = None


def needed_size(size: Size, specs: Iterable[VariantSpec]) -> Size:
    """How big the upright source must be decoded for every spec's layout to keep its detail."""
    scale = max(_scale(size, spec) for spec in specs)
    return math.ceil(size[0] * scale), math.ceil(size[1] * scale)


def covers(decoded: Decoded, spec: VariantSpec) -> bool:
    """Whether `decoded` has enough pixels for `spec`."""
    width, height = needed_size(decoded.size, [spec])
    return decoded.full_scale or (decoded.image.width >= width and decoded.image.height >= height)


def render(decoded: Decoded, spec: VariantSpec) -> Rendered:
    """Compose and encode, shrinking by `_SHRINK` until the byte budget is met."""
    box = (spec.max_width, spec.max_height)
    for attempt in range(_MAX_SHRINKS + 1):
        image = _compose(decoded, spec, box)
        encoded = _within_budget(image, spec)
        if encoded is not None:
            notes = [*decoded.warnings, *_size_warnings(decoded.size, spec), encoded.note]
            if attempt:
                size = f"{image.width}x{image.height} px"
                notes.append(f"scaled down to {size} to stay under {spec.max_bytes:,} bytes")
            return Rendered(image.size, encoded.data, encoded.quality, tuple(filter(None, notes)))
        box = (max(1, int(image.width * _SHRINK)), max(1, int(image.height * _SHRINK)))
    raise MediaError(
        f"the image cannot be made smaller than {spec.max_bytes:,} bytes for {spec.name}, "
        "even at low quality and reduced size"
    )


def _scale(size: Size, spec: VariantSpec) -> float:
    layout = _layout(size, (spec.max_width, spec.max_height), spec.fit)
    left, _, right, _ = layout.region
    return layout.size[0] / (right - left)


def _layout(size: Size, box: Size, fit: str) -> _Layout:
    """Never enlarges: a source smaller than the box stays at its own size.

    Fit and pad may come out up to 3% smaller than the box when a whole-number reduction
    gets there: the JPEG decoder or reduce() then does the scaling, and no resampling is needed.
    """
    width, height = size
    box_w, box_h = box
    if fit == "crop":
        region_w = min(width, height * box_w / box_h)
        region_h = region_w * box_h / box_w
        scale = min(1.0, box_w / region_w)
        left, top = (width - region_w) / 2, (height - region_h) / 2
        out = (max(1, round(region_w * scale)), max(1, round(region_h * scale)))
        return _Layout((left, top, left + region_w, top + region_h), out, out)
    scale = min(1.0, box_w / width, box_h / height)
    step = math.ceil(1 / scale)
    if step > 1 and 1 / step >= scale * _SNAP:
        out = (-(-width // step), -(-height // step))  # rounded up, as libjpeg and reduce() do
    else:
        out = (max(1, round(width * scale)), max(1, round(height * scale)))
    return _Layout((0, 0, width, height), out, box if fit == "pad" else out)


def _compose(decoded: Decoded, spec: VariantSpec, box: Size) -> Image.Image:
    layout = _layout(decoded.size, box, spec.fit)
    source = _source(decoded, layout)
    image = _resample(source, layout.size, _in_source(source, decoded.size, layout.region))
    if layout.region == (0, 0, *decoded.size):
        decoded.levels.append(image)
    if spec.format == "JPEG" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, spec.background)
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    if layout.canvas == image.size:
        return image
    canvas = Image.new(image.mode, layout.canvas, spec.background)
    canvas.paste(image, ((canvas.width - image.width) // 2, (canvas.height - image.height) // 2))
    return canvas


def _source(decoded: Decoded, layout: _Layout) -> Image.Image:
    """The smallest of the decoded image and its levels that still has the detail needed."""
    left, _, right, _ = layout.region
    needed = decoded.size[0] * layout.size[0] / (right - left)
    usable = [image for image in decoded.levels if image.width >= needed]
    return min(usable, key=lambda image: image.width, default=decoded.image)


def _in_source(source: Image.Image, size: Size, region: Box) -> Box:
    """`region` (in full-size upright pixels) in the pixels of `source`, a smaller copy."""
    if region == (0, 0, *size):
        return (0, 0, *source.size)
    sx, sy = source.width / size[0], source.height / size[1]
    return (region[0] * sx, region[1] * sy, region[2] * sx, region[3] * sy)


def _resample(image: Image.Image, size: Size, region: Box) -> Image.Image:
    step = round(image.width / size[0])
    reduced = (-(-image.width // step), -(-image.height // step))
    if step > 1 and region == (0, 0, *image.size) and reduced == size:
        return image.reduce(step)  # an exact whole-number reduction needs no resampling filter
    return image.resize(size, Image.Resampling.LANCZOS, region, _RESIZE_GAP)


def _size_warnings(size: Size, spec: VariantSpec) -> list[str]:
    notes = []
    if size[0] < spec.min_width:
        notes.append(
            f"image is {size[0]} px wide; {spec.name} shows it blurred below {spec.min_width} px"
        )
    return notes


def _within_budget(image: Image.Image, spec: VariantSpec) -> _Encoded | None:
    if spec.format == "JPEG":
        return _jpeg_within(image, spec.max_bytes)
    data = _encode(image, "PNG")
    if len(data) <= spec.max_bytes:
        return _Encoded(data, None)
    data = _encode(image.quantize(256, Image.Quantize.FASTOCTREE), "PNG")
    if len(data) <= spec.max_bytes:
        return _Encoded(data, None, "reduced to 256 colours to fit the byte budget")
    return None


def _jpeg_within(image: Image.Image, max_bytes: int) -> _Encoded | None:
    """The best quality found by a bounded binary search from 85 down to 40."""
    best, low, high, quality = None, _QUALITY_FLOOR, _QUALITY_START, _QUALITY_START
    for _ in range(_MAX_ENCODES):
        data = _encode(image, "JPEG", quality)
        if len(data) <= max_bytes:
            best, low = _Encoded(data, quality), quality + 1
        else:
            high = quality - 1
        if low > high:
            break
        quality = (low + high) // 2
    return best


def _encode(image: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=quality)  # optimize=True: 3x slower for 2% less
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()
