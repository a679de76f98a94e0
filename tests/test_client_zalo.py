"""The Zalo OA client end to end: sample posts through `requests` into the fake Zalo server."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from publisher.adapters.base import Call, Post
from publisher.adapters.zalo import ZaloSettings
from publisher.catalog import load_catalog
from publisher.clients.zalo import (
    VERIFY_WAITS,
    ZaloClient,
    check_credentials,
    classify,
    consent_url,
    create_client,
    exchange_code,
    new_code_verifier,
)
from publisher.content.model import ContentItem
from publisher.publishing.errors import PublishError
from publisher.publishing.executor import publish_post
from publisher.publishing.hosting import HostingClient
from publisher.publishing.model import ClientEnv, LookupNotSupported, MemoryStepLog
from publisher.publishing.placeholders import resolve
from publisher.publishing.service import PublishService
from publisher.render.service import Renderer
from publisher.store.database import Store, open_store
from publisher.workspace import open_workspace

from .conftest import copy_sample
from .fakes.base import Fault, Request, Response
from .fakes.web import FakeWebHost
from .fakes.zalo import APP_ID, APP_SECRET, FIRST_REFRESH_TOKEN, OA_ID, OA_NAME, ZaloFake

TIMEOUT = 30.0  # a busy machine never makes the fake this slow
HANG_TIMEOUT = 5.0  # for a request the fake never answers: how long the client waits
KICKOFF = "nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia"
FOLDER_ITEM = "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan"
SECRETS = {"app_id": APP_ID, "app_secret": APP_SECRET, "refresh_token": FIRST_REFRESH_TOKEN}


# -- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[ZaloSettings, dict[str, Post]]:
    """The sample workspace's Zalo settings and posts, rendered once for the module."""
    root = copy_sample(tmp_path_factory.mktemp("zalo") / "ws")
    catalog = load_catalog(open_workspace(root, {}))
    renderer = Renderer(catalog)
    posts = {i: renderer.render(catalog.item(i), "zalo") for i in (KICKOFF, FOLDER_ITEM)}
    settings = catalog.channels["zalo"].settings
    assert isinstance(settings, ZaloSettings)
    return settings, posts


@pytest.fixture
def fake() -> Iterator[ZaloFake]:
    with ZaloFake() as server:
        yield server


@pytest.fixture
def web(tmp_path: Path) -> Iterator[FakeWebHost]:
    """Where the article's images are hosted (the portal's part), for Zalo to fetch."""
    with FakeWebHost(tmp_path / "web") as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "state")
    yield opened
    opened.close()


@pytest.fixture
def settings(rendered: tuple[ZaloSettings, dict[str, Post]], fake: ZaloFake) -> ZaloSettings:
    base = fake.base_url
    return rendered[0].model_copy(update={"api_base": base, "oauth_base": base})


@pytest.fixture
def posts(rendered: tuple[ZaloSettings, dict[str, Post]]) -> dict[str, Post]:
    return rendered[1]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def env(store: Store, tmp_path: Path) -> ClientEnv:
    return make_env(store, tmp_path)


@pytest.fixture
def client(settings: ZaloSettings, env: ClientEnv, sleeps: list[float]) -> ZaloClient:
    return create_client(settings, replace(env, sleep=sleeps.append))


@pytest.fixture(autouse=True)
def media_host(web: FakeWebHost) -> Iterator[None]:
    """`publish` hosts the images on `web` (a module global: the helpers take no fixtures)."""
    HOSTS.append(web)
    yield
    HOSTS.remove(web)


HOSTS: list[FakeWebHost] = []


def make_env(store: Store, tmp_path: Path, timeout: float = TIMEOUT, **secrets: str) -> ClientEnv:
    return ClientEnv(
        secrets={**SECRETS, **secrets},
        tokens=store.tokens("zalo"),
        state_dir=tmp_path,
        timeout=timeout,
        sleep=lambda seconds: None,
    )


def publish(post: Post, client: ZaloClient, store: Store, key: str = "k") -> Any:
    hosting = HostingClient(client, HOSTS[-1])
    return publish_post(post, hosting, store.steps(key), mode="live", secrets=SECRETS.values())


def create_call(post: Post) -> Call:
    return next(call for call in post.calls if call.step == "create")


def sent_article(post: Post, store: Store, key: str = "k") -> dict[str, Any]:
    """The create payload as it was sent: the hosted images' addresses filled in."""
    return resolve(create_call(post).payload, store.steps(key).all())


def failure(post: Post, client: ZaloClient, store: Store, key: str = "k") -> PublishError:
    with pytest.raises(PublishError) as caught:
        publish(post, client, store, key)
    return caught.value


def secret_values(fake: ZaloFake) -> list[str]:
    """Every credential the fake knows: app secret and every token it ever issued."""
    return [APP_SECRET, *fake.access_tokens, *fake.refresh_tokens, FIRST_REFRESH_TOKEN]


def assert_no_secrets(fake: ZaloFake, *texts: object) -> None:
    leaked = [s for s in secret_values(fake) for text in texts if s in str(text)]
    assert leaked == []


def api_paths(fake: ZaloFake) -> list[str]:
    return [r.path for r in fake.api_requests()]


def with_title(post: Post, title: str) -> Post:
    calls = tuple(
        replace(call, payload={**call.payload, "title": title}) if call.step == "create" else call
        for call in post.calls
    )
    return replace(post, calls=calls)


# -- publishing the sample posts --------------------------------------------------------------
def test_publishes_kickoff_article_verify_and_broadcast(
    fake: ZaloFake,
    client: ZaloClient,
    store: Store,
    posts: dict[str, Post],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    post = posts[KICKOFF]
    receipt = publish(post, client, store)

    assert api_paths(fake) == [
        "/v2.0/article/create",
        "/v2.0/article/verify",
        "/v2.0/oa/message",
        "/v2.0/article/getdetail",
    ]
    create, verify, broadcast, _ = fake.api_requests()
    assert create.json() == sent_article(post, store)
    assert create.headers["content-type"].startswith("application/json")
    assert "Tham gia BHXH tự nguyện hôm nay".encode() in create.body  # UTF-8, not \u escapes
    (article,) = fake.articles
    assert verify.json() == {"token": article.token}
    element = broadcast.json()["message"]["attachment"]["payload"]["elements"][0]
    assert element == {"media_type": "article", "attachment_id": article.id}
    assert fake.broadcasts == [broadcast.json()]
    (refresh,) = fake.refresh_requests()
    access = store.tokens("zalo").get("access_token")
    assert access is not None
    assert {r.headers["access_token"] for r in fake.api_requests()} == {access.value}
    assert refresh.headers["secret_key"] == APP_SECRET
    assert receipt.remote_id == article.id
    assert receipt.url == article.link_view
    assert set(store.steps("k").all()) == {"host_0", "create", "verify", "broadcast"}
    assert fake.fetched == [create.json()["cover"]["photo_url"]]
    assert_no_secrets(fake, store.steps("k").all(), receipt.to_json(), caplog.text)


def test_publishes_folder_item_with_image_blocks(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    post = posts[FOLDER_ITEM]
    receipt = publish(post, client, store)

    assert api_paths(fake)[:2] == ["/v2.0/article/create", "/v2.0/article/verify"]
    sent = fake.api_requests()[0].json()
    assert sent == sent_article(post, store)
    images = [b["url"] for b in sent["body"] if b["type"] == "image"]
    assert len(images) == 2 and sent["cover"]["photo_url"].startswith(HOSTS[-1].base_url)
    assert fake.fetched == [sent["cover"]["photo_url"], *images]  # Zalo fetched each one
    assert fake.broadcasts == []
    assert receipt.remote_id == fake.articles[0].id


def test_verify_polls_with_growing_waits(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post], sleeps: list[float]
) -> None:
    fake.processing_checks = 3
    receipt = publish(posts[FOLDER_ITEM], client, store)

    assert len(fake.requests_to("/article/verify")) == 4
    assert sleeps == list(VERIFY_WAITS[:3])
    assert sleeps == sorted(sleeps)
    assert receipt.remote_id == fake.articles[0].id


def test_verify_gives_up_retryable_then_resumes_without_second_create(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post], sleeps: list[float]
) -> None:
    fake.processing_checks = 100
    error = failure(posts[KICKOFF], client, store)

    assert (error.kind, error.platform_code, error.retry_after) == ("retryable", -214, 60.0)
    assert len(fake.requests_to("/article/verify")) == len(VERIFY_WAITS) + 1
    assert sum(sleeps) < 120
    assert set(store.steps("k").all()) == {"host_0", "create"}

    fake.articles[0].checks_left = 0
    receipt = publish(posts[KICKOFF], client, store)
    assert len(fake.requests_to("/article/create")) == 1
    assert len(fake.articles) == 1
    assert receipt.remote_id == fake.articles[0].id


def test_dropped_verify_is_retryable_and_resumes_at_verify(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    fake.inject(Fault(drop=True, path_contains="/article/verify"))
    error = failure(posts[KICKOFF], client, store)
    assert error.kind == "retryable"

    publish(posts[KICKOFF], client, store)
    assert api_paths(fake).count("/v2.0/article/create") == 1
    assert len(fake.broadcasts) == 1


def test_failed_broadcast_resumes_at_broadcast(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    fake.inject(Fault(Response(502, b"Bad Gateway"), path_contains="/oa/message"))
    assert failure(posts[KICKOFF], client, store).kind == "unknown"
    assert set(store.steps("k").all()) == {"host_0", "create", "verify"}

    publish(posts[KICKOFF], client, store)
    assert api_paths(fake).count("/v2.0/article/create") == 1
    assert api_paths(fake).count("/v2.0/article/verify") == 1


def test_unknown_create_is_settled_by_find_existing(
    fake: ZaloFake, settings: ZaloSettings, store: Store, posts: dict[str, Post], tmp_path: Path
) -> None:
    """The create's answer is lost after Zalo made the article: the lookup finds it, gets a
    token by updating it with the same content, and verify then yields a verified id, which
    the broadcast needs (Zalo lists unverified articles too)."""
    fake.inject(Fault(hang=True, acted=True, path_contains="/article/create"))
    client = create_client(settings, make_env(store, tmp_path, timeout=HANG_TIMEOUT))
    error = failure(posts[KICKOFF], client, store)
    assert error.kind == "unknown"
    assert set(store.steps("k").all()) == {"host_0"}
    (article,) = fake.articles
    assert not article.verified

    found = client.find_existing(posts[KICKOFF], store.steps("k"))

    assert found is not None and found["id"] == article.id and found["_step"] == "create"
    assert found["token"] == article.token  # the update's new token
    assert client.find_existing(posts[FOLDER_ITEM], store.steps("other")) is None
    store.steps("k").record("create", {k: v for k, v in found.items() if k != "_step"})
    receipt = publish(posts[KICKOFF], client, store)
    assert api_paths(fake).count("/v2.0/article/create") == 1
    assert api_paths(fake).count("/v2.0/article/update") == 1
    assert len(fake.broadcasts) == 1 and receipt.remote_id == article.id and article.verified
    lookup = fake.requests_to("/article/getslice")[0]
    assert lookup.query == {"offset": ["0"], "limit": ["20"], "type": ["normal"]}


def test_last_years_article_with_the_same_title_is_not_ours(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    """Last year's notice has our title and text; our create's answer is lost before Zalo
    acted: the lookup must not take last year's article for ours."""
    publish(posts[KICKOFF], client, store, "last-year")
    fake.articles[0].created -= 365 * 24 * 3600 * 1000
    fake.inject(Fault(drop=True, path_contains="/article/create"))
    assert failure(posts[KICKOFF], client, store).kind == "unknown"

    assert client.find_existing(posts[KICKOFF], store.steps("k")) is None
    publish(posts[KICKOFF], client, store)
    assert len(fake.articles) == 2


def test_a_lost_create_found_later_broadcasts_a_verified_article(
    fake: ZaloFake, web: FakeWebHost, tmp_path: Path
) -> None:
    """Through PublishService as the scheduler uses it: create answered 500 after acting."""
    service, item = live_service(tmp_path, fake, web)
    fake.inject(Fault(Response(500, b"oops"), acted=True, path_contains="/article/create"))
    with pytest.raises(PublishError) as caught:
        service.publish(item, "zalo")
    assert caught.value.kind == "unknown"

    assert service.record_existing(item, "zalo") == "found"
    receipt = service.publish(item, "zalo")

    (article,) = fake.articles
    assert article.verified and receipt.remote_id == article.id
    element = fake.broadcasts[0]["message"]["attachment"]["payload"]["elements"][0]
    assert element["attachment_id"] == article.id


# -- fault classes ------------------------------------------------------------------------------
def zalo_error(code: int, message: str, path: str) -> Fault:
    return Fault(Response(200, {"error": code, "message": message}), path_contains=path)


FAULTS: dict[str, tuple[Fault, str, float | None, str]] = {
    "create dropped after acting": (
        Fault(drop=True, acted=True, path_contains="/create"),
        "unknown",
        None,
        "may",
    ),
    "create dropped": (Fault(drop=True, path_contains="/create"), "unknown", None, "may"),
    "create 500": (Fault(Response(500, b"oops"), path_contains="/create"), "unknown", None, ""),
    "broadcast dropped": (Fault(drop=True, path_contains="/oa/message"), "unknown", None, "may"),
    "verify dropped": (Fault(drop=True, path_contains="/verify"), "retryable", None, ""),
    "verify 503": (Fault(Response(503, b"busy"), path_contains="/verify"), "retryable", None, ""),
    "quota -211": (zalo_error(-211, "Out of quota", "/create"), "retryable", None, "quota"),
    "limit -218": (zalo_error(-218, "User limit", "/oa/message"), "retryable", None, "quota"),
    "OA disabled -204": (
        zalo_error(-204, "OA is disabled", "/create"),
        "permanent",
        None,
        "the OA is disabled (OA configuration or policy): OA is disabled",
    ),
    "policy -248": (
        zalo_error(-248, "Violates policy", "/create"),
        "permanent",
        None,
        "configuration or policy",
    ),
    "attachment -100": (
        zalo_error(-100, "Attachment expired", "/oa/message"),
        "permanent",
        None,
        "Zalo rejected the request: Attachment expired",
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_classes(
    name: str, fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    fault, kind, retry_after, text = FAULTS[name]
    fake.inject(fault)
    error = failure(posts[KICKOFF], client, store)
    assert (error.kind, error.retry_after, error.platform) == (kind, retry_after, "zalo")
    assert text in error.message
    assert_no_secrets(fake, error, store.steps("k").all())


def test_rate_limit_is_retryable_after_a_minute(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    fake.rate_limit(1)
    error = failure(posts[KICKOFF], client, store)
    assert (error.kind, error.platform_code, error.retry_after) == ("retryable", -32, 60.0)
    assert set(store.steps("k").all()) == {"host_0", "create"}


def test_field_limit_is_permanent_and_names_the_field(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    error = failure(with_title(posts[FOLDER_ITEM], "Đ" * 151), client, store)
    assert (error.kind, error.platform_code) == ("permanent", -201)
    assert "'title' exceeds 150 characters" in error.message
    assert fake.articles == []


def test_connection_refused_is_retryable(
    settings: ZaloSettings, env: ClientEnv, store: Store, posts: dict[str, Post]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{port}"
    client = create_client(settings.model_copy(update={"api_base": closed}), env)
    error = failure(posts[KICKOFF], client, store)
    assert error.kind == "retryable"
    assert "not reached" in error.message


@pytest.mark.parametrize(
    ("exc", "idempotent", "kind"),
    [
        (requests.ConnectTimeout("connect timed out"), False, "retryable"),
        (requests.ReadTimeout("read timed out"), False, "unknown"),
        (requests.ReadTimeout("read timed out"), True, "retryable"),
        (requests.ConnectionError("Connection aborted."), False, "unknown"),
    ],
)
def test_transport_errors_are_classified(
    exc: requests.RequestException, idempotent: bool, kind: str
) -> None:
    assert classify(exc, "create", idempotent=idempotent).kind == kind


# -- tokens ---------------------------------------------------------------------------------------
def test_expired_access_token_refreshes_once_and_stores_before_use(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    publish(posts[FOLDER_ITEM], client, store, "first")
    tokens = store.tokens("zalo")
    old = tokens.get("access_token")
    assert old is not None
    fake.expire_access_token()
    seen: list[tuple[str, str, str]] = []

    def observe(request: Request) -> None:  # what the store holds as each call arrives
        if request.path.startswith("/v2.0/"):
            stored = tokens.get("access_token")
            seen.append((request.path, request.headers["access_token"], stored.value))

    fake.observers.append(observe)
    publish(posts[KICKOFF], client, store, "second")

    new = tokens.get("access_token")
    assert new is not None and new.value != old.value
    assert len(fake.refresh_requests()) == 2  # the first publish's, and one more
    assert seen[0] == ("/v2.0/article/create", old.value, old.value)
    assert seen[1] == ("/v2.0/article/create", new.value, new.value)
    assert all(used == stored for _, used, stored in seen)
    paths = [r.path for r in fake.requests]
    *_, refused, retried = (i for i, path in enumerate(paths) if path == "/v2.0/article/create")
    assert paths[refused + 1 : retried] == ["/v4/oa/access_token"]
    assert len(fake.articles) == 2


def test_token_refreshed_six_hours_before_expiry(
    fake: ZaloFake, client: ZaloClient, store: Store
) -> None:
    access, refresh = fake.issue_tokens()
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
    store.tokens("zalo").put_many(
        {"access_token": (access, soon), "refresh_token": (refresh, None)}
    )

    client.describe_oa()
    (sent,) = fake.refresh_requests()
    assert sent.form()[0]["refresh_token"] == refresh  # the store wins over the environment
    assert fake.api_requests()[0].headers["access_token"] != access

    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=10)
    store.tokens("zalo").put("access_token", access, later)
    client.describe_oa()
    assert len(fake.refresh_requests()) == 1
    assert fake.api_requests()[-1].headers["access_token"] == access


@pytest.mark.parametrize("expired_at", ["platform", "store"])
@pytest.mark.parametrize("shared", [True, False], ids=["shared-client", "client-per-thread"])
def test_twenty_threads_one_expired_token_cause_one_refresh(
    expired_at: str,
    shared: bool,
    fake: ZaloFake,
    settings: ZaloSettings,
    env: ClientEnv,
    store: Store,
) -> None:
    check_credentials(settings, env)
    assert len(fake.refresh_requests()) == 1
    tokens = store.tokens("zalo")
    old = tokens.get("access_token")
    assert old is not None
    if expired_at == "platform":
        fake.expire_access_token()
    else:
        tokens.put("access_token", old.value, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    one = create_client(settings, env)
    start = threading.Barrier(20)

    def call(_: int) -> str:
        client = one if shared else create_client(settings, env)
        start.wait()
        return client.describe_oa()

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(call, range(20)))

    assert answers == [f"Zalo OA '{OA_NAME}' (id {OA_ID})"] * 20
    if expired_at == "platform":  # several callers met -220 at once, yet one refreshed
        refused = [r for r in fake.api_requests() if r.headers["access_token"] == old.value]
        assert len(refused) >= 3
    assert len(fake.refresh_requests()) == 2  # the first one, then exactly one more
    current = tokens.get("access_token")
    assert current is not None and current.value in fake.access_tokens
    refresh = tokens.get("refresh_token")
    assert refresh is not None and refresh.value in fake.refresh_tokens


def test_reused_refresh_token_asks_to_reconnect(
    fake: ZaloFake, settings: ZaloSettings, env: ClientEnv, tmp_path: Path
) -> None:
    check_credentials(settings, env)  # spends the environment's refresh token
    other = open_store(tmp_path / "other")  # a second machine still holding the old one
    try:
        with pytest.raises(PublishError) as caught:
            check_credentials(settings, make_env(other, tmp_path))
    finally:
        other.close()
    error = caught.value
    assert (error.kind, error.platform_code) == ("auth", -14014)
    assert "publisher auth zalo" in error.message
    assert_no_secrets(fake, error)


def test_token_still_refused_after_refresh_is_auth(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    refused = Response(200, {"error": -216, "message": "Access token is invalid"})
    fake.inject(Fault(refused, path_contains="/create"), times=2)
    error = failure(posts[KICKOFF], client, store)
    assert (error.kind, error.platform_code) == ("auth", -216)
    assert len(fake.refresh_requests()) == 2  # first token, then the single retry's
    assert fake.articles == []
    assert_no_secrets(fake, error)


def test_odd_expires_in_still_keeps_the_rotated_tokens(
    fake: ZaloFake, settings: ZaloSettings, env: ClientEnv, store: Store
) -> None:
    fake.expires_in = "25h"
    check_credentials(settings, env)
    refresh = store.tokens("zalo").get("refresh_token")
    assert refresh is not None and refresh.value in fake.refresh_tokens


def test_missing_app_secret_names_the_variable(
    fake: ZaloFake, settings: ZaloSettings, store: Store, tmp_path: Path
) -> None:
    env = make_env(store, tmp_path, app_secret="")
    with pytest.raises(PublishError) as caught:
        check_credentials(settings, env)
    assert caught.value.kind == "auth"
    assert "ZALO_APP_SECRET" in caught.value.message
    assert fake.requests == []


def test_wrong_app_secret_is_auth(
    fake: ZaloFake, settings: ZaloSettings, store: Store, tmp_path: Path
) -> None:
    env = make_env(store, tmp_path, app_secret="not-the-app-secret")
    with pytest.raises(PublishError) as caught:
        check_credentials(settings, env)
    assert caught.value.kind == "auth"
    assert "not-the-app-secret" not in str(caught.value)


def test_the_app_id_is_no_secret(
    fake: ZaloFake, settings: ZaloSettings, store: Store, tmp_path: Path
) -> None:
    """A Zalo answer naming the app keeps its id readable; the app secret is still scrubbed."""
    text = f"app {APP_ID} may not call this API (secret_key {APP_SECRET})"
    fake.inject(Fault(Response(200, {"error": -223, "message": text}), path_contains="/getoa"))
    with pytest.raises(PublishError) as caught:
        check_credentials(settings, replace(make_env(store, tmp_path), timeout=10.0))
    assert f"app {APP_ID} may not call" in caught.value.message
    assert_no_secrets(fake, caught.value)


# -- connecting the OA -----------------------------------------------------------------------------
def consent(url: str) -> dict[str, str]:
    """Follow the consent page like the admin's browser; the callback's query."""
    answer = requests.get(url, allow_redirects=False, timeout=2)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def test_consent_and_code_exchange_store_both_tokens(
    fake: ZaloFake, settings: ZaloSettings, store: Store, tmp_path: Path
) -> None:
    env = make_env(store, tmp_path, refresh_token="")
    verifier = new_code_verifier()
    assert len(verifier) == 43
    url = consent_url(settings, APP_ID, "https://bhxh.example.gov.vn/cb", verifier, "st-1")
    assert url.startswith(f"{fake.base_url}/v4/oa/permission?app_id={APP_ID}&redirect_uri=")
    assert verifier not in url
    callback = consent(url)
    assert (callback["state"], callback["oa_id"]) == ("st-1", OA_ID)

    exchange_code(settings, env, callback["code"], verifier)

    access, refresh = (
        store.tokens("zalo").get("access_token"),
        store.tokens("zalo").get("refresh_token"),
    )
    assert access is not None and access.value in fake.access_tokens
    assert refresh is not None and refresh.value in fake.refresh_tokens
    assert access.expires_at is not None
    assert dt.timedelta(hours=24) < access.expires_at - dt.datetime.now(dt.UTC)
    assert check_credentials(settings, env) == f"Zalo OA '{OA_NAME}' (id {OA_ID})"
    assert fake.refresh_requests() == []
    form = fake.requests_to("/v4/oa/access_token")[0].form()[0]
    assert form == {
        "app_id": APP_ID,
        "grant_type": "authorization_code",
        "code": callback["code"],
        "code_verifier": verifier,
    }


@pytest.mark.parametrize("mistake", ["wrong verifier", "code reused"])
def test_bad_code_exchange_is_auth(
    mistake: str, fake: ZaloFake, settings: ZaloSettings, env: ClientEnv
) -> None:
    verifier = new_code_verifier()
    code = consent(consent_url(settings, APP_ID, "https://x.test/cb", verifier, "s"))["code"]
    if mistake == "code reused":
        exchange_code(settings, env, code, verifier)
    else:
        verifier = new_code_verifier()
    with pytest.raises(PublishError) as caught:
        exchange_code(settings, env, code, verifier)
    assert caught.value.kind == "auth"
    assert_no_secrets(fake, caught.value)


# -- smaller contracts -----------------------------------------------------------------------------
def test_receipt_without_article_address_still_succeeds(
    fake: ZaloFake, client: ZaloClient, store: Store, posts: dict[str, Post]
) -> None:
    fake.inject(Fault(Response(500, b"down"), path_contains="/getdetail"))
    receipt = publish(posts[FOLDER_ITEM], client, store)
    assert (receipt.remote_id, receipt.url) == (fake.articles[0].id, None)


def test_upload_call_sends_the_file_as_multipart(
    fake: ZaloFake, client: ZaloClient, tmp_path: Path
) -> None:
    image = tmp_path / "anh.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 100)
    call = Call("upload", "POST", "/v2.0/oa/upload/image", {}, {"file": str(image)})
    answer = client.run(call, {}, MemoryStepLog())
    assert set(answer) == {"attachment_id"}
    assert fake.requests_to("/upload/image")[0].form()[1]["file"][0] == "anh.jpg"


def test_fake_rejects_what_zalo_rejects(
    fake: ZaloFake, client: ZaloClient, posts: dict[str, Post], web: FakeWebHost
) -> None:
    post = posts[FOLDER_ITEM]
    hosted = {c.step: web.host(Path(c.files["file"])) for c in post.calls if c.method == "HOST"}
    article = dict(resolve(create_call(post).payload, hosted))
    cases: list[tuple[Callable[[dict[str, Any]], Any], str]] = [
        (lambda a: a.pop("cover"), "'cover' is required"),
        (lambda a: a.update(cover={"cover_type": "photo", "status": "show"}), "photo_url"),
        (lambda a: a.update(author="A" * 51), "'author' exceeds 50"),
        (lambda a: a.update(description="D" * 301), "'description' exceeds 300"),
        (lambda a: a.update(body=[{"type": "text"}]), "body[0].content"),
        (
            lambda a: a.update(cover={**a["cover"], "photo_url": web.base_url + "/media/gone.jpg"}),
            "'cover.photo_url': " + web.base_url + "/media/gone.jpg answered 404",
        ),
    ]
    for change, expected in cases:
        broken = dict(article)
        change(broken)
        with pytest.raises(PublishError) as caught:
            client.run(
                Call("create", "POST", "/v2.0/article/create", broken), broken, MemoryStepLog()
            )
        assert caught.value.kind == "permanent"
        assert expected in caught.value.message
    unknown = {"recipient": {"target": {}}, "message": {}}
    with pytest.raises(PublishError):
        client.run(Call("broadcast", "POST", "/v2.0/oa/message", unknown), unknown, MemoryStepLog())
    assert fake.articles == [] and fake.broadcasts == []
    bare = requests.post(f"{fake.base_url}/v2.0/article/create", json=article, timeout=2)
    assert (bare.status_code, bare.json()["error"]) == (200, -216)


# -- settling through PublishService, as the scheduler does ---------------------------------
def live_service(
    tmp_path: Path, fake: ZaloFake, web: FakeWebHost, timeout: float = TIMEOUT
) -> tuple[PublishService, ContentItem]:
    """The sample workspace with Zalo live; the portal's static site is served by `web`."""
    root = copy_sample(tmp_path / "ws")
    settings = (root / "channels" / "zalo.yaml").read_text(encoding="utf-8")
    settings = settings.replace("mode: outbox", "mode: live").replace("broadcast: false", "")
    settings += f"broadcast: true\napi_base: {fake.base_url}\noauth_base: {fake.base_url}\n"
    (root / "channels" / "zalo.yaml").write_text(settings, encoding="utf-8")
    portal = root / "channels" / "portal.yaml"
    portal.write_text(
        "\n".join(
            f"base_url: {web.base_url}" if line.startswith("base_url:") else line
            for line in portal.read_text(encoding="utf-8").splitlines()
        )
        + "\n",
        encoding="utf-8",
    )
    web.folder = tmp_path / "state" / "site"  # where the static site's media host copies
    environ = {f"ZALO_{name.upper()}": value for name, value in SECRETS.items()}
    catalog = load_catalog(open_workspace(root, environ))
    item = catalog.item(KICKOFF)
    assert item is not None
    store = open_store(tmp_path / "state")
    return PublishService(catalog, store, timeout=timeout, state_dir=tmp_path / "state"), item


def test_a_broadcast_that_may_have_gone_out_is_never_sent_again_by_a_lookup(
    fake: ZaloFake, web: FakeWebHost, tmp_path: Path
) -> None:
    """The article can be looked up, the broadcast cannot: its outcome stays unknown."""
    service, item = live_service(tmp_path, fake, web, timeout=HANG_TIMEOUT)
    fake.inject(Fault(hang=True, acted=True, path_contains="/oa/message"))  # sent, no answer
    with pytest.raises(PublishError) as caught:
        service.publish(item, "zalo")
    assert caught.value.kind == "unknown" and len(fake.broadcasts) == 1
    with pytest.raises(LookupNotSupported, match="no way to list an OA's broadcasts"):
        service.record_existing(item, "zalo")
    assert len(fake.broadcasts) == 1 and len(fake.articles) == 1


def test_a_broadcast_refused_before_sending_is_sent_after_the_lookup(
    fake: ZaloFake, web: FakeWebHost, tmp_path: Path
) -> None:
    service, item = live_service(tmp_path, fake, web)
    fake.inject(zalo_error(-218, "User limit", "/oa/message"))  # known not sent
    with pytest.raises(PublishError) as caught:
        service.publish(item, "zalo")
    assert caught.value.kind == "retryable"
    # e.g. a crash, then the start-up lookup: no request is open, nothing to look up
    assert service.record_existing(item, "zalo") == "nothing open"
    receipt = service.publish(item, "zalo")
    assert len(fake.broadcasts) == 1 and len(fake.articles) == 1
    assert receipt.remote_id == fake.articles[0].id
