"""Deterministic benchmark corpora: Vietnamese articles, images, and the same articles for Pelican.

    python benchmarks/corpus.py articles OUT [--count N] [--seed S]
    python benchmarks/corpus.py images OUT [--count M] [--seed S]

Articles: 600 to 1,500 words each, built from the words of the sample articles in
`content/` (NFC, with diacritics), with front matter that `publisher check` accepts
(title, summary, date, author, tags, cover, a `youtube.video_id` so every article goes to
all five channels), headings, bulleted and numbered lists, outside links, a link to
another article and image references to a small shared pool. Images: flat-colour PNG
infographics and photo-like JPEGs from 1080x1350 to 4000x4000. The same seed always gives
the same bytes.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parent.parent
FONT = REPO / "publisher" / "fonts" / "DejaVuSans.ttf"
POOL = "anh-chung"  # the shared image pool the articles refer to
POOL_SIZE = 6
_WORD = re.compile(r"[^\W\d_]+")
_CHANNELS = {
    "portal": "site_name: Cổng thông tin BHXH\nbase_url: https://bhxh.example.gov.vn\n"
    "article_path: /tin-tuc/{slug}/\n",
    "facebook": 'page_id: "100064000000001"\nhashtags: [BHXH]\n',
    "zalo": "author: Phòng Truyền thông BHXH\n",
    "youtube": 'category_id: "25"\nprivacy: public\n',
    "telegram": 'chat_id: "@bhxh_bench"\n',
}
_SCHEDULES = """timezone: Asia/Ho_Chi_Minh
campaigns:
  - id: bench
    name: Benchmark
    start: 2026-12-01
    end: 2026-12-31
    channels:
{channels}"""


@dataclass(frozen=True)
class Article:
    """One generated article: where it goes and what it says."""

    rel: str  # path inside content/, e.g. "tinh-07/bai-0042.md"
    title: str
    summary: str
    date: str
    tags: tuple[str, ...]
    cover: str
    body: str


@cache
def vocabulary() -> tuple[str, ...]:
    """The words of the sample articles, lower case, NFC, in first-seen order."""
    seen: dict[str, None] = {}
    for path in sorted((REPO / "content").rglob("*.md")):
        text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8"))
        body = text.split("---", 2)[-1]
        for word in _WORD.findall(body):
            seen.setdefault(word.lower(), None)
    return tuple(seen)


def sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = rng.choices(vocabulary(), k=rng.randint(low, high))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def article(rng: random.Random, index: int, provinces: int, count: int) -> Article:
    """Article `index` of `count`, in one of `provinces` folders."""
    title = sentence(rng, 6, 12).rstrip(".")
    other = rng.randrange(count)
    body = "\n\n".join(_blocks(rng, rng.randint(600, 1500), _rel(other, provinces)))
    return Article(
        rel=_rel(index, provinces),
        title=title,
        summary=sentence(rng, 15, 30),
        date=f"2026-11-{1 + index % 28:02d}",
        tags=tuple(sorted({sentence(rng, 1, 3).rstrip(".") for _ in range(3)})),
        cover=f"{POOL}/anh-{rng.randrange(POOL_SIZE)}.jpg",
        body=body,
    )


def _rel(index: int, provinces: int) -> str:
    return f"tinh-{index % provinces:02d}/bai-{index:04d}.md"


def _blocks(rng: random.Random, words: int, other: str) -> Iterator[str]:
    """Markdown blocks until about `words` words: paragraphs, headings, lists, links, images."""
    written, section = 0, 0
    while written < words:
        kind = rng.random()
        if kind < 0.12:
            section += 1
            block = f"## {sentence(rng, 4, 9).rstrip('.')}"
        elif kind < 0.24:
            marker = "-" if rng.random() < 0.5 else "1."
            block = "\n".join(f"{marker} {sentence(rng, 5, 14)}" for _ in range(rng.randint(3, 5)))
        elif kind < 0.30:
            block = _image(rng)
        elif kind < 0.36:
            block = _linked(rng, other)
        else:
            block = paragraph(rng)
        written += len(block.split())
        yield block


def _image(rng: random.Random) -> str:
    alt, caption = sentence(rng, 5, 10).rstrip("."), sentence(rng, 4, 8).rstrip(".")
    return f'![{alt}](../{POOL}/anh-{rng.randrange(POOL_SIZE)}.jpg "{caption}")'


def _linked(rng: random.Random, other: str) -> str:
    outside = f"[{sentence(rng, 2, 4).rstrip('.')}](https://baohiemxahoi.gov.vn/tin-tuc)"
    inside = f"[{sentence(rng, 2, 4).rstrip('.')}](../{other})"
    return f"{sentence(rng)} Xem {outside} và {inside}. {sentence(rng)}"


def front_matter(item: Article, rng: random.Random) -> str:
    video = "".join(rng.choices(string.ascii_letters + string.digits, k=11))
    tags = ", ".join(f'"{t}"' for t in item.tags)
    return (
        f'---\ntitle: "{item.title}"\nsummary: "{item.summary}"\ndate: {item.date}\n'
        f"author: Phòng Truyền thông BHXH tỉnh\ntags: [{tags}]\ncover: ../{item.cover}\n"
        f'youtube:\n  video_id: "{video}"\n---\n\n'
    )


def pelican_header(item: Article) -> str:
    slug = item.rel.removesuffix(".md").replace("/", "-")
    return (
        f"Title: {item.title}\nDate: {item.date}\nAuthor: Phòng Truyền thông BHXH tỉnh\n"
        f"Tags: {', '.join(item.tags)}\nSlug: {slug}\nSummary: {item.summary}\n\n"
    )


def write_articles(out: Path, count: int, seed: int = 8, provinces: int = 63) -> list[Article]:
    """A workspace at `out/workspace` and the same articles for Pelican at `out/pelican`.

    Both trees share the image pool; `out` is replaced.
    """
    shutil.rmtree(out, ignore_errors=True)
    rng = random.Random(seed)
    workspace, pelican = out / "workspace", out / "pelican"
    items = [article(rng, i, min(provinces, count), count) for i in range(count)]
    for item in items:
        _write(workspace / "content" / item.rel, front_matter(item, rng) + item.body + "\n")
        _write(pelican / "content" / item.rel, pelican_header(item) + item.body + "\n")
    for tree in (workspace / "content", pelican / "content"):
        write_pool(tree / POOL, seed)
    write_settings(workspace)
    write_pelican_settings(pelican)
    return items


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(unicodedata.normalize("NFC", text), encoding="utf-8")


def write_settings(workspace: Path) -> None:
    """Every channel enabled in outbox mode, and a one-month calendar."""
    folder = workspace / "channels"
    folder.mkdir(parents=True, exist_ok=True)
    for name, settings in _CHANNELS.items():
        (folder / f"{name}.yaml").write_text(
            f"enabled: true\nmode: outbox\n{settings}", encoding="utf-8"
        )
    slots = "".join(
        f'      {name}:\n        slots:\n          - days: daily\n            times: ["08:00"]\n'
        for name in _CHANNELS
    )
    (workspace / "schedules.yaml").write_text(_SCHEDULES.format(channels=slots), encoding="utf-8")


def write_pelican_settings(site: Path, *, content_cache: bool = False) -> Path:
    """pelicanconf.py: one HTML page per article (and the category pages the theme links to).

    Pelican's content cache is off by default (`pelican-quickstart` leaves it off).
    """
    name = "pelicanconf-cache.py" if content_cache else "pelicanconf.py"
    path = site / name
    path.write_text(
        "AUTHOR = 'BHXH'\nSITENAME = 'Benchmark'\nSITEURL = ''\nPATH = 'content'\n"
        "TIMEZONE = 'Asia/Ho_Chi_Minh'\nDEFAULT_LANG = 'vi'\nSTATIC_PATHS = ['anh-chung']\n"
        "FEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\nTRANSLATION_FEED_ATOM = None\n"
        "AUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\nDIRECT_TEMPLATES = []\n"
        "TAG_SAVE_AS = ''\nAUTHOR_SAVE_AS = ''\n"
        "DEFAULT_PAGINATION = False\n"
        f"CACHE_CONTENT = {content_cache}\nLOAD_CONTENT_CACHE = {content_cache}\n",
        encoding="utf-8",
    )
    return path


def write_pool(folder: Path, seed: int) -> None:
    """The small photos every article shares (1200x800 JPEGs)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(POOL_SIZE):
        photo(random.Random(seed * 1000 + index), (1200, 800)).save(
            folder / f"anh-{index}.jpg", quality=88
        )


def write_images(out: Path, count: int, seed: int = 8) -> list[Path]:
    """`count` images, a third flat PNG infographics, the rest photo-like JPEGs."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        size = _image_size(rng)
        if index % 3 == 2:
            path = out / f"info-{index:03d}.png"
            infographic(random.Random(rng.random()), size).save(path, optimize=False)
        else:
            path = out / f"anh-{index:03d}.jpg"
            photo(random.Random(rng.random()), size).save(path, quality=90)
        paths.append(path)
    return paths


def _image_size(rng: random.Random) -> tuple[int, int]:
    """Between 1080x1350 (portrait post) and 4000x4000, in the shapes phones and designers use."""
    width = rng.randint(1080, 4000)
    ratio = rng.choice((1.25, 1.0, 0.75, 0.5625))
    return width, min(4000, max(1080, round(width * ratio)))


def photo(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Smooth shapes, soft gradients and sensor-like grain: compresses like a photo."""
    small = (max(8, size[0] // 16), max(8, size[1] // 16))
    base = Image.new("RGB", small, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(base)
    for _ in range(rng.randint(6, 14)):
        x, y = rng.randrange(small[0]), rng.randrange(small[1])
        r = rng.randint(2, max(3, small[0] // 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    image = base.filter(ImageFilter.GaussianBlur(2)).resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, rng.uniform(18, 30)).convert("RGB")
    return Image.blend(image, grain, 0.12)


def infographic(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """Flat colour blocks, bars and Vietnamese text: the kind of PNG a design office exports."""
    palette = [tuple(rng.randrange(256) for _ in "rgb") for _ in range(5)]
    image = Image.new("RGB", size, palette[0])
    draw = ImageDraw.Draw(image)
    width, height = size
    font = ImageFont.truetype(str(FONT), max(18, width // 30))
    for row in range(8):
        top = height * (row + 1) // 10
        bar = rng.randint(width // 5, width * 4 // 5)
        draw.rectangle(
            (width // 10, top, width // 10 + bar, top + height // 25), fill=palette[1 + row % 4]
        )
        draw.text(
            (width // 10, top - height // 22), sentence(rng, 3, 6), fill=palette[4], font=font
        )
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a benchmark corpus.")
    parser.add_argument("kind", choices=("articles", "images"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    if args.kind == "articles":
        write_articles(args.out, args.count, args.seed)
    else:
        write_images(args.out, args.count, args.seed)


if __name__ == "__main__":
    main()
