"""From decoded pixels to an encoded variant: layout, resampling and the byte budget."""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image

from publisher.media.decode import Decoded, Size
from publisher.media.spec import MediaError, VariantSpec

# reduce() by whole factors first, then BICUBIC by at most 1.5x: several times faster than a
# LANCZOS pass over a whole camera photo. BICUBIC (Pillow's thumbnail() filter) costs about
# 30 % less than LANCZOS per pass and differs from it far below the JPEG encoder's own error
# (49-54 dB PSNR on the benchmark corpus), as do the cascade's steps from a larger variant.
_FILTER, _RESIZE_GAP = Image.Resampling.BICUBIC, 1.5
_SNAP = 0.97  # fit and pad may land this much short of the box to skip resampling
_QUALITY_START, _QUALITY_FLOOR, _MAX_ENCODES = 85, 40, 4
_TARGET = 0.95  # aim this far under the byte budget, so a guess slightly off still fits
_CLOSE_ENOUGH = 4  # a fit this close in quality to a miss ends the search
# Typical JPEG size at each quality relative to quality 85 (libjpeg-turbo, 4:2:0, photos and
# infographics); only guesses are made from it, every result is measured.
_SIZE_AT = {85: 1.0, 80: 0.74, 75: 0.5, 70: 0.43, 65: 0.38, 60: 0.32, 50: 0.26, 40: 0.22}
_SHRINK, _MAX_SHRINKS = 0.8, 6

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Rendered:
    """The encoded bytes of a variant and what to say about them."""

    size: Size
    data: bytes
    quality: int | None
    warnings: tuple[str, ...]
    density: float | None = None  # JPEG bytes per pixel at quality 85, measured or estimated


@dataclass(frozen=True)
class _Layout:
    """Which part of the source goes where: `region` (source px) becomes `size`, on `canvas`."""

    region: Box
    size: Size
    canvas: Size


@dataclass(frozen=True)
class _Encoded:
    data: bytes | None  # None: over the byte budget
    quality: int | None
    note: str | None = None
    density: float | None = None


def needed_size(size: Size, specs: Iterable[VariantSpec]) -> Size:
    """How big the upright source must be decoded for every spec's layout to keep its detail."""
    scale = max(_scale(size, spec) for spec in specs)
    return math.ceil(size[0] * scale), math.ceil(size[1] * scale)


def largest_first(size: Size, specs: Iterable[VariantSpec]) -> list[VariantSpec]:
    """`specs` ordered so each can be resampled from a level an earlier one left behind.

    The spec needing the most source pixels comes first; at equal detail whole-frame
    layouts (fit, pad) come before crops, since only they become levels.
    """
    return sorted(specs, key=lambda spec: (-_scale(size, spec), spec.fit == "crop"))


def covers(decoded: Decoded, spec: VariantSpec) -> bool:
    """Whether `decoded` has enough pixels for `spec`."""
    width, height = needed_size(decoded.size, [spec])
    return decoded.full_scale or (decoded.image.width >= width and decoded.image.height >= height)


def render(decoded: Decoded, spec: VariantSpec, density: float | None = None) -> Rendered:
    """Compose and encode, shrinking by `_SHRINK` until the byte budget is met.

    `density`: the bytes per pixel at quality 85 of another variant of the same image (its
    `Rendered.density`), from which a JPEG's first quality guess is made.
    """
    box = (spec.max_width, spec.max_height)
    for attempt in range(_MAX_SHRINKS + 1):
        image = _compose(decoded, spec, box)
        encoded = _within_budget(image, spec, density)
        if encoded.data is not None:
            notes = [*decoded.warnings, *_size_warnings(decoded.size, spec), encoded.note]
            if attempt:
                size = f"{image.width}x{image.height} px"
                notes.append(f"scaled down to {size} to stay under {spec.max_bytes:,} bytes")
            warned = tuple(filter(None, notes))
            return Rendered(image.size, encoded.data, encoded.quality, warned, encoded.density)
        density = encoded.density
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
        left, top = _crop_margins(size, box)
        region_w, region_h = width - 2 * left, height - 2 * top
        scale = min(1.0, box_w / region_w)
        out = (max(1, round(region_w * scale)), max(1, round(region_h * scale)))
        return _Layout((left, top, width - left, height - top), out, out)
    scale = min(1.0, box_w / width, box_h / height)
    step = math.ceil(1 / scale)
    if step > 1 and 1 / step >= scale * _SNAP:
        out = (-(-width // step), -(-height // step))  # rounded up, as libjpeg and reduce() do
    else:
        out = (max(1, round(width * scale)), max(1, round(height * scale)))
    return _Layout((0, 0, width, height), out, box if fit == "pad" else out)


def _crop_margins(size: Size, box: Size) -> tuple[float, float]:
    """What a centre crop to the box's aspect ratio cuts off each side and off top and bottom.

    The side that is not cut is kept whole, decided in integers: a length worked out from the
    other side in floating point may come out a hair longer than the source.
    """
    (width, height), (box_w, box_h) = size, box
    if width * box_h > height * box_w:  # wider than the box
        return (width - height * box_w / box_h) / 2, 0.0
    return 0.0, (height - width * box_h / box_w) / 2


def _compose(decoded: Decoded, spec: VariantSpec, box: Size) -> Image.Image:
    layout = _layout(decoded.size, box, spec.fit)
    source = _source(decoded, layout)
    image = _resample(source, layout.size, _in_source(source, decoded.size, layout.region))
    if image is not source and layout.region == (0, 0, *decoded.size):
        decoded.levels.append(image)  # a whole frame: a cheaper source for smaller variants
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
    """The image to resample for `layout`: the decoded image or one of its levels.

    Preferably one that a whole-number `reduce()` turns into the layout exactly; otherwise the
    smallest that still has the detail needed.
    """
    left, _, right, _ = layout.region
    needed = decoded.size[0] * layout.size[0] / (right - left)
    usable = [image for image in (decoded.image, *decoded.levels) if image.width >= needed]
    whole = layout.region == (0, 0, *decoded.size)
    exact = [image for image in usable if whole and _reduction(image, layout.size)]
    return min(exact or usable or [decoded.image], key=lambda image: image.width)


def _reduction(image: Image.Image, size: Size) -> int | None:
    """The factor by which `reduce()` makes exactly `size` of the whole `image`, if any."""
    step = max(1, round(image.width / size[0]))
    reduced = (-(-image.width // step), -(-image.height // step))
    return step if reduced == size else None


def _in_source(source: Image.Image, size: Size, region: Box) -> Box:
    """`region` (in full-size upright pixels) in the pixels of `source`, a smaller copy."""
    if region == (0, 0, *size):
        return (0, 0, *source.size)
    sx, sy = source.width / size[0], source.height / size[1]
    return (region[0] * sx, region[1] * sy, region[2] * sx, region[3] * sy)


def _resample(image: Image.Image, size: Size, region: Box) -> Image.Image:
    step = _reduction(image, size) if region == (0, 0, *image.size) else None
    if step == 1:
        return image
    if step:
        return image.reduce(step)  # an exact whole-number reduction needs no resampling filter
    return image.resize(size, _FILTER, region, _RESIZE_GAP)


def _size_warnings(size: Size, spec: VariantSpec) -> list[str]:
    notes = []
    if size[0] < spec.min_width:
        notes.append(
            f"image is {size[0]} px wide; {spec.name} shows it blurred below {spec.min_width} px"
        )
    return notes


def _within_budget(image: Image.Image, spec: VariantSpec, density: float | None) -> _Encoded:
    if spec.format == "JPEG":
        return _jpeg_within(image, spec.max_bytes, density)
    data = _encode(image, "PNG")
    if len(data) <= spec.max_bytes:
        return _Encoded(data, None)
    data = _encode(image.quantize(256, Image.Quantize.FASTOCTREE), "PNG")
    if len(data) <= spec.max_bytes:
        return _Encoded(data, None, "reduced to 256 colours to fit the byte budget")
    return _Encoded(None, None)


def _jpeg_within(image: Image.Image, max_bytes: int, density: float | None) -> _Encoded:
    """A high quality from 85 down to 40 that fits `max_bytes`, in few encodes.

    The first guess is 85, or lower when `density` says 85 will not fit; each correction is
    read off the sizes measured so far. The search stops at a fit within `_CLOSE_ENOUGH`
    qualities of a miss or after three encodes with a fit; without one, the last of
    `_MAX_ENCODES` encodes tries quality 40.
    """
    pixels = image.width * image.height
    sizes: dict[int, int] = {}
    best: tuple[int, bytes] | None = None
    quality: int | None = _first_quality(density * pixels if density else None, max_bytes)
    while quality is not None:
        data = _encode(image, "JPEG", quality)
        sizes[quality] = len(data)
        if len(data) <= max_bytes and (best is None or quality > best[0]):
            best = (quality, data)
        quality = _next_quality(sizes, max_bytes, best is not None)
    top = max(sizes)
    density = sizes[top] / _size_ratio(top) / pixels
    if best is None:
        return _Encoded(None, None, density=density)
    return _Encoded(best[1], best[0], density=density)


def _first_quality(expected: float | None, max_bytes: int) -> int:
    """85, unless `expected` (bytes at quality 85) says a lower quality is needed."""
    if expected is None or expected <= max_bytes:
        return _QUALITY_START
    return _quality_for(_TARGET * max_bytes / expected)


def _next_quality(sizes: dict[int, int], max_bytes: int, fitted: bool) -> int | None:
    """The quality to try next, or None when the search is over.

    A guess is read off the two measurements nearest the budget (log-linear), or off one and
    `_SIZE_AT`, then kept a quarter of the way inside the bracket between the best fit and
    the lowest miss, so that every encode narrows it.
    """
    fits = sorted(q for q, size in sizes.items() if size <= max_bytes)
    misses = sorted(q for q, size in sizes.items() if size > max_bytes)
    low, high = (fits or [_QUALITY_FLOOR - 1])[-1], (misses or [_QUALITY_START + 1])[0]
    if fitted and (high - low <= _CLOSE_ENOUGH or len(sizes) >= _MAX_ENCODES - 1):
        return None
    if len(sizes) >= _MAX_ENCODES or high - low <= 1:
        return None
    if not fitted and len(sizes) == _MAX_ENCODES - 1:
        return _QUALITY_FLOOR  # the last try: the lowest quality allowed
    nearest = (fits[-2:] + misses[:2])[-2:] if fits else misses[:2]
    goal = math.log(_TARGET * max_bytes)
    if len(nearest) == 2 and sizes[nearest[1]] > sizes[nearest[0]]:
        (q0, q1), (s0, s1) = nearest, (math.log(sizes[q]) for q in nearest)
        guess = q0 + math.floor((goal - s0) * (q1 - q0) / (s1 - s0))
    else:
        q0 = nearest[0]
        guess = _quality_for(math.exp(goal) / sizes[q0] * _size_ratio(q0))
    margin = max(1, (high - low) // 4)
    return min(high - margin, max(low + margin, guess))


def _size_ratio(quality: int) -> float:
    """The typical size of a JPEG at `quality` relative to quality 85, from `_SIZE_AT`."""
    above = min(q for q in _SIZE_AT if q >= quality)
    below = max(q for q in _SIZE_AT if q <= quality)
    if above == below:
        return _SIZE_AT[above]
    share = (quality - below) / (above - below)
    return _SIZE_AT[below] ** (1 - share) * _SIZE_AT[above] ** share


def _quality_for(ratio: float) -> int:
    """The highest quality whose typical size is at most `ratio` times that at 85."""
    qualities = range(_QUALITY_START, _QUALITY_FLOOR - 1, -1)
    return next((q for q in qualities if _size_ratio(q) <= ratio), _QUALITY_FLOOR)


def _encode(image: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=quality)  # optimize=True: 3x slower for 2% less
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()
