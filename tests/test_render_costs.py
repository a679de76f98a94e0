"""What rendering costs grows with what the item holds, never faster.

Work is counted, not timed: decodes per image, escapes and chunks per table row, characters
copied or measured per character of output.
"""

from __future__ import annotations

import html
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from PIL import Image

from publisher.adapters import zalo
from publisher.adapters.base import Post
from publisher.adapters.registry import CHANNEL_TYPES
from publisher.catalog import Catalog, load_catalog
from publisher.media import VariantSpec
from publisher.media import cache as media_cache
from publisher.render import plain
from publisher.render import text as text_module
from publisher.render.portal_html import _figures
from publisher.render.service import Renderer
from publisher.render.text import Unit
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder


def catalog_of(workspace: WorkspaceBuilder) -> Catalog:
    catalog = load_catalog(open_workspace(workspace.root, {}))
    assert not catalog.problems.has_errors(), catalog.problems.errors
    return catalog


# --- images -------------------------------------------------------------------------------


def test_an_items_images_are_decoded_once_for_all_its_channels(
    workspace: WorkspaceBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(3):
        Image.effect_noise((1600, 1200), 30 + index).convert("RGB").save(
            workspace.root / f"content/a{index}.png"
        )
    body = "Đoạn mở đầu.\n\n" + "".join(f"![ảnh {i}](a{i}.png)\n\n" for i in range(3))
    workspace.article("bai.md", "title: Bài có ảnh\nsummary: Tóm tắt\ncover: a0.png\n", body)
    catalog = catalog_of(workspace)
    decoded: list[str] = []
    real_decode = media_cache.decode

    def counting_decode(source: Path, needed: object) -> object:
        decoded.append(source.name)
        return real_decode(source, needed)  # type: ignore[arg-type]

    monkeypatch.setattr(media_cache, "decode", counting_decode)
    item = catalog.item("bai")
    assert item is not None
    posts = Renderer(catalog).render_item(item)
    assert {"portal", "facebook", "zalo", "telegram"} <= set(posts)
    assert all(post.errors == () for post in posts.values())
    assert sorted(decoded) == ["a0.png", "a1.png", "a2.png"]


def test_every_channel_declares_the_variants_it_asks_for() -> None:
    """`image_specs` is what is made from an image's one decode: a spec left out of it would
    make every image be decoded again for it."""
    for channel in CHANNEL_TYPES.values():
        module = sys.modules[channel.__module__]
        specs = {value for value in vars(module).values() if isinstance(value, VariantSpec)}
        assert set(channel.image_specs) == specs, channel.name


# --- text ---------------------------------------------------------------------------------


def table(rows: int) -> str:
    header = "| Đơn vị | Số tiền | Ghi chú |\n|---|---|---|\n"
    return header + "".join(
        f"| Công ty {i} | {i * 1000:,} đồng | ghi chú {i} |\n" for i in range(rows)
    )


@pytest.fixture
def tables(workspace: WorkspaceBuilder) -> tuple[Catalog, Renderer]:
    """Articles holding a table of 500 and of 1,000 rows (too long for Telegram's 4 messages)."""
    for rows in (500, 1000):
        workspace.article(f"bang-{rows}.md", f"title: Bảng {rows} dòng\n", table(rows))
    catalog = catalog_of(workspace)
    return catalog, Renderer(catalog)


def render(catalog: Catalog, renderer: Renderer, item_id: str, channel: str) -> Post:
    item = catalog.item(item_id)
    assert item is not None
    return renderer.render_item(item, (channel,))[channel]


class Copies:
    """Lines of text that count the characters each concatenation with them copies."""

    def __init__(self) -> None:
        self.copied = 0

    def wrap(self, make: Callable[..., str]) -> Callable[..., str]:
        counter = self

        class Counted(str):
            def __add__(self, other: str) -> Counted:
                counter.copied += len(self) + len(other)
                return Counted(str(self) + str(other))

            def __radd__(self, other: str) -> Counted:
                counter.copied += len(self) + len(other)
                return Counted(str(other) + str(self))

        return lambda *args: Counted(make(*args))


def test_telegram_packs_a_long_table_in_linear_work(
    tables: tuple[Catalog, Renderer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cutting the text to `max_messages` packed it again for every line dropped: 341 packs
    of a 1,000-row table, 1.7 million escapes."""
    catalog, renderer = tables
    escapes: list[int] = []
    real_escape = html.escape

    def counting_escape(text: str, quote: bool = True) -> str:
        escapes[-1] += 1
        return real_escape(text, quote)

    monkeypatch.setattr(html, "escape", counting_escape)
    posts = {}
    for rows in (500, 1000):
        escapes.append(0)
        posts[rows] = render(catalog, renderer, f"bang-{rows}", "telegram")
    assert escapes[1] <= 2.2 * escapes[0], escapes
    assert escapes[1] <= 10 * 1000, escapes  # a few per row: its cells and its line
    for rows, post in posts.items():
        assert len(post.calls) == 4
        assert any("it was cut to 4" in warning for warning in post.warnings), rows


@pytest.mark.parametrize("channel", ["facebook", "youtube"])
def test_a_long_table_becomes_one_paragraph_without_copying_it_per_row(
    tables: tuple[Catalog, Renderer], monkeypatch: pytest.MonkeyPatch, channel: str
) -> None:
    catalog, renderer = tables
    copies = Copies()
    monkeypatch.setattr(plain, "line_text", copies.wrap(plain.line_text))
    post = render(catalog, renderer, "bang-1000", channel)
    assert post.errors == ()
    assert copies.copied <= 100_000  # the table is 48 KB; row by row it copied 25 M characters


def test_zalo_groups_a_long_tables_rows_without_copying_them_per_row(
    tables: tuple[Catalog, Renderer], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, renderer = tables
    copies = Copies()
    monkeypatch.setattr(zalo, "line_text", copies.wrap(zalo.line_text))
    post = render(catalog, renderer, "bang-1000", "zalo")
    (body,) = [call.payload["body"] for call in post.calls if call.step == "create"]
    assert body[0]["content"].count("\n") == 999  # then the link to the portal
    assert copies.copied <= 100_000


def test_fitting_paragraphs_measures_each_once(monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[int] = []
    real_measure = plain.measure

    def counting_measure(text: str, unit: Unit) -> int:
        measured[-1] += len(text)
        return real_measure(text, unit)

    monkeypatch.setattr(plain, "measure", counting_measure)
    for count in (1000, 2000):
        texts = [f"Đoạn văn số {index}." for index in range(count)]
        measured.append(0)
        body, cut = plain.fit_paragraphs(texts, 63_206, tail="\n\n#BHXH")
        assert not cut and body == "\n\n".join(texts)
    assert measured[1] <= 2.2 * measured[0], measured
    assert measured[1] <= 2 * len(body), measured


def test_image_paragraphs_become_figures_in_one_pass() -> None:
    """Removing each paragraph and inserting its figure shifted every child after it."""
    count = 2000
    body = Element("div")
    for index in range(count):
        ET.SubElement(ET.SubElement(body, "p"), "img", src=f"a{index}.png", alt=f"ảnh {index}")
    shifted = 0

    def profile(frame: object, event: str, function: Any) -> None:
        nonlocal shifted
        if event == "c_call" and getattr(function, "__name__", "") in ("insert", "remove"):
            shifted += len(getattr(function, "__self__", ()))

    sys.setprofile(profile)
    try:
        _figures(body)
    finally:
        sys.setprofile(None)
    assert [child.tag for child in body] == ["figure"] * count
    assert body[7][0].get("src") == "a7.png" and body[7][1].text == "ảnh 7"
    assert shifted <= 2 * count


def test_cutting_a_long_text_reads_only_what_it_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    real = text_module._graphemes()
    scanned = 0

    class Counting:
        def finditer(self, text: str) -> Iterator[Any]:
            nonlocal scanned
            for match in real.finditer(text):
                scanned += 1
                yield match

    monkeypatch.setattr(text_module, "_graphemes", Counting)
    cut = text_module.truncate("Bảo hiểm xã hội " * 60_000, 100)
    assert len(cut) <= 100 and cut.endswith("…")
    assert scanned <= 200
