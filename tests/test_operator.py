"""What officers do by hand (`publish`, `retry`, `resolve`) goes through the delivery.

Each case was a duplicate, a loss or an officer stuck: `publish` re-sent an open step
without a lookup, published drafts and items outside their dates, and left no trace in
`status`; `resolve` settled a half-sent Telegram post as a whole.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from publisher.cli import main
from publisher.store.database import open_store

from .conftest import WorkspaceBuilder
from .fakes.base import Fault, Response
from .fakes.telegram import FakeTelegram
from .fakes.web import FakeWebHost
from .fakes.zalo import APP_ID, APP_SECRET, FIRST_REFRESH_TOKEN, ZaloFake

TOKEN = "7000000001:AAFakeTokenForTests_0123456789abcdef"
TELEGRAM = {"TELEGRAM_BOT_TOKEN": TOKEN}
ZALO = {"ZALO_APP_ID": APP_ID, "ZALO_APP_SECRET": APP_SECRET}
ZALO["ZALO_REFRESH_TOKEN"] = FIRST_REFRESH_TOKEN
LONG_TEXT = "\n\n".join(f"Đoạn {n}: " + "chính sách bảo hiểm xã hội " * 60 for n in range(8))


def cli(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--root", str(root), *args], env=env or {})


def status(root: Path) -> dict:
    return json.loads(cli(root, "status", "--json").stdout)


def events(root: Path, item: str, channel: str) -> list[str]:
    store = open_store(root / ".publisher")
    try:
        delivery = store.deliveries.find(item, channel)
        assert delivery is not None
        return [event.kind for event in store.deliveries.events(delivery.id)]
    finally:
        store.close()


def local_day(days_ahead: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days_ahead)).isoformat()


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


def live_telegram_only(workspace: WorkspaceBuilder, fake: FakeTelegram) -> WorkspaceBuilder:
    for name in ("portal", "facebook", "zalo", "youtube"):
        workspace.write(f"channels/{name}.yaml", "enabled: false\n")
    workspace.write(
        "channels/telegram.yaml",
        f"enabled: true\nmode: live\nchat_id: '@bhxh_tinh_tin_tuc'\napi_base: {fake.base_url}\n",
    )
    return workspace


# -- what `publish` refuses ------------------------------------------------------------------
def test_a_draft_is_refused_unless_forced(workspace: WorkspaceBuilder) -> None:
    workspace.article("a.md", "title: Bài A\nstatus: draft\n")

    refused = cli(workspace.root, "publish", "a", "--channel", "portal")
    assert refused.exit_code == 1 and "'a' is a draft" in refused.output
    assert "--force" in refused.output and "nothing was sent" in refused.output
    assert not (workspace.root / ".publisher/outbox/portal").exists()

    forced = cli(workspace.root, "publish", "a", "--channel", "portal", "--force")
    assert forced.exit_code == 0, forced.output
    assert status(workspace.root)["counts"]["published"] == 1


def test_an_item_before_its_not_before_or_pinned_time_is_refused(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.article("later.md", f"title: Bài sau\nnot_before: {local_day(30)}\n")
    workspace.article("pinned.md", f'title: Bài ghim\nat: "{local_day(20)} 08:00"\n')
    workspace.article("over.md", f"title: Bài cũ\nnot_after: {local_day(-3)}\n")

    later = cli(workspace.root, "publish", "later", "--channel", "portal")
    pinned = cli(workspace.root, "publish", "pinned", "--channel", "portal")
    over = cli(workspace.root, "publish", "over", "--channel", "portal")

    assert later.exit_code == pinned.exit_code == over.exit_code == 1
    assert "is not to be published before" in later.output
    assert "is pinned to" in pinned.output and "08:00" in pinned.output
    assert "was not to be published after" in over.output
    assert status(workspace.root)["counts"]["published"] == 0


def test_a_social_post_waits_for_its_portal_article_then_links_to_its_address(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.article("a.md", "title: Thông báo lịch nghỉ Tết\n")
    workspace.article("b.md", "title: Thông báo lịch nghỉ Tết\ndate: 2026-12-02\n")

    early = cli(workspace.root, "publish", "b", "--channel", "facebook")
    assert early.exit_code == 1 and "publish it first" in early.output

    assert cli(workspace.root, "publish", "b", "--channel", "portal").exit_code == 0
    after = cli(workspace.root, "publish", "b", "--channel", "facebook")
    assert after.exit_code == 0, after.output
    portal = next(d for d in status(workspace.root)["published"] if d["channel"] == "portal")
    sent = workspace.root / ".publisher/outbox/facebook/b/feed.request.json"
    message = json.loads(sent.read_text(encoding="utf-8"))["payload"]["message"]
    assert portal["url"].endswith("/thong-bao-lich-nghi-tet-2/")  # b is the younger one
    assert portal["url"] in message


# -- the same delivery, the same history ------------------------------------------------------
def test_a_manual_publish_is_in_the_history_and_never_sent_twice(
    workspace: WorkspaceBuilder,
) -> None:
    workspace.article("a.md", "title: Bài A\n")
    first = cli(workspace.root, "publish", "a", "--channel", "portal")
    second = cli(workspace.root, "publish", "a", "--channel", "portal")

    assert first.exit_code == second.exit_code == 0
    assert "already published" in second.output
    [published] = status(workspace.root)["published"]
    assert published["item"] == "a" and published["channel"] == "portal"
    assert events(workspace.root, "a", "portal") == ["planned", "sending", "published"]


def test_an_open_telegram_message_is_not_sent_again_by_publish(
    workspace: WorkspaceBuilder, telegram: FakeTelegram
) -> None:
    """The message went out, its answer was lost: `publish` again must not repeat it."""
    live_telegram_only(workspace, telegram).article("a.md", "title: Tin A\n")
    telegram.inject(Fault(drop=True, acted=True, path_contains="/sendMessage"))

    first = cli(workspace.root, "publish", "a", "--channel", "telegram", env=TELEGRAM)
    second = cli(workspace.root, "publish", "a", "--channel", "telegram", env=TELEGRAM)

    assert first.exit_code == second.exit_code == 1
    assert "publisher resolve" in second.output
    assert len(telegram.channel.messages) == 1
    [unknown] = status(workspace.root)["unknown"]
    assert unknown["item"] == "a" and unknown["channel"] == "telegram"


def test_zalo_after_an_error_once_the_article_was_made_publishes_one_article(
    workspace: WorkspaceBuilder, tmp_path: Path
) -> None:
    """The create answered 500 after Zalo made the article: `publish` looks it up, gets it
    verified and broadcasts it: one article, one broadcast."""
    with ZaloFake() as zalo, FakeWebHost(workspace.root / ".publisher/site") as web:
        for name in ("facebook", "youtube", "telegram"):
            workspace.write(f"channels/{name}.yaml", "enabled: false\n")
        portal = f"enabled: true\nmode: outbox\nbase_url: {web.base_url}\n"
        workspace.write("channels/portal.yaml", portal)
        workspace.write(
            "channels/zalo.yaml",
            f"enabled: true\nmode: live\nbroadcast: true\napi_base: {zalo.base_url}\n"
            f"oauth_base: {zalo.base_url}\n",
        )
        workspace.article("a.md", "title: Tin A\n")
        assert cli(workspace.root, "publish", "a", "--channel", "portal").exit_code == 0
        error = Response(500, b"Internal Server Error", {"Content-Type": "text/html"})
        zalo.inject(Fault(error, acted=True, path_contains="/article/create"))

        result = cli(workspace.root, "publish", "a", "--channel", "zalo", env=ZALO)

        assert result.exit_code == 0, result.output
        assert len(zalo.articles) == 1 and zalo.articles[0].verified
        assert len(zalo.broadcasts) == 1
        assert events(workspace.root, "a", "zalo")[-4:] == [
            "unknown",
            "found",
            "sending",
            "published",
        ]


# -- resolving a half-sent post part by part ------------------------------------------------------
def half_sent(
    workspace: WorkspaceBuilder, telegram: FakeTelegram, went_out: bool
) -> tuple[int, int]:
    """A photo, then text in several messages; the first message's answer is lost. The
    delivery's number, and how many messages the post has."""
    live_telegram_only(workspace, telegram)
    workspace.image("content/a/anh.png", (800, 600))
    workspace.article("a/index.md", "title: Tin dài\n", "![Ảnh](anh.png)\n\n" + LONG_TEXT)
    telegram.inject(Fault(drop=True, acted=went_out, path_contains="/sendMessage"))
    result = cli(workspace.root, "publish", "a", "--channel", "telegram", env=TELEGRAM)
    assert result.exit_code == 1, result.output
    [unknown] = status(workspace.root)["unknown"]
    rendered = json.loads(cli(workspace.root, "render", "a", "--json").stdout)
    requests = rendered["posts"]["telegram"]["requests"]
    messages = sum(r["step"].startswith("message") for r in requests)
    assert messages >= 2
    return unknown["id"], messages


def test_resolving_a_part_that_went_out_sends_only_the_rest(
    workspace: WorkspaceBuilder, telegram: FakeTelegram
) -> None:
    number, messages = half_sent(workspace, telegram, went_out=True)

    resolved = cli(workspace.root, "resolve", str(number), "--published")
    finished = cli(workspace.root, "publish", "a", "--channel", "telegram", env=TELEGRAM)

    assert resolved.exit_code == 0 and "what is left will be sent" in resolved.output
    assert finished.exit_code == 0, finished.output
    texts = [m for m in telegram.channel.messages if "text" in m]
    assert len(texts) == messages  # each message once: none lost, none twice
    assert len({m["text"] for m in texts}) == messages


def test_resolving_a_part_that_did_not_go_out_sends_it_once(
    workspace: WorkspaceBuilder, telegram: FakeTelegram
) -> None:
    number, messages = half_sent(workspace, telegram, went_out=False)

    assert cli(workspace.root, "resolve", str(number), "--not-published").exit_code == 0
    finished = cli(workspace.root, "publish", "a", "--channel", "telegram", env=TELEGRAM)

    assert finished.exit_code == 0, finished.output
    texts = [m for m in telegram.channel.messages if "text" in m]
    photos = [m for m in telegram.channel.messages if "photo" in m]
    assert len(photos) == 1 and len(texts) == messages
    assert len({m["text"] for m in texts}) == messages


def test_retry_and_resolve_wake_a_running_service(workspace: WorkspaceBuilder) -> None:
    workspace.article("a.md", "title: Bài A\n")
    store = open_store(workspace.root / ".publisher")
    try:
        store.deliveries.announce([("a", "portal", "test", dt.datetime.now(dt.UTC))])
        delivery = store.deliveries.find("a", "portal")
        assert delivery is not None
        store.deliveries.change(delivery, "failed", dt.datetime.now(dt.UTC), "x", state="failed")
    finally:
        store.close()
    wake = workspace.root / ".publisher/wake"

    assert cli(workspace.root, "retry", "a:portal").exit_code == 0
    assert wake.is_file()
