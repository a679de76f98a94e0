"""Cover cards: the shipped fonts have every Vietnamese letter, titles fit, cards are cached."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from publisher.cards import DEFAULT_STYLE, CardStyle, cover_card

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
LETTERS = VIETNAMESE + VIETNAMESE.upper()
FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")
LONG_TITLE = (
    "Đợt cao điểm nước rút cuối năm 2026: vận động người dân tham gia BHXH tự nguyện và "
    "BHYT hộ gia đình, hưởng hỗ trợ từ ngân sách nhà nước"
)


def shipped(name: str) -> resources.abc.Traversable:
    return resources.files("publisher") / "fonts" / name


def shipped_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(shipped(name).read_bytes()), size)


def rendered(face: ImageFont.FreeTypeFont, text: str) -> bytes:
    image = Image.new("L", (120, 120))
    ImageDraw.Draw(image).text((10, 100), text, 255, face, anchor="ls")
    return image.tobytes()


@dataclass(frozen=True)
class Drawn:
    text: str
    x: float
    size: int
    fill: object


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Drawn]:
    """Every text the cards draw, in order."""
    calls: list[Drawn] = []
    original = ImageDraw.ImageDraw.text

    def spy(
        self: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        fill: str,
        font: ImageFont.FreeTypeFont,
        **kwargs: str,
    ) -> None:
        calls.append(Drawn(text, xy[0], int(font.size), fill))
        original(self, xy, text, fill, font, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", spy)
    return calls


# --- the fonts ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", FONTS)
def test_every_vietnamese_letter_has_a_glyph(name: str) -> None:
    face = shipped_font(name, 80)
    notdef = rendered(face, "\ue000")
    assert face.getmask("\ue000").getbbox() is not None  # the .notdef box really is drawn
    missing = [
        ch
        for ch in LETTERS + "₫…“”–—"
        if face.getmask(ch).getbbox() is None or rendered(face, ch) == notdef
    ]
    assert missing == []
    assert rendered(face, "ệ") != rendered(face, "ê") != rendered(face, "e")


@pytest.mark.parametrize("name", FONTS)
def test_fonts_are_small_subsets(name: str) -> None:
    assert 50_000 < len(shipped(name).read_bytes()) < 250_000


def test_the_font_licence_ships_with_the_fonts() -> None:
    licence = shipped("LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera" in licence and "Permission is hereby granted" in licence


# --- the card -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1280, 720), (1200, 630), (1080, 1080), (400, 225)])
def test_the_card_has_exactly_the_size_asked(tmp_path: Path, size: tuple[int, int]) -> None:
    path = cover_card("BHXH tự nguyện: điểm tựa tuổi già", size, tmp_path, kicker="An sinh")
    with Image.open(path) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", size)
        assert image.getpixel((2, 2)) == (0x0B, 0x3D, 0x7A)
    assert path.parent == tmp_path


def test_a_long_title_wraps_within_the_card(tmp_path: Path, drawn: list[Drawn]) -> None:
    path = cover_card(LONG_TITLE, (1280, 720), tmp_path)
    title = drawn[:-1]  # no kicker: the title lines, then the footer
    assert 2 <= len(title) <= 4 and " ".join(call.text for call in title) == LONG_TITLE
    with Image.open(path) as image:
        margin = 1280 - 50
        right = image.crop((margin, 0, 1280, 620))
        assert max(min(pixel) for pixel in right.get_flattened_data()) < 200  # no white text
    face = shipped_font(FONTS[0], title[0].size)
    assert all(call.x + face.getlength(call.text) <= margin for call in title)


def test_the_title_shrinks_before_it_is_cut(tmp_path: Path, drawn: list[Drawn]) -> None:
    cover_card("Tết an vui", (1280, 720), tmp_path)
    short = drawn[0].size
    drawn.clear()
    cover_card(LONG_TITLE, (1280, 720), tmp_path)
    assert drawn[0].size < short and not any("…" in call.text for call in drawn)


def test_an_endless_title_ends_in_an_ellipsis_after_a_whole_word(
    tmp_path: Path, drawn: list[Drawn]
) -> None:
    words = [f"từ{n}" for n in range(400)]
    cover_card(" ".join(words), (1280, 720), tmp_path)
    title = [call.text for call in drawn if call.text[:2] == "từ"]
    assert len(title) == 4 and title[-1].endswith("…")
    shown = " ".join(title)[:-1].split()
    assert shown == words[: len(shown)]


def test_kicker_and_footer_are_drawn(tmp_path: Path, drawn: list[Drawn]) -> None:
    style = CardStyle(footer="BHXH tỉnh Quảng Nam")
    cover_card("Tra cứu quá trình đóng", (1280, 720), tmp_path, style, kicker="Hướng dẫn")
    texts = [call.text for call in drawn]
    assert texts[0] == "HƯỚNG DẪN" and drawn[0].fill == style.accent
    assert texts[-1] == "BHXH tỉnh Quảng Nam"


def test_a_cached_card_is_not_drawn_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = cover_card("Tết an vui", (1280, 720), tmp_path, kicker="Thông báo")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the card was drawn again")

    monkeypatch.setattr(ImageDraw, "Draw", refuse)
    assert cover_card("Tết an vui", (1280, 720), tmp_path, kicker="Thông báo") == first
    nfd = unicodedata.normalize("NFD", "Tết  an vui 🎉")
    assert cover_card(nfd, (1280, 720), tmp_path, kicker="Thông báo") == first


def test_every_input_changes_the_cached_card(tmp_path: Path) -> None:
    paths = {
        cover_card("Tết an vui", (1280, 720), tmp_path),
        cover_card("Tết an vui!", (1280, 720), tmp_path),
        cover_card("Tết an vui", (1280, 721), tmp_path),
        cover_card("Tết an vui", (1280, 720), tmp_path, CardStyle(accent="#ff0000")),
        cover_card("Tết an vui", (1280, 720), tmp_path, kicker="Mới"),
    }
    assert len(paths) == 5
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_a_card_too_small_to_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        cover_card("Tết", (100, 50), tmp_path)


def test_a_bad_colour_is_refused() -> None:
    with pytest.raises(ValueError):
        CardStyle(background="blue-ish")


@pytest.mark.parametrize("title", ["😀 🎉", "  "])
def test_a_title_the_fonts_cannot_draw_falls_back_to_the_agency_name(
    tmp_path: Path, title: str
) -> None:
    # Rendering must never fail on a title: hypothesis found an emoji-only one.
    assert cover_card(title, (1280, 720), tmp_path) == cover_card(
        DEFAULT_STYLE.footer, (1280, 720), tmp_path
    )
