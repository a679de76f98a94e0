import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main

from .conftest import REPO_ROOT, WorkspaceBuilder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def check_json(root: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["--root", str(root), "check", "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_sample_workspace_is_clean(sample_copy: Path) -> None:
    code, document = check_json(sample_copy)
    assert document["errors"] == []
    # Articles without a photo are flagged once per channel that needs an image.
    assert {w["message"].split(":")[0] for w in document["warnings"]} == {"no cover image"}
    assert code == 0
    kinds = [item["kind"] for item in document["items"]]
    assert len(kinds) >= 10
    assert kinds.count("infographic") >= 3 and kinds.count("video") >= 2
    assert any(item["status"] == "draft" for item in document["items"])
    assert {c["name"]: c["mode"] for c in document["channels"]} == dict.fromkeys(
        ("portal", "facebook", "zalo", "youtube", "telegram"), "outbox"
    )


def test_json_contract(workspace: WorkspaceBuilder) -> None:
    workspace.article("a.md", "title: A\nstatus: draft\n")
    workspace.article("b.md", "title: B\ntitel: x\n")
    code, document = check_json(workspace.root)
    assert code == 1
    assert set(document) >= {"items", "errors", "warnings", "channels"}
    assert document["items"] == [
        {
            "id": "a",
            "path": "content/a.md",
            "kind": "article",
            "title": "A",
            "status": "draft",
            "channels": ["portal", "facebook", "zalo", "telegram"],
            "priority": "normal",
            "content_hash": document["items"][0]["content_hash"],
        }
    ]
    assert document["errors"] == [
        {
            "file": "content/b.md",
            "line": 3,
            "channel": None,
            "message": "unknown key 'titel' (did you mean 'title'?)",
        }
    ]


@pytest.fixture
def broken(workspace: WorkspaceBuilder, tmp_path: Path) -> WorkspaceBuilder:
    """One file per kind of bad input the issue names, plus good items that must still load."""
    w = workspace
    w.article("good/bai-tot.md", 'title: "Bài viết hợp lệ"\n')
    w.image("content/good/info.png", size=(1080, 1350))
    w.article("good/info.md", "title: Infographic hợp lệ\n")
    w.write("content/bad/unclosed.md", "---\ntitle: Chưa đóng\n\nNội dung\n")
    w.article("bad/invalid-yaml.md", "title: [Thiếu ngoặc\ntags: a\n")
    w.article("bad/no-title.md", "summary: Không có tiêu đề\n")
    w.article("bad/unknown-key.md", "title: T\nsumary: S\n")
    w.article("bad/unknown-channel.md", "title: T\nchannels: [portal, zalo-oa]\n")
    w.article("bad/missing-image.md", "title: T\n", "![Ảnh](khong-co.jpg)\n")
    (tmp_path / "ngoai.jpg").write_bytes((w.root / "content/good/info.png").read_bytes())
    w.article("bad/outside-image.md", "title: T\ncover: ../../../ngoai.jpg\n")
    w.write("content/bad/corrupt.png", b"\x89PNG\r\n\x1a\n garbage")
    w.article("bad/corrupt.md", "title: Ảnh hỏng\n")
    w.write("content/bad/zero.md", b"")
    w.write(
        "content/nfd.md",
        unicodedata.normalize("NFD", "---\ntitle: Học sinh, sinh viên\n---\nỨng dụng\n"),
    )
    w.write("content/bom.md", b"\xef\xbb\xbf---\ntitle: C\xc3\xb3 BOM\n---\nx\n")
    w.write("content/crlf.md", "---\r\ntitle: Dòng CRLF\r\n---\r\nx\r\n")
    return w


def test_broken_inputs_are_all_named_and_good_items_still_load(broken: WorkspaceBuilder) -> None:
    code, document = check_json(broken.root)
    assert code == 1
    errors = {(e["file"], e["line"]): e["message"] for e in document["errors"]}
    expected = {
        ("content/bad/unclosed.md", 1): "never closed",
        ("content/bad/invalid-yaml.md", 3): "invalid YAML",
        ("content/bad/no-title.md", None): "'title' is required",
        ("content/bad/unknown-key.md", 3): "unknown key 'sumary' (did you mean 'summary'?)",
        ("content/bad/unknown-channel.md", 3): "unknown channel 'zalo-oa' (did you mean 'zalo'?)",
        ("content/bad/missing-image.md", 4): "'khong-co.jpg' does not exist",
        ("content/bad/outside-image.md", 3): "points outside the workspace",
        ("content/bad/corrupt.md", None): "corrupt.png: the image is damaged",
        ("content/bad/zero.md", None): "the file is empty",
    }
    for location, fragment in expected.items():
        assert location in errors, f"no error at {location}: {errors}"
        assert fragment in errors[location]
    assert {file for file, _ in errors} == {file for file, _ in expected}
    titles = {item["id"]: item["title"] for item in document["items"]}
    assert titles == {
        "good/bai-tot": "Bài viết hợp lệ",
        "good/info": "Infographic hợp lệ",
        "nfd": "Học sinh, sinh viên",  # normalised to NFC
        "bom": "Có BOM",
        "crlf": "Dòng CRLF",
    }
    loading = [w["file"] for w in document["warnings"] if w["channel"] is None]
    assert loading == ["content/nfd.md"]


def test_human_report_names_files_and_lines(broken: WorkspaceBuilder) -> None:
    code, output = run("check", "--root", str(broken.root))
    assert code == 1
    assert "content/bad/unknown-key.md:3: error: unknown key 'sumary'" in output
    assert "5 items loaded, 9 errors" in output
    assert "Traceback" not in output


def test_a_large_workspace_is_summed_up_not_listed(workspace: WorkspaceBuilder) -> None:
    for number in range(61):
        workspace.article(f"dot-{number}.md", f"title: Bài số {number}\n")
    workspace.article("nhap.md", "title: Bản nháp\nstatus: draft\n")
    code, output = run("check", "--root", str(workspace.root))
    assert code == 0, output
    assert "Items: 1 article (draft), 61 article (ready); 'publisher check --json' lists" in output
    assert "Bài số 17" not in output  # titles are only in the table
    small_code, small = run("check", "--root", str(workspace.root), "--json")
    assert small_code == 0 and "Bài số 17" in small


def test_strict_makes_warnings_fatal(workspace: WorkspaceBuilder) -> None:
    workspace.image("content/loose.png")
    assert run("check", "--root", str(workspace.root))[0] == 0
    assert run("check", "--strict", "--root", str(workspace.root))[0] == 1


@pytest.mark.parametrize(
    "args",
    [("check", "--bogus"), ("nonexistent-command",), ("--root", "/no/such/folder", "check")],
)
def test_usage_and_configuration_errors_exit_2(args: tuple[str, ...]) -> None:
    code, output = run(*args)
    assert code == 2
    assert "Traceback" not in output


def test_folder_without_content_is_not_a_workspace(tmp_path: Path) -> None:
    code, output = run("check", "--root", str(tmp_path))
    assert code == 2
    assert "is not a publisher workspace: it has no content/ folder" in output


HEAVY_CLIENTS = (
    "telegram",
    "googleapiclient",
    "google.oauth2",
    "google_auth_oauthlib",
    "apscheduler.schedulers",
)


@pytest.mark.parametrize("args", [["--help"], ["--root", str(REPO_ROOT), "check"]])
def test_help_and_check_do_not_import_platform_clients(args: list[str]) -> None:
    script = (
        "import sys\n"
        "from publisher.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        f"loaded = sorted(m for m in sys.modules if m.startswith({HEAVY_CLIENTS!r}))\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert "LOADED []" in result.stdout, result.stdout[-500:] + result.stderr[-500:]


def test_two_articles_asking_for_one_address_are_named(workspace: WorkspaceBuilder) -> None:
    """WordPress would make the second one's slug "-2": its social posts must not link to
    the first one's article, and officers are told."""
    title = "title: Thông báo lịch nghỉ Tết Nguyên đán của BHXH tỉnh\n"
    workspace.article("a.md", title + "date: 2026-11-01\n")
    workspace.article("b.md", title + "date: 2026-11-02\n")
    workspace.article("c.md", "title: Thông báo quan trọng\n")
    workspace.article("d.md", "title: Thông báo quan trọng!\n")
    workspace.article("e.md", "title: Khác\nportal: {slug: thong-bao-quan-trong}\n")

    _, document = check_json(workspace.root)

    shared = [w for w in document["warnings"] if "portal address would be the same" in w["message"]]
    assert {(w["file"], w["channel"]) for w in shared} == {
        ("content/b.md", "portal"),
        ("content/d.md", "portal"),
        ("content/e.md", "portal"),
    }
    [b] = [w for w in shared if w["file"] == "content/b.md"]
    assert "thong-bao-lich-nghi-tet-nguyen-dan-cua-bhxh-tinh-2" in b["message"]


def test_a_social_post_that_cannot_follow_its_portal_article_is_named(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.write(
        "schedules.yaml",
        "timezone: Asia/Ho_Chi_Minh\ncampaigns:\n  - id: t\n    name: T\n"
        "    start: 2026-12-01\n    end: 2026-12-01\n    channels:\n"
        "      portal: {slots: [{days: daily, times: ['08:00']}]}\n"
        "      facebook: {slots: [{days: daily, times: ['09:00', '10:00']}]}\n",
    )
    workspace.article("a.md", "title: A\ndate: 2026-11-01\nchannels: [portal, facebook]\n")
    workspace.article("b.md", "title: B\ndate: 2026-11-02\nchannels: [portal, facebook]\n")

    _, document = check_json(workspace.root)

    found = {(w["file"], w["channel"]): w["message"] for w in document["warnings"]}
    assert found[("content/b.md", "portal")].startswith("not planned on portal: no free slot")
    assert found[("content/b.md", "facebook")] == (
        "not planned on facebook: its portal article has no slot, and this post links to it"
    )
    assert ("content/a.md", "facebook") not in found
