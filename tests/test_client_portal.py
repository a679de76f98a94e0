"""The portal's WordPress client, end to end against a fake WordPress site over real HTTP."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from publisher.adapters.base import Call, Post
from publisher.adapters.portal import PortalSettings
from publisher.catalog import load_catalog
from publisher.clients.portal import (
    WordPressClient,
    ascii_filename,
    check_credentials,
    create_client,
)
from publisher.publishing.errors import PublishError
from publisher.publishing.executor import publish_post
from publisher.publishing.model import ClientEnv, MemoryStepLog, Receipt, StepLog
from publisher.render.service import Renderer
from publisher.store.database import Store, open_store
from publisher.workspace import open_workspace

from .conftest import copy_sample
from .fakes.base import Fault, Response
from .fakes.wordpress import FakeWordPress

USERNAME = "bientap"
PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
SECRETS = [USERNAME, PASSWORD]
TIMEOUT = 30.0  # a busy machine never makes the fake this slow
HANG_TIMEOUT = 5.0  # for a request the fake never answers: how long the client waits
ARTICLE = "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan"
INFOGRAPHIC = "nuoc-rut-2026/infographic/ket-qua-10-thang"


@dataclasses.dataclass(frozen=True)
class Sample:
    settings: PortalSettings
    posts: dict[str, Post]


@dataclasses.dataclass
class Site:
    fake: FakeWordPress
    settings: PortalSettings
    store: Store
    tmp: Path

    def env(
        self, username: str = USERNAME, password: str = PASSWORD, timeout: float = TIMEOUT
    ) -> ClientEnv:
        return ClientEnv(
            secrets={"username": username, "app_password": password},
            tokens=self.store.tokens("portal"),
            state_dir=self.tmp,
            timeout=timeout,
            sleep=lambda seconds: None,
        )

    def client(
        self, username: str = USERNAME, password: str = PASSWORD, timeout: float = TIMEOUT
    ) -> WordPressClient:
        return create_client(self.settings, self.env(username, password, timeout))

    def steps(self, key: str = "k") -> StepLog:
        return self.store.steps(key)

    def publish(self, post: Post, client: WordPressClient | None = None, **kw: Any) -> Receipt:
        secrets = kw.pop("secrets", SECRETS)
        steps = kw.pop("steps", None) or self.steps()
        return publish_post(post, client or self.client(), steps, mode="live", secrets=secrets)

    def fails(self, post: Post, client: WordPressClient | None = None, **kw: Any) -> PublishError:
        with pytest.raises(PublishError) as caught:
            self.publish(post, client, **kw)
        return caught.value


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The sample article and infographic rendered once in WordPress mode."""
    root = copy_sample(tmp_path_factory.mktemp("portal") / "ws")
    channel_file = root / "channels" / "portal.yaml"
    channel_file.write_text(
        channel_file.read_text(encoding="utf-8") + "\nwordpress_url: https://wp.example.gov.vn\n",
        encoding="utf-8",
    )
    catalog = load_catalog(open_workspace(root, {}))
    renderer = Renderer(catalog)
    posts = {}
    for item_id in (ARTICLE, INFOGRAPHIC):
        item = catalog.item(item_id)
        assert item is not None
        posts[item_id] = renderer.render(item, "portal")
    settings = catalog.channels["portal"].settings
    assert isinstance(settings, PortalSettings)
    return Sample(settings, posts)


@pytest.fixture
def site(sample: Sample, tmp_path: Path) -> Iterator[Site]:
    with FakeWordPress(USERNAME, PASSWORD) as fake:
        settings = sample.settings.model_copy(update={"wordpress_url": fake.base_url})
        store = open_store(tmp_path / "state")
        yield Site(fake, settings, store, tmp_path)
        store.close()


@pytest.fixture
def article(sample: Sample) -> Post:
    return sample.posts[ARTICLE]


def with_post_payload(post: Post, **changes: Any) -> Post:
    """`post` with its final (post) call's payload changed; None removes a field."""
    last = post.calls[-1]
    payload = {k: v for k, v in {**last.payload, **changes}.items() if v is not None}
    return dataclasses.replace(
        post, calls=(*post.calls[:-1], dataclasses.replace(last, payload=payload))
    )


def text_only(post: Post) -> Post:
    """Only the post call, without images (for a user who may not upload)."""
    last = post.calls[-1]
    payload = {**last.payload, "content": "<p>Nội dung.</p>"}
    payload.pop("featured_media", None)
    return dataclasses.replace(post, calls=(dataclasses.replace(last, payload=payload),))


def upload_post(path: Path, meta: dict[str, str] | None = None) -> Post:
    call = Call("media_0", "POST", "/wp-json/wp/v2/media", meta or {}, {"file": str(path)})
    return Post("portal", "test/upload", "hash", (call,))


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def assert_no_secret(*texts: Any) -> None:
    token = basic(USERNAME, PASSWORD.replace(" ", ""))[6:]
    for text in texts:
        dumped = (
            json.dumps(text, ensure_ascii=False, default=str) if not isinstance(text, str) else text
        )
        for secret in (PASSWORD, PASSWORD.replace(" ", ""), token, USERNAME):
            assert secret not in dumped


# -- publishing ------------------------------------------------------------------------------
def test_article_uploads_images_first_and_the_post_refers_to_them(
    site: Site, article: Post
) -> None:
    receipt = site.publish(article)

    fake = site.fake
    uploads = fake.uploads()
    files = [Path(call.files["file"]) for call in article.calls if call.files]
    assert len(uploads) == len(files) == 3
    for request, path in zip(uploads, files, strict=True):
        assert request.headers["authorization"] == basic(USERNAME, "abcdEFGH1234ijklMNOP5678")
        assert request.headers["content-type"] == "image/jpeg"
        disposition = request.headers["content-disposition"]
        assert disposition == f'attachment; filename="{path.stem}.jpg"'
        assert disposition.isascii()
        assert request.body == path.read_bytes()
    image_0, image_1, media_0 = (fake.media[i] for i in sorted(fake.media))
    assert media_0["alt_text"] == image_0["title"]["rendered"] == article.calls[-1].payload["title"]

    (create,) = fake.creates()
    sent = create.json()
    assert create.headers["content-type"] == "application/json"
    assert image_0["source_url"] in sent["content"] and image_1["source_url"] in sent["content"]
    assert "$image_" not in sent["content"]
    assert sent["featured_media"] == media_0["id"]
    assert {k: sent[k] for k in ("status", "comment_status")} == {
        "status": "publish",
        "comment_status": "closed",
    }
    assert fake.requests.index(create) == len(fake.requests) - 1  # the post comes last

    (stored,) = fake.posts.values()
    assert stored["featured_media"] == media_0["id"] and stored["status"] == "publish"
    assert receipt.remote_id == str(stored["id"])
    assert receipt.url == f"{fake.base_url}/{sent['slug']}/"
    assert (
        sent["slug"] == "rut-bhxh-mot-lan-nhan-ngay-mot-khoan-tien-mat-di-ca-mot-cho-dua-khi-ve-gia"
    )
    assert receipt.steps["post"] == {
        "id": stored["id"],
        "link": receipt.url,
        "status": "publish",
        "slug": sent["slug"],
    }
    assert set(receipt.steps["media_0"]) == {"id", "source_url", "link"}


def test_infographic_is_published_with_its_image_first(site: Site, sample: Sample) -> None:
    receipt = site.publish(sample.posts[INFOGRAPHIC])

    image_0 = site.fake.media[receipt.steps["image_0"]["id"]]
    (stored,) = site.fake.posts.values()
    assert stored["content"].startswith(f'<figure><img src="{image_0["source_url"]}"')
    assert stored["featured_media"] == receipt.steps["media_0"]["id"]
    assert receipt.url == f"{site.fake.base_url}/{stored['slug']}/"


@pytest.mark.parametrize(
    ("ahead", "status"), [(dt.timedelta(days=2), "future"), (dt.timedelta(seconds=20), "publish")]
)
def test_a_date_gmt_ahead_schedules_the_post(
    site: Site, article: Post, ahead: dt.timedelta, status: str
) -> None:
    when = (dt.datetime.now(dt.UTC) + ahead).replace(tzinfo=None, microsecond=0)
    receipt = site.publish(with_post_payload(article, date_gmt=when.isoformat()))

    (stored,) = site.fake.posts.values()
    assert stored["status"] == receipt.steps["post"]["status"] == status
    assert stored["date_gmt"] == when.isoformat()
    if status == "future":  # WordPress gives scheduled posts the ?p= link
        assert receipt.url == f"{site.fake.base_url}/?p={stored['id']}"


def test_a_taken_slug_gets_a_suffix_and_the_receipt_follows_it(site: Site, article: Post) -> None:
    post = text_only(article)
    site.publish(post, steps=site.steps("first"))
    receipt = site.publish(post, steps=site.steps("second"))

    assert receipt.steps["post"]["slug"].endswith("-2")
    assert receipt.url == f"{site.fake.base_url}/{receipt.steps['post']['slug']}/"


# -- faults ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setup", "username", "password", "code"),
    [
        ("stock", USERNAME, "wrong pass word", "rest_cannot_create"),
        ("plugin", USERNAME, "wrong pass word", "incorrect_password"),
        ("plugin", "nobody", PASSWORD, "invalid_username"),
        ("header dropped", USERNAME, PASSWORD, "rest_cannot_create"),
    ],
)
def test_refused_credentials_are_auth(
    site: Site, article: Post, setup: str, username: str, password: str, code: str
) -> None:
    site.fake.reports_password_errors = setup == "plugin"
    site.fake.passes_authorization = setup != "header dropped"

    error = site.fails(article, site.client(username, password), secrets=[])

    assert (error.kind, error.http_status, error.platform_code) == ("auth", 401, code)
    assert "application password" in error.message and "Authorization header" in error.message
    assert_no_secret(error.message, str(error))
    assert not site.fake.media and not site.fake.posts


def test_a_contributor_lacks_capabilities(site: Site, article: Post) -> None:
    site.fake.role = "contributor"

    upload = site.fails(article, steps=site.steps("a"))
    publish = site.fails(text_only(article), steps=site.steps("b"))

    assert (upload.kind, upload.http_status, upload.platform_code) == (
        "auth",
        403,
        "rest_cannot_create",
    )
    assert (publish.kind, publish.http_status, publish.platform_code) == (
        "auth",
        403,
        "rest_cannot_publish",
    )
    assert "Author or Editor" in publish.message


def test_application_passwords_disabled_is_auth(site: Site, article: Post) -> None:
    body = {
        "code": "application_passwords_disabled",
        "message": "Application passwords are not available.",
        "data": {"status": 501},
    }
    site.fake.inject(Fault(Response(501, body)))

    error = site.fails(article)

    assert (error.kind, error.platform_code) == ("auth", "application_passwords_disabled")


def test_an_invalid_param_is_permanent_and_named(site: Site, article: Post) -> None:
    error = site.fails(with_post_payload(article, status="publicado"))

    assert (error.kind, error.http_status, error.platform_code) == (
        "permanent",
        400,
        "rest_invalid_param",
    )
    assert "status: status is not one of publish" in error.message
    assert not site.fake.posts


def test_a_refused_file_type_is_permanent_not_unknown(site: Site) -> None:
    svg = site.tmp / "bieu-do.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")

    error = site.fails(upload_post(svg))

    assert (error.kind, error.http_status, error.platform_code) == (
        "permanent",
        500,
        "rest_upload_sideload_error",
    )
    assert "not allowed to upload this file type" in error.message


def test_file_names_are_sent_as_ascii_with_the_right_extension(site: Site) -> None:
    png = site.tmp / "Ảnh bìa Đồng Nai.jpg"  # PNG bytes behind a .jpg name
    Image.new("RGB", (8, 8), "#1b6ca8").save(png, "PNG")

    receipt = site.publish(upload_post(png, {"title": "Ảnh bìa"}))

    (request,) = site.fake.uploads()
    assert request.headers["content-disposition"] == 'attachment; filename="anh-bia-dong-nai.png"'
    assert request.headers["content-type"] == "image/png"
    attachment = site.fake.media[int(receipt.remote_id)]
    assert attachment["title"]["rendered"] == "Ảnh bìa"
    assert attachment["source_url"].endswith("/anh-bia-dong-nai.png")


def test_ascii_filename() -> None:
    assert ascii_filename("Sổ BHXH.JPEG", "image/jpeg") == "so-bhxh.jpeg"
    assert ascii_filename("ảnh", "image/png") == "anh.png"
    assert ascii_filename("a.svg", "image/svg+xml") == "a.svg"


def test_the_fake_refuses_uploads_without_type_or_disposition(site: Site) -> None:
    url = f"{site.fake.base_url}/wp-json/wp/v2/media"
    auth = (USERNAME, PASSWORD)
    no_disposition = requests.post(
        url, data=b"\xff\xd8\xff", headers={"Content-Type": "image/jpeg"}, auth=auth
    )
    no_type = requests.post(
        url,
        data=b"\xff\xd8\xff",
        headers={"Content-Type": "", "Content-Disposition": 'attachment; filename="a.jpg"'},
        auth=auth,
    )
    assert no_disposition.json()["code"] == "rest_upload_no_content_disposition"
    assert no_type.json()["code"] == "rest_upload_no_content_type"
    assert no_disposition.status_code == no_type.status_code == 400


def test_a_crash_after_the_post_was_stored_is_unknown_and_found_by_its_marker(
    site: Site, article: Post
) -> None:
    site.fake.crash_after_create()
    steps = site.steps()
    client = site.client()

    error = site.fails(article, client, steps=steps)
    found = client.find_existing(article, steps)

    assert (error.kind, error.http_status) == ("unknown", 500)
    (stored,) = site.fake.posts.values()
    assert stored["content"].endswith(f"<!-- {steps.marker} -->")
    assert found == {
        "id": stored["id"],
        "link": f"{site.fake.base_url}/{stored['slug']}/",
        "status": "publish",
        "slug": stored["slug"],
    }
    lookup = site.fake.requests[-1]
    assert lookup.query == {
        "search": [steps.marker],
        "status": ["publish,future,draft,pending,private"],
        "context": ["edit"],
        "per_page": ["10"],
    }
    steps.record("post", found)  # what the runner does with a settled outcome
    receipt = site.publish(article, client, steps=steps)
    assert receipt.remote_id == str(stored["id"]) and len(site.fake.creates()) == 1


def test_last_years_article_with_the_same_slug_is_not_taken_for_ours(
    site: Site, article: Post
) -> None:
    """The site holds an article at the slug ours asks for; our create answers 500 without
    acting: the lookup must not find last year's article, and the retry makes ours."""
    slug = article.calls[-1].payload["slug"]
    last_year = site.fake.seed_post(slug=slug, title=article.calls[-1].payload["title"])
    site.fake.inject(Fault(Response(500, {"code": "internal_server_error", "message": "x"})))
    steps = site.steps()
    client = site.client()

    error = site.fails(text_only(article), client, steps=steps)
    assert error.kind == "unknown"
    assert client.find_existing(article, steps) is None

    receipt = site.publish(text_only(article), client, steps=steps)
    ours = site.fake.posts[int(receipt.remote_id)]
    assert ours["id"] != last_year["id"] and ours["slug"] == f"{slug}-2"
    assert receipt.url == f"{site.fake.base_url}/{slug}-2/"


def test_a_post_of_another_delivery_is_not_taken_for_ours(site: Site, article: Post) -> None:
    """Two items with one title: the first is published; the second's create is lost.
    The lookup of the second must not return the first's post."""
    first = site.publish(text_only(article), steps=site.steps("portal:first"))
    site.fake.inject(Fault(drop=True, path_contains="/wp/v2/posts"))
    second = site.steps("portal:second")

    assert site.fails(text_only(article), steps=second).kind == "unknown"

    assert site.client().find_existing(article, second) is None
    receipt = site.publish(text_only(article), steps=second)
    assert receipt.remote_id != first.remote_id and receipt.url.endswith("-2/")


def test_a_dropped_connection_is_unknown_and_a_retry_resumes_at_the_post(
    site: Site, article: Post
) -> None:
    site.fake.inject(Fault(drop=True, path_contains="/wp/v2/posts"))
    client = site.client()
    steps = site.steps()

    error = site.fails(article, client, steps=steps)
    assert error.kind == "unknown" and "after the request was sent" in error.message
    assert client.find_existing(article, steps) is None  # the fake never stored it

    receipt = site.publish(article, client, steps=steps)

    assert len(site.fake.uploads()) == 3 and len(site.fake.creates()) == 2
    assert receipt.remote_id == str(next(iter(site.fake.posts)))


def test_a_read_timeout_on_create_is_unknown_then_found(site: Site, article: Post) -> None:
    site.fake.inject(Fault(hang=True, acted=True, path_contains="/wp/v2/posts"))
    client = site.client(timeout=HANG_TIMEOUT)
    steps = site.steps()

    error = site.fails(article, client, steps=steps)

    assert error.kind == "unknown" and "read timeout" in error.message
    assert client.find_existing(article, steps)["id"] == next(iter(site.fake.posts))


def test_a_failed_title_update_resumes_without_uploading_again(site: Site, article: Post) -> None:
    site.fake.inject(
        Fault(
            Response(500, b"<h1>Internal Server Error</h1>", {"Content-Type": "text/html"}),
            path_contains="/wp/v2/media/",
        )
    )

    error = site.fails(article)
    receipt = site.publish(article)

    assert error.kind == "retryable"  # an update is safe to repeat
    assert len(site.fake.uploads()) == 3 and len(site.fake.media) == 3
    assert receipt.steps["image_0"]["id"] == min(site.fake.media)


def test_connection_refused_is_retryable(site: Site, article: Post) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = site.settings.model_copy(update={"wordpress_url": f"http://127.0.0.1:{port}"})

    error = site.fails(article, create_client(settings, site.env()))

    assert error.kind == "retryable" and "nothing was sent" in error.message


def test_a_firewall_rate_limit_is_retryable_with_its_wait(site: Site, article: Post) -> None:
    site.fake.waf_rate_limit(retry_after=30)

    error = site.fails(article)

    assert (error.kind, error.http_status, error.retry_after) == ("retryable", 429, 30.0)
    assert "Too Many Requests" in error.message and not site.fake.media


def test_a_server_error_on_a_lookup_is_retryable(site: Site, article: Post) -> None:
    site.fake.inject(Fault(Response(503, b"Briefly unavailable for scheduled maintenance.")))

    with pytest.raises(PublishError) as caught:
        site.client().find_existing(article, site.steps())

    assert (caught.value.kind, caught.value.http_status) == ("retryable", 503)


def test_a_redirect_is_permanent_and_says_where(site: Site, article: Post) -> None:
    target = "https://wp.example.gov.vn/wp-json/wp/v2/media"
    site.fake.inject(Fault(Response(301, b"", {"Location": target})))

    error = site.fails(article)

    assert error.kind == "permanent" and target in error.message and not site.fake.media


def test_php_notices_before_the_json_are_tolerated(site: Site) -> None:
    attachment = {"id": 7, "source_url": "http://x/a.jpg", "link": "http://x/a/"}
    notice = b"<br />\n<b>Deprecated</b>: something in <b>plugin.php</b><br />\n"
    site.fake.inject(Fault(Response(201, notice + json.dumps(attachment).encode())))
    jpeg = site.tmp / "a.jpg"
    Image.new("RGB", (8, 8)).save(jpeg, "JPEG")

    receipt = site.publish(upload_post(jpeg))

    assert receipt.steps["media_0"] == attachment


def test_a_create_answered_without_json_is_unknown(site: Site) -> None:
    site.fake.inject(Fault(Response(201, b"<html>OK</html>", {"Content-Type": "text/html"})))
    jpeg = site.tmp / "a.jpg"
    Image.new("RGB", (8, 8)).save(jpeg, "JPEG")

    error = site.fails(upload_post(jpeg))

    assert (error.kind, error.http_status) == ("unknown", 201)


# -- permalinks ------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["json", "html"])
def test_plain_permalinks_fall_back_to_rest_route_once(
    site: Site, article: Post, page: str
) -> None:
    site.fake.permalinks_off(page)

    receipt = site.publish(article)

    pretty = [r for r in site.fake.requests if r.path.startswith("/wp-json/")]
    assert len(pretty) == 1  # the first request only; the client then stays on ?rest_route=
    rest_routes = {r.query["rest_route"][0] for r in site.fake.requests if r.path == "/"}
    assert {"/wp/v2/media", "/wp/v2/posts"} <= rest_routes
    assert len(site.fake.uploads()) == 3 and len(site.fake.posts) == 1
    assert receipt.url == f"{site.fake.base_url}/?p={receipt.remote_id}"


def test_no_route_after_the_fallback_is_permanent(site: Site, article: Post) -> None:
    body = {"code": "rest_no_route", "message": "No route was found.", "data": {"status": 404}}
    site.fake.inject(Fault(Response(404, body)), times=2)

    error = site.fails(article)

    assert (error.kind, error.platform_code) == ("permanent", "rest_no_route")
    assert "security plugin" in error.message
    assert [r.path for r in site.fake.requests] == ["/wp-json/wp/v2/media", "/"]


# -- credentials -----------------------------------------------------------------------------
def test_check_credentials_names_the_user_and_site(site: Site) -> None:
    answer = check_credentials(site.settings, site.env())

    assert answer == f"WordPress user Biên tập viên Cổng TTĐT on {site.fake.base_url}"
    assert site.fake.requests[-1].path == "/wp-json/wp/v2/users/me"


def test_check_credentials_refusals(site: Site) -> None:
    with pytest.raises(PublishError) as wrong:
        check_credentials(site.settings, site.env(password="wrong"))
    site.fake.role = "contributor"
    with pytest.raises(PublishError) as weak:
        check_credentials(site.settings, site.env())

    assert (wrong.value.kind, wrong.value.platform_code) == ("auth", "rest_not_logged_in")
    assert weak.value.kind == "auth" and "publish_posts, upload_files" in weak.value.message


def test_missing_credentials_name_the_variables(site: Site) -> None:
    env = dataclasses.replace(site.env(), secrets={"username": USERNAME})

    with pytest.raises(PublishError) as caught:
        create_client(site.settings, env)

    assert caught.value.kind == "auth" and "WORDPRESS_APP_PASSWORD" in caught.value.message


# -- secrets ---------------------------------------------------------------------------------
def test_no_secret_in_any_message_or_step_result(site: Site, article: Post) -> None:
    """Run failures without the executor's redaction: the client itself must not leak."""
    messages: list[str] = []
    site.fake.reports_password_errors = True
    for client in (site.client(password="wrong " + PASSWORD), site.client("nobody")):
        messages.append(str(site.fails(article, client, secrets=[], steps=MemoryStepLog())))
    site.fake.reports_password_errors = False
    site.fake.inject(Fault(drop=True, path_contains="/wp/v2/posts"))
    site.fake.crash_after_create()
    for _ in range(2):
        messages.append(str(site.fails(article, secrets=[])))
    receipt = site.publish(article, secrets=[])

    assert_no_secret(*messages, receipt.to_json(), site.store.steps("k").all())


def test_credentials_are_never_sent_to_a_site_over_plain_http(site: Site) -> None:
    remote = site.settings.model_copy(update={"wordpress_url": "http://bhxh.example.gov.vn"})
    with pytest.raises(PublishError) as caught:
        create_client(remote, site.env())
    assert caught.value.kind == "permanent" and "plain http" in caught.value.message
    assert site.fake.requests == []
    create_client(site.settings, site.env())  # the fake, on this computer: accepted
