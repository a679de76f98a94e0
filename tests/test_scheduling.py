"""The runner: ticks, downtime, crashes, one instance per store, rehearsal, operators."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from filelock import FileLock

from publisher.cli import main
from publisher.content.model import ContentItem
from publisher.errors import WorkspaceError
from publisher.publishing.errors import PublishError
from publisher.publishing.model import Receipt
from publisher.scheduling.daemon import Service
from publisher.scheduling.runner import CampaignRunner, rehearse
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder, calendar_yaml, copy_sample

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = calendar_yaml({"portal": ["08:00"], "telegram": ["08:30", "20:00"]})


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=HANOI)


@pytest.fixture
def small(workspace: WorkspaceBuilder) -> WorkspaceBuilder:
    for name in ("facebook", "zalo", "youtube"):
        workspace.write(f"channels/{name}.yaml", "enabled: false\n")
    workspace.write(
        "channels/telegram.yaml", "enabled: true\nmode: outbox\nchat_id: '@bhxh_tinh'\n"
    )
    workspace.write("schedules.yaml", CALENDAR)
    workspace.article("a.md", "title: Bài A\ndate: 2026-11-01\n")
    workspace.article("b.md", "title: Bài B\ndate: 2026-11-02\n")
    return workspace


def runner_for(builder: WorkspaceBuilder) -> CampaignRunner:
    return CampaignRunner(open_workspace(builder.root, {}), seed=1)


def states(runner: CampaignRunner) -> dict[tuple[str, str], str]:
    return {(d.item_id, d.channel): d.state for d in runner.store.deliveries.all()}


def kinds(runner: CampaignRunner, item: str, channel: str) -> list[str]:
    delivery = runner.store.deliveries.find(item, channel)
    assert delivery is not None
    return [e.kind for e in runner.store.deliveries.events(delivery.id)]


def test_deliveries_go_out_at_their_slot_portal_first(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    assert runner.tick(at(1, 7, 59)).published == []
    first = runner.tick(at(1, 8, 0))
    assert [(d.item_id, d.channel) for d in first.published] == [("a", "portal")]
    second = runner.tick(at(1, 8, 30))
    assert [(d.item_id, d.channel) for d in second.published] == [("a", "telegram")]
    runner.close()


def test_ten_minutes_down_publishes_late_within_grace(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    report = runner.tick(at(1, 8, 40))  # down from 07:55 to 08:40: two slots passed
    assert [(d.item_id, d.channel) for d in report.published] == [
        ("a", "portal"),
        ("a", "telegram"),
    ]
    assert "late" in kinds(runner, "a", "portal")
    runner.close()


def test_eight_hours_down_moves_posts_to_the_next_free_slot(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    report = runner.tick(at(1, 16, 0))  # down from 07:55 to 16:00: beyond the 2 h grace
    assert report.published == []
    portal = runner.store.deliveries.find("a", "portal")
    assert portal is not None and portal.state == "scheduled"
    assert portal.due_at == at(2, 8, 0) or portal.due_at > at(1, 16, 0)
    assert "moved" in kinds(runner, "a", "portal")
    moment = runner.store.deliveries.next_due()
    while moment is not None and moment < at(6, 0):
        runner.tick(moment)
        moment = runner.store.deliveries.next_due()
    assert set(states(runner).values()) == {"published"}  # nothing lost
    runner.close()


def test_a_delivery_left_sending_by_a_crash_is_recovered_once(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    due = runner.store.deliveries.due(at(1, 8, 0))[0]
    runner.store.deliveries.claim(due, "hash", at(1, 8, 0))  # then the process dies
    runner.close()
    restarted = runner_for(small)
    settled = restarted.recover(at(1, 8, 5))
    assert [d.state for d in settled] == ["scheduled"]  # the outbox has no trace: send it
    restarted.tick(at(1, 8, 5))
    assert states(restarted)[("a", "portal")] == "published"
    assert kinds(restarted, "a", "portal")[:4] == ["planned", "sending", "interrupted", "not-found"]
    outbox = list((small.root / ".publisher/outbox/portal").glob("*/post.json"))
    assert len(outbox) == 1
    restarted.close()


def test_a_failed_lookup_is_repeated_until_it_settles(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    due = runner.store.deliveries.due(at(1, 8, 0))[0]
    runner.store.deliveries.claim(due, "hash", at(1, 8, 0))  # then the process dies
    answers: list[str | PublishError] = [PublishError("retryable", "busy", platform="portal")]
    answers.append("not found")  # the platform does not have it

    def record_existing(item: ContentItem, channel: str) -> str:
        answer = answers.pop(0)
        if isinstance(answer, PublishError):
            raise answer
        return answer

    runner.dispatcher.service.record_existing = record_existing  # type: ignore[method-assign]
    [settled] = runner.recover(at(1, 8, 5))
    assert settled.state == "unknown"
    assert runner.store.deliveries.next_due() == at(1, 8, 20)  # looked up again in 15 min
    runner.tick(at(1, 8, 10))
    assert answers  # not yet
    runner.tick(at(1, 8, 20))
    runner.tick(at(1, 8, 20))
    assert states(runner)[("a", "portal")] == "published"
    assert kinds(runner, "a", "portal")[2:] == [
        "interrupted",
        "lookup-failed",
        "not-found",
        "sending",
        "published",
    ]
    runner.close()


def test_social_posts_wait_for_the_portal_article(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    portal = runner.store.deliveries.find("a", "portal")
    assert portal is not None
    runner.store.deliveries.pause("portal", "credentials refused", at(1, 0))
    assert runner.store.deliveries.next_due() == at(1, 8, 30)  # not the paused portal's 08:00
    runner.tick(at(1, 8, 30))
    telegram = runner.store.deliveries.find("a", "telegram")
    assert telegram is not None and telegram.state == "scheduled"
    assert telegram.due_at == at(1, 9, 30)  # held: looked at hourly, not every 5 minutes
    assert telegram.error and "the portal channel is paused (credentials refused)" in telegram.error
    runner.recover(at(1, 9))  # `publisher run` started again: the pause is lifted
    telegram = runner.store.deliveries.find("a", "telegram")
    assert telegram is not None and telegram.due_at == at(1, 9) and telegram.error is None
    runner.tick(at(1, 9))
    assert states(runner)[("a", "portal")] == "published"
    assert states(runner)[("a", "telegram")] == "published"
    assert kinds(runner, "a", "telegram")[-4:] == [
        "waiting-for-portal",
        "released",
        "sending",
        "published",
    ]
    runner.close()


def test_social_posts_are_held_while_the_portal_outcome_is_unknown(
    small: WorkspaceBuilder,
) -> None:
    """Held with the reason in `status`, looked at hourly, released when it is resolved."""
    runner = runner_for(small)
    runner.announce(at(1, 0))
    portal = runner.store.deliveries.find("a", "portal")
    assert portal is not None
    runner.store.deliveries.change(portal, "unknown", at(1, 8), "?", state="unknown", error="lost")
    for minute in range(30, 240, 5):  # the telegram post is due at 08:30
        runner.tick(at(1, 8) + dt.timedelta(minutes=minute))
    telegram = runner.store.deliveries.find("a", "telegram")
    assert telegram is not None and telegram.state == "scheduled"
    assert telegram.error and f"publisher resolve {portal.id}" in telegram.error
    assert kinds(runner, "a", "telegram").count("waiting-for-portal") == 4  # hourly, not 5 min
    runner.close()
    cli = CliRunner()
    root = ["--root", str(small.root)]
    assert "held back: waiting for the portal article" in cli.invoke(main, [*root, "status"]).output
    assert cli.invoke(main, [*root, "resolve", str(portal.id), "--published"]).exit_code == 0
    runner = runner_for(small)
    runner.tick(dt.datetime.now(dt.UTC))  # `resolve` works on the wall clock
    assert states(runner)[("a", "telegram")] == "published"
    assert kinds(runner, "a", "telegram")[-3:] == ["released", "sending", "published"]
    runner.close()


@pytest.mark.parametrize("last_day", [3, 4])
def test_a_retry_that_crosses_midnight_keeps_the_daily_cap(
    small: WorkspaceBuilder, last_day: int
) -> None:
    """Asked to wait two hours at 23:00, the post would land on a day whose one post is
    taken: it goes to the next free slot instead, or is skipped with the reason."""
    slots = {"portal": ["08:00"], "telegram": ["23:00"]}
    small.write(
        "schedules.yaml", calendar_yaml(slots, end=f"2026-12-0{last_day}", caps={"telegram": 1})
    )
    small.article("c.md", "title: Bài C\ndate: 2026-11-03\n")  # a, b, c: one post a day
    runner = runner_for(small)
    runner.announce(at(1, 0))
    real_publish = runner.dispatcher.service.publish
    limited = PublishError("retryable", "Too Many Requests", platform="telegram", retry_after=7200)

    def publish(item: ContentItem, channel: str) -> Receipt:
        if channel == "telegram" and item.id == "a":
            raise limited
        return real_publish(item, channel)

    runner.dispatcher.service.publish = publish  # type: ignore[method-assign]
    runner.tick(at(1, 8))
    runner.tick(at(1, 23))
    a = runner.store.deliveries.find("a", "telegram")
    assert a is not None
    if last_day == 4:  # the 2nd and the 3rd have b's and c's posts; the 4th is free
        assert (a.state, a.due_at) == ("scheduled", at(4, 23))
    else:
        assert a.state == "skipped-late"
        assert a.error and "already has its daily cap of telegram posts" in a.error
    runner.close()


def test_a_second_instance_refuses_to_start(small: WorkspaceBuilder) -> None:
    workspace = open_workspace(small.root, {})
    workspace.state_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(workspace.state_dir / "run.lock"), pytest.raises(WorkspaceError, match="already"):
        Service(workspace).run()


def test_rehearsal_writes_one_document_per_planned_delivery_then_none(sample_copy: Path) -> None:
    first = rehearse(sample_copy)
    documents = list((sample_copy / ".publisher/rehearsal/outbox").rglob("post.json"))
    assert first.problems == [] and first.unplaced == []
    assert len(documents) == len(first.published) > 40
    stamps = {path: path.stat().st_mtime_ns for path in documents}
    second = rehearse(sample_copy)
    assert second.published == []
    assert {p: p.stat().st_mtime_ns for p in documents} == stamps
    assert not (sample_copy / ".publisher/outbox").exists()  # the real outbox is untouched


def test_rehearsals_side_by_side_and_serial_publish_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Channels side by side or one post after the other: the same documents (receipts
    aside: they carry the wall clock), the same deliveries published at the same times."""

    def rehearsed(name: str, workers: str) -> tuple[dict[str, str], list[tuple[str, ...]]]:
        root = copy_sample(tmp_path / name)
        monkeypatch.setenv("PUBLISHER_WORKERS", workers)
        summary = rehearse(root)
        outbox = root / ".publisher/rehearsal/outbox"
        documents = {
            str(path.relative_to(outbox)): path.read_text("utf-8").replace(str(root), "ROOT")
            for path in outbox.rglob("*.json")
            if path.name != "receipt.json"
        }
        published = [(d.item_id, d.channel, d.state, str(d.due_at)) for d in summary.published]
        return documents, published

    side_by_side, serial = rehearsed("side-by-side", "5"), rehearsed("serial", "1")
    assert len(side_by_side[1]) > 40
    assert side_by_side == serial


def test_rehearsal_command_prints_the_summary(sample_copy: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "--root",
            str(sample_copy),
            "run",
            "--rehearse",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-07",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "posts published into .publisher/rehearsal/outbox/" in result.output


def test_status_retry_and_resolve(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    portal = runner.store.deliveries.find("a", "portal")
    telegram = runner.store.deliveries.find("a", "telegram")
    assert portal and telegram
    runner.store.deliveries.change(portal, "failed", at(1, 8), "boom", state="failed", error="boom")
    runner.store.deliveries.change(
        telegram, "unknown", at(1, 8), "?", state="unknown", error="lost"
    )
    runner.close()
    cli = CliRunner()
    root = ["--root", str(small.root)]
    status = cli.invoke(main, [*root, "status", "--json"])
    document = json.loads(status.stdout)
    assert status.exit_code == 1
    assert document["counts"]["failed"] == 1 and document["counts"]["unknown"] == 1
    assert document["failed"][0]["error"] == "boom"
    human = cli.invoke(main, [*root, "status"]).output
    assert f"publisher resolve {telegram.id} --published" in human
    assert (
        cli.invoke(main, [*root, "retry", str(telegram.id)]).exit_code == 2
    )  # unknown: resolve it
    assert cli.invoke(main, [*root, "retry", "a:portal"]).exit_code == 0
    assert cli.invoke(main, [*root, "resolve", f"#{telegram.id}", "--published"]).exit_code == 0
    after = json.loads(cli.invoke(main, [*root, "status", "--json"]).stdout)["counts"]
    assert after["failed"] == 0 and after["unknown"] == 0 and after["published"] == 1


def test_run_starts_and_stops_cleanly_on_sigterm(small: WorkspaceBuilder) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    command = [sys.executable, "-m", "publisher", "--root", str(small.root), "run"]
    first = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 20
        while not (small.root / ".publisher/state.db").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        second = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
        assert second.returncode == 2
        assert "another 'publisher run' is already working on this workspace" in second.stderr
        first.send_signal(signal.SIGTERM)
        output, _ = first.communicate(timeout=20)
        assert first.returncode == 0, output
        assert "running" in output and "Traceback" not in output
    finally:
        if first.poll() is None:
            first.kill()


def test_run_replans_when_a_new_item_is_dropped_in(small: WorkspaceBuilder) -> None:
    service = Service(open_workspace(small.root, {}), clock=lambda: at(1, 0))
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        assert service.ready.wait(timeout=30)  # files written before the watch starts are missed
        deadline = time.monotonic() + 15
        small.article("moi.md", "title: Bài mới\ndate: 2026-11-05\n")
        found = None
        while found is None and time.monotonic() < deadline:
            time.sleep(0.2)
            found = service.runner.store.deliveries.find("moi", "portal")  # type: ignore[union-attr]
        assert found is not None and found.state == "scheduled"
        before = {("a", "portal"), ("b", "portal")}
        kept = {(d.item_id, d.channel) for d in service.runner.store.deliveries.all()}  # type: ignore[union-attr]
        assert before <= kept
    finally:
        service.stop()
        thread.join(timeout=15)
    assert not thread.is_alive()


SIDE_BY_SIDE = calendar_yaml(
    {
        "portal": ["08:00", "08:10"],
        "facebook": ["08:20", "08:30"],
        "zalo": ["08:20", "08:30"],
        "telegram": ["08:20", "08:30"],
    }
)
SOCIAL = ("facebook", "zalo", "telegram")


@pytest.fixture
def wide(small: WorkspaceBuilder) -> WorkspaceBuilder:
    """Items a and b on the portal, then on three social channels, all due by 08:40."""
    for name in ("facebook", "zalo"):
        small.write(f"channels/{name}.yaml", "enabled: true\nmode: outbox\n")
    small.write("schedules.yaml", SIDE_BY_SIDE)
    return small


Call = tuple[str, str, float, float]  # channel, item, start, end


def slow_platforms(runner: CampaignRunner, calls: list[Call], fail_on: str = "") -> None:
    """Every post takes 0.2 s to publish; posts on `fail_on` have their credentials refused."""
    real_publish = runner.dispatcher.service.publish

    def publish(item: ContentItem, channel: str) -> Receipt:
        start = time.monotonic()
        time.sleep(0.2)
        calls.append((channel, item.id, start, time.monotonic()))
        if channel == fail_on:
            raise PublishError("auth", "token refused", platform=channel)
        return real_publish(item, channel)

    runner.dispatcher.service.publish = publish  # type: ignore[method-assign]


def overlap(first: Call, second: Call) -> bool:
    return first[2] < second[3] and second[2] < first[3]


def test_channels_publish_side_by_side_each_one_post_at_a_time(wide: WorkspaceBuilder) -> None:
    runner = runner_for(wide)
    runner.announce(at(1, 0))
    calls: list[Call] = []
    slow_platforms(runner, calls)
    report = runner.tick(at(1, 8, 40))
    assert [(d.item_id, d.channel) for d in report.published] == [
        ("a", "portal"),
        ("b", "portal"),
        *(("a", c) for c in SOCIAL),
        *(("b", c) for c in SOCIAL),
    ]  # in due order, whatever thread published it
    portal = {c[1]: c for c in calls if c[0] == "portal"}
    social = [c for c in calls if c[0] != "portal"]
    assert all(portal[c[1]][3] <= c[2] for c in social)  # after their portal article
    for channel in SOCIAL:
        mine = sorted((c for c in calls if c[0] == channel), key=lambda c: c[2])
        assert [c[1] for c in mine] == ["a", "b"]  # in due order, one after the other
        assert not overlap(*mine)
    assert any(overlap(x, y) for x in social for y in social if x[0] != y[0])
    assert set(states(runner).values()) == {"published"}
    runner.close()


def test_one_worker_publishes_one_post_after_the_other(wide: WorkspaceBuilder) -> None:
    runner = CampaignRunner(open_workspace(wide.root, {"PUBLISHER_WORKERS": "1"}), seed=1)
    runner.announce(at(1, 0))
    calls: list[Call] = []
    slow_platforms(runner, calls)
    runner.tick(at(1, 8, 40))
    assert [(c[1], c[0]) for c in calls] == [
        ("a", "portal"),
        ("b", "portal"),
        *(("a", c) for c in SOCIAL),
        *(("b", c) for c in SOCIAL),
    ]
    assert not any(overlap(x, y) for x in calls for y in calls if x is not y)
    runner.close()


def test_refused_credentials_pause_only_their_channel_while_the_others_publish(
    wide: WorkspaceBuilder,
) -> None:
    runner = runner_for(wide)
    runner.announce(at(1, 0))
    calls: list[Call] = []
    slow_platforms(runner, calls, fail_on="zalo")
    report = runner.tick(at(1, 8, 40))
    assert [c[1] for c in calls if c[0] == "zalo"] == ["a"]  # nothing sent after the refusal
    assert set(runner.store.deliveries.pauses()) == {"zalo"}
    assert {(d.item_id, d.channel) for d in report.published} == {
        (item, channel) for item in "ab" for channel in ("portal", "facebook", "telegram")
    }
    assert {k: v for k, v in states(runner).items() if k[1] == "zalo"} == {
        ("a", "zalo"): "scheduled",
        ("b", "zalo"): "scheduled",
    }
    assert "paused" in kinds(runner, "a", "zalo")
    runner.close()


def test_a_wrong_number_of_workers_is_refused(small: WorkspaceBuilder) -> None:
    with pytest.raises(WorkspaceError, match="PUBLISHER_WORKERS='0'"):
        CampaignRunner(open_workspace(small.root, {"PUBLISHER_WORKERS": "0"}))


def test_a_social_post_due_before_its_portal_article_follows_it_in_the_same_tick(
    wide: WorkspaceBuilder,
) -> None:
    runner = runner_for(wide)
    runner.announce(at(1, 0))
    portal = runner.store.deliveries.find("a", "portal")
    assert portal is not None
    runner.store.deliveries.change(portal, "retry", at(1, 8), "busy", due_at=at(1, 8, 35))
    report = runner.tick(at(1, 8, 40))  # a's social posts (08:20) come before its article
    assert {("a", c) for c in ("portal", *SOCIAL)} <= {
        (d.item_id, d.channel) for d in report.published
    }
    assert "waiting-for-portal" not in kinds(runner, "a", "telegram")
    runner.close()


class SteppedClock:
    """The real time in a test: it moves only when the platform takes its time."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_retry_and_the_channel_wait_count_from_the_platforms_answer(
    small: WorkspaceBuilder,
) -> None:
    """The round did 100 s of work before Telegram answered 429 with retry_after 130: the
    retry comes 130 s after that answer, not after the start of the round, and no other
    post goes to Telegram before then (measured: 110.7 s instead of 130 s)."""
    for name in ("portal", "facebook", "zalo", "youtube"):
        small.write(f"channels/{name}.yaml", "enabled: false\n")
    small.write("schedules.yaml", calendar_yaml({"telegram": ["08:30", "08:31"]}))
    clock = SteppedClock(at(1, 8, 31))
    runner = CampaignRunner(open_workspace(small.root, {}), seed=1, clock=clock)
    runner.announce(at(1, 0))
    sent: list[tuple[str, dt.datetime]] = []

    def publish(item: ContentItem, channel: str) -> Receipt:
        sent.append((item.id, clock.now))
        clock.now += dt.timedelta(seconds=100)  # uploading, waiting for the answer
        raise PublishError("retryable", "Too Many Requests", platform=channel, retry_after=130)

    runner.dispatcher.service.publish = publish  # type: ignore[method-assign]
    runner.tick(at(1, 8, 31))

    answered = at(1, 8, 31) + dt.timedelta(seconds=100)
    a = runner.store.deliveries.find("a", "telegram")
    b = runner.store.deliveries.find("b", "telegram")
    assert a is not None and b is not None
    assert sent == [("a", at(1, 8, 31))]  # b waited too
    assert a.due_at >= answered + dt.timedelta(seconds=130)
    assert b.due_at == answered + dt.timedelta(seconds=130) and b.attempts == 0
    assert kinds(runner, "b", "telegram")[-1] == "held"
    assert runner.store.deliveries.holds()["telegram"][0] == b.due_at
    runner.close()


def test_a_rate_limit_holds_the_channel_across_a_restart(small: WorkspaceBuilder) -> None:
    small.write("schedules.yaml", calendar_yaml({"portal": ["08:00"], "telegram": ["08:30"]}))
    runner = runner_for(small)
    runner.announce(at(1, 0))
    runner.store.deliveries.hold("telegram", at(1, 9), "flood control: wait 1800 s")
    runner.close()

    restarted = runner_for(small)
    restarted.recover(at(1, 8, 30))
    restarted.tick(at(1, 8, 30))
    telegram = restarted.store.deliveries.find("a", "telegram")
    assert telegram is not None and telegram.state == "scheduled" and telegram.attempts == 0
    assert telegram.due_at == at(1, 9)
    restarted.tick(at(1, 9))
    assert states(restarted)[("a", "telegram")] == "published"
    restarted.close()


def test_claim_takes_only_a_scheduled_delivery(small: WorkspaceBuilder) -> None:
    runner = runner_for(small)
    runner.announce(at(1, 0))
    deliveries = runner.store.deliveries
    delivery = deliveries.find("a", "portal")
    assert delivery is not None
    assert deliveries.claim(delivery, "hash", at(1, 8)) is not None
    for state in ("sending", "published", "unknown", "failed"):
        current = deliveries.find("a", "portal")
        assert current is not None
        changed = deliveries.change(current, "test", at(1, 8), state=state)
        assert deliveries.claim(changed, "hash", at(1, 8)) is None, state
    runner.close()


def test_a_late_post_that_crosses_midnight_keeps_the_next_days_cap(
    small: WorkspaceBuilder,
) -> None:
    """Down from 23:20 to 00:20: the 23:30 post is within its grace, but publishing it now
    would give the new day two posts where its cap is one; it takes the next free slot."""
    small.write(
        "schedules.yaml",
        calendar_yaml({"portal": ["08:00"], "telegram": ["23:30"]}, caps={"telegram": 1}),
    )
    runner = runner_for(small)
    runner.announce(at(1, 0))
    runner.tick(at(1, 8))
    runner.tick(at(2, 0, 20))  # a's telegram post was due 1 December 23:30
    a = runner.store.deliveries.find("a", "telegram")
    assert a is not None and a.state == "scheduled" and a.attempts == 0
    assert a.due_at == at(3, 23, 30)  # 2 December's one slot is b's
    assert kinds(runner, "a", "telegram")[-1] == "moved"
    runner.close()
