"""The Telegram client through the real python-telegram-bot, against a fake Bot API server."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from publisher.adapters.base import Call, Post
from publisher.adapters.telegram import TelegramSettings
from publisher.catalog import Catalog, load_catalog
from publisher.clients.telegram import (
    END_OF_CHANNEL,
    PROBE_WINDOW,
    TelegramClient,
    check_credentials,
    create_client,
    to_publish_error,
)
from publisher.content.model import ContentItem
from publisher.publishing.errors import PublishError
from publisher.publishing.executor import publish_post
from publisher.publishing.model import (
    FOUND_STEP,
    ClientEnv,
    LookupNotSupported,
    MemoryStepLog,
    Receipt,
)
from publisher.publishing.service import PublishService, delivery_key
from publisher.render.service import Renderer
from publisher.render.telegram_html import visible_length
from publisher.store.database import StoredStepLog, open_store
from publisher.workspace import open_workspace

from .conftest import copy_sample
from .fakes.base import Fault, Response
from .fakes.telegram import CAPTION_LIMIT, TEXT_LIMIT, FakeTelegram, parse_html, utf16

TIMEOUT = 30.0  # a busy machine never makes the fake this slow
HANG_TIMEOUT = 5.0  # for a request the fake never answers: how long the client waits
TOKEN = "7000000001:AAFakeTokenForTests_0123456789abcdef"
ARTICLE = "nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia"
INFOGRAPHIC = "nuoc-rut-2026/infographic/ket-qua-10-thang"
FOLDER = "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan"
CHAT = "@bhxh_tinh_tin_tuc"
# PTB's RetryAfter reads its own deprecated int `retry_after` when it is raised.
pytestmark = pytest.mark.filterwarnings("ignore:.*`retry_after`.*:DeprecationWarning")


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalog, Renderer]:
    root = copy_sample(tmp_path_factory.mktemp("sample") / "ws")
    catalog = load_catalog(open_workspace(root, {}))
    return catalog, Renderer(catalog)


@pytest.fixture(scope="module")
def posts(sample: tuple[Catalog, Renderer]) -> dict[str, Post]:
    catalog, renderer = sample
    return {i: renderer.render(catalog.item(i), "telegram") for i in (ARTICLE, INFOGRAPHIC, FOLDER)}


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
def settings(sample: tuple[Catalog, Renderer], fake: FakeTelegram) -> TelegramSettings:
    configured = sample[0].channels["telegram"].settings
    return configured.model_copy(
        update={"api_base": fake.base_url, "check_chat_id": str(fake.check.id)}
    )


@pytest.fixture
def env(tmp_path: Path) -> ClientEnv:
    store = open_store(tmp_path / "state")
    return ClientEnv(
        secrets={"bot_token": TOKEN},
        tokens=store.tokens("telegram"),
        state_dir=tmp_path,
        timeout=TIMEOUT,
        sleep=lambda seconds: None,
    )


@pytest.fixture
def steps(tmp_path: Path) -> StoredStepLog:
    return open_store(tmp_path / "state").steps("telegram:item")


@pytest.fixture
def client(settings: TelegramSettings, env: ClientEnv) -> TelegramClient:
    return create_client(settings, env)


def publish(
    post: Post, client: TelegramClient, steps: Any, secrets: tuple[str, ...] = (TOKEN,)
) -> Receipt:
    """Publish live; the executor scrubs `secrets` from errors (pass () to test the client)."""
    return publish_post(post, client, steps, mode="live", secrets=secrets)


def text_post(*texts: str) -> Post:
    calls = tuple(
        Call(
            f"message_{i}",
            "POST",
            "sendMessage",
            {"chat_id": CHAT, "text": t, "parse_mode": "HTML"},
        )
        for i, t in enumerate(texts)
    )
    return Post("telegram", "test/item", "hash", calls)


def failure(post: Post, client: TelegramClient, steps: Any = None) -> PublishError:
    steps = MemoryStepLog() if steps is None else steps
    with pytest.raises(PublishError) as caught:
        publish(post, client, steps)
    return caught.value


def sent(fake: FakeTelegram, method: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
    return [r.form() for r in fake.requests_to(f"/{method}")]


def lose_answer(fake: FakeTelegram, method: str, nth: int = 1, *, acted: bool = True) -> None:
    """The line drops on the `nth` request to `method`, after Telegram acted on it (or before)."""
    for _ in range(nth - 1):
        fake.inject(Fault(path_contains=f"/{method}"))  # answered as usual
    fake.inject(Fault(drop=True, acted=acted, path_contains=f"/{method}"))


def live_service(tmp_path: Path, fake: FakeTelegram) -> tuple[PublishService, ContentItem]:
    """The sample workspace with Telegram live against `fake`, checking in its officers' chat."""
    root = copy_sample(tmp_path / "ws")
    path = root / "channels" / "telegram.yaml"
    text = path.read_text(encoding="utf-8").replace("mode: outbox", "mode: live")
    text += f"api_base: {fake.base_url}\ncheck_chat_id: '{fake.check.id}'\n"
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(open_workspace(root, {"TELEGRAM_BOT_TOKEN": TOKEN}))
    item = catalog.item(FOLDER)
    assert item is not None
    store = open_store(tmp_path / "state")
    return PublishService(catalog, store, timeout=TIMEOUT, state_dir=tmp_path / "state"), item


def shown(fake: FakeTelegram) -> list[str]:
    """What the channel shows, message by message: its text, or its caption."""
    return [m.get("text") or m.get("caption") or "" for m in fake.channel.messages]


def expected(post: Post) -> list[str]:
    """What the channel shows once `post` is out exactly once."""
    album, *texts = post.calls
    captions = [parse_html(m.get("caption", "")).strip() for m in album.payload["media"]]
    return captions + [parse_html(c.payload["text"]).strip() for c in texts]


# -- publishing the sample items --------------------------------------------------------------
def test_long_article_goes_out_as_several_form_encoded_messages(
    posts: dict[str, Post], client: TelegramClient, fake: FakeTelegram, steps: StoredStepLog
) -> None:
    post = posts[ARTICLE]
    assert [c.endpoint for c in post.calls] == ["sendMessage"] * 3
    receipt = publish(post, client, steps)

    for request in fake.requests_to("/sendMessage"):
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    for call, (fields, files) in zip(post.calls, sent(fake, "sendMessage"), strict=True):
        assert (fields["chat_id"], fields["parse_mode"], files) == (CHAT, "HTML", {})
        assert fields["text"] == call.payload["text"]
        assert json.loads(fields["link_preview_options"]) == call.payload["link_preview_options"]
    shown = [m["text"] for m in fake.channel.messages]
    assert all(0 < utf16(text) <= TEXT_LIMIT for text in shown)
    assert max(utf16(text) for text in shown) > 4000  # the split really uses the room
    first = fake.channel.messages[0]["message_id"]
    assert receipt.remote_id == str(first)
    assert receipt.url == f"https://t.me/bhxh_tinh_tin_tuc/{first}"
    assert steps.get("message_2") == {
        "message_id": first + 2,
        "chat_id": fake.channel.id,
        "chat_username": "bhxh_tinh_tin_tuc",
    }


def test_infographic_goes_out_as_one_photo_with_its_caption(
    posts: dict[str, Post], client: TelegramClient, fake: FakeTelegram, steps: StoredStepLog
) -> None:
    post = posts[INFOGRAPHIC]
    (call,) = post.calls
    receipt = publish(post, client, steps)

    (request,) = fake.requests_to("/sendPhoto")
    assert request.headers["content-type"].startswith("multipart/form-data")
    fields, files = request.form()
    assert (fields["chat_id"], fields["parse_mode"]) == (CHAT, "HTML")
    assert fields["caption"] == call.payload["caption"]
    assert files["photo"][1] == Path(call.files["photo_0"]).read_bytes()
    (message,) = fake.channel.messages
    assert message["caption"] == parse_html(call.payload["caption"]).strip()
    assert utf16(message["caption"]) <= CAPTION_LIMIT
    assert message["photo"][0]["width"] > 0
    assert receipt.remote_id == str(message["message_id"])


def test_folder_item_goes_out_as_an_album_then_its_text(
    posts: dict[str, Post], client: TelegramClient, fake: FakeTelegram, steps: StoredStepLog
) -> None:
    post = posts[FOLDER]
    album, *texts = post.calls
    receipt = publish(post, client, steps)

    fields, files = sent(fake, "sendMediaGroup")[0]
    media = json.loads(fields["media"])
    assert [item["type"] for item in media] == ["photo"] * 3
    for item, name in zip(media, ["photo_0", "photo_1", "photo_2"], strict=True):
        part = item["media"].removeprefix("attach://")
        assert files[part][1] == Path(album.files[name]).read_bytes()
    assert media[0]["caption"] == album.payload["media"][0]["caption"]
    assert media[0]["parse_mode"] == "HTML"
    assert all("caption" not in item for item in media[1:])
    assert [f["text"] for f, _ in sent(fake, "sendMessage")] == [c.payload["text"] for c in texts]

    posted = fake.channel.messages
    assert len(posted) == 5
    assert len({m["media_group_id"] for m in posted[:3]}) == 1
    assert utf16(posted[0]["caption"]) <= CAPTION_LIMIT
    assert all(utf16(m["text"]) <= TEXT_LIMIT for m in posted[3:])
    ids = [m["message_id"] for m in posted[:3]]
    assert steps.get("album")["message_ids"] == ids
    assert (receipt.remote_id, receipt.url) == (
        str(ids[0]),
        f"https://t.me/bhxh_tinh_tin_tuc/{ids[0]}",
    )


def test_every_call_starts_with_getme(
    posts: dict[str, Post], client: TelegramClient, fake: FakeTelegram
) -> None:
    publish(posts[INFOGRAPHIC], client, MemoryStepLog())
    assert [r.path.rsplit("/", 1)[1] for r in fake.requests] == ["getMe", "sendPhoto"]


def test_rendered_counts_agree_with_the_fake(posts: dict[str, Post]) -> None:
    for post in posts.values():
        for call in post.calls:
            html = call.payload.get("text") or call.payload.get("caption")
            html = html or call.payload.get("media", [{}])[0].get("caption", "")
            assert utf16(parse_html(html).strip()) == visible_length(html), call.step


# -- resuming and unknown outcomes --------------------------------------------------------------
def test_a_failure_on_the_second_message_resumes_there(
    posts: dict[str, Post], client: TelegramClient, fake: FakeTelegram, steps: StoredStepLog
) -> None:
    post = posts[ARTICLE]
    fake.rate_limit(retry_after=3, after=1)
    error = failure(post, client, steps)
    assert (error.kind, error.retry_after) == ("retryable", 3.0)
    assert steps.get("message_0") is not None and steps.get("message_1") is None

    receipt = publish(post, client, steps)
    texts = [f["text"] for f, _ in sent(fake, "sendMessage")]
    first, second, third = (c.payload["text"] for c in post.calls)
    assert texts == [first, second, second, third]  # message_0 never went out twice
    assert [m["text"] for m in fake.channel.messages] == [
        parse_html(t).strip() for t in (first, second, third)
    ]
    assert receipt.remote_id == str(fake.channel.messages[0]["message_id"])


def test_a_dropped_connection_stays_unknown(client: TelegramClient, fake: FakeTelegram) -> None:
    post = text_post("<b>Một</b>")
    fake.inject(Fault(drop=True, path_contains="/sendMessage"))
    steps = MemoryStepLog()
    error = failure(post, client, steps)
    assert error.kind == "unknown"
    assert "look before resending" in error.message
    assert steps.results == {}
    with pytest.raises(LookupNotSupported):
        client.find_existing(post, steps)


@pytest.mark.parametrize("lost", [0, 1])
def test_a_message_whose_answer_was_lost_is_found_and_not_sent_again(
    fake: FakeTelegram, tmp_path: Path, lost: int
) -> None:
    """An album and two messages; message `lost` reached the channel, its answer did not."""
    service, item = live_service(tmp_path, fake)
    lose_answer(fake, "sendMessage", nth=lost + 1)
    with pytest.raises(PublishError) as caught:
        service.publish(item, "telegram")
    assert caught.value.kind == "unknown"
    ours = fake.channel.messages[-1]["message_id"]

    assert service.record_existing(item, "telegram") == "found"
    steps = service.store.steps(delivery_key(item, "telegram"))
    answer = {
        "message_id": ours,
        "chat_id": fake.channel.id,
        "chat_username": fake.channel.username,
    }
    assert steps.get(f"message_{lost}") == answer
    receipt = service.publish(item, "telegram")

    post = service.renderer.render(item, "telegram")
    assert shown(fake) == expected(post)  # every part exactly once, in order
    assert len(fake.requests_to("/sendMessage")) == 2
    assert receipt.remote_id == str(fake.channel.messages[0]["message_id"])
    forwarded = sent(fake, "forwardMessage")
    assert [int(f["message_id"]) for f, _ in forwarded] == [ours]
    assert {f["chat_id"] for f, _ in forwarded} == {str(fake.check.id)}
    assert fake.check.messages == []  # the copy was deleted from the officers' chat


def test_a_message_that_never_went_out_is_not_found_and_sent_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    service, item = live_service(tmp_path, fake)
    lose_answer(fake, "sendMessage", acted=False)
    with pytest.raises(PublishError):
        service.publish(item, "telegram")
    album_end = fake.channel.messages[-1]["message_id"]

    assert service.record_existing(item, "telegram") == "not found"
    probed = [int(f["message_id"]) for f, _ in sent(fake, "forwardMessage")]
    assert probed == [album_end + n for n in range(1, END_OF_CHANNEL + 1)]
    assert fake.requests_to("/deleteMessage") == []  # nothing was forwarded, nothing to delete
    service.publish(item, "telegram")
    assert shown(fake) == expected(service.renderer.render(item, "telegram"))


@pytest.mark.parametrize("acted", [True, False])
def test_other_posts_between_ours_are_told_apart(
    fake: FakeTelegram, tmp_path: Path, acted: bool
) -> None:
    """Between the album and message 1 someone posts two posts and deletes them, then quotes
    message 1's title; after it, someone posts again. Message 1's answer is lost."""
    service, item = live_service(tmp_path, fake)
    post = service.renderer.render(item, "telegram")
    fake.rate_limit(retry_after=1, after=1)  # the album goes out, message 1 waits
    with pytest.raises(PublishError):
        service.publish(item, "telegram")
    for text in ("Deleted one", "Deleted two"):
        fake.post_by_someone_else(text)
        fake.channel.messages.pop()  # deleted: two ids in a row hold nothing
    fake.post_by_someone_else(parse_html(post.calls[1].payload["text"]).split("\n")[0])
    lose_answer(fake, "sendMessage", acted=acted)
    with pytest.raises(PublishError):
        service.publish(item, "telegram")
    fake.post_by_someone_else("Lịch trực tuần này")

    settled = service.record_existing(item, "telegram")

    assert settled == ("found" if acted else "not found")
    service.publish(item, "telegram")
    ours = [text for text in shown(fake) if text in expected(post)]
    assert ours == expected(post)
    assert len(fake.channel.messages) == len(expected(post)) + 2
    assert fake.check.messages == []


def test_a_window_full_of_other_posts_is_left_to_an_officer(
    client: TelegramClient, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    post = posts[FOLDER]
    steps = MemoryStepLog()
    fake.rate_limit(retry_after=1, after=1)
    failure(post, client, steps)
    for n in range(PROBE_WINDOW):
        fake.post_by_someone_else(f"Tin số {n}")
    lose_answer(fake, "sendMessage")
    failure(post, client, steps)

    with pytest.raises(LookupNotSupported) as caught:
        client.find_existing(post, steps)
    assert f"the {PROBE_WINDOW} messages after the last one known" in str(caught.value)
    assert "message 1 of 2" in str(caught.value)
    assert len(fake.requests_to("/forwardMessage")) == PROBE_WINDOW
    assert fake.check.messages == []


def test_an_open_first_part_is_left_to_an_officer(
    client: TelegramClient, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    steps = MemoryStepLog()
    lose_answer(fake, "sendMediaGroup")
    assert failure(posts[FOLDER], client, steps).kind == "unknown"

    with pytest.raises(LookupNotSupported) as caught:
        client.find_existing(posts[FOLDER], steps)
    message = str(caught.value)
    assert message.startswith('whether the album of 3 photos ("')
    assert "no earlier message of the post is known" in message
    assert "'publisher resolve N --published' if it is there" in message
    assert "'publisher resolve N --not-published' if it is not" in message
    assert "check_chat_id" not in message  # it is set: it would not help the first part
    assert fake.requests_to("/forwardMessage") == []


def test_without_a_check_chat_the_officer_is_told_to_set_one(
    settings: TelegramSettings, env: ClientEnv, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    client = create_client(settings.model_copy(update={"check_chat_id": None}), env)
    steps = MemoryStepLog()
    lose_answer(fake, "sendMessage", nth=2)
    failure(posts[FOLDER], client, steps)

    with pytest.raises(LookupNotSupported) as caught:
        client.find_existing(posts[FOLDER], steps)
    message = str(caught.value)
    assert message.startswith('whether message 2 of 2 ("')
    assert "Setting check_chat_id in channels/telegram.yaml" in message
    assert "lets the tool check this by itself" in message
    assert fake.requests_to("/forwardMessage") == []


def test_a_protected_channel_is_left_to_an_officer(
    client: TelegramClient, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    steps = MemoryStepLog()
    lose_answer(fake, "sendMessage")
    failure(posts[FOLDER], client, steps)
    fake.protect_content()

    with pytest.raises(LookupNotSupported, match="protects its content"):
        client.find_existing(posts[FOLDER], steps)
    assert fake.requests_to("/forwardMessage") == []


def test_a_refused_forward_is_left_to_an_officer(
    client: TelegramClient, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    """Protection switched on after getChat answered, or a message that cannot be forwarded."""
    steps = MemoryStepLog()
    lose_answer(fake, "sendMessage")
    failure(posts[FOLDER], client, steps)
    description = "Bad Request: message has protected content and can't be forwarded"
    body = {"ok": False, "error_code": 400, "description": description}
    fake.inject(Fault(Response(400, body), path_contains="/forwardMessage"))

    with pytest.raises(
        LookupNotSupported, match=r"forwarding message \d+ to check_chat_id was refused"
    ):
        client.find_existing(posts[FOLDER], steps)


def test_a_check_chat_the_bot_left_is_left_to_an_officer(
    client: TelegramClient, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    steps = MemoryStepLog()
    lose_answer(fake, "sendMessage")
    failure(posts[FOLDER], client, steps)
    fake.check.member = False

    with pytest.raises(LookupNotSupported, match="the bot cannot use check_chat_id"):
        client.find_existing(posts[FOLDER], steps)
    assert len(fake.channel.messages) == 4  # a lookup never posts to the channel


def test_a_lookup_cut_short_is_repeated_not_unknown(
    client: TelegramClient, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    steps = MemoryStepLog()
    lose_answer(fake, "sendMessage")
    failure(posts[FOLDER], client, steps)
    fake.inject(Fault(drop=True, path_contains="/forwardMessage"))

    with pytest.raises(PublishError) as caught:
        client.find_existing(posts[FOLDER], steps)
    assert caught.value.kind == "retryable"
    assert "nothing was posted to the channel" in caught.value.message


def test_an_album_after_a_message_is_found_whole(
    client: TelegramClient, fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    """A post whose album is not its first part: the album's ids are the consecutive ones
    showing its photos, the first with its caption."""
    album = posts[FOLDER].calls[0]
    post = Post("telegram", "test/item", "hash", (text_post("<b>Mở đầu</b>").calls[0], album))
    steps = MemoryStepLog()
    lose_answer(fake, "sendMediaGroup")
    failure(post, client, steps)
    fake.post_by_someone_else("Sau album")

    found = client.find_existing(post, steps)

    ids = [m["message_id"] for m in fake.channel.messages[1:4]]
    assert found is not None and found[FOUND_STEP] == "album"
    assert (found["message_ids"], found["message_id"]) == (ids, ids[0])
    assert fake.check.messages == []


def test_the_receipt_stands_on_what_is_known_when_an_officer_settled_a_part(
    client: TelegramClient, posts: dict[str, Post]
) -> None:
    post = posts[FOLDER]
    officer = {"settled": "operator", "url": "https://t.me/bhxh_tinh_tin_tuc/205"}
    message = {"message_id": 206, "chat_id": -1001234567890}
    results = {"album": officer, "message_0": message, "message_1": {"settled": True}}
    assert client.receipt(post, results) == ("206", "https://t.me/bhxh_tinh_tin_tuc/206")
    nothing_known = {"album": officer, "message_0": {"settled": True}, "message_1": officer}
    assert client.receipt(post, nothing_known) == ("", officer["url"])


def test_a_read_timeout_is_unknown_because_telegram_may_have_posted(
    settings: TelegramSettings, env: ClientEnv, fake: FakeTelegram
) -> None:
    fake.inject(Fault(hang=True, acted=True, path_contains="/sendMessage"))
    client = create_client(settings, replace(env, timeout=HANG_TIMEOUT))
    error = failure(text_post("Tin nhắn"), client)
    assert error.kind == "unknown"
    assert len(fake.channel.messages) == 1  # it was posted: a blind retry would duplicate it


# -- every fault class -----------------------------------------------------------------------------
def test_flood_control_is_retryable_with_telegrams_wait(
    client: TelegramClient, fake: FakeTelegram
) -> None:
    fake.rate_limit(retry_after=17)
    error = failure(text_post("Tin"), client)
    assert (error.kind, error.http_status, error.retry_after) == ("retryable", 429, 17.0)


@pytest.mark.parametrize(
    ("breakage", "fragment"),
    [
        (FakeTelegram.revoke_token, "refused the bot token"),
        (lambda fake: fake.set_admin(False), "bot is not a member of the channel chat"),
        (FakeTelegram.kick, "bot was kicked from the channel chat"),
        (lambda fake: fake.set_admin(True, can_post=False), "need administrator rights"),
    ],
)
def test_refused_bots_are_auth_failures_with_what_to_do(
    client: TelegramClient, fake: FakeTelegram, breakage: Any, fragment: str
) -> None:
    breakage(fake)
    error = failure(text_post("Tin"), client)
    assert error.kind == "auth"
    assert fragment in error.message.lower()
    if "token" not in fragment:
        assert "administrator of the channel with the right to post" in error.message
    assert fake.channel.messages == []


def test_a_malformed_token_is_an_auth_failure(settings: TelegramSettings, env: ClientEnv) -> None:
    bad = replace(env, secrets={"bot_token": "not-a-token"})
    error = failure(text_post("Tin"), create_client(settings, bad))
    assert (error.kind, error.http_status) == ("auth", 401)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<p>Đoạn văn</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("Dòng một<br>dòng hai", 'Unsupported start tag "br" at byte offset 11'),
        ("<b>Đậm <i>nghiêng</b></i>", 'Unmatched end tag at byte offset 21, expected "</i>"'),
        ("<b>Chưa đóng", 'Can\'t find end tag corresponding to start tag "b"'),
    ],
)
def test_html_telegram_refuses_is_a_permanent_render_bug(
    client: TelegramClient, fake: FakeTelegram, text: str, description: str
) -> None:
    error = failure(text_post(text), client)
    assert (error.kind, error.http_status) == ("permanent", 400)
    # PTB drops "Bad Request: " and lower-cases the rest after the first letter
    assert f"Can't parse entities: {description}".capitalize() in error.message
    assert "render bug" in error.message


def test_text_over_the_limit_is_permanent(client: TelegramClient, fake: FakeTelegram) -> None:
    error = failure(text_post("<b>" + "ệ" * (TEXT_LIMIT + 1) + "</b>"), client)
    assert (error.kind, error.message) == (
        "permanent",
        "Message is too long: the rendered text exceeds Telegram's limit: a render bug",
    )


def test_a_migrated_chat_names_the_new_id(client: TelegramClient, fake: FakeTelegram) -> None:
    fake.migrate(-1009876543210)
    error = failure(text_post("Tin"), client)
    assert error.kind == "permanent"
    assert "set chat_id to -1009876543210" in error.message


def test_a_server_error_after_sending_is_unknown(
    client: TelegramClient, fake: FakeTelegram
) -> None:
    body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    fake.inject(Fault(Response(502, body), path_contains="/sendMessage"))
    assert failure(text_post("Tin"), client).kind == "unknown"


def test_a_failed_getme_is_retryable_because_nothing_was_sent(
    client: TelegramClient, fake: FakeTelegram
) -> None:
    fake.inject(Fault(drop=True, path_contains="/getMe"))
    error = failure(text_post("Tin"), client)
    assert error.kind == "retryable"
    assert fake.requests_to("/sendMessage") == []


def test_connection_refused_is_retryable(
    settings: TelegramSettings, env: ClientEnv, fake: FakeTelegram
) -> None:
    base = fake.base_url
    fake.stop()
    error = failure(
        text_post("Tin"), create_client(settings.model_copy(update={"api_base": base}), env)
    )
    assert error.kind == "retryable"


def test_a_missing_media_file_is_permanent(client: TelegramClient, tmp_path: Path) -> None:
    payload = {"chat_id": CHAT, "photo": "attach://photo_0", "caption": "Ảnh"}
    call = Call("photo", "POST", "sendPhoto", payload, {"photo_0": str(tmp_path / "gone.jpg")})
    with pytest.raises(PublishError) as caught:
        client.run(call, payload, MemoryStepLog())
    assert caught.value.kind == "permanent"
    assert "render the item again" in caught.value.message


# -- the mapping function on its own (what a loopback server cannot stage) -------------------------
def chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (lambda tg: chained(tg.TimedOut(), httpx.ConnectTimeout("connect")), "retryable"),
        (lambda tg: chained(tg.NetworkError("x"), httpx.ConnectError("refused")), "retryable"),
        (lambda tg: chained(tg.TimedOut(), httpx.PoolTimeout("pool")), "retryable"),
        (lambda tg: chained(tg.TimedOut(), httpx.ReadTimeout("read")), "unknown"),
        (lambda tg: chained(tg.TimedOut(), httpx.WriteTimeout("write")), "unknown"),
        (lambda tg: tg.NetworkError("Bad Gateway (502)"), "unknown"),
        (lambda tg: tg.BadRequest("Chat not found"), "permanent"),
        (lambda tg: tg.Conflict("terminated by other getUpdates request"), "permanent"),
        (lambda tg: tg.TelegramError("Invalid server response"), "unknown"),
        (lambda tg: RuntimeError("boom"), "unknown"),
    ],
)
def test_mapping_puts_subclasses_before_their_bases(exc: Any, kind: str) -> None:
    from telegram import error as tg

    assert to_publish_error(exc(tg), TOKEN).kind == kind


@pytest.mark.parametrize("wait", [5, dt.timedelta(seconds=5)])
def test_retry_after_may_be_seconds_or_a_timedelta(wait: Any) -> None:
    from telegram.error import RetryAfter

    error = to_publish_error(RetryAfter(wait), TOKEN)
    assert (error.kind, error.retry_after) == ("retryable", 5.0)


# -- credentials and secrets ------------------------------------------------------------------
def test_check_credentials_proves_the_bot_can_post(
    settings: TelegramSettings, env: ClientEnv, fake: FakeTelegram
) -> None:
    assert check_credentials(settings, env) == "bot @bhxh_tinh_bot can post to BHXH tỉnh"
    methods = [r.path.rsplit("/", 1)[1] for r in fake.requests]
    assert methods == ["getMe", "getChat", "getChatMember"]
    assert sent(fake, "getChatMember")[0][0]["user_id"] == "7000000001"

    fake.set_admin(True, can_post=False)
    with pytest.raises(PublishError) as caught:
        check_credentials(settings, env)
    assert caught.value.kind == "auth"
    assert "right to post messages" in caught.value.message


def test_a_missing_token_is_an_auth_failure(settings: TelegramSettings, env: ClientEnv) -> None:
    with pytest.raises(PublishError) as caught:
        create_client(settings, replace(env, secrets={}))
    assert caught.value.kind == "auth" and "TELEGRAM_BOT_TOKEN" in caught.value.message


def test_the_token_never_appears_in_errors_results_or_logs(
    posts: dict[str, Post],
    client: TelegramClient,
    fake: FakeTelegram,
    steps: StoredStepLog,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[PublishError] = []
    # secrets=() so the executor's own redaction cannot hide a leak from the client
    receipt = publish(posts[FOLDER], client, steps, secrets=())
    fake.inject(Fault(drop=True, path_contains="/sendMessage"))
    fake.inject(Fault(Response(502, b"<html>bad gateway</html>"), path_contains="/sendMessage"))
    for _ in range(2):
        with pytest.raises(PublishError) as caught:
            publish(text_post("Tin"), client, MemoryStepLog(), secrets=())
        errors.append(caught.value)
    fake.revoke_token()  # PTB's own message quotes the token: "The token `...` was rejected"
    with pytest.raises(PublishError) as caught:
        publish(text_post("Tin"), client, MemoryStepLog(), secrets=())
    errors.append(caught.value)

    records = [r.getMessage() for r in caplog.records]
    assert any("bot***" in line for line in records)  # the URLs were logged, scrubbed
    texts = [str(e) for e in errors] + records
    texts += [json.dumps(steps.all()), json.dumps(receipt.to_json())]
    assert [t for t in texts if TOKEN in t or TOKEN.split(":")[1] in t] == []


# -- the fake itself: it rejects what Telegram rejects ------------------------------------------
def api(fake: FakeTelegram, method: str, token: str = TOKEN, **kwargs: Any) -> dict[str, Any]:
    return requests.post(f"{fake.base_url}/bot{token}/{method}", timeout=TIMEOUT, **kwargs).json()


def test_fake_checks_tokens_and_methods(fake: FakeTelegram) -> None:
    assert api(fake, "getMe", token="123")["error_code"] == 404
    assert api(fake, "getMe", token="1:" + "x" * 35)["description"] == "Unauthorized"
    assert api(fake, "sendSomething")["error_code"] == 404
    assert api(fake, "getMe")["result"]["username"] == "bhxh_tinh_bot"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("<b>" + "a" * TEXT_LIMIT + "</b>", True),
        ("a" * (TEXT_LIMIT - 1) + "&amp;", True),
        ("😀" * (TEXT_LIMIT // 2), True),
        ("😀" * (TEXT_LIMIT // 2) + "a", False),  # an emoji is two UTF-16 units
        ("a" * (TEXT_LIMIT + 1), False),
    ],
)
def test_fake_counts_text_after_parsing_in_utf16(fake: FakeTelegram, text: str, ok: bool) -> None:
    answer = api(fake, "sendMessage", data={"chat_id": CHAT, "text": text, "parse_mode": "HTML"})
    assert answer["ok"] is ok, answer
    if not ok:
        assert answer["description"] == "Bad Request: message is too long"


def test_fake_refuses_albums_outside_two_to_ten(fake: FakeTelegram) -> None:
    one = [{"type": "photo", "media": "attach://a"}]
    eleven = one * 11
    for media, description in [
        (one, "Bad Request: an album must hold 2-10 media"),
        (eleven, "Bad Request: too many messages to send as an album"),
        ([], "Bad Request: there are no messages to send"),
    ]:
        data = {"chat_id": CHAT, "media": json.dumps(media)}
        answer = api(fake, "sendMediaGroup", data=data, files={"a": ("a.jpg", b"x")})
        assert answer["description"] == description


def test_fake_forwards_and_deletes_as_the_bot_api_does(fake: FakeTelegram) -> None:
    check = fake.check.id
    html = '<b>Tiêu đề</b>\n\n<a href="https://bhxh.vn/?a=1&amp;b=2">Xem 😀</a>'
    posted = api(fake, "sendMessage", data={"chat_id": CHAT, "text": html, "parse_mode": "HTML"})
    first = posted["result"]["message_id"]
    other = fake.post_by_someone_else("Tin khác")
    assert other == first + 1  # one sequence per chat

    copy = api(
        fake, "forwardMessage", data={"chat_id": check, "from_chat_id": CHAT, "message_id": first}
    )
    result = copy["result"]
    assert (result["message_id"], result["chat"]["id"], result["from"]["id"]) == (
        1,
        check,
        7000000001,
    )
    assert result["text"] == "Tiêu đề\n\nXem 😀"
    assert result["entities"] == [
        {"type": "bold", "offset": 0, "length": 7},
        {"type": "text_link", "offset": 9, "length": 6, "url": "https://bhxh.vn/?a=1&b=2"},
    ]
    origin = result["forward_origin"]
    assert (origin["type"], origin["chat"]["id"], origin["message_id"]) == (
        "channel",
        fake.channel.id,
        first,
    )
    gone = {"chat_id": check, "from_chat_id": CHAT, "message_id": other + 1}
    assert api(fake, "forwardMessage", data=gone)["description"] == (
        "Bad Request: message to forward not found"
    )

    assert api(fake, "deleteMessage", data={"chat_id": check, "message_id": 1})["result"] is True
    assert api(fake, "deleteMessage", data={"chat_id": check, "message_id": 1})["description"] == (
        "Bad Request: message to delete not found"
    )

    fake.protect_content()
    assert api(fake, "getChat", data={"chat_id": CHAT})["result"]["has_protected_content"]
    refused = api(
        fake, "forwardMessage", data={"chat_id": check, "from_chat_id": CHAT, "message_id": first}
    )
    assert refused["description"] == (
        "Bad Request: message has protected content and can't be forwarded"
    )
    assert fake.check.messages == []


def test_fake_forwards_an_album_item_alone_without_its_group(
    fake: FakeTelegram, posts: dict[str, Post]
) -> None:
    album = posts[FOLDER].calls[0]
    media = [{"type": "photo", "media": f"attach://photo_{i}"} for i in range(2)]
    media[0] |= {"caption": "<b>Ảnh</b>", "parse_mode": "HTML"}
    files = {f"photo_{i}": Path(album.files[f"photo_{i}"]).read_bytes() for i in range(2)}
    data = {"chat_id": CHAT, "media": json.dumps(media)}
    sent_items = api(fake, "sendMediaGroup", data=data, files=files)["result"]
    assert sent_items[0]["media_group_id"] == sent_items[1]["media_group_id"]
    assert sent_items[0]["caption_entities"] == [{"type": "bold", "offset": 0, "length": 3}]

    data = {
        "chat_id": fake.check.id,
        "from_chat_id": CHAT,
        "message_id": sent_items[0]["message_id"],
    }
    copy = api(fake, "forwardMessage", data=data)["result"]
    assert copy["caption"] == "Ảnh" and copy["photo"] == sent_items[0]["photo"]
    assert "media_group_id" not in copy
