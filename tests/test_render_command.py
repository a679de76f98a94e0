"""`publisher render` and `publisher site` from the command line, on the sample workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def run_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .conftest import copy_sample

    return copy_sample(tmp_path_factory.mktemp("render") / "ws")


def item_ids(root: Path) -> list[tuple[str, list[str]]]:
    code, document = run_json("--root", str(root), "check", "--json")
    assert code == 0
    return [(item["id"], item["channels"]) for item in document["items"]]


def test_every_sample_item_renders_for_every_channel(sample: Path) -> None:
    for item_id, channels in item_ids(sample):
        code, document = run_json("--root", str(sample), "render", item_id, "--json")
        assert code == 0, document
        assert document["item"] == item_id
        assert sorted(document["posts"]) == sorted(channels)
        for channel, post in document["posts"].items():
            assert post["channel"] == channel and post["requests"] and post["errors"] == []
            assert all(Path(m).is_file() for m in post["media"])


def test_human_view_shows_requests_counts_and_warnings(sample: Path) -> None:
    code, output = run(
        "--root",
        str(sample),
        "render",
        "nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia",
        "--channel",
        "zalo",
    )
    assert code == 0
    assert "POST /v2.0/article/create (create)" in output
    assert "description:" in output and "/300 chars" in output
    assert "warning: no cover image" in output


def test_unknown_item_suggests_close_ids(sample: Path) -> None:
    code, output = run("--root", str(sample), "render", "nuoc-rut-2026/bhyt-hoc-sinh")
    assert code == 2
    assert "did you mean: nuoc-rut-2026/bhyt-hoc-sinh-sinh-vien" in output


def test_channel_the_item_does_not_use_is_a_usage_error(sample: Path) -> None:
    code, output = run(
        "--root",
        str(sample),
        "render",
        "nuoc-rut-2026/ket-qua-10-thang-2026",
        "--channel",
        "youtube",
    )
    assert code == 2
    assert "is not published on 'youtube'" in output


def test_site_writes_pages_index_and_media_with_local_links(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, output = run("--root", str(sample), "site", "--out", str(out))
    assert code == 0, output
    pages = sorted(out.glob("tin-tuc/*/index.html"))
    ready = [i for i, channels in item_ids(sample) if "portal" in channels]
    assert len(pages) == len(ready) - 1  # the draft is not published
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<li>") == len(pages)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "https://bhxh.example.gov.vn/media/" not in html
        for src in (part.split('"')[0] for part in html.split('src="')[1:]):
            assert (page.parent / src).resolve().is_file(), src
