"""The hostile input corpus: every case beside good items, through `publisher check --json`.

`tests/data/hostile/cases/` holds one small workspace fragment per case (a Markdown file, or
a folder with the files it uses); cases too big or too odd to commit (20 MB files, symlinks,
a named pipe, a decompression bomb) are made at test time by the GENERATORS below. Every
case is copied to `content/hostile/`, and `tests/data/hostile/good/` to `content/good/`, in
one workspace checked once per module. `cases.yaml` says what each case must produce:

    case-name:
      expect: error | warning | ok   # ok: loads without a loading warning
      message: "..."                 # part of the problem's message
      line: 3                        # its line, when the case has one
      file: x/anh.md                 # the file named, under content/hostile/ (default: the case)
      item: hostile/x/anh            # the item that must (or must not) load; null: none
      render: true                   # render it and audit the portal and Telegram HTML
      absent: ["..."]                # text no rendered post may contain
      also: [{message: ..., line: ...}]  # more problems the case must produce

Throughout, no network connection may be opened: remote images are refused, never fetched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from publisher.cli import main
from publisher.store.database import open_store

from .conftest import WorkspaceBuilder
from .forged_images import gif_bytes, png_bytes, webp_bytes

CORPUS = Path(__file__).parent / "data" / "hostile"
CASES: dict[str, dict[str, Any]] = yaml.safe_load(
    (CORPUS / "cases.yaml").read_text(encoding="utf-8")
)
GOOD_ITEMS = ("good/bai-co-anh", "good/bai-viet-tot", "good/infographic", "good/video")
MB = 1024 * 1024


# ---- cases made at test time -------------------------------------------------------------


def _front(title: str) -> bytes:
    return f"---\ntitle: {title}\n---\n".encode()


def _sparse(path: Path, head: bytes, size: int) -> None:
    """A file of `size` bytes that takes no room on disk: `head`, then a hole."""
    with path.open("wb") as file:
        file.write(head)
        file.truncate(size)


def _symlink(link: Path, target: Path) -> None:
    try:
        link.symlink_to(target)
    except (OSError, NotImplementedError) as exc:  # Windows without the privilege
        pytest.skip(f"symlinks are not available here: {exc}")


@dataclass(frozen=True)
class Place:
    """Where a generated case goes: content/hostile/, and a folder outside the workspace."""

    hostile: Path
    outside: Path


def gen_huge_20mb(place: Place, name: str) -> None:
    _sparse(place.hostile / f"{name}.md", _front("Hai mươi MB") + b"x" * 100, 20 * MB)


def gen_huge_5mb_line(place: Place, name: str) -> None:
    (place.hostile / f"{name}.md").write_bytes(_front("Một dòng 5 MB") + b"a" * (5 * MB) + b"\n")


def gen_front_matter_10000_lines(place: Place, name: str) -> None:
    keys = "".join(f"  - thẻ {i}\n" for i in range(10_000))
    text = f"---\ntitle: Front matter dài\ntags:\n{keys}---\nNội dung.\n"
    (place.hostile / f"{name}.md").write_text(text, encoding="utf-8")


def gen_huge_backslashes(place: Place, name: str) -> None:
    body = "\\" * 600_000
    (place.hostile / f"{name}.md").write_text(f"---\ntitle: T\n---\n{body}\n", encoding="utf-8")


def gen_huge_nested_lists(place: Place, name: str) -> None:
    body = "".join("    " * level + "- mục\n" for level in range(150))
    (place.hostile / f"{name}.md").write_text(f"---\ntitle: T\n---\n{body}", encoding="utf-8")


def gen_huge_nested_lists_loose(place: Place, name: str) -> None:
    body = "".join("  " * level + "- mục\n\n" for level in range(150))
    (place.hostile / f"{name}.md").write_text(f"---\ntitle: T\n---\n{body}", encoding="utf-8")


def gen_huge_line_count(place: Place, name: str) -> None:
    body = "dòng\n" * 30_000
    (place.hostile / f"{name}.md").write_text(f"---\ntitle: T\n---\n{body}", encoding="utf-8")


def gen_huge_headings_without_blank_lines(place: Place, name: str) -> None:
    body = "".join(f"## Mục {i}\nMột câu.\n" for i in range(8_000))
    (place.hostile / f"{name}.md").write_text(f"---\ntitle: T\n---\n{body}", encoding="utf-8")


def gen_huge_video_50mb(place: Place, name: str) -> None:
    folder = place.hostile / name
    folder.mkdir()
    _sparse(folder / "video.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(16), 50 * MB)
    (folder / "video.md").write_bytes(_front("Video 50 MB"))


def gen_img_bomb(place: Place, name: str) -> None:
    folder = place.hostile / name
    folder.mkdir()
    (folder / "anh.png").write_bytes(png_bytes(40_000, 40_000))
    (folder / "anh.md").write_bytes(_front("Bom giải nén"))


def gen_img_bomb_in_body(place: Place, name: str) -> None:
    folder = place.hostile / name
    folder.mkdir()
    (folder / "bom.png").write_bytes(png_bytes(65_000, 65_000))
    (folder / "index.md").write_bytes(_front("Bom trong bài") + b"\n![bom](bom.png)\n")


def _infographic(place: Place, name: str, file: str, data: bytes) -> None:
    folder = place.hostile / name
    folder.mkdir()
    (folder / file).write_bytes(data)
    (folder / "anh.md").write_bytes(_front("Ảnh quá lớn để giải mã"))


def gen_img_gif_huge_screen(place: Place, name: str) -> None:
    _infographic(place, name, "anh.gif", gif_bytes(9400, 9400))


def gen_img_webp_huge_canvas(place: Place, name: str) -> None:
    _infographic(place, name, "anh.webp", webp_bytes(16383, 5400))


def gen_img_png_16_bit_huge(place: Place, name: str) -> None:
    _infographic(place, name, "anh.png", png_bytes(9400, 9400, depth=16))


def _article_with_gifs(place: Place, name: str, count: int, side: int) -> None:
    folder = place.hostile / name
    folder.mkdir()
    for index in range(count):
        (folder / f"g{index}.gif").write_bytes(gif_bytes(side, side))
    body = "".join(f"\n![ảnh {index}](g{index}.gif)\n" for index in range(count))
    (folder / "index.md").write_bytes(_front("Nhiều ảnh GIF") + body.encode())


def gen_img_eight_huge_gifs(place: Place, name: str) -> None:
    _article_with_gifs(place, name, 8, 9400)


def gen_img_item_over_budget(place: Place, name: str) -> None:
    _article_with_gifs(place, name, 9, 6000)


def gen_img_item_too_many(place: Place, name: str) -> None:
    _article_with_gifs(place, name, 101, 16)


def _with_cover(place: Place, name: str, target: Path) -> None:
    """An article of its own folder whose cover is a symlink to `target`."""
    folder = place.hostile / name
    folder.mkdir()
    _symlink(folder / "bia.png", target)
    (folder / "index.md").write_bytes(b"---\ntitle: T\ncover: bia.png\n---\nx\n")


def gen_symlink_cover_outside(place: Place, name: str) -> None:
    _with_cover(place, name, place.outside / "secret.png")


def gen_symlink_markdown_outside(place: Place, name: str) -> None:
    _symlink(place.hostile / f"{name}.md", place.outside / "secret.md")


def gen_symlink_media_outside(place: Place, name: str) -> None:
    folder = place.hostile / name
    folder.mkdir()
    _symlink(folder / "anh.png", place.outside / "secret.png")
    (folder / "anh.md").write_bytes(_front("Ảnh là liên kết ra ngoài"))


def gen_symlink_folder_outside(place: Place, name: str) -> None:
    _symlink(place.hostile / name, place.outside / "folder")


def gen_symlink_loop(place: Place, name: str) -> None:
    _with_cover(place, name, place.hostile / name / "bia.png")


def gen_symlink_to_env(place: Place, name: str) -> None:
    _with_cover(place, name, place.hostile.parent.parent / ".env")


def gen_fifo_markdown(place: Place, name: str) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    os.mkfifo(place.hostile / f"{name}.md")


def gen_filename_not_unicode(place: Place, name: str) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("the file system only stores valid Unicode names")
    folder = place.hostile / name
    folder.mkdir()
    name_bytes = os.fsencode(folder) + b"/t\xean-t\xe9p.md"  # "tên tệp" in Latin-1 bytes
    Path(os.fsdecode(name_bytes)).write_bytes(_front("Tên tệp hỏng"))


GENERATORS: dict[str, Callable[[Place, str], None]] = {
    name.removeprefix("gen_").replace("_", "-"): function
    for name, function in dict(globals()).items()
    if name.startswith("gen_")
}


def _outside(folder: Path) -> None:
    """Files beside the workspace that no case may reach."""
    folder.mkdir()
    Image.new("RGB", (32, 32), "red").save(folder / "secret.png")
    (folder / "secret.md").write_text("---\ntitle: Bí mật ngoài workspace\n---\nx\n")
    (folder / "folder").mkdir()
    (folder / "folder" / "index.md").write_text("---\ntitle: Thư mục ngoài\n---\nx\n")


# ---- the workspace, checked once ---------------------------------------------------------


@dataclass
class Corpus:
    root: Path
    exit_code: int
    output: str
    exception: BaseException | None
    document: dict[str, Any]
    skipped: dict[str, str]

    @property
    def items(self) -> set[str]:
        return {item["id"] for item in self.document["items"]}

    def problems(self, prefix: str) -> list[dict[str, Any]]:
        found = []
        for severity in ("errors", "warnings"):
            for problem in self.document[severity]:
                if problem["file"] == prefix or problem["file"].startswith(prefix + "/"):
                    found.append({**problem, "severity": severity[:-1]})
        return found


@pytest.fixture(scope="module")
def network_calls() -> Iterator[list[str]]:
    """Every attempt to open a connection (or look up a name) is recorded and refused."""
    calls: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            calls.append(f"{what}{args[:2]!r}")
            raise OSError(f"test_hostile_inputs: no network allowed ({what})")

        return refused

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "create_connection", refuse("create_connection"))
        patch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
        patch.setattr(socket.socket, "connect", refuse("socket.connect"))
        patch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
        yield calls


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, network_calls: list[str]) -> Corpus:
    base = tmp_path_factory.mktemp("hostile")
    root = base / "ws"
    WorkspaceBuilder(root).standard_settings()
    (root / ".env").write_text("TELEGRAM_BOT_TOKEN=not-a-real-token\n")
    _outside(base / "outside")
    shutil.copytree(CORPUS / "good", root / "content" / "good")
    hostile = root / "content" / "hostile"
    hostile.mkdir()
    place = Place(hostile, base / "outside")
    skipped: dict[str, str] = {}
    for name, case in CASES.items():
        if "generate" in case:
            try:
                GENERATORS[case["generate"]](place, name)
            except pytest.skip.Exception as exc:
                skipped[name] = str(exc)
            continue
        source = CORPUS / "cases" / name
        if source.is_dir():
            shutil.copytree(source, hostile / name)
        else:
            shutil.copyfile(source.with_name(f"{name}.md"), hostile / f"{name}.md")
    result = CliRunner().invoke(main, ["--root", str(root), "check", "--json"])
    try:
        document = json.loads(result.stdout)
    except ValueError:
        document = {"items": [], "errors": [], "warnings": []}
    return Corpus(root, result.exit_code, result.output, result.exception, document, skipped)


def _case_file(name: str, case: dict[str, Any]) -> str:
    if "file" in case:
        return f"content/hostile/{case['file']}"
    folder = CORPUS / "cases" / name
    if folder.is_dir() and (folder / "index.md").exists():
        return f"content/hostile/{name}/index.md"
    return f"content/hostile/{name}.md"


def _case_item(name: str, case: dict[str, Any]) -> str | None:
    return case.get("item", f"hostile/{name}")


def _matches(problem: dict[str, Any], expected: dict[str, Any], severity: str) -> bool:
    return (
        problem["severity"] == severity
        and problem["file"] == expected["file"]
        and expected["message"] in problem["message"]
        and ("line" not in expected or problem["line"] == expected["line"])
    )


# ---- the tests -----------------------------------------------------------------------------


def test_the_corpus_is_complete_and_small() -> None:
    committed = {p.name.removesuffix(".md") for p in (CORPUS / "cases").iterdir()}
    generated = {name for name, case in CASES.items() if "generate" in case}
    assert committed == set(CASES) - generated, "cases.yaml and cases/ disagree"
    assert {case["generate"] for name, case in CASES.items() if name in generated} <= set(
        GENERATORS
    )
    assert len(CASES) >= 50
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert size < 2 * MB, f"the committed corpus is {size} bytes"
    for name, case in CASES.items():
        assert case["expect"] in ("error", "warning", "ok"), name
        assert case["expect"] == "ok" or "message" in case, name


def test_check_survives_the_whole_corpus(corpus: Corpus) -> None:
    assert corpus.exception is None or isinstance(corpus.exception, SystemExit), repr(
        corpus.exception
    )
    assert corpus.exit_code == 1, corpus.output[-2000:]
    assert "Traceback" not in corpus.output
    assert corpus.document["items"], corpus.output[-2000:]


def test_good_items_load_cleanly_beside_the_corpus(corpus: Corpus) -> None:
    assert set(GOOD_ITEMS) <= corpus.items
    problems = corpus.problems("content/good")
    assert [p for p in problems if p["severity"] == "error"] == []
    assert [p for p in problems if p["channel"] is None] == []  # no loading warning


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(corpus: Corpus, name: str) -> None:
    if name in corpus.skipped:
        pytest.skip(corpus.skipped[name])
    case = CASES[name]
    file = _case_file(name, case)
    item = _case_item(name, case)
    problems = corpus.problems(f"content/hostile/{name}") + corpus.problems(file)
    shown = "\n".join(f"{p['severity']} {p['file']}:{p['line']} {p['message']}" for p in problems)
    expected = [
        {"file": file, **{k: v for k, v in case.items() if k in ("message", "line")}},
        *({"file": file, **extra} for extra in case.get("also", [])),
    ]
    errors = [p for p in problems if p["severity"] == "error"]
    if case["expect"] == "error":
        for one in expected:
            severity = one.pop("severity", "error")
            assert any(_matches(p, one, severity) for p in problems), f"{one}\nfound:\n{shown}"
        assert item is None or item not in corpus.items
        return
    assert errors == [], shown
    if item is not None:
        assert item in corpus.items, shown
    if case["expect"] == "warning":
        for one in expected:
            severity = one.pop("severity", "warning")
            assert any(_matches(p, one, severity) for p in problems), f"{one}\nfound:\n{shown}"
    else:
        assert [p for p in problems if p["channel"] is None] == [], shown


# ---- rendering: good items, script payloads and remote images ------------------------------

URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "srcset",
        "action",
        "formaction",
        "poster",
        "background",
        "cite",
        "data",
        "xlink:href",
        "longdesc",
        "lowsrc",
        "ping",
    }
)
URL_META = frozenset({"og:url", "og:image", "og:image:url", "og:image:secure_url", "og:video"})
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")


class HtmlAudit(HTMLParser):
    """What a browser would run: script elements, event handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.findings.append("<script> element")
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            url = "".join(c for c in value if c > " ").lower()  # browsers skip these in URLs
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}=...> event handler")
            elif name == "style" and ("javascript:" in url or "expression(" in url):
                self.findings.append(f"<{tag} style={value!r}>")
            elif name in URL_ATTRIBUTES and url.startswith(SCRIPT_SCHEMES):
                self.findings.append(f"<{tag} {name}={value!r}>")
        if tag == "meta" and (
            values.get("property") in URL_META or values.get("http-equiv", "").lower() == "refresh"
        ):
            content = "".join(c for c in values.get("content", "") if c > " ").lower()
            if any(scheme in content for scheme in SCRIPT_SCHEMES):
                self.findings.append(f"<meta content={values.get('content')!r}>")

    handle_startendtag = handle_starttag


def audit_html(html: str) -> list[str]:
    parser = HtmlAudit()
    parser.feed(html)
    parser.close()
    return parser.findings


def test_the_audit_sees_what_a_browser_would_run() -> None:
    assert audit_html("<p>&lt;script&gt; javascript:alert(1)</p><a href='https://x.vn'>x</a>") == []
    for html in (
        "<SCRIPT>alert(1)</SCRIPT>",
        "<img src=x OnError=alert(1)>",
        '<a href=" JaVa\tScRiPt:alert(1)">x</a>',
        "<a href='vbscript:msgbox'>x</a>",
        "<img src='data:image/svg+xml,<svg onload=alert(1)>'>",
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        "<p style='background:url(javascript:alert(1))'>x</p>",
    ):
        assert audit_html(html), html


def _rendered_html(posts: dict[str, Any]) -> dict[str, list[str]]:
    """The portal's pages and Telegram's messages and captions, by channel."""
    found: dict[str, list[str]] = {"portal": [], "telegram": []}
    for request in posts.get("portal", {}).get("requests", []):
        payload = request["payload"]
        found["portal"].extend(v for k, v in payload.items() if k in ("html", "content"))
    for request in posts.get("telegram", {}).get("requests", []):
        payload = request["payload"]
        texts = [payload.get("text"), payload.get("caption")]
        texts.extend(media.get("caption") for media in payload.get("media", []))
        found["telegram"].extend(text for text in texts if text)
    return found


def _render(corpus: Corpus, item: str) -> tuple[int, str, dict[str, Any]]:
    result = CliRunner().invoke(main, ["--root", str(corpus.root), "render", item, "--json"])
    assert "Traceback" not in result.output, result.output[-3000:]
    return result.exit_code, result.output, json.loads(result.stdout) if result.stdout else {}


RENDERED = sorted(
    [*GOOD_ITEMS, *(_case_item(name, case) for name, case in CASES.items() if case.get("render"))]
)


@pytest.mark.parametrize("item", RENDERED)
def test_rendered_html_runs_nothing(corpus: Corpus, item: str) -> None:
    code, output, document = _render(corpus, item)
    assert code == 0, output[-3000:]
    posts = document["posts"]
    assert {"portal", "telegram"} <= set(posts)
    for channel, htmls in _rendered_html(posts).items():
        assert htmls, f"no {channel} HTML"
        for html in htmls:
            assert audit_html(html) == [], (channel, html[:3000])
    name = item.removeprefix("hostile/").split("/")[0]
    dumped = json.dumps(posts, ensure_ascii=False)
    for text in CASES.get(name, {}).get("absent", []):
        assert text not in dumped, f"{text!r} reached a rendered post"


def test_no_network_connection_was_attempted(corpus: Corpus, network_calls: list[str]) -> None:
    assert corpus.document["items"]  # the whole corpus was checked (and rendered) by now
    assert network_calls == []


def test_the_rest_of_the_campaign_still_publishes(corpus: Corpus) -> None:
    """A rehearsal of the whole workspace: the good items go out, the broken ones never."""
    command = ["--root", str(corpus.root), "run", "--rehearse", "--from", "2026-12-01"]
    result = CliRunner().invoke(main, [*command, "--to", "2026-12-31"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    store = open_store(corpus.root / ".publisher" / "rehearsal")
    try:
        deliveries = store.deliveries.all()
    finally:
        store.close()
    published = {d.item_id for d in deliveries if d.state == "published"}
    assert set(GOOD_ITEMS) <= published, result.output[-2000:]
    refused = {_case_item(n, c) for n, c in CASES.items() if c["expect"] == "error"}
    assert not refused & {d.item_id for d in deliveries}
    assert {d.state for d in deliveries} == {"published"}, result.output[-2000:]
