"""What content puts on the officer's terminal: shown as text, never as markup or controls."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.commands.run import PrintableFormatter
from publisher.store.database import open_store

from .conftest import WorkspaceBuilder

MARKUP_TITLE = 'title: "Giá [/] và [link=https://evil.example/login]đăng nhập[/link]"\n'
HIDDEN_LINK = "\x1b]8;"  # how a terminal hyperlink starts


def cli(root: Path, *args: str) -> tuple[int, str]:
    """Run like an officer does, in a terminal-less process (colours off, no width tricks)."""
    result = subprocess.run(
        [sys.executable, "-m", "publisher", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PUBLISHER_CACHE_KEY_FILE": "/dev/null"},
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("command", [["check"], ["plan"], ["render", "a"]])
def test_markup_in_a_title_is_shown_as_it_is(workspace: WorkspaceBuilder, command: list) -> None:
    """`[/]` in a title crashed `check` and `plan`; `[link=…]` made a hidden hyperlink."""
    workspace.article("a.md", MARKUP_TITLE)
    code, output = cli(workspace.root, *command)
    assert code in (0, 1), output
    assert "Traceback" not in output and HIDDEN_LINK not in output
    if command != ["plan"]:
        assert "[link=https://evil.example/login]" in output


def test_publishing_an_item_whose_name_holds_markup_says_what_it_did(
    workspace: WorkspaceBuilder,
) -> None:
    """It posted live, then printed a traceback and exited 1."""
    workspace.article("gia[/]ca.md", "title: Giá cả\n")
    code, output = cli(workspace.root, "publish", "gia[/]ca", "--channel", "portal")
    assert code == 0, output
    assert "published gia[/]ca on portal" in output


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("xoa\x1b[2Jman-hinh.md", "xoa\\x1b[2Jman-hinh.md"),
        ("tieu-de\x1b]0;bi-danh-cap\x07.md", "tieu-de\\x1b]0;bi-danh-cap\\x07.md"),
        ("bao-cao\u202egpj.md", "bao-cao\\u202egpj.md"),
        ("tin\u200bmoi.md", "tin\\u200bmoi.md"),
        ("hai\ndong.md", "hai\\x0adong.md"),
        ("ghi-de\rOK.md", "ghi-de\\x0dOK.md"),
    ],
)
def test_a_file_name_with_controls_is_refused_and_shown_written_out(
    workspace: WorkspaceBuilder, name: str, shown: str
) -> None:
    workspace.article("tot.md", "title: Bài tốt\n")
    workspace.write(f"content/{name}", "---\ntitle: Tên lạ\n---\nNội dung.\n")

    code, output = cli(workspace.root, "check")

    assert code == 1, output
    assert f"content/{shown}" in output and "rename it" in output
    raw = name.replace(".md", "")
    assert raw not in output and "\x1b" not in output and "\u202e" not in output
    checked = CliRunner().invoke(main, ["--root", str(workspace.root), "check", "--json"])
    document = json.loads(checked.stdout)
    assert [i["id"] for i in document["items"]] == ["tot"]  # the good item still loads


def test_status_shows_a_recorded_address_with_markup_as_text(workspace: WorkspaceBuilder) -> None:
    workspace.article("a.md", "title: Bài A\n")
    store = open_store(workspace.root / ".publisher")
    now = dt.datetime.now(dt.UTC)
    store.deliveries.announce([("a", "portal", "test", now)])
    delivery = store.deliveries.find("a", "portal")
    assert delivery is not None
    url = "https://x.example/[/][link=javascript:alert(1)]bấm[/link]\x1b[2J"
    store.deliveries.change(
        delivery, "published", now, "", state="published", url=url, published_at=now
    )
    store.close()

    code, output = cli(workspace.root, "status")

    assert code == 0, output
    assert "Traceback" not in output and HIDDEN_LINK not in output and "\x1b" not in output
    assert "[link=javascript:alert(1)]bấm[/link]\\x1b[2J" in output


def test_the_service_log_writes_controls_out() -> None:
    forged = ("a\nFORGED\x1b[31m",)
    record = logging.LogRecord("x", logging.INFO, "", 0, "published %s", forged, None)
    line = PrintableFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO published a\\x0aFORGED\\x1b[31m"
