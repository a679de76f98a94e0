"""The preview's data and server, without a browser (see test_preview_browser.py for that)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from starlette.testclient import TestClient

from publisher.adapters.base import Post
from publisher.catalog import load_catalog
from publisher.content.loadcache import CACHE_FILE
from publisher.content.model import ContentItem
from publisher.preview.app import PreviewState, allowed_hosts, create_app
from publisher.preview.links import ServerLinks
from publisher.preview.mockups import _fold
from publisher.preview.pages import is_web_url, render_page
from publisher.preview.views import PreviewData
from publisher.render.service import Renderer
from publisher.store.database import open_workspace_store
from publisher.store.deliveries import utcnow
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder

LONG_ARTICLE = "nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia"
FOLDER_ITEM = "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan"
INFOGRAPHIC = "nuoc-rut-2026/infographic/ket-qua-10-thang"
VIDEO = "nuoc-rut-2026/video/huong-dan-cai-dat-vssid"
COVER = "content/nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan/anh-bia.jpg"
BASE_URL = "http://127.0.0.1:8765"  # the Host the preview answers to, as `publisher preview` binds
PATIENCE = 300  # seconds: a safety net for a hung server on a loaded machine, never a measure


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .conftest import copy_sample

    return copy_sample(tmp_path_factory.mktemp("preview") / "ws")


@pytest.fixture(scope="module")
def data(sample: Path) -> PreviewData:
    return PreviewData.build(load_catalog(open_workspace(sample, {})), [])


def test_item_context_has_every_channel_mock_from_the_rendered_post(
    data: PreviewData, sample: Path
) -> None:
    item = data.catalog.item(FOLDER_ITEM)
    assert item is not None
    context = data.item(item, ServerLinks(sample))
    by_name = {c["name"]: c for c in context["channels"]}
    assert set(by_name) == set(item.channels)
    facebook = by_name["facebook"]["mock"]
    assert len(facebook["photos"]) == 3 and facebook["text"].startswith("Đừng vội rút BHXH")
    assert all(url.startswith("/files/.publisher/cache/") for url in facebook["photos"])
    zalo = by_name["zalo"]["mock"]
    assert zalo["cover"].startswith("/files/") and any(b["type"] == "image" for b in zalo["blocks"])
    telegram = by_name["telegram"]["mock"]
    assert len(telegram["photos"]) == 3 and telegram["messages_html"]
    assert by_name["portal"]["mock"]["page_url"] == f"/portal/{FOLDER_ITEM}"
    counts = by_name["facebook"]["counts"][0]
    assert counts["field"] == "message" and counts["within"] and 0 < counts["percent"] < 100


def test_portal_page_serves_its_media_through_the_preview(data: PreviewData, sample: Path) -> None:
    item = data.catalog.item(FOLDER_ITEM)
    assert item is not None
    html = data.portal_page(item, ServerLinks(sample))
    assert "https://bhxh.example.gov.vn/media/" not in html and 'src="/files/' in html


def test_facebook_folds_long_posts_at_a_word() -> None:
    text = "Một hai ba " * 100
    fold = _fold(text)
    assert fold <= 480 and text[fold] == " "
    assert _fold("a\nb\nc\nd\ne\nf\ng") == 9  # after five lines
    assert _fold("ngắn") == 4


def test_calendar_marks_sprint_and_blackout_days(data: PreviewData, sample: Path) -> None:
    (december,) = data.calendar(ServerLinks(sample))["months"]
    cells = {c["date"]: c for week in december["weeks"] for c in week if c["in_month"]}
    assert len(cells) == 31
    assert cells["22/12/2026"]["blackout"] and cells["22/12/2026"]["posts"] == []
    assert cells["15/12/2026"]["sprint"] and not cells["14/12/2026"]["sprint"]
    first = cells["01/12/2026"]["posts"]
    assert {p["channel"] for p in first} >= {"portal", "facebook"} and first[0]["time"] == "08:00"


def test_index_counts_problems_per_channel(data: PreviewData, sample: Path) -> None:
    rows = {r["id"]: r for r in data.index(ServerLinks(sample))["items"]}
    assert len(rows) == 13
    zalo = next(c for c in rows[LONG_ARTICLE]["channels"] if c["name"] == "zalo")
    assert zalo["warnings"] == 1 and zalo["errors"] == 0  # the generated cover
    assert rows["nuoc-rut-2026/thu-cam-on-tong-ket-nam"]["state"] == "not planned"  # a draft
    assert rows[LONG_ARTICLE]["next_at"] == "01/12/2026 08:00"


@pytest.fixture(scope="module")
def client(sample: Path) -> TestClient:
    app = create_app(PreviewState(open_workspace(sample, {})), live_reload=False)
    return TestClient(app, base_url=BASE_URL)


def test_pages_answer(client: TestClient) -> None:
    for path in ("/", "/calendar", "/status", f"/items/{LONG_ARTICLE}", f"/portal/{FOLDER_ITEM}"):
        answer = client.get(path)
        assert answer.status_code == 200, path
    assert client.get("/items/no/such/item").status_code == 404
    assert "Đừng vội rút BHXH" in client.get(f"/items/{FOLDER_ITEM}").text


def test_files_are_served_only_from_content_and_caches(client: TestClient, sample: Path) -> None:
    (sample / ".env").write_text("TELEGRAM_BOT_TOKEN=secret\n")
    assert client.get(f"/files/{COVER}").status_code == 200
    for refused in (
        ".env",
        "channels/telegram.yaml",
        ".publisher/state.db",
        "../etc/passwd",
        "content/../.env",
    ):
        assert client.get(f"/files/{refused}").status_code == 404, refused


def _listening_addresses(port: int) -> set[str]:
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            host, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                addresses.add(host)
    return addresses


def _status_for_host(port: int, host: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    try:
        connection.request("GET", "/static/preview.css", headers={"Host": host})
        return connection.getresponse().status
    finally:
        connection.close()


def test_preview_listens_on_loopback_only_by_default(sample: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    server = subprocess.Popen(
        [sys.executable, "-m", "publisher", "--root", str(sample), "preview", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not _listening_addresses(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
        assert _status_for_host(port, f"127.0.0.1:{port}") == 200
        assert _status_for_host(port, f"localhost:{port}") == 200
        assert _status_for_host(port, f"rebound.example:{port}") == 400
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_static_export_has_every_page_with_working_relative_links(
    sample: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from publisher.cli import main

    out = tmp_path / "approval"
    result = CliRunner().invoke(main, ["--root", str(sample), "preview", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = [out / "index.html", out / "calendar.html", out / "status.html"]
    pages += sorted((out / "items").glob("*.html")) + sorted((out / "portal").glob("*.html"))
    assert len(list((out / "items").glob("*.html"))) == 13
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "data-live-reload" not in html and 'src="/files/' not in html
        for reference in re.findall(r'(?:src|href)="([^"#?]+)"', html):
            if reference.startswith(("http://", "https://", "mailto:", "tel:")):
                continue
            assert (page.parent / unquote(reference)).resolve().exists(), (page.name, reference)


def test_an_unplanned_post_says_why_on_its_item_page(workspace: WorkspaceBuilder) -> None:
    """The portal has one slot, Facebook two: b's Facebook post would link to an article
    that never goes out, and its page says so (the calendar is years ahead of any clock)."""
    workspace.write(
        "schedules.yaml",
        "timezone: Asia/Ho_Chi_Minh\ncampaigns:\n  - id: t\n    name: T\n"
        "    start: 2099-12-01\n    end: 2099-12-01\n    channels:\n"
        "      portal: {slots: [{days: daily, times: ['08:00']}]}\n"
        "      facebook: {slots: [{days: daily, times: ['09:00', '10:00']}]}\n",
    )
    workspace.article("a.md", "title: A\ndate: 2026-11-01\nchannels: [portal, facebook]\n")
    workspace.article("b.md", "title: B\ndate: 2026-11-02\nchannels: [portal, facebook]\n")
    data = PreviewData.build(load_catalog(open_workspace(workspace.root, {})), [])
    item = data.catalog.item("b")
    assert item is not None

    channels = {c["name"]: c for c in data.item(item, ServerLinks(workspace.root))["channels"]}

    assert channels["facebook"]["warnings"][0] == (
        "not planned: its portal article has no slot, and this post links to it"
    )
    assert channels["portal"]["warnings"][0].startswith("not planned: no free slot")
    a = data.catalog.item("a")
    assert a is not None
    assert not any(
        w.startswith("not planned") for c in data.item(a, ServerLinks(workspace.root))["channels"]
        for w in c["warnings"]
    )


# -- what the server answers, and to whom -----------------------------------------------------
def test_a_foreign_host_name_is_refused(client: TestClient) -> None:
    """DNS rebinding: a page elsewhere points its own name at 127.0.0.1 and reads the preview.
    Only the address the preview listens on (and its loopback names) gets an answer."""
    paths = ("/", "/status", f"/items/{FOLDER_ITEM}", f"/files/{COVER}", "/static/preview.js")
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example:8765", "[::2]"):
        for path in paths:
            answer = client.get(path, headers={"host": host})
            assert answer.status_code == 400, (host, path)
            assert "Đừng vội" not in answer.text and len(answer.text) < 200
    for host in ("127.0.0.1:8765", "localhost:8765", "LocalHost:8765", "[::1]:8765", "127.0.0.1"):
        assert client.get("/status", headers={"host": host}).status_code == 200, host


def test_a_preview_bound_to_one_address_answers_only_to_it(sample: Path) -> None:
    state = PreviewState(open_workspace(sample, {}))
    client = TestClient(create_app(state, live_reload=False, host="192.168.1.20"))
    assert client.get("/status", headers={"host": "192.168.1.20:8765"}).status_code == 200
    assert client.get("/status", headers={"host": "localhost:8765"}).status_code == 400
    assert allowed_hosts("::1") == ["[::1]", "127.0.0.1", "localhost"]
    assert allowed_hosts("0.0.0.0") == ["0.0.0.0", "127.0.0.1", "localhost", "[::1]"]
    assert allowed_hosts("preview.bhxh.lan") == ["preview.bhxh.lan"]


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path, host in (
        ("/", "127.0.0.1:8765"),
        (f"/items/{FOLDER_ITEM}", "127.0.0.1:8765"),
        (f"/portal/{FOLDER_ITEM}", "127.0.0.1:8765"),
        ("/calendar", "127.0.0.1:8765"),
        ("/status", "127.0.0.1:8765"),
        ("/static/preview.css", "127.0.0.1:8765"),
        (f"/files/{COVER}", "127.0.0.1:8765"),
        ("/items/no/such/item", "127.0.0.1:8765"),
        ("/files/.env", "127.0.0.1:8765"),
        ("/", "evil.example"),
    ):
        headers = client.get(path, headers={"host": host}).headers
        assert headers["x-frame-options"] == "SAMEORIGIN", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path


class _InlineCode(HTMLParser):
    """Collects what a strict Content-Security-Policy would block: inline scripts, inline
    styles (elements and attributes) and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or (tag == "script" and "src" not in names):
            self.found.append(f"<{tag}>")
        self.found += [f"<{tag} {n}>" for n in names if n == "style" or n.startswith("on")]


def test_pages_need_no_inline_script_or_style(client: TestClient) -> None:
    """The policy allows scripts and styles from /static/ only: pages must not need more."""
    for path in (
        "/",
        "/?lang=en",
        "/calendar",
        "/status",
        f"/items/{FOLDER_ITEM}",
        f"/items/{LONG_ARTICLE}",
        f"/items/{INFOGRAPHIC}",
        f"/items/{VIDEO}",
        "/items/no/such/item",
    ):
        parser = _InlineCode()
        parser.feed(client.get(path).text)
        assert parser.found == [], path


def test_the_portal_page_allows_its_own_style_and_nothing_else(client: TestClient) -> None:
    answer = client.get(f"/portal/{FOLDER_ITEM}")
    (style,) = re.findall(r"<style>(.*?)</style>", answer.text, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = answer.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in policy and "script-src" not in policy


# -- /files/: only what the items show, never active content ----------------------------------
def test_files_serve_only_what_the_items_show(workspace: WorkspaceBuilder) -> None:
    workspace.image("content/a/anh-bia.jpg", (1200, 630), fmt="JPEG")
    workspace.write(
        "content/a/so-do.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>fetch('/status')</script></svg>",
    )
    workspace.write("content/a/trang.html", "<script>fetch('/status')</script>")
    workspace.article(
        "a/index.md",
        "title: A\ndate: 2026-11-01\ncover: anh-bia.jpg\nchannels: [portal, facebook, zalo]\n",
        "Xem [sơ đồ](so-do.svg) và [trang](trang.html).\n",
    )
    workspace.image("content/khong-dung.png")
    workspace.write("content/.git/config", "[remote]\n\turl = https://x:ghp_secret@example.com/r\n")
    workspace.write("content/tool.js", "fetch('/status')")
    workspace.write("content/feed.xml", "<rss/>")
    client = TestClient(
        create_app(PreviewState(open_workspace(workspace.root, {})), live_reload=False),
        base_url=BASE_URL,
    )
    page = client.get("/items/a").text + client.get("/portal/a").text
    shown = set(re.findall(r'src="(/files/[^"]+)"', page))
    assert any("/.publisher/cache/" in url for url in shown)
    for url in shown:
        answer = client.get(unquote(url))
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/")
    assert client.get("/files/content/a/anh-bia.jpg").status_code == 200  # the item's asset
    assert (workspace.root / f".publisher/cache/{CACHE_FILE}").is_file()
    for refused in (
        "content/.git/config",
        "content/a/so-do.svg",  # an item's files, but active content
        "content/a/trang.html",
        "content/khong-dung.png",  # used by no item
        "content/tool.js",
        "content/feed.xml",
        "content/a/index.md",
        f".publisher/cache/{CACHE_FILE}",
        ".publisher/state.db",
    ):
        assert client.get(f"/files/{refused}").status_code == 404, refused


def test_odd_file_paths_get_a_clean_refusal(client: TestClient) -> None:
    for odd in (
        "content/..%00/.env",
        "%00",
        f"{COVER}%00.jpg",
        "content%2F..%2F.env",
        "content/..%2F..%2F.env",
        "..%5C..%5C.env",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "content/" + "a" * 5000 + ".jpg",
        "content/" + "ả" * 400 + ".jpg",
        "content/%ff%fe.jpg",
    ):
        assert client.get(f"/files/{odd}").status_code in (400, 404), odd


# -- links built from stored or content-derived values ----------------------------------------
def test_only_web_addresses_are_links() -> None:
    assert is_web_url("https://www.facebook.com/123_456") and is_web_url("HTTP://portal.vn/a")
    for value in (
        "javascript:fetch('/status')",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//evil.example/x",
        "https:alert(1)",
        "https:// space.example",
        "",
        None,
    ):
        assert not is_web_url(value), value


def test_a_delivery_address_that_is_not_a_web_address_is_no_link(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.article("a.md", "title: A\ndate: 2026-11-01\nchannels: [portal, facebook]\n")
    store = open_workspace_store(open_workspace(workspace.root, {}))
    now = utcnow()
    store.deliveries.announce([("a", "portal", "test", now), ("a", "facebook", "test", now)], now)
    urls = {"portal": "https://bhxh.example.gov.vn/a", "facebook": "javascript:fetch('/status')"}
    for delivery in store.deliveries.all():
        url = urls[delivery.channel]
        store.deliveries.change(
            delivery, "published", now, state="published", url=url, published_at=now
        )
    store.close()
    client = TestClient(
        create_app(PreviewState(open_workspace(workspace.root, {})), live_reload=False),
        base_url=BASE_URL,
    )
    html = client.get("/status").text
    assert 'href="https://bhxh.example.gov.vn/a"' in html
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', html)).lower()
    assert "javascript:fetch(&#39;/status&#39;)" in html  # shown, as text


def test_a_link_card_to_a_non_web_address_is_no_link(data: PreviewData, sample: Path) -> None:
    item = data.catalog.item(LONG_ARTICLE)
    assert item is not None
    context = data.item(item, ServerLinks(sample))
    facebook = next(c for c in context["channels"] if c["name"] == "facebook")
    facebook["mock"]["link"]["url"] = "javascript:fetch('/status')"
    html = render_page(
        "item.html",
        context,
        links=ServerLinks(sample),
        lang="vi",
        other_lang_url="",
        live_reload=False,
        workspace_name="ws",
        generated_at="",
    )
    assert 'class="fb-link"' in html
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', html)).lower()


# -- rendering off the event loop -------------------------------------------------------------
@pytest.fixture
def slow_render(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, ...]]:
    """Rendering FOLDER_ITEM blocks until the test sets `release`; `started` says it began."""
    started, release = threading.Event(), threading.Event()
    render = Renderer.render

    def slow(self: Renderer, item: ContentItem, channel: str) -> Post:
        if item.id == FOLDER_ITEM:
            started.set()
            release.wait()
        return render(self, item, channel)

    monkeypatch.setattr(Renderer, "render", slow)
    try:
        yield started, release
    finally:
        release.set()  # never leave a render thread behind


def test_a_slow_render_holds_up_neither_static_files_nor_other_pages(
    sample_copy: Path, slow_render: tuple[threading.Event, ...]
) -> None:
    started, release = slow_render
    state = PreviewState(open_workspace(sample_copy, {}))
    app = create_app(state, live_reload=False, render_limit=PATIENCE)  # no "preparing" page
    with TestClient(app, base_url=BASE_URL) as client, ThreadPoolExecutor(2) as pool:
        assert client.get(f"/items/{LONG_ARTICLE}").status_code == 200  # drawn once already
        slow = pool.submit(client.get, f"/items/{FOLDER_ITEM}")
        assert started.wait(PATIENCE)
        paths = ("/static/preview.css", "/status", "/calendar", f"/items/{LONG_ARTICLE}")
        others = pool.submit(lambda: [client.get(path).status_code for path in paths])
        try:
            answered = others.result(timeout=PATIENCE)  # while the slow render still blocks
        finally:
            release.set()
        assert answered == [200, 200, 200, 200]
        assert slow.result(timeout=PATIENCE).status_code == 200


def test_a_page_slower_than_the_limit_says_it_is_being_prepared(
    sample_copy: Path, slow_render: tuple[threading.Event, ...]
) -> None:
    started, release = slow_render
    state = PreviewState(open_workspace(sample_copy, {}))
    app = create_app(state, live_reload=False, render_limit=0.5)
    with TestClient(app, base_url=BASE_URL) as client:
        try:
            first = client.get(f"/items/{FOLDER_ITEM}")  # the render blocks until released
        finally:
            release.set()
        assert first.status_code == 503
        assert first.headers["retry-after"] and 'http-equiv="refresh"' in first.text
        assert "Đang chuẩn bị" in first.text and "Đừng vội rút BHXH" not in first.text
        deadline = time.monotonic() + PATIENCE
        answer = client.get(f"/items/{FOLDER_ITEM}")  # the render went on in the background
        while answer.status_code == 503 and time.monotonic() < deadline:
            answer = client.get(f"/items/{FOLDER_ITEM}")
        assert answer.status_code == 200 and "Đừng vội rút BHXH" in answer.text
        assert started.is_set()


def test_a_damaged_store_is_shown_on_the_status_page_not_a_crash(
    workspace: WorkspaceBuilder,
) -> None:
    """The preview did not even start with a damaged state store."""
    workspace.article("a.md", "title: Bài A\n")
    state_db = workspace.root / ".publisher" / "state.db"
    state_db.parent.mkdir(exist_ok=True)
    state_db.write_bytes(b"garbage!" * 512)
    app = create_app(PreviewState(open_workspace(workspace.root, {})), live_reload=False)
    client = TestClient(app, base_url=BASE_URL)

    index, status = client.get("/"), client.get("/status")

    assert index.status_code == status.status_code == 200
    assert "cannot be read (file is not a database)" in status.text
    assert "Không đọc được kho trạng thái" in status.text


def test_the_export_gives_every_item_and_image_its_own_file(
    workspace: WorkspaceBuilder, tmp_path: Path
) -> None:
    """`t/a/b` and `t/a__b` wrote one page (an approver saw the other item's text); two
    items' `anh.png` one image; a 250-byte file name aborted the export half-written."""
    from click.testing import CliRunner

    from publisher.cli import main

    workspace.image("content/t/a/b/anh.png", (640, 480))
    workspace.article("t/a/b/index.md", "title: Bài B\n", "Văn bản B.\n\n![Ảnh](anh.png)\n")
    workspace.image("content/t/a__b/anh.png", (320, 240), mode="RGB")
    workspace.article("t/a__b/index.md", "title: Bài A__B\n", "Văn bản A__B.\n\n![Ảnh](anh.png)\n")
    long_name = "tin-" + "rat-dai-" * 30 + "het"
    workspace.article(f"{long_name}.md", "title: Bài có tên rất dài\n")
    out = tmp_path / "approval"

    result = CliRunner().invoke(main, ["--root", str(workspace.root), "preview", "--out", str(out)])

    assert result.exit_code == 0, result.output
    pages = [p.read_text(encoding="utf-8") for p in (out / "items").glob("*.html")]
    assert len(pages) == 3
    [b] = [page for page in pages if "Văn bản B." in page]
    [a_b] = [page for page in pages if "Văn bản A__B." in page]
    images = [set(re.findall(r'src="\.\./files/([^"]+)"', page)) for page in (b, a_b)]
    assert images[0] and images[1] and not images[0] & images[1]  # each its own photo
    assert all(len(p.name.encode()) <= 255 for p in out.rglob("*"))
