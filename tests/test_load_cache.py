"""The load cache and the shared cold run: what they save must never change what is reported."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest

from publisher.catalog import Catalog, load_catalog
from publisher.commands.check import add_render_problems
from publisher.content import loader
from publisher.content.loadcache import CACHE_FILE, MAGIC, LoadCache, _version
from publisher.content.markdown import MarkdownError
from publisher.parallel import share_work
from publisher.signing import sign
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder, copy_sample

BROKEN = "title: Hỏng\nchannels: [portal]\nnot_a_key: 1\n"
CACHE_PATH = f".publisher/cache/{CACHE_FILE}"
DISCARDED = "the load cache was not used and is rebuilt"
NOT_OURS = "it was not written by publisher for this user, or was altered"


def outcome(catalog: Catalog) -> dict[str, Any]:
    """Everything a run reports: items (with their content hashes) and problems."""
    return {
        "items": [(i.id, i.content_hash, i.channels, i.summary_json()) for i in catalog.items],
        "problems": [p.to_json() for p in [*catalog.problems.errors, *catalog.problems.warnings]],
    }


def load(root: Path, workers: int = 1) -> Catalog:
    return load_catalog(open_workspace(root, {}), workers)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    root = copy_sample(tmp_path / "ws")
    WorkspaceBuilder(root).article("hong.md", BROKEN)
    WorkspaceBuilder(root).write("content/vo.md", "---\ntitle: [unclosed\n---\nx\n")
    return root


def test_a_cached_run_reports_exactly_what_a_cold_run_does(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = outcome(load(sample))
    assert (sample / ".publisher" / "cache" / CACHE_FILE).is_file()
    parses: list[str] = []
    original = loader.parse_markdown
    monkeypatch.setattr(loader, "parse_markdown", lambda *a: parses.append("x") or original(*a))
    assert outcome(load(sample)) == cold
    assert parses == []  # nothing parsed again
    assert any(p["line"] == 4 and "not_a_key" in p["message"] for p in cold["problems"])


def test_an_edited_file_is_parsed_again_and_only_it(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(sample)
    article = next((sample / "content").rglob("index.md"))
    article.write_text(article.read_text(encoding="utf-8") + "\nMột đoạn mới.\n", "utf-8")
    parses: list[str] = []
    original = loader.parse_markdown
    monkeypatch.setattr(loader, "parse_markdown", lambda *a: parses.append("x") or original(*a))
    edited = outcome(load(sample))
    assert len(parses) == 1
    shutil.rmtree(sample / ".publisher")
    assert outcome(load(sample)) == edited


def test_a_replaced_image_is_probed_again(sample: Path) -> None:
    load(sample)
    image = next(p for p in (sample / "content").rglob("*.png"))
    image.write_bytes(b"not an image any more")
    os.utime(image, ns=(1, 1))  # even an old modification time: the size changed
    warm = outcome(load(sample))
    shutil.rmtree(sample / ".publisher")
    assert outcome(load(sample)) == warm
    assert any("not a readable image" in p["message"] for p in warm["problems"])


def test_errors_are_remembered_with_their_line(tmp_path: Path) -> None:
    cache = LoadCache(tmp_path / CACHE_FILE)

    def fail() -> None:
        raise MarkdownError("too deep", 12)

    for _ in range(2):
        with pytest.raises(MarkdownError) as caught:
            cache.remember("markdown", "body", fail)
        assert (caught.value.message, caught.value.line) == ("too deep", 12)
    cache.save()
    again = LoadCache(tmp_path / CACHE_FILE)
    with pytest.raises(MarkdownError) as caught:
        again.remember("markdown", "body", lambda: pytest.fail("computed again"))
    assert caught.value.line == 12


def test_a_cache_from_other_code_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / CACHE_FILE
    path.write_bytes(b"not a pickle")
    assert LoadCache(path).known == {}


class _Payload:
    """Unpickled, it runs a shell command: what a planted cache file would carry."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_cache_runs_nothing_and_is_rebuilt_with_a_note(sample: Path) -> None:
    """A workspace from a shared drive carried a cache that ran `os.system` on `check`."""
    marker = sample.parent / "ran"
    path = sample / ".publisher" / "cache" / CACHE_FILE
    path.parent.mkdir(parents=True)
    evil = pickle.dumps((_Payload(marker), {b"k": pickle.dumps(_Payload(marker))}))
    for planted in (evil, MAGIC + evil, MAGIC + b"\0" * 32 + evil):
        path.write_bytes(planted)
        catalog = load(sample)
        assert not marker.exists()
        notes = [p.message for p in catalog.problems.warnings if p.file == CACHE_PATH]
        assert notes == [f"{DISCARDED}: {NOT_OURS}"]
    assert [p for p in load(sample).problems.warnings if p.file == CACHE_PATH] == []  # rebuilt


def test_a_signed_cache_may_only_build_what_the_loader_makes(tmp_path: Path) -> None:
    """Even under this user's signature, a cache that would call a function is refused,
    whether the file or one of its entries carries it."""
    marker = tmp_path / "ran"
    path = tmp_path / CACHE_FILE
    digest = hashlib.blake2b(b"markdown\0body", digest_size=16).digest()
    for payload in (_Payload(marker), (_version(), {digest: pickle.dumps(_Payload(marker))})):
        signed = sign(pickle.dumps(payload))
        assert signed is not None
        path.write_bytes(MAGIC + signed)
        cache = LoadCache(path)
        assert cache.remember("markdown", "body", lambda: "computed anew") == "computed anew"
        assert not marker.exists()
        assert cache.discarded is not None and "(UnpicklingError)" in cache.discarded


@pytest.mark.parametrize("damage", ["empty", "cut", "garbage"])
def test_a_damaged_cache_is_rebuilt_not_a_crash(sample: Path, damage: str) -> None:
    cold = outcome(load(sample))
    path = sample / ".publisher" / "cache" / CACHE_FILE
    data = path.read_bytes()
    broken = {"empty": b"", "cut": data[: len(data) // 2], "garbage": os.urandom(300)}
    path.write_bytes(broken[damage])

    again = outcome(load(sample))

    added = [p for p in again["problems"] if p not in cold["problems"]]
    assert [p["file"] for p in added] == [CACHE_PATH]
    assert added[0]["message"].startswith(DISCARDED)
    assert outcome(load(sample)) == cold  # rebuilt: the next run is clean again


def test_a_shared_cold_run_reports_what_a_serial_one_does(sample: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(sample, twin)
    for _ in range(12):  # enough items to be worth a second process
        WorkspaceBuilder(sample).article(f"them/{_}.md", f"title: Bài {_}\n")
        WorkspaceBuilder(twin).article(f"them/{_}.md", f"title: Bài {_}\n")
    serial = load(sample, workers=1)
    add_render_problems(serial, workers=1)
    shared = load(twin, workers=2)
    add_render_problems(shared, workers=2)
    assert _relative(outcome(shared), twin) == _relative(outcome(serial), sample)


def test_share_work_gives_the_child_half_and_survives_its_failure() -> None:
    seen: list[list[int]] = []
    merged: list[object] = []
    share_work(list(range(20)), lambda part: list(part), merged.append, workers=2)
    assert merged == [list(range(1, 20, 2))]
    share_work(list(range(20)), lambda part: seen.append(list(part)), workers=2)
    assert seen == [list(range(0, 20, 2))]  # the parent's half; the child's was in its copy

    def fails(part: list[int]) -> None:
        if part[0] == 1:
            raise RuntimeError("boom")

    share_work(list(range(20)), fails, merged.append, workers=2)
    assert len(merged) == 1  # nothing merged from a failed child, and no exception here


def _relative(value: Any, root: Path) -> str:
    return repr(value).replace(str(root), "<root>")


def test_a_post_whose_media_were_deleted_is_rendered_again(sample: Path) -> None:
    """A long-lived renderer (the service's) keeps posts in memory; their media may go."""
    from publisher.render.service import Renderer

    catalog = load(sample)
    renderer = Renderer(catalog)
    item = next(i for i in catalog.items if i.images and "facebook" in i.channels)
    first = renderer.render(item, "facebook")
    assert first.media
    for media in first.media:
        Path(media).unlink()
    again = renderer.render(item, "facebook")
    assert again.media and all(Path(m).is_file() for m in again.media)
