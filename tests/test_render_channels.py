"""Every channel's render: golden files for sample items, and limits under random input."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.adapters.base import Post
from publisher.catalog import Catalog, load_catalog
from publisher.render.portal_html import ALLOWED_TAGS as PORTAL_TAGS
from publisher.render.service import Renderer
from publisher.render.telegram_html import ALLOWED_TAGS as TELEGRAM_TAGS
from publisher.render.telegram_html import visible_length
from publisher.render.text import measure
from publisher.workspace import open_workspace

from .conftest import REPO_ROOT, copy_sample

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_ITEMS = [
    "nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia",
    "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan",
    "nuoc-rut-2026/infographic/ket-qua-10-thang",
    "nuoc-rut-2026/video/huong-dan-cai-dat-vssid",
    "nuoc-rut-2026/video/phong-su-bhxh-tu-nguyen",
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalog, Renderer]:
    root = copy_sample(tmp_path_factory.mktemp("sample") / "ws")
    catalog = load_catalog(open_workspace(root, {}))
    return catalog, Renderer(catalog)


def normalised(post: Post, root: Path) -> dict:
    text = json.dumps(post.to_json(), ensure_ascii=False, indent=1, sort_keys=True)
    return json.loads(text.replace(str(root), "<workspace>"))


@pytest.mark.parametrize("item_id", GOLDEN_ITEMS)
def test_golden_posts(sample: tuple[Catalog, Renderer], item_id: str) -> None:
    catalog, renderer = sample
    item = catalog.item(item_id)
    assert item is not None
    for channel, post in renderer.render_item(item).items():
        golden = GOLDEN / f"{item_id.replace('/', '__')}.{channel}.json"
        actual = normalised(post, catalog.workspace.root)
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(
                json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            )
        assert actual == json.loads(golden.read_text()), (
            f"{golden.name} differs (UPDATE_GOLDEN=1 to accept)"
        )


def test_every_sample_item_renders_within_limits(sample: tuple[Catalog, Renderer]) -> None:
    catalog, renderer = sample
    for item in catalog.items:
        for post in renderer.render_item(item).values():
            assert post.errors == (), (item.id, post.channel, post.errors)
            assert_within_limits(post)
            for media in post.media:
                assert Path(media).is_file()


def test_second_render_comes_from_the_cache(sample: tuple[Catalog, Renderer], monkeypatch) -> None:
    catalog, renderer = sample
    item = catalog.items[0]
    first = renderer.render_item(item)
    fresh = Renderer(catalog)
    for channel in fresh.channels.values():
        monkeypatch.setattr(channel, "render", lambda *a: pytest.fail("rendered again"))
    assert fresh.render_item(item) == first


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(f"{name}={value}" for name, value in attrs)


def tags_of(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def assert_within_limits(post: Post) -> None:
    for count in post.counts:
        assert count.within, (post.item_id, post.channel, count)
    for call in post.calls:
        payload = call.payload
        if post.channel == "telegram":
            for text in [
                payload.get("text"),
                payload.get("caption"),
                *(m.get("caption") for m in payload.get("media", [])),
            ]:
                if text:
                    limit = 4096 if call.step.startswith("message") else 1024
                    assert visible_length(text) <= limit
                    assert tags_of(text).tags <= TELEGRAM_TAGS
        if post.channel == "youtube" and "snippet" in payload:
            snippet = payload["snippet"]
            assert len(snippet["title"]) <= 100
            assert measure(snippet["description"], "bytes") <= 5000
            assert not set("<>") & set(
                snippet["title"] + snippet["description"] + "".join(snippet["tags"])
            )
        if post.channel == "zalo" and call.step == "create":
            assert len(payload["title"]) <= 150 and len(payload["description"]) <= 300
            assert len(payload["author"]) <= 50
            hosted = {f"${c.step}.url" for c in post.calls if c.method == "HOST" and c.files}
            images = [b["url"] for b in payload["body"] if b["type"] == "image"]
            assert {payload["cover"]["photo_url"], *images} <= hosted  # each one hosted first
        if post.channel == "facebook":
            assert len(payload.get("message") or payload.get("caption") or "") <= 63_206
        if post.channel == "portal" and call.step == "page":
            found = tags_of(payload["html"])
            assert not any(a.startswith("on") for a in found.attributes)
            assert "script" not in found.tags


VIETNAMESE_WORDS = [
    "Bảo",
    "hiểm",
    "xã",
    "hội",
    "tự",
    "nguyện",
    "Đồng",
    "y",
    "tế",
    "học",
    "sinh",
    "😀",
    "<script>alert(1)</script>",
    "**đậm**",
    "[liên kết](https://bhxh.example.gov.vn/x)",
    "<a href=javascript:alert(1)>xấu</a>",
    "`mã`",
    "&amp;",
    "<b onclick=x>",
    "> trích",
]
words = st.lists(st.sampled_from(VIETNAMESE_WORDS), min_size=1, max_size=60).map(" ".join)
bodies = st.lists(
    st.one_of(words, words.map(lambda w: "## " + w), words.map(lambda w: "- " + w)),
    min_size=1,
    max_size=40,
).map("\n\n".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.lists(st.sampled_from(VIETNAMESE_WORDS[:12]), min_size=1, max_size=40).map(" ".join),
    summary=words,
    tags=st.lists(st.sampled_from(VIETNAMESE_WORDS[:12]), max_size=30),
    body=bodies,
)
def test_random_vietnamese_items_stay_within_every_limit(
    title: str, summary: str, tags: list[str], body: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "content").mkdir()
        shutil.copytree(REPO_ROOT / "channels", root / "channels")
        front = {
            "title": title,
            "summary": summary,
            "tags": tags,
            "youtube": {"video_id": "Qm7pXr2LkVs"},
        }
        text = "---\n" + json.dumps(front, ensure_ascii=False) + "\n---\n" + body + "\n"
        (root / "content" / "a.md").write_text(text, encoding="utf-8")
        catalog = load_catalog(open_workspace(root, {}))
        item = catalog.item("a")
        assert item is not None, [str(p) for p in catalog.problems.errors]
        posts = Renderer(catalog).render_item(item)
        assert set(posts) == {"portal", "facebook", "zalo", "youtube", "telegram"}
        for post in posts.values():
            assert post.errors == ()
            assert_within_limits(post)
        portal_html = posts["portal"].calls[-1].payload["html"]
        body_html = portal_html.split("<article>")[1]
        assert tags_of(body_html).tags <= PORTAL_TAGS | {"article", "h1", "p"}
