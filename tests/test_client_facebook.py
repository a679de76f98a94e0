"""The Facebook client end to end: real sample posts, the real `requests` stack, a fake Page."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError

from publisher.adapters.base import Post
from publisher.adapters.facebook import FacebookSettings
from publisher.catalog import load_catalog
from publisher.clients.facebook import FacebookClient, check_credentials, classify, create_client
from publisher.publishing.errors import PublishError
from publisher.publishing.executor import publish_post
from publisher.publishing.model import ClientEnv, Receipt, StepLog
from publisher.render.service import Renderer
from publisher.store.database import Store, open_store
from publisher.workspace import open_workspace

from .conftest import copy_sample
from .fakes.base import Fault, Response
from .fakes.facebook import TOKEN, FakeFacebook, FakeToken, graph_error

SAMPLE_PAGE = "100064000000001"
PAGE = "100099000000042"  # the fake's page, so a render for the sample page would be refused
TEXT_ITEM = "nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia"
PHOTO_ITEM = "nuoc-rut-2026/infographic/ket-qua-10-thang"
ALBUM_ITEM = "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan"
AUTH = f"OAuth {TOKEN}"
BUC = "X-Business-Use-Case-Usage"
TIMEOUT = 30.0  # a busy machine never makes the fake this slow
HANG_TIMEOUT = 5.0  # for a request the fake never answers: how long the client waits


@pytest.fixture(scope="module")
def posts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Post]:
    """The sample items rendered once for Facebook, with page_id set to the fake's page."""
    root = copy_sample(tmp_path_factory.mktemp("facebook") / "ws")
    settings = root / "channels" / "facebook.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace(SAMPLE_PAGE, PAGE), encoding="utf-8"
    )
    catalog = load_catalog(open_workspace(root, {}))
    renderer = Renderer(catalog)
    rendered = {}
    for item_id in (TEXT_ITEM, PHOTO_ITEM, ALBUM_ITEM):
        item = catalog.item(item_id)
        assert item is not None, item_id
        rendered[item_id] = renderer.render(item, "facebook")
        assert rendered[item_id].publishable, rendered[item_id].errors
    return rendered


@pytest.fixture(scope="module")
def server() -> Iterator[FakeFacebook]:
    # one server for the module: stopping one waits for its 0.5 s poll
    with FakeFacebook(page_id=PAGE) as started:
        assert isinstance(started, FakeFacebook)
        yield started


@pytest.fixture
def fake(server: FakeFacebook) -> FakeFacebook:
    server.reset()
    return server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "state")
    yield opened
    opened.close()


ClientFactory = Callable[..., FacebookClient]


@pytest.fixture
def make_client(fake: FakeFacebook, store: Store, tmp_path: Path) -> ClientFactory:
    def make(
        token: str = TOKEN, base: str | None = None, page: str = PAGE, timeout: float = TIMEOUT
    ) -> FacebookClient:
        settings = FacebookSettings(page_id=page).model_copy(
            update={"api_base": base or fake.base_url}
        )
        client = create_client(settings, environment(store, tmp_path, token, timeout))
        assert isinstance(client, FacebookClient)
        return client

    return make


def environment(
    store: Store, tmp_path: Path, token: str = TOKEN, timeout: float = TIMEOUT
) -> ClientEnv:
    return ClientEnv(
        secrets={"page_token": token},
        tokens=store.tokens("facebook"),
        state_dir=tmp_path,
        timeout=timeout,
        sleep=lambda seconds: None,
    )


def publish(post: Post, client: FacebookClient, steps: StepLog) -> Receipt:
    # No secrets handed to the executor: the client itself must keep the token out.
    return publish_post(post, client, steps, mode="live", secrets=[])


def failure(post: Post, client: FacebookClient, steps: StepLog) -> PublishError:
    with pytest.raises(PublishError) as caught:
        publish(post, client, steps)
    assert TOKEN not in str(caught.value)
    return caught.value


def sent_fields(fake: FakeFacebook, fragment: str) -> list[dict[str, str]]:
    return [request.form()[0] for request in fake.requests_to(fragment)]


def uploaded(fake: FakeFacebook) -> list[bytes]:
    return [r.form()[1]["source"][1] for r in fake.requests_to("/photos") if r.method == "POST"]


def assert_token_only_in_header(fake: FakeFacebook) -> None:
    for request in fake.requests:
        assert request.headers["authorization"] == AUTH
        assert TOKEN not in request.path + json.dumps(request.query)
        assert TOKEN.encode() not in request.body


# -- publishing ----------------------------------------------------------------------------
def test_text_post_sends_message_and_link_as_a_form(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[TEXT_ITEM]
    receipt = publish(post, make_client(), store.steps("k"))

    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", f"/v25.0/{PAGE}/feed")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form()[0] == post.calls[0].payload
    (created,) = fake.published_posts()
    assert created.message == post.calls[0].payload["message"]
    assert created.link == post.url
    assert receipt.remote_id == created.id
    assert receipt.url == f"https://www.facebook.com/{created.id}"
    assert_token_only_in_header(fake)


def test_infographic_is_one_photo_post(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[PHOTO_ITEM]
    receipt = publish(post, make_client(), store.steps("k"))

    (request,) = fake.requests
    fields, files = request.form()
    assert request.path == f"/v25.0/{PAGE}/photos"
    assert fields == {"caption": post.calls[0].payload["caption"], "published": "true"}
    name, data, kind = files["source"]
    assert data == Path(post.calls[0].files["source"]).read_bytes()
    assert (Path(name).suffix, kind) == (".jpg", "image/jpeg")
    (photo,) = fake.photos.values()
    assert photo.published and photo.post_id == receipt.remote_id
    assert receipt.steps["photo"] == {"id": photo.id, "post_id": photo.post_id}
    assert receipt.url == f"https://www.facebook.com/{photo.post_id}"
    assert_token_only_in_header(fake)


def test_three_photos_are_uploaded_unpublished_then_attached_to_one_post(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[ALBUM_ITEM]
    receipt = publish(post, make_client(), store.steps("k"))

    photo_files = [call.files["source"] for call in post.calls[:-1]]
    assert len(photo_files) == 3
    assert uploaded(fake) == [Path(p).read_bytes() for p in photo_files]
    assert sent_fields(fake, "/photos") == [{"published": "false"}] * 3
    photo_ids = [receipt.steps[f"photo_{i}"]["id"] for i in range(3)]
    (feed,) = sent_fields(fake, "/feed")
    assert feed["message"] == post.calls[-1].payload["message"]
    assert [json.loads(feed[f"attached_media[{i}]"]) for i in range(3)] == [
        {"media_fbid": photo_id} for photo_id in photo_ids
    ]
    (created,) = fake.published_posts()
    assert created.media == photo_ids
    assert receipt.remote_id == created.id
    assert_token_only_in_header(fake)


class HookedSteps:
    """A step log that lets a test act right after a step is recorded."""

    def __init__(self, inner: StepLog, hook: Callable[[str], None]) -> None:
        self.inner = inner
        self.hook = hook

    def get(self, step: str) -> dict[str, Any] | None:
        return self.inner.get(step)

    def record(self, step: str, result: dict[str, Any]) -> None:
        self.inner.record(step, result)
        self.hook(step)

    def attempt(self, step: str, failure: str | None = None) -> None:
        self.inner.attempt(step, failure)

    def maybe_sent(self, step: str) -> bool:
        return self.inner.maybe_sent(step)


def test_failure_on_second_photo_resumes_without_uploading_the_first_again(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[ALBUM_ITEM]
    client = make_client()

    def limit_after_first(step: str) -> None:
        if step == "photo_0":
            fake.rate_limit(times=1, minutes=3)

    error = failure(post, client, HookedSteps(store.steps("k"), limit_after_first))
    assert (error.kind, error.platform_code, error.retry_after) == ("retryable", 80001, 180.0)
    assert store.steps("k").get("photo_0") is not None
    assert store.steps("k").get("photo_1") is None

    receipt = publish(post, client, store.steps("k"))
    first, second, third = (Path(call.files["source"]).read_bytes() for call in post.calls[:3])
    assert uploaded(fake) == [first, second, second, third]  # photo 1 sent once, 2 retried
    (created,) = fake.published_posts()
    assert created.media == [receipt.steps[f"photo_{i}"]["id"] for i in range(3)]
    assert receipt.steps["photo_0"] == store.steps("k").get("photo_0")


def test_dropped_answer_then_506_is_settled_by_find_existing(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[TEXT_ITEM]
    client = make_client()
    fake.drop_after_processing("/feed")

    first = failure(post, client, store.steps("k"))
    assert first.kind == "unknown"
    (created,) = fake.published_posts()  # the platform did act on it

    second = failure(post, client, store.steps("k"))  # a blind resend is refused as a duplicate
    assert (second.kind, second.platform_code, second.http_status) == ("unknown", 506, 400)
    assert len(fake.published_posts()) == 1

    found = client.find_existing(post, store.steps("k"))
    assert found == {"id": created.id}
    store.steps("k").record("feed", found)  # what settling an unknown delivery records
    receipt = publish(post, client, store.steps("k"))
    assert receipt.remote_id == created.id
    assert len(fake.requests_to("/feed")) == 3  # two posts and one lookup, nothing after


def test_find_existing_looks_photos_up_by_caption(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[PHOTO_ITEM]
    client = make_client()
    assert client.find_existing(post, store.steps("k")) is None
    fake.drop_after_processing("/photos")
    assert failure(post, client, store.steps("k")).kind == "unknown"

    found = client.find_existing(post, store.steps("k"))
    (photo,) = fake.photos.values()
    assert found == {"id": photo.id, "post_id": photo.post_id}
    lookup = fake.requests[-1]
    assert lookup.method == "GET" and lookup.path == f"/v25.0/{PAGE}/photos"
    assert lookup.query["type"] == ["uploaded"]
    assert client.receipt(post, {"photo": found})[0] == photo.post_id


def test_last_years_identical_post_is_not_taken_for_ours(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    """The same text was posted a year ago (a yearly notice); our post's answer is lost
    before Facebook acted: the old post must not be taken for ours."""
    post = posts[TEXT_ITEM]
    client = make_client()
    publish(post, client, store.steps("last-year"))
    fake.posts[0].created -= dt.timedelta(days=365)
    fake.inject(Fault(drop=True, path_contains="/feed"))
    assert failure(post, client, store.steps("k")).kind == "unknown"

    assert client.find_existing(post, store.steps("k")) is None


def test_find_existing_returns_none_when_the_line_dropped_before_processing(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[ALBUM_ITEM]
    client = make_client()
    fake.inject(Fault(drop=True, path_contains="/feed"))
    assert failure(post, client, store.steps("k")).kind == "unknown"
    assert client.find_existing(post, store.steps("k")) is None
    lookup = fake.requests[-1]
    assert lookup.query == {
        "fields": ["id,message,created_time"],
        "limit": ["25"],
    }


# -- failures ------------------------------------------------------------------------------
def usage(minutes: int) -> dict[str, str]:
    return {
        BUC: json.dumps({PAGE: [{"type": "pages", "estimated_time_to_regain_access": minutes}]})
    }


GRAPH_FAULTS = [
    # (answer, kind, code, retry_after)
    (graph_error(80001, "(#80001) too many calls", headers=usage(2)), "retryable", 80001, 120.0),
    (graph_error(4, "(#4) Application request limit reached"), "retryable", 4, None),
    (graph_error(17, "(#17) User request limit reached"), "retryable", 17, None),
    (
        graph_error(
            32,
            "(#32) Page request limit reached",
            headers={
                "X-Page-Usage": json.dumps(
                    {"call_count": 100, "estimated_time_to_regain_access": 1}
                )
            },
        ),
        "retryable",
        32,
        60.0,
    ),
    (
        graph_error(
            613,
            "Calls to this api have exceeded the rate limit.",
            subcode=1996,
            headers={
                "X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 5, "total_time": 9})
            },
        ),
        "retryable",
        613,
        None,
    ),
    (graph_error(190, "Error validating access token", subcode=460), "auth", 190, None),
    (graph_error(10, "(#10) Permission denied", status=403), "auth", 10, None),
    (graph_error(200, "(#200) requires pages_manage_posts", status=403), "auth", 200, None),
    (graph_error(100, "(#100) Invalid parameter"), "permanent", 100, None),
    (graph_error(1609005, "Error posting link"), "permanent", 1609005, None),
    (graph_error(506, "(#506) Duplicate status message"), "unknown", 506, None),
    (graph_error(1, "An unknown error occurred", status=500), "unknown", 1, None),
    (graph_error(2, "Service temporarily unavailable", status=503), "unknown", 2, None),
    (Response(502, b"<html>Bad Gateway</html>"), "unknown", None, None),
    (Response(200, b"<html>not JSON</html>"), "unknown", None, None),
    (Response(429, b"slow down", {"Retry-After": "30"}), "retryable", None, 30.0),
    (Response(404, b"<html>no</html>"), "permanent", None, None),
]


@pytest.mark.parametrize(("answer", "kind", "code", "wait"), GRAPH_FAULTS)
def test_graph_errors_land_in_their_kind(
    posts: dict[str, Post],
    fake: FakeFacebook,
    make_client: ClientFactory,
    store: Store,
    answer: Response,
    kind: str,
    code: int | None,
    wait: float | None,
) -> None:
    fake.inject(Fault(answer))
    error = failure(posts[TEXT_ITEM], make_client(), store.steps("k"))
    assert (error.kind, error.platform_code, error.retry_after) == (kind, code, wait)
    assert error.http_status == answer.status
    assert fake.published_posts() == []


def test_policy_block_says_to_stop_and_check_the_page(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    fake.inject(Fault(graph_error(368, "It looks like you were misusing this feature")))
    error = failure(posts[TEXT_ITEM], make_client(), store.steps("k"))
    assert error.kind == "permanent"
    assert "misusing this feature" in error.message
    assert "stop publishing to this page and check the page" in error.message


def test_expired_token_is_auth_with_its_subcode(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    fake.expire_token()
    error = failure(posts[TEXT_ITEM], make_client(), store.steps("k"))
    assert (error.kind, error.platform_code, error.http_status) == ("auth", 190, 400)
    assert "subcode 463" in error.message and error.needs_reauth


def test_a_user_token_may_not_post_to_the_page(
    posts: dict[str, Post], fake: FakeFacebook, store: Store, tmp_path: Path
) -> None:
    user_token = "EAAFakeUserToken0123456789abcdefSECRET"
    fake.add_token(user_token, FakeToken("100001234567890", "Nguyễn Văn An", kind="user"))
    settings = FacebookSettings(page_id=PAGE).model_copy(update={"api_base": fake.base_url})
    env = replace(environment(store, tmp_path, user_token), timeout=10.0)
    error = failure(posts[TEXT_ITEM], create_client(settings, env), store.steps("k"))
    assert (error.kind, error.platform_code, error.http_status) == ("auth", 200, 403)
    assert "pages_manage_posts" in error.message and "Create content task" in error.message
    assert "FACEBOOK_PAGE_TOKEN" in error.message and user_token not in error.message
    assert fake.posts == []


def test_a_wrong_token_or_none_is_auth(
    posts: dict[str, Post], make_client: ClientFactory, store: Store
) -> None:
    wrong = failure(posts[TEXT_ITEM], make_client(token="EAAWrongToken1234"), store.steps("a"))
    assert (wrong.kind, wrong.platform_code) == ("auth", 190)
    missing = failure(posts[TEXT_ITEM], make_client(token=""), store.steps("b"))
    assert missing.kind == "auth" and "FACEBOOK_PAGE_TOKEN" in missing.message


def test_a_post_for_another_page_is_permanent(
    posts: dict[str, Post], store: Store, tmp_path: Path
) -> None:
    with FakeFacebook(page_id="100099000000999") as other:
        settings = FacebookSettings(page_id=PAGE).model_copy(update={"api_base": other.base_url})
        client = create_client(settings, environment(store, tmp_path))
        error = failure(posts[TEXT_ITEM], client, store.steps("k"))  # rendered for PAGE
    assert (error.kind, error.platform_code) == ("permanent", 100)
    assert "subcode 33" in error.message


def test_transport_failures(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[TEXT_ITEM]
    fake.inject(Fault(drop=True))
    assert failure(post, make_client(), store.steps("a")).kind == "unknown"
    fake.inject(Fault(hang=True, acted=True))  # posted; the answer never comes
    timed_out = failure(post, make_client(timeout=HANG_TIMEOUT), store.steps("b"))
    assert timed_out.kind == "unknown" and "ReadTimeout" in timed_out.message
    refused = failure(post, make_client(base=closed_port_url()), store.steps("c"))
    assert refused.kind == "retryable" and "could not reach" in refused.message


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_connect_timeout_and_dns_failure_are_retryable() -> None:
    dns = NameResolutionError("graph.facebook.com", None, OSError("no such host"))  # type: ignore[arg-type]
    lost_dns = requests.ConnectionError(MaxRetryError(None, "/v25.0/1/feed", dns))  # type: ignore[arg-type]
    for exc in (requests.ConnectTimeout("connect timed out"), lost_dns):
        assert classify(exc, creating=True).kind == "retryable"
    assert classify(requests.ReadTimeout("read timed out"), creating=True).kind == "unknown"
    assert classify(requests.ReadTimeout("read timed out"), creating=False).kind == "retryable"


def test_a_lost_lookup_is_retryable_not_unknown(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    fake.inject(Fault(graph_error(2, "Service temporarily unavailable", status=503)))
    with pytest.raises(PublishError) as caught:
        make_client().find_existing(posts[TEXT_ITEM], store.steps("k"))
    assert caught.value.kind == "retryable"


# -- secrets -------------------------------------------------------------------------------
def test_the_token_never_reaches_messages_or_results(
    posts: dict[str, Post], fake: FakeFacebook, make_client: ClientFactory, store: Store
) -> None:
    post = posts[ALBUM_ITEM]
    messages: list[str] = []
    echo = graph_error(190, f"Malformed access token {TOKEN}")
    for fault in (Fault(echo), Fault(drop=True), Fault(Response(500, TOKEN.encode()))):
        fake.inject(fault)
        messages.append(str(failure(post, make_client(), store.steps("k"))))
    broken = make_client(token=TOKEN[:10] + "\n" + TOKEN[10:])
    messages.append(str(failure(post, broken, store.steps("x"))))
    receipt = publish(post, make_client(), store.steps("k"))
    steps = [store.steps("k").get(call.step) for call in post.calls]
    kept = json.dumps([receipt.to_json(), steps], ensure_ascii=False)
    for text in [*messages, kept]:
        assert TOKEN not in text and TOKEN[10:] not in text and TOKEN[:10] not in text
    assert any("***" in message for message in messages)


def test_check_credentials_names_the_page(fake: FakeFacebook, store: Store, tmp_path: Path) -> None:
    settings = FacebookSettings(page_id=PAGE).model_copy(update={"api_base": fake.base_url})
    env = environment(store, tmp_path)
    assert check_credentials(settings, env) == f"Page 'Bảo hiểm xã hội tỉnh' (id {PAGE})"
    me, probe = fake.requests
    assert (me.method, me.path) == ("GET", "/v25.0/me")
    assert me.query == {"fields": ["id,name"], "metadata": ["1"]}
    assert (probe.method, probe.path) == ("POST", f"/v25.0/{PAGE}/feed")
    assert probe.form() == ({"published": "false"}, {})
    assert fake.posts == []
    unset = settings.model_copy(update={"page_id": None})
    assert f'set page_id: "{PAGE}"' in check_credentials(unset, env)
    fake.expire_token()
    with pytest.raises(PublishError) as caught:
        check_credentials(settings, env)
    assert caught.value.kind == "auth"


# -- the fake refuses what Graph refuses ---------------------------------------------------
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


def graph(
    fake: FakeFacebook, method: str, edge: str, token: str | None = TOKEN, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    path = edge if edge.startswith("/") else f"/v25.0/{PAGE}/{edge}"
    answer = requests.request(method, fake.base_url + path, headers=headers, timeout=2, **kwargs)
    return answer.status_code, answer.json()


def code_of(answer: tuple[int, dict[str, Any]]) -> int | None:
    return answer[1].get("error", {}).get("code")


def test_fake_checks_paths_tokens_and_limits(fake: FakeFacebook) -> None:
    assert code_of(graph(fake, "POST", f"/{PAGE}/feed", data={"message": "x"})) == 100
    assert code_of(graph(fake, "POST", "feed", token=None, params={"access_token": TOKEN})) == 104
    assert code_of(graph(fake, "POST", "feed", data={"message": "x" * 63_207})) == 100
    assert code_of(graph(fake, "POST", "feed", data={})) == 100
    assert code_of(graph(fake, "POST", "photos", data={"caption": "x"})) == 324
    not_image = {"source": ("a.jpg", b"text", "image/jpeg")}
    assert code_of(graph(fake, "POST", "photos", files=not_image)) == 324
    fake.rate_limit(times=1, minutes=4)
    status, body = graph(fake, "POST", "feed", data={"message": "a"})
    assert (status, body["error"]["code"]) == (400, 80001)
    assert graph(fake, "POST", "feed", data={"message": "a"})[0] == 200
    assert code_of(graph(fake, "POST", "feed", data={"message": "a"})) == 506
    assert fake.requests[0].path == f"/{PAGE}/feed"


def test_fake_checks_the_scheduling_window(fake: FakeFacebook) -> None:
    now = int(fake.clock())

    def schedule(published: str, ahead: int) -> tuple[int, dict[str, Any]]:
        data = {"message": f"in {ahead}", "published": published}
        return graph(fake, "POST", "feed", data={**data, "scheduled_publish_time": now + ahead})

    assert code_of(schedule("true", 3600)) == 100
    assert code_of(schedule("false", 5 * 60)) == 100
    assert code_of(schedule("false", 76 * 86400)) == 100
    status, created = schedule("false", 86400)
    assert status == 200
    assert graph(fake, "GET", "feed")[1]["data"] == []
    (scheduled,) = graph(fake, "GET", "scheduled_posts")[1]["data"]
    assert scheduled["id"] == created["id"]


def test_fake_checks_attached_media(fake: FakeFacebook) -> None:
    jpeg = {"source": ("a.jpg", JPEG, "image/jpeg")}
    hidden = graph(fake, "POST", "photos", data={"published": "false"}, files=jpeg)[1]["id"]
    shown = graph(fake, "POST", "photos", data={"caption": "c"}, files=jpeg)[1]["id"]

    def attach(**media: str) -> tuple[int, dict[str, Any]]:
        fields = {f"attached_media[{k[1:]}]": v for k, v in media.items()}
        return graph(fake, "POST", "feed", data={"message": "m", **fields})

    assert code_of(attach(i0=json.dumps({"media_fbid": "404"}))) == 100
    assert code_of(attach(i0=json.dumps({"media_fbid": shown}))) == 100
    assert code_of(attach(i0="{not json")) == 100
    assert code_of(attach(i1=json.dumps({"media_fbid": hidden}))) == 100
    status, created = attach(i0=json.dumps({"media_fbid": hidden}))
    assert status == 200
    feed = graph(fake, "GET", "feed", params={"fields": "id,message"})[1]["data"]
    assert [row["id"] for row in feed] == [created["id"], fake.photos[shown].post_id]
    photos = graph(fake, "GET", "photos", params={"type": "uploaded"})[1]["data"]
    assert [row["id"] for row in photos] == [shown]
