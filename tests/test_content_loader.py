import datetime as dt
import unicodedata
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from publisher.catalog import Catalog, load_catalog
from publisher.content.model import ItemKind
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder


def load(builder: WorkspaceBuilder, environ: dict[str, str] | None = None) -> Catalog:
    return load_catalog(open_workspace(builder.root, environ or {}))


def messages(catalog: Catalog, file: str) -> list[str]:
    return [p.message for p in catalog.problems.items if p.file == file]


def test_article_fields_id_and_default_channels(workspace: WorkspaceBuilder) -> None:
    workspace.article(
        "chien-dich/bhxh-tu-nguyen.md",
        'title: "BHXH tự nguyện"\ntags: BHXH tự nguyện, an sinh\npriority: HIGH\n'
        'at: "2026-12-01 08:00"\nnot_after: 2026-12-20\n',
    )
    catalog = load(workspace)
    assert not catalog.problems.items
    item = catalog.item("chien-dich/bhxh-tu-nguyen")
    assert item is not None
    assert item.path == "content/chien-dich/bhxh-tu-nguyen.md"
    assert item.kind is ItemKind.ARTICLE
    assert item.meta.tags == ["BHXH tự nguyện", "an sinh"]
    assert item.meta.priority == "high"
    assert item.channels == ("portal", "facebook", "zalo", "telegram")  # no video: no YouTube
    assert item.at == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)  # 08:00 in Hanoi
    assert item.not_after == dt.datetime(
        2026, 12, 20, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")
    )


def test_folder_item_owns_its_images(workspace: WorkspaceBuilder) -> None:
    workspace.image("content/rui-ro/anh-bia.jpg", fmt="JPEG")
    workspace.image("content/rui-ro/anh/tu-van.png")
    workspace.write(
        "content/rui-ro/index.md",
        '---\ntitle: Rủi ro\ncover: anh-bia.jpg\n---\n![Tư vấn](anh/tu-van.png "Tư vấn")\n',
    )
    catalog = load(workspace)
    assert not catalog.problems.items
    item = catalog.item("rui-ro")
    assert item is not None
    assert item.cover is not None and item.cover.rel == "content/rui-ro/anh-bia.jpg"
    assert [(a.rel, a.alt) for a in item.images] == [("content/rui-ro/anh/tu-van.png", "Tư vấn")]
    assert item.images[0].image is not None and item.images[0].image.format == "PNG"


def test_infographic_and_video_sidecars(workspace: WorkspaceBuilder) -> None:
    workspace.image("content/info/ket-qua.png", size=(1080, 1350))
    workspace.article("info/ket-qua.md", "title: Kết quả 10 tháng\n")
    workspace.write("content/video/huong-dan.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    workspace.image("content/video/huong-dan.jpg", fmt="JPEG")
    workspace.article("video/huong-dan.md", "title: Hướng dẫn VssID\n")
    workspace.article("video/phong-su.md", 'title: Phóng sự\nyoutube:\n  video_id: "Qm7pXr2LkVs"\n')
    catalog = load(workspace)
    assert not catalog.problems.items
    info = catalog.item("info/ket-qua")
    video = catalog.item("video/huong-dan")
    existing = catalog.item("video/phong-su")
    assert info is not None and video is not None and existing is not None
    assert info.kind is ItemKind.INFOGRAPHIC
    assert info.media is not None and info.media.image is not None
    assert (info.media.image.width, info.media.image.height) == (1080, 1350)
    assert video.kind is ItemKind.VIDEO and video.media is not None
    assert video.cover is not None and video.cover.rel.endswith("huong-dan.jpg")
    assert "youtube" in video.channels
    assert existing.kind is ItemKind.VIDEO and "youtube" in existing.channels


def test_explicit_channels_unknown_unsuitable_and_disabled(workspace: WorkspaceBuilder) -> None:
    workspace.write("channels/telegram.yaml", "enabled: false\n")
    workspace.article(
        "a.md", "title: A\nchannels:\n  - portal\n  - facebok\n  - youtube\n  - telegram\n"
    )
    workspace.article("b.md", "title: B\nchannels: [portal, telegram]\n")
    catalog = load(workspace)
    found = {
        (p.severity, p.line, p.message) for p in catalog.problems.items if p.file == "content/a.md"
    }
    assert ("error", 5, "unknown channel 'facebok' (did you mean 'facebook'?)") in found
    assert any(s == "error" and line == 6 and "needs a video" in m for s, line, m in found)
    assert any(s == "warning" and line == 7 and "disabled" in m for s, line, m in found)
    assert catalog.item("a") is None
    b = catalog.item("b")
    assert b is not None and b.channels == ("portal",)


def test_content_hash_covers_text_front_matter_and_asset_bytes(workspace: WorkspaceBuilder) -> None:
    image = workspace.image("content/a/anh.png")
    source = workspace.write("content/a/index.md", "---\ntitle: A\n---\n![x](anh.png)\n")
    first = load(workspace).item("a")
    assert first is not None
    assert load(workspace).item("a").content_hash == first.content_hash  # type: ignore[union-attr]
    Image.new("RGB", (64, 48), "red").save(image, "PNG")
    after_image = load(workspace).item("a")
    assert after_image is not None and after_image.content_hash != first.content_hash
    source.write_text("---\ntitle: A\nsummary: s\n---\n![x](anh.png)\n", encoding="utf-8")
    after_meta = load(workspace).item("a")
    assert after_meta is not None and after_meta.content_hash != after_image.content_hash
    assert after_meta.id == first.id


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("../../../outside.png", "points outside the workspace"),
        ("/etc/hosts", "absolute path"),
        ("C:/Users/x/anh.png", "absolute path"),
        ("../../.env", "private part of the workspace"),
        ("file:///etc/passwd", "only local files"),
        ("missing.png", "does not exist"),
    ],
)
def test_references_stay_inside_the_workspace(
    workspace: WorkspaceBuilder, reference: str, expected: str
) -> None:
    workspace.write(".env", "TOKEN=x\n")
    Image.new("RGB", (8, 8)).save(workspace.root.parent / "outside.png")  # beside the workspace
    workspace.article("x/a.md", f'title: A\ncover: "{reference}"\n')
    catalog = load(workspace)
    assert catalog.item("x/a") is None
    assert any(expected in m for m in messages(catalog, "content/x/a.md")), messages(
        catalog, "content/x/a.md"
    )


def test_symlink_pointing_out_of_the_workspace_is_refused(
    workspace: WorkspaceBuilder, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.png"
    Image.new("RGB", (8, 8)).save(outside)
    (workspace.root / "content" / "link.png").symlink_to(outside)
    workspace.article("a.md", "title: A\ncover: link.png\n")
    catalog = load(workspace)
    assert catalog.item("a") is None
    assert any("outside the workspace" in m for m in messages(catalog, "content/a.md"))


def test_remote_images_are_not_fetched_and_bad_links_are_errors(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.article(
        "a.md",
        "title: A\n",
        "![x](https://example.com/x.png)\n\n[bad](javascript:alert(1))\n\n"
        "[ok](https://baohiemxahoi.gov.vn) [tel](tel:19009068) [local](mau-to-khai.pdf)\n",
    )
    catalog = load(workspace)
    found = {(p.severity, p.line, p.message.split(":")[0]) for p in catalog.problems.items}
    assert ("warning", 4, "remote image 'https") in found
    assert ("error", 6, "link 'javascript") in found
    assert any("mau-to-khai.pdf' does not exist" in m for m in messages(catalog, "content/a.md"))


def test_links_to_local_files_become_assets(workspace: WorkspaceBuilder) -> None:
    workspace.write("content/a/mau-to-khai.pdf", b"%PDF-1.4\n")
    workspace.write("content/a/index.md", "---\ntitle: A\n---\n[Tờ khai](mau-to-khai.pdf)\n")
    workspace.article("b.md", "title: B\n", "[Xem bài A](a/)\n")
    catalog = load(workspace)
    assert not catalog.problems.items
    item = catalog.item("a")
    assert item is not None and [a.role for a in item.assets] == ["file"]


def test_unused_media_and_stray_files_are_reported_but_ignored_files_are_not(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.image("content/loose.png")
    workspace.write("content/notes.docx", b"PK")
    workspace.write("content/.DS_Store", b"\x00")
    workspace.write("content/~$draft.docx", b"x")
    workspace.write("content/Thumbs.db", b"x")
    catalog = load(workspace)
    files = {p.file for p in catalog.problems.warnings}
    assert files == {"content/loose.png", "content/notes.docx"}
    assert "add 'loose.md' beside it" in messages(catalog, "content/loose.png")[0]


def test_duplicate_ids_are_errors(workspace: WorkspaceBuilder) -> None:
    workspace.article("a.md", "title: A\n")
    workspace.write("content/a/index.md", "---\ntitle: A2\n---\n")
    catalog = load(workspace)
    assert catalog.items == []
    assert len([p for p in catalog.problems.errors if "item id 'a'" in p.message]) == 2


def test_nfd_bom_crlf_and_utf16_files_load_as_nfc_text(workspace: WorkspaceBuilder) -> None:
    title = "Bảo hiểm y tế hộ gia đình"
    decomposed = unicodedata.normalize("NFD", title)
    workspace.write("content/nfd.md", f"---\ntitle: {decomposed}\n---\n{decomposed}\n")
    workspace.write("content/bom.md", b"\xef\xbb\xbf" + f"---\ntitle: {title}\n---\n".encode())
    workspace.write("content/crlf.md", f"---\r\ntitle: {title}\r\ntags: [a]\r\n---\r\nx\r\n")
    workspace.write("content/utf16.md", f"---\ntitle: {title}\n---\n".encode("utf-16"))
    catalog = load(workspace)
    assert not catalog.problems.errors
    for item_id in ("nfd", "bom", "crlf", "utf16"):
        item = catalog.item(item_id)
        assert item is not None and item.title == title
    assert catalog.item("nfd").body == f"{title}\n"  # type: ignore[union-attr]
    assert [p.file for p in catalog.problems.warnings] == ["content/nfd.md"]


def test_naive_times_use_the_calendar_time_zone(workspace: WorkspaceBuilder) -> None:
    workspace.write("schedules.yaml", "timezone: Asia/Tokyo\n")
    workspace.article("a.md", 'title: A\nat: "2026-12-01 09:00"\n')
    item = load(workspace).item("a")
    assert item is not None and item.at == dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
