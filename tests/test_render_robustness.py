"""Rendering never crashes on content: real cases that did, then generated images and Markdown."""

from __future__ import annotations

import json
import random
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, reject, settings
from hypothesis import strategies as st
from PIL import Image

from publisher.adapters import facebook, portal, telegram, youtube, zalo
from publisher.adapters.base import Post
from publisher.adapters.portal import OG_IMAGE
from publisher.adapters.youtube import THUMBNAIL
from publisher.catalog import load_catalog
from publisher.content.assets import file_sha256
from publisher.content.markdown import parse_markdown
from publisher.content.text import unusual_characters
from publisher.media import MediaCache, MediaError, Variant, VariantSpec, prepare_variants
from publisher.media.render import _layout
from publisher.render.document import blocks_from_tree, flatten
from publisher.render.portal_html import ALLOWED_TAGS as PORTAL_TAGS
from publisher.render.portal_html import article_html
from publisher.render.service import Renderer
from publisher.render.telegram_html import ALLOWED_TAGS as TELEGRAM_TAGS
from publisher.render.telegram_html import pack_messages, visible_length
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder
from .test_render_channels import assert_within_limits

CHANNELS = ("portal", "facebook", "zalo", "youtube", "telegram")


def render_item(root: Path, item_id: str) -> dict[str, Post] | None:
    """The item's post for each of the five channels, rendered from a cold cache; None when
    the loader refused the item, with a problem saying why."""
    catalog = load_catalog(open_workspace(root, {}))
    item = catalog.item(item_id)
    if item is None:
        assert catalog.problems.errors, f"{item_id} is missing and no problem says why"
        return None
    return Renderer(catalog).render_item(item, CHANNELS)


@pytest.mark.parametrize(
    ("size", "spec"),
    [
        ((651, 312), OG_IMAGE),  # a screenshot in a real post
        ((2651, 698), OG_IMAGE),
        ((468, 97), THUMBNAIL),
        ((27, 11), THUMBNAIL),
    ],
)
def test_a_crop_wider_than_the_box_keeps_inside_the_source(
    tmp_path: Path, size: tuple[int, int], spec: VariantSpec
) -> None:
    """The crop's height, worked out from its width, came out a hair over the source's."""
    source = tmp_path / "screenshot.png"
    Image.new("RGBA", size, (27, 108, 168, 200)).save(source)
    variant = MediaCache(tmp_path / "cache").variant(source, file_sha256(source), spec)
    height = min(size[1], spec.max_height)  # full height: the sides are cut
    width = round(height * spec.max_width / spec.max_height)
    assert (variant.width, variant.height) == (width, height)


LATEX_PARAGRAPH = (
    r"e_j^{(l)} = \left( \mathbf{w}_{j:}^{(l+1)} \mathbf{e}^{(l+1)} \right) f'(z_j^{(l)})"
    "\n"
    r"\frac{\partial J}{\partial w_{ij}^{(l)}} &=& a_i^{(l-1)} e_j^{(l)} \newline"
    "\n"
)


def test_a_latex_paragraph_renders_for_every_channel(workspace: WorkspaceBuilder) -> None:
    """`_{ij}` after an emphasis is read as an attribute list: `ij` became an attribute
    without a value, which ElementTree cannot serialise."""
    workspace.article("lan-truyen-nguoc/index.md", "title: Lan truyền ngược\n", LATEX_PARAGRAPH)
    posts = render_item(workspace.root, "lan-truyen-nguoc")
    assert posts is not None
    errors = {name: post.errors for name, post in posts.items() if post.errors}
    assert errors.keys() <= {"youtube"}, errors  # an article has no video for YouTube
    assert "a_i^{(l-1)}" in posts["portal"].calls[-1].payload["html"]


# ---- generated images through every declared variant spec ---------------------------------

ADAPTERS = (facebook, portal, telegram, youtube, zalo)
DECLARED_SPECS = tuple(
    dict.fromkeys(
        value
        for module in ADAPTERS
        for value in vars(module).values()
        if isinstance(value, VariantSpec)
    )
)
# Each declared spec also with the other two fits: `_shaped_for` pads a crop spec, and a
# channel may change its fit one day.
EVERY_SPEC = tuple(
    spec if fit == spec.fit else replace(spec, name=f"{spec.name}-{fit}", fit=fit)
    for spec in DECLARED_SPECS
    for fit in ("fit", "pad", "crop")
)
LOADER_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}  # the formats the loader accepts
# The modes each format holds as Pillow writes it; "+t": with a colour marked transparent.
FORMAT_MODES = {
    "PNG": ("1", "L", "L+t", "LA", "P", "P+t", "RGB", "RGB+t", "RGBA", "I;16", "I;16+t"),
    "JPEG": ("L", "RGB", "CMYK"),
    "WEBP": ("RGB", "RGBA"),
    "GIF": ("1", "L", "P", "P+t"),
    "TIFF": ("1", "L", "LA", "P", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "I;16", "I", "F"),
}
NOISE_MAX_PIXELS = 1_000_000  # random noise beyond this takes seconds to encode


@dataclass(frozen=True)
class Picture:
    """A generated image file's recipe."""

    format: str
    mode: str
    size: tuple[int, int]
    detail: str  # flat, smooth or noise
    seed: int

    def save(self, folder: Path) -> Path:
        mode, _, transparent = self.mode.partition("+")
        image = _as_mode(self._pixels(), mode)
        params: dict[str, object] = {}
        if transparent:
            params["transparency"] = (0, 0, 0) if mode == "RGB" else 0
        if self.format == "PNG":
            params["compress_level"] = 1
        path = folder / f"source.{self.format.lower()}"
        image.save(path, self.format, **params)
        return path

    def _pixels(self) -> Image.Image:
        randbytes = random.Random(self.seed).randbytes
        if self.detail == "noise" and self.size[0] * self.size[1] <= NOISE_MAX_PIXELS:
            return Image.frombytes("RGBA", self.size, randbytes(4 * self.size[0] * self.size[1]))
        if self.detail == "flat":
            return Image.new("RGBA", self.size, tuple(randbytes(4)))
        tile = Image.frombytes("RGBA", (8, 8), randbytes(4 * 64))
        return tile.resize(self.size, Image.Resampling.BILINEAR)


def _as_mode(image: Image.Image, mode: str) -> Image.Image:
    if mode == "I;16":  # the whole 16-bit range, not just 0-255
        return image.convert("I").point(lambda value: value * 257).convert("I;16")
    return image.convert(mode)


dimensions = st.one_of(st.integers(1, 24), st.integers(1, 4000))
pictures = st.builds(
    Picture,
    format=st.sampled_from(sorted(FORMAT_MODES)),
    mode=st.just(""),
    size=st.tuples(dimensions, dimensions),
    detail=st.sampled_from(["flat", "smooth", "noise"]),
    seed=st.integers(0, 2**16),
).flatmap(
    lambda picture: st.sampled_from(FORMAT_MODES[picture.format]).map(
        lambda mode: replace(picture, mode=mode)
    )
)


def assert_valid(variant: Variant, spec: VariantSpec) -> None:
    """The variant file decodes, in the spec's format, within its box and byte budget."""
    with Image.open(variant.path) as image:
        image.load()
        assert (image.format, image.size) == (spec.format, (variant.width, variant.height))
    assert 1 <= variant.width <= spec.max_width and 1 <= variant.height <= spec.max_height
    assert variant.bytes == variant.path.stat().st_size <= spec.max_bytes


@settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(picture=pictures)
@example(picture=Picture("PNG", "RGBA", (651, 312), "smooth", 0))  # a screenshot in a real post
def test_every_spec_makes_a_valid_variant_or_a_clean_media_error(picture: Picture) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = picture.save(Path(folder))
        sha = file_sha256(source)
        requests = [(source, sha, spec) for spec in EVERY_SPEC]
        made = prepare_variants(Path(folder) / "cache", requests, workers=1)
        for spec in EVERY_SPEC:
            result = made[sha, spec]
            if picture.format in LOADER_FORMATS:
                assert isinstance(result, Variant), f"{spec.name}: {result}"
                assert_valid(result, spec)
            else:  # refused by the loader's format list, with a message saying why
                assert isinstance(result, MediaError) and "not a readable image" in str(result)


@settings(max_examples=2000, derandomize=True, database=None, deadline=None)
@given(
    size=st.tuples(dimensions, dimensions),
    spec=st.sampled_from(EVERY_SPEC),
    shrinks=st.integers(0, 6),
)
def test_layouts_stay_inside_the_source_and_the_box(
    size: tuple[int, int], spec: VariantSpec, shrinks: int
) -> None:
    """The geometry alone, over far more sizes than images can be made for: the region cut
    from the source never leaves it (Pillow refuses such a box), the output fits the box."""
    box = (spec.max_width, spec.max_height)
    for _ in range(shrinks):  # as `render` shrinks the box to meet a byte budget
        box = (max(1, int(box[0] * 0.8)), max(1, int(box[1] * 0.8)))
    layout = _layout(size, box, spec.fit)
    left, top, right, bottom = layout.region
    assert 0 <= left < right <= size[0] and 0 <= top < bottom <= size[1], layout
    assert 1 <= layout.size[0] <= layout.canvas[0] <= box[0], layout
    assert 1 <= layout.size[1] <= layout.canvas[1] <= box[1], layout


# ---- generated Markdown through every channel ----------------------------------------------

VIETNAMESE = [
    "Bảo hiểm xã hội",
    "tự nguyện",
    "Người lao động",
    "được hưởng",
    "Đồng",
    "ưu đãi",
    unicodedata.normalize("NFD", "Tiếng Việt có dấu"),  # combining marks, as some editors save
    "1.000.000 đồng",
    "😀",
]
LATEX = [
    r"\left(",
    r"\right)",
    "&=&",
    r"\newline",
    "$$x^2$$",
    "$$",
    "$",
    "^{(l)}",
    "_{ij}",
    "{ij}",
    "{: .lop #ma }",
    "{",
    "}",
    r"\frac{\partial J}{\partial w_{ij}^{(l)}}",
    r"\mathbf{w}_{j:}^{(l+1)}",
    "f'(z_j^{(l)})",
    "\\",
]
RAW_HTML = [
    "<div>",
    "</div>",
    "</p>",
    "<script>alert(1)</script>",
    "<b onclick=x>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<br/>",
    "<!-- chú thích -->",
    "<!--",
    "-->",
    "<?php echo 1; ?>",
    "<![CDATA[x]]>",
    "&amp;",
    "&nbsp;",
    "&#0;",
    "&#x110000;",
    "&",
    "<",
    ">",
]
MARKS = ["*", "**", "_", "__", "~~", "`", "*nghiêng*", "**đậm**", "***cả hai***", "`mã <b>`"]
LINKS = [
    "[liên kết](https://bhxh.example.gov.vn/a?b=1&c=2)",
    "[neo](#muc-1)",
    "<https://bhxh.example.gov.vn>",
    "<lienhe@bhxh.example.gov.vn>",
    "[thư](mailto:lienhe@bhxh.example.gov.vn)",
    "[gọi](tel:19009068)",
    "[tham chiếu][ref]",
    "[^1]",
    "![ảnh](anh.png)",
    '![ảnh *có* chú thích](anh.png "Tiêu đề ảnh")',
    "[![ảnh](anh.png)](https://bhxh.example.gov.vn)",
    "[",
    "]",
    "(",
    ")",
    "![",
]
# Invisible characters the loader removes with a warning. Bidirectional overrides and long
# runs of combining marks are left out: the loader refuses a body holding them (they disguise
# text), so it never reaches the renderers.
CONTROL = ["\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u200b", "\u2028", "\ufeff", "\r"]
REFUSED_IN_BODY = frozenset({"bidi", "combining"})
any_text = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    max_size=40,
)

pieces = st.one_of(
    st.sampled_from(VIETNAMESE),
    st.sampled_from(LATEX),
    st.sampled_from(RAW_HTML),
    st.sampled_from(MARKS),
    st.sampled_from(LINKS),
    st.sampled_from(CONTROL),
    any_text,
)
inline = st.lists(st.tuples(pieces, st.sampled_from(["", " "])), min_size=1, max_size=12).map(
    lambda parts: "".join(piece + gap for piece, gap in parts)
)
# Front matter refuses invisible characters, so a title has none.
titles = st.lists(
    st.one_of(*(st.sampled_from(kind) for kind in (VIETNAMESE, LATEX, RAW_HTML, MARKS, LINKS))),
    min_size=1,
    max_size=8,
).map(" ".join)
blocks = st.one_of(
    inline,
    st.tuples(st.integers(1, 6), inline).map(lambda heading: "#" * heading[0] + " " + heading[1]),
    inline.map(lambda text: f"{text}\n===="),
    st.lists(inline, min_size=1, max_size=4).map(lambda items: "\n".join(f"- {i}" for i in items)),
    st.lists(inline, min_size=1, max_size=4).map(
        lambda items: "\n".join(f"{n}. {i}" for n, i in enumerate(items, 1))
    ),
    st.tuples(inline, inline).map(lambda pair: f"- {pair[0]}\n    - {pair[1]}"),
    inline.map(lambda text: f"> {text}\n> > {text}"),
    st.lists(inline, min_size=2, max_size=4).map(
        lambda cells: "| " + " | ".join(cells) + " |\n|" + "---|" * len(cells) + "\n| a | b |"
    ),
    st.tuples(st.sampled_from(["", "python", "{.lop}"]), any_text).map(
        lambda fence: f"```{fence[0]}\n{fence[1]}\n```"
    ),
    any_text.map(lambda text: f"```\n{text}"),  # never closed
    any_text.map(lambda text: "    " + text.replace("\n", "\n    ")),
    st.sampled_from(["---", "***", "* * *"]),
    inline.map(lambda text: f"[^1]: {text}"),
    st.just("[ref]: https://bhxh.example.gov.vn/tham-chieu"),
    st.just("*[BHXH]: Bảo hiểm xã hội"),
    st.tuples(inline, inline).map(lambda pair: f"{pair[0]}\n: {pair[1]}"),
    st.lists(st.sampled_from(LATEX), min_size=1, max_size=8).map(
        lambda parts: "$$\n" + " ".join(parts) + "\n$$"
    ),
    inline.map(lambda text: f"<div>\n{text}\n</div>"),
    inline.map(lambda text: f"<!--\n{text}\n-->"),
)
bodies = st.lists(st.tuples(blocks, st.sampled_from(["\n\n", "\n"])), min_size=1, max_size=10).map(
    lambda parts: "".join(block + gap for block, gap in parts)
)


VOID_TAGS = {"br", "hr", "img"}


class TagAudit(HTMLParser):
    """The tags and attributes of some HTML, and the end tags that close nothing open."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.open: list[str] = []
        self.unbalanced: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.unbalanced.append(tag)


def assert_safe_portal_html(html: str, allowed: Iterable[str] = PORTAL_TAGS) -> None:
    """Only `allowed` tags, no event handler, no script address."""
    audit = TagAudit(html)
    assert audit.tags <= set(allowed), audit.tags - set(allowed)
    for name, value in audit.attributes:
        assert not name.startswith("on") and "javascript:" not in value.lower(), (name, value)


def assert_telegram_html(message: str) -> None:
    """Only the tags Telegram accepts, each closed in the message it opens in."""
    audit = TagAudit(message)
    assert audit.tags <= TELEGRAM_TAGS, audit.tags - TELEGRAM_TAGS
    assert audit.open == [] and audit.unbalanced == [], (audit.open, audit.unbalanced, message)


@settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(body=bodies)
@example(body=LATEX_PARAGRAPH)
def test_generated_markdown_becomes_allowed_portal_and_telegram_html(body: str) -> None:
    """The renderers alone, over more bodies than whole workspaces can be made for."""
    tree = parse_markdown(body).tree
    image = ("https://bhxh.example.gov.vn/media/anh.jpg", 640, 480)
    html = article_html(tree, lambda src: image, lambda href: href, lambda url: False)
    assert_safe_portal_html(html)
    for limit in (1024, 4096):
        for message in pack_messages(flatten(blocks_from_tree(tree)), lambda href: href, limit):
            assert_telegram_html(message)
            assert visible_length(message) <= limit


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(title=titles, body=bodies)
@example(title="Lan truyền ngược", body=LATEX_PARAGRAPH)
def test_generated_items_render_for_every_channel_without_crashing(title: str, body: str) -> None:
    """A folder item with an image, rendered cold for all five channels: every post is made
    by its adapter (the renderer's catch-all "rendering failed" would hide a crash)."""
    assume(not unusual_characters(body, REFUSED_IN_BODY))
    with tempfile.TemporaryDirectory() as folder:
        builder = WorkspaceBuilder(Path(folder)).standard_settings()
        front = {"title": "Bài " + title, "youtube": {"video_id": "Qm7pXr2LkVs"}}
        builder.article("bai/index.md", json.dumps(front, ensure_ascii=False) + "\n", body)
        builder.image("content/bai/anh.png", (651, 312), mode="RGBA")
        posts = render_item(builder.root, "bai")
    if posts is None:  # the loader's clean refusal, such as an image link to an anchor
        reject()
    crashes = [
        e for post in posts.values() for e in post.errors if e.startswith("rendering failed")
    ]
    assert crashes == []
    for post in posts.values():
        assert_within_limits(post)
    page = posts["portal"].calls[-1].payload["html"]
    article = page.split("<article>", 1)[1].split("</article>", 1)[0]
    assert_safe_portal_html(article, PORTAL_TAGS | {"h1"})  # the page's title
    for call in posts["telegram"].calls:
        captions = [media.get("caption") for media in call.payload.get("media", [])]
        for text in filter(
            None, [call.payload.get("text"), call.payload.get("caption"), *captions]
        ):
            assert_telegram_html(text)
