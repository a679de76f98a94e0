"""Branded cover cards for items without an image (Zalo cover, YouTube thumbnail, link image).

The fonts ship in `publisher/fonts/` (licence: LICENSE-DejaVu.txt) so every machine draws the
same letters. They are DejaVu Sans and DejaVu Sans Bold 2.37, subset with fontTools to Latin
and all Vietnamese letters:

    pyftsubset DejaVuSans-Bold.ttf --layout-features='*' --legacy-kern --notdef-outline \\
      --name-IDs='*' --name-languages='*' --drop-tables+=MATH,FFTM \\
      --unicodes=U+0020-007E,U+00A0-024F,U+0300-036F,U+1E00-1EFF,U+2000-206F,U+20AB
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont

from publisher.media.cache import starts_as, write_atomic

_BOLD, _REGULAR = "DejaVuSans-Bold.ttf", "DejaVuSans.ttf"
_CARD_VERSION = 1  # bump when the drawing changes, so cached cards are drawn again
_COVERED = (
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x300, 0x36F),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
    (0x20AB, 0x20AB),
)
_MAX_LINES = 4
_ELLIPSIS = "…"
_LINE_HEIGHT = 1.28  # em; Vietnamese capitals stack two marks (Ẳ, Ễ) about 1.13 em high
_CAP_TOP, _DESCENT = 1.15, 0.25  # em above and below the baseline that a line may use
_MIN_SIZE = (200, 100)


@dataclass(frozen=True)
class CardStyle:
    """Colours and footer text of the cards."""

    background: str = "#0b3d7a"
    accent: str = "#f5b700"
    text: str = "#ffffff"
    footer: str = "Bảo hiểm xã hội tỉnh"

    def __post_init__(self) -> None:
        for colour in (self.background, self.accent, self.text):
            ImageColor.getrgb(colour)  # ValueError for a colour Pillow cannot draw


DEFAULT_STYLE = CardStyle()


@dataclass(frozen=True)
class _Frame:
    """Where things go on a card of a given size, in pixels."""

    width: int
    height: int
    unit: float  # 1% of the shorter side
    margin: int
    band: int  # height of the footer band
    text_left: int

    @classmethod
    def of(cls, size: tuple[int, int]) -> _Frame:
        unit = min(size) / 100
        margin = round(7 * unit)
        return cls(*size, unit, margin, round(14 * unit), margin + round(4.5 * unit))

    @property
    def text_width(self) -> int:
        return self.width - self.margin - self.text_left


def cover_card(
    title: str,
    size: tuple[int, int],
    cache_dir: Path,
    style: CardStyle = DEFAULT_STYLE,
    kicker: str | None = None,
) -> Path:
    """A PNG card, cached by a hash of (title, size, style, kicker, font file hash)."""
    # A title of only emoji has nothing the fonts can draw: the agency's name stands in.
    title, kicker = _clean(title) or _clean(style.footer), _clean(kicker or "") or None
    if not title:
        raise ValueError("a cover card needs a title")
    if size[0] < _MIN_SIZE[0] or size[1] < _MIN_SIZE[1]:
        raise ValueError(f"a cover card must be at least {_MIN_SIZE[0]}x{_MIN_SIZE[1]} px")
    path = cache_dir / f"card-{_key(title, size, style, kicker)}.png"
    if not starts_as(path, "PNG"):
        buffer = io.BytesIO()
        _draw(title, _Frame.of(size), style, kicker).save(buffer, "PNG")
        write_atomic(path, buffer.getvalue())
    return path


def _clean(text: str) -> str:
    """NFC text with only the characters the fonts have, on one line."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(ch for ch in text if ch.isspace() or _covered(ch))
    return " ".join(kept.split())


def _covered(ch: str) -> bool:
    return any(low <= ord(ch) <= high for low, high in _COVERED)


def _key(title: str, size: tuple[int, int], style: CardStyle, kicker: str | None) -> str:
    fields = [_CARD_VERSION, title, list(size), asdict(style), kicker, _fonts_sha256()]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:24]


@cache
def _font_bytes(name: str) -> bytes:
    return (resources.files("publisher") / "fonts" / name).read_bytes()


@cache
def _fonts_sha256() -> str:
    return hashlib.sha256(_font_bytes(_BOLD) + _font_bytes(_REGULAR)).hexdigest()


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(_font_bytes(name)), size)


# --- drawing -------------------------------------------------------------------------------


def _draw(title: str, frame: _Frame, style: CardStyle, kicker: str | None) -> Image.Image:
    image = Image.new("RGB", (frame.width, frame.height), style.background)
    draw = ImageDraw.Draw(image)
    _decorate(draw, frame, style)
    top = frame.margin
    if kicker:
        top = _draw_kicker(draw, frame, style, kicker)
    bottom = frame.height - frame.band - frame.margin
    size, lines = _fit_title(title, frame.text_width, bottom - top, frame.unit)
    block = _block_height(size, len(lines))
    y = top + (bottom - top - block) // 2
    draw.rectangle(
        (frame.margin, y, frame.margin + max(3, round(1.2 * frame.unit)), y + block),
        fill=style.accent,
    )
    for index, line in enumerate(lines):
        baseline = y + round(size * (_CAP_TOP + index * _LINE_HEIGHT))
        draw.text((frame.text_left, baseline), line, style.text, _font(_BOLD, size), anchor="ls")
    _draw_footer(draw, frame, style)
    return image


def _decorate(draw: ImageDraw.ImageDraw, frame: _Frame, style: CardStyle) -> None:
    """A lighter diagonal band on the right and the footer band with an accent rule."""
    width, height, band = frame.width, frame.height, frame.height - frame.band
    draw.polygon(
        [(width * 0.62, 0), (width, 0), (width, band), (width * 0.42, band)],
        fill=_mix(style.background, "#ffffff", 0.06),
    )
    draw.rectangle((0, band, width, height), fill=_mix(style.background, "#ffffff", 0.14))
    draw.rectangle((0, band, width, band + max(2, round(0.7 * frame.unit))), fill=style.accent)


def _draw_kicker(draw: ImageDraw.ImageDraw, frame: _Frame, style: CardStyle, kicker: str) -> int:
    """Draw the kicker above the title; the y where the title area starts."""
    size, text = _fit_line(kicker.upper(), _BOLD, round(5 * frame.unit), frame.text_width)
    baseline = frame.margin + round(size * _CAP_TOP)
    draw.text((frame.text_left, baseline), text, style.accent, _font(_BOLD, size), anchor="ls")
    return baseline + round(size * _DESCENT) + round(3 * frame.unit)


def _draw_footer(draw: ImageDraw.ImageDraw, frame: _Frame, style: CardStyle) -> None:
    start = round(5 * frame.unit)
    size, text = _fit_line(style.footer, _REGULAR, start, frame.width - 2 * frame.margin)
    middle = frame.height - frame.band // 2 + round(0.35 * frame.unit)
    draw.text((frame.margin, middle), text, style.text, _font(_REGULAR, size), anchor="lm")


def _mix(colour: str, other: str, amount: float) -> tuple[int, int, int]:
    first, second = ImageColor.getrgb(colour), ImageColor.getrgb(other)
    r, g, b = (round(a + (b - a) * amount) for a, b in zip(first[:3], second[:3], strict=True))
    return r, g, b


# --- fitting text --------------------------------------------------------------------------


def _fit_title(title: str, width: int, height: int, unit: float) -> tuple[int, list[str]]:
    """The largest bold size (and its lines) that fits `width` x `height` px.

    Up to 4 lines, shrinking the font from 13% to 4.5% of the card's shorter side; only at
    the smallest size is the title cut at a word boundary with an ellipsis.
    """
    words = title.split()
    smallest = max(1, round(4.5 * unit))
    size = max(smallest, round(13 * unit))
    while True:
        lines = _wrap(words, _font(_BOLD, size), width)
        fits = len(lines) <= _MAX_LINES and _block_height(size, len(lines)) <= height
        if fits or size <= smallest:
            break
        size = max(smallest, min(size - 1, int(size * 0.94)))
    if not fits:
        lines = _ellipsize(lines, _font(_BOLD, size), width, _lines_that_fit(size, height))
    return size, lines


def _block_height(size: int, lines: int) -> int:
    return round(size * (_CAP_TOP + (lines - 1) * _LINE_HEIGHT + _DESCENT))


def _lines_that_fit(size: int, height: int) -> int:
    spare = height / size - _CAP_TOP - _DESCENT
    return max(1, min(_MAX_LINES, 1 + int(spare / _LINE_HEIGHT)))


def _wrap(words: list[str], face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap; a word wider than a line is split between letters."""
    lines: list[str] = []
    for word in words:
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and face.getlength(candidate) <= width:
            lines[-1] = candidate
        else:
            lines.extend(_split_word(word, face, width))
    return lines


def _split_word(word: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    pieces = [""]
    for ch in word:
        if pieces[-1] and not unicodedata.combining(ch) and face.getlength(pieces[-1] + ch) > width:
            pieces.append("")
        pieces[-1] += ch
    return pieces


def _ellipsize(lines: list[str], face: ImageFont.FreeTypeFont, width: int, keep: int) -> list[str]:
    """The first `keep` lines, the last one ending in an ellipsis after a whole word."""
    last = lines[keep - 1].split()
    while len(last) > 1 and face.getlength(" ".join(last) + _ELLIPSIS) > width:
        last.pop()
    text = " ".join(last).rstrip(",.;:-–—")
    while len(text) > 1 and face.getlength(text + _ELLIPSIS) > width:
        text = text[:-1]  # a single word wider than the line: nothing else to cut
    return [*lines[: keep - 1], text + _ELLIPSIS]


def _fit_line(text: str, name: str, size: int, width: int) -> tuple[int, str]:
    """`text` on one line: shrunk down to 60% of `size`, then cut with an ellipsis."""
    smallest = max(1, round(size * 0.6))
    while size > smallest and _font(name, size).getlength(text) > width:
        size -= 1
    face = _font(name, size)
    if face.getlength(text) > width:
        text = _ellipsize(_wrap(text.split(), face, width), face, width, 1)[0]
    return size, text
