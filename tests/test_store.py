"""The state store: made once when commands start together; lost contents never republish."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.errors import StoreError
from publisher.store import database, schema
from publisher.store.database import open_store
from publisher.store.journal import Journal

from .conftest import WorkspaceBuilder, calendar_yaml
from .test_scheduling import at, runner_for, states

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="processes started together")


def test_two_openings_of_a_new_store_never_create_its_tables_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` died with "table events already exists" while `status` made the same store."""
    inside: list[tuple[str, float, float]] = []
    first_inside, second_started = threading.Event(), threading.Event()
    real = schema.migrate

    def migrate(connection):  # type: ignore[no-untyped-def]
        began = time.monotonic()
        if threading.current_thread().name == "first":
            first_inside.set()
            second_started.wait(30)
            time.sleep(0.3)  # room for the second to barge in, were it not locked out
        try:
            return real(connection)
        finally:
            inside.append((threading.current_thread().name, began, time.monotonic()))

    monkeypatch.setattr(database.schema, "migrate", migrate)

    def first() -> None:
        open_store(tmp_path).close()

    def second() -> None:
        first_inside.wait(30)
        second_started.set()
        open_store(tmp_path).close()

    threads = [threading.Thread(target=f, name=f.__name__) for f in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    (a_name, _, a_ended), (b_name, b_began, _) = sorted(inside, key=lambda i: i[1])
    assert (a_name, b_name) == ("first", "second") and b_began >= a_ended


def test_commands_started_together_on_a_fresh_workspace_all_succeed(
    workspace: WorkspaceBuilder, tmp_path: Path
) -> None:
    workspace.article("a.md", "title: Bài A\n")
    go = tmp_path / "go"
    starter = (
        "import pathlib, sys, time\n"
        f"go = pathlib.Path({str(go)!r})\n"
        "while not go.exists(): time.sleep(0.001)\n"
        "from publisher.cli import main\n"
        "sys.exit(main(['--root', sys.argv[1], sys.argv[2], '--json']))\n"
    )
    commands = ["status", "plan", "status", "plan", "status", "plan"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", starter, str(workspace.root), command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    time.sleep(0.5)  # let them all reach the starting line (a late one only races less)
    go.touch()
    results = [process.communicate(timeout=120) for process in processes]
    codes = [process.returncode for process in processes]
    assert all(code in (0, 1) for code in codes), results
    assert not any("Traceback" in err for _, err in results), results


def published_small(workspace: WorkspaceBuilder) -> Path:
    """A one-article workspace whose article went out: the store and its journal hold it."""
    for name in ("facebook", "zalo", "youtube", "telegram"):
        workspace.write(f"channels/{name}.yaml", "enabled: false\n")
    workspace.write("schedules.yaml", calendar_yaml({"portal": ["08:00"]}))
    workspace.article("a.md", "title: Bài A\ndate: 2026-11-01\n")
    runner = runner_for(workspace)
    runner.announce(at(1, 0))
    runner.tick(at(1, 8))
    assert states(runner) == {("a", "portal"): "published"}
    runner.close()
    return workspace.root / ".publisher"


def test_an_emptied_store_stops_everything_with_what_to_do(workspace: WorkspaceBuilder) -> None:
    """A full disk or a failed sync left state.db at 0 bytes: starting afresh would publish
    every post again."""
    state = published_small(workspace)
    (state / "state.db").write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        (state / f"state.db{suffix}").unlink(missing_ok=True)

    with pytest.raises(StoreError, match="is empty, but this workspace had one"):
        open_store(state)
    for command in (["status"], ["plan"], ["run", "--rehearse"], ["retry", "1"]):
        result = CliRunner().invoke(main, ["--root", str(workspace.root), *command])
        if command[0] == "run":
            continue  # a rehearsal has a store of its own
        assert result.exit_code == 2, (command, result.output)
        assert "state.db is empty" in result.output and "Restore state.db" in result.output
        assert "Traceback" not in result.output
    assert (state / "state.db").stat().st_size == 0  # nothing was written to it


def test_a_store_moved_aside_starts_afresh_without_publishing_again(
    workspace: WorkspaceBuilder,
) -> None:
    state = published_small(workspace)
    outbox = state / "outbox/portal/a/page.request.json"
    first_write = outbox.stat().st_mtime_ns
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        path = state / name
        if path.exists():
            path.rename(state / f"{name}.broken")

    runner = runner_for(workspace)
    runner.announce(at(1, 0))
    runner.tick(at(1, 8))

    delivery = runner.store.deliveries.find("a", "portal")
    assert delivery is not None and delivery.state == "published"
    kinds = [e.kind for e in runner.store.deliveries.events(delivery.id)]
    assert kinds == ["planned", "restored"]
    assert delivery.url == "https://bhxh.example.gov.vn/tin-tuc/bai-a/"
    runner.close()
    assert outbox.stat().st_mtime_ns == first_write  # not published a second time


def test_a_damaged_store_is_refused_with_what_to_do(workspace: WorkspaceBuilder) -> None:
    state = published_small(workspace)
    data = (state / "state.db").read_bytes()
    (state / "state.db").write_bytes(os.urandom(len(data)))
    for suffix in ("-wal", "-shm"):
        (state / f"state.db{suffix}").unlink(missing_ok=True)

    result = CliRunner().invoke(main, ["--root", str(workspace.root), "status"])

    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot be read" in result.output and "state.db" in result.output


def test_the_journal_keeps_every_publication_and_skips_a_torn_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.record({"item": "a", "channel": "portal", "url": "https://x/a/"})
    journal.record({"item": "a", "channel": "portal", "url": "https://x/a-2/"})
    with (tmp_path / "journal.jsonl").open("a", encoding="utf-8") as file:
        file.write('{"item": "b", "chan')  # a crash in the middle of a line
    assert journal.published() == {
        ("a", "portal"): {"item": "a", "channel": "portal", "url": "https://x/a-2/"}
    }
    assert oct((tmp_path / "journal.jsonl").stat().st_mode & 0o777) == "0o600"


# -- every way a store can be damaged stops the tool with what to do -------------------------
def _half(state: Path) -> None:
    data = (state / "state.db").read_bytes()
    (state / "state.db").write_bytes(data[: len(data) // 2])


def _garbage_header(state: Path) -> None:
    data = (state / "state.db").read_bytes()
    (state / "state.db").write_bytes(b"not a database at all!!!" + data[24:])


def _wrong_schema(state: Path) -> None:
    with sqlite3.connect(state / "state.db") as connection:
        connection.execute("DROP TABLE events")
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, what TEXT)")


def _bad_date(state: Path) -> None:
    with sqlite3.connect(state / "state.db") as connection:
        connection.execute("UPDATE deliveries SET due_at = 'not a date'")


def _bad_json(state: Path) -> None:
    with sqlite3.connect(state / "state.db") as connection:
        connection.execute("UPDATE steps SET result = '{not json'")


def _newer(state: Path) -> None:
    with sqlite3.connect(state / "state.db") as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")


def _folder(state: Path) -> None:
    (state / "state.db").unlink()
    (state / "state.db").mkdir()


def _state_file(state: Path) -> None:
    shutil.rmtree(state)
    state.write_text("not a folder")


DAMAGE = {
    "cut in half": (_half, r"cannot be read \(database disk image is malformed\)"),
    "header overwritten": (_garbage_header, r"cannot be read \(file is not a database\)"),
    "a table not ours": (_wrong_schema, r"its table 'events' lacks the column\(s\)"),
    "a date that is none": (_bad_date, r"holds a value it cannot read|that are not dates"),
    "JSON that is none": (_bad_json, r"holds a value it cannot read|that are not JSON"),
    "a newer schema": (_newer, r"newer than this publisher"),
    "a folder for state.db": (_folder, r"is a folder, not the store's file: move it aside"),
    ".publisher a file": (_state_file, r"is a file, but publisher keeps its state in a folder"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_store_stops_every_command_with_what_to_do(
    workspace: WorkspaceBuilder, damage: str
) -> None:
    state = published_small(workspace)
    workspace.article("b.md", "title: Bài B\n")
    for suffix in ("-wal", "-shm"):
        (state / f"state.db{suffix}").unlink(missing_ok=True)
    damage_it, message = DAMAGE[damage]
    damage_it(state)
    outbox_before = sorted((state / "outbox").rglob("*")) if state.is_dir() else []

    for command in (["status"], ["plan"], ["publish", "b", "--channel", "portal"], ["retry", "1"]):
        result = CliRunner().invoke(main, ["--root", str(workspace.root), *command])
        assert result.exit_code == 2, (command, result.output)
        assert re.search(message, result.output), (command, result.output)
        assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    service = subprocess.run(  # the service stops at once: no crash loop, nothing published
        [sys.executable, "-m", "publisher", "--root", str(workspace.root), "run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert service.returncode == 2, service.stderr
    assert re.search(message, service.stderr) and "Traceback" not in service.stderr
    if state.is_dir():
        assert sorted((state / "outbox").rglob("*")) == outbox_before  # nothing published


def test_a_store_locked_by_another_program_says_so(workspace: WorkspaceBuilder) -> None:
    state = published_small(workspace)
    workspace.article("b.md", "title: Bài B\n")
    holder = sqlite3.connect(state / "state.db", timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a database browser with a write open
    try:  # reading still works (WAL); writing waits for the lock, then says who holds it
        command = ["publish", "b", "--channel", "portal"]
        result = CliRunner().invoke(main, ["--root", str(workspace.root), *command])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 2, result.output
    assert "is locked by another program" in result.output


def test_the_state_folder_and_its_secrets_are_private(workspace: WorkspaceBuilder) -> None:
    state = workspace.root / ".publisher"
    state.mkdir(mode=0o755)
    state.chmod(0o755)  # as an older version, or a copy, left it
    published_small(workspace)
    store = open_store(state)
    store.close()

    assert state.stat().st_mode & 0o777 == 0o700
    for name in ("state.db", "journal.jsonl"):
        assert (state / name).stat().st_mode & 0o077 == 0, name
    if (state / "state.db-wal").exists():
        assert (state / "state.db-wal").stat().st_mode & 0o077 == 0


def test_a_key_that_is_no_key_is_named_not_a_traceback(workspace: WorkspaceBuilder) -> None:
    workspace.article("a.md", "title: Bài A\n")
    for command in (["status"], ["plan"], ["auth", "zalo"]):
        result = CliRunner().invoke(
            main, ["--root", str(workspace.root), *command], env={"PUBLISHER_SECRET_KEY": "dummy"}
        )
        assert result.exit_code == 2, (command, result.output)
        assert "PUBLISHER_SECRET_KEY is not a key" in result.output


def test_tokens_sealed_with_another_key_are_explained_and_can_be_forgotten(
    workspace: WorkspaceBuilder,
) -> None:
    from cryptography.fernet import Fernet

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    store = open_store(workspace.root / ".publisher", secret_key=first)
    store.tokens("zalo").put("refresh_token", "a-refresh-token")
    store.close()
    workspace.write("channels/zalo.yaml", "enabled: true\nmode: live\n")
    env = {"PUBLISHER_SECRET_KEY": second, "ZALO_APP_ID": "1", "ZALO_APP_SECRET": "s"}

    refused = CliRunner().invoke(main, ["--root", str(workspace.root), "auth", "zalo"], env=env)

    assert refused.exit_code == 2, refused.output
    assert "sealed with another key" in refused.output
    assert "publisher auth zalo --reset" in refused.output
    store = open_store(workspace.root / ".publisher", secret_key=second)
    try:
        store.tokens("zalo").forget()
        assert store.tokens("zalo").get("refresh_token") is None
    finally:
        store.close()
