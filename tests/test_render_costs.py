"""What rendering costs grows with what the item holds, never faster.

Work is counted, not timed: decodes per image, escapes and chunks per table row, characters
copied or measured per character of output.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

import pytest
from PIL import Image

from publisher.adapters.base import Post
from publisher.adapters.registry import CHANNEL_TYPES
from publisher.catalog import Catalog, load_catalog
from publisher.media import VariantSpec
from publisher.media import cache as media_cache
from publisher.render.service import Renderer
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
