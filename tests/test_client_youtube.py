"""The YouTube client end to end: sample posts through google-api-python-client, over TLS,
into the fake YouTube (tests/fakes/youtube.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from publisher.adapters.base import Post
from publisher.adapters.youtube import YouTubeSettings
from publisher.catalog import Catalog, load_catalog
from publisher.cli import main
from publisher.clients.youtube import (
    SESSION_STEP,
    YouTubeClient,
    authorize,
    check_credentials,
    create_client,
)
from publisher.publishing.errors import PublishError
from publisher.publishing.executor import publish_post
from publisher.publishing.model import ClientEnv, MemoryStepLog, Receipt, StepLog
from publisher.publishing.service import PublishService
from publisher.render.service import Renderer
from publisher.store.database import Store, open_store
from publisher.workspace import open_workspace

from .conftest import copy_sample
from .fakes.base import Fault
from .fakes.youtube import CHUNK_UNIT, EXISTING_VIDEO, FakeYouTube, google_error, make_certificate

TIMEOUT = 30.0  # a busy machine never makes the fake this slow
HANG_TIMEOUT = 5.0  # for a request the fake never answers: how long the client waits
UPDATE_ITEM = "nuoc-rut-2026/video/phong-su-bhxh-tu-nguyen"
UPLOAD_ITEM = "nuoc-rut-2026/video/huong-dan-cai-dat-vssid"
SECRETS = {
    "client_id": "123456-fakeclient.apps.googleusercontent.com",
    "client_secret": "GOCSPX-fake-client-secret-9f8e7d",
    "refresh_token": "1//0fake-refresh-token-abcdef123456",
}
NOON_UTC = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # 04:00 in Los Angeles (PST)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def fake(certificate: tuple[Path, Path]) -> Iterator[FakeYouTube]:
    cert, key = certificate
    server = FakeYouTube(cert, key, **SECRETS).start()
    yield server
    server.stop()


@dataclasses.dataclass
class World:
    """A sample workspace copy, a state store, and settings pointing at the fake."""

    fake: FakeYouTube
    catalog: Catalog
    store: Store
    settings: YouTubeSettings
    tmp: Path
    errors: list[PublishError] = dataclasses.field(default_factory=list)
    timeout: float = TIMEOUT

    def env(self, **changes: Any) -> ClientEnv:
        base = ClientEnv(
            secrets=SECRETS,
            tokens=self.store.tokens("youtube"),
            state_dir=self.tmp,
            timeout=self.timeout,
            sleep=lambda seconds: None,
            clock=lambda: NOON_UTC,
        )
        return dataclasses.replace(base, **changes)

    def client(self, **env_changes: Any) -> YouTubeClient:
        return create_client(self.settings, self.env(**env_changes), chunk_size=CHUNK_UNIT)

    def post(self, item_id: str) -> Post:
        item = self.catalog.item(item_id)
        assert item is not None
        return Renderer(self.catalog).render(item, "youtube")

    def publish(self, post: Post, client: YouTubeClient | None = None) -> Receipt:
        steps = self.store.steps(f"youtube:{post.item_id}")
        return publish_post(
            post, client or self.client(), steps, mode="live", secrets=SECRETS.values()
        )

    def failure(self, post: Post, client: YouTubeClient | None = None) -> PublishError:
        with pytest.raises(PublishError) as caught:
            self.publish(post, client)
        self.errors.append(caught.value)
        return caught.value

    def steps(self, item_id: str) -> dict[str, dict[str, Any]]:
        return self.step_log(item_id).all()

    def step_log(self, item_id: str) -> StepLog:
        return self.store.steps(f"youtube:{item_id}")


def make_world(fake: FakeYouTube, tmp: Path, cert: Path, video_size: int | None = None) -> World:
    root = copy_sample(tmp / "ws")
    if video_size is not None:  # a longer video: several 256 KiB chunks
        video = root / "content" / f"{UPLOAD_ITEM}.mp4"
        data = video.read_bytes()
        padding = bytes(range(256)) * (video_size // 256 + 1)
        video.write_bytes(data + padding[: video_size - len(data)])
    catalog = load_catalog(open_workspace(root, {}))
    settings = catalog.channels["youtube"].settings
    assert isinstance(settings, YouTubeSettings)
    settings = settings.model_copy(
        update={
            "api_base": fake.base_url,
            "token_uri": f"{fake.base_url}/token",
            "tls_ca_file": str(cert),
        }
    )
    return World(fake, catalog, open_store(tmp / "state"), settings, tmp)


@pytest.fixture
def world(fake: FakeYouTube, tmp_path: Path, certificate: tuple[Path, Path]) -> World:
    return make_world(fake, tmp_path, certificate[0])


def with_call(post: Post, index: int, **changes: Any) -> Post:
    calls = list(post.calls)
    calls[index] = dataclasses.replace(calls[index], **changes)
    return dataclasses.replace(post, calls=tuple(calls))


def wait_until(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    """For a fake still busy with a request its client gave up on."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the fake never got there"
        time.sleep(0.02)


# -- update of an existing video ----------------------------------------------------------
def test_update_reads_then_writes_the_whole_snippet(world: World) -> None:
    post = world.post(UPDATE_ITEM)
    ours = post.calls[0].payload["snippet"]
    receipt = world.publish(post)

    assert (receipt.remote_id, receipt.url) == (
        EXISTING_VIDEO,
        f"https://youtu.be/{EXISTING_VIDEO}",
    )
    api = [(r.method, r.path) for r in world.fake.requests]
    assert api == [
        ("POST", "/token"),
        ("GET", "/youtube/v3/videos"),
        ("PUT", "/youtube/v3/videos"),
    ]
    listed, updated = world.fake.requests[1], world.fake.requests[2]
    assert listed.query["id"] == [EXISTING_VIDEO] and listed.query["part"] == ["snippet"]
    assert updated.query["part"] == ["snippet"]
    assert updated.headers["authorization"].startswith("Bearer ya29.")
    sent = updated.json()
    assert sent["id"] == EXISTING_VIDEO
    assert {k: sent["snippet"][k] for k in ours} == ours
    assert sent["snippet"]["channelId"] == "UCbhxhTinh0000000000000"  # the fields we keep
    stored = world.fake.videos[EXISTING_VIDEO]["snippet"]
    assert {k: stored[k] for k in ours} == ours
    assert stored["publishedAt"] and stored["thumbnails"]
    assert world.fake.quota_used == 1 + 50


def test_update_keeps_snippet_fields_the_post_does_not_set(world: World) -> None:
    post = world.post(UPDATE_ITEM)
    snippet = {k: post.calls[0].payload["snippet"][k] for k in ("title", "categoryId")}
    post = with_call(post, 0, payload={"id": EXISTING_VIDEO, "snippet": snippet})
    world.publish(post)

    stored = world.fake.videos[EXISTING_VIDEO]["snippet"]
    assert stored["title"] == snippet["title"]
    assert stored["description"] == "Mô tả cũ." and stored["tags"] == ["cũ"]


def test_scheduling_an_existing_video_makes_it_private(world: World) -> None:
    post = world.post(UPDATE_ITEM)
    payload = {**post.calls[0].payload, "status": {"publishAt": "2026-12-05T01:00:00Z"}}
    endpoint = "/youtube/v3/videos?part=snippet,status"
    world.publish(with_call(post, 0, endpoint=endpoint, payload=payload))

    status = world.fake.videos[EXISTING_VIDEO]["status"]
    assert status["privacyStatus"] == "private" and status["publishAt"] == "2026-12-05T01:00:00Z"
    assert status["uploadStatus"] == "processed"  # read, kept, sent back whole


def test_fake_refuses_a_schedule_on_a_public_video(world: World) -> None:
    from googleapiclient.errors import HttpError

    status = {"privacyStatus": "public", "publishAt": "2026-12-05T01:00:00Z"}
    request = (
        world.client()
        .service.videos()
        .update(part="status", body={"id": EXISTING_VIDEO, "status": status})
    )
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.status_code == 400
    assert caught.value.error_details[0]["reason"] == "invalidPublishAt"


def test_update_of_a_missing_video_is_permanent(world: World) -> None:
    post = world.post(UPDATE_ITEM)
    post = with_call(post, 0, payload={**post.calls[0].payload, "id": "NoSuchVideo"})
    error = world.failure(post)
    assert (error.kind, error.platform_code) == ("permanent", "videoNotFound")
    assert "youtube.video_id" in error.message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": "Phóng sự <mới>"}, "invalidTitle"),
        ({"title": "T" * 101}, "invalidTitle"),
        ({"description": "Đ" * 2501}, "invalidDescription"),  # 5002 UTF-8 bytes
        ({"categoryId": "9999"}, "invalidCategoryId"),
    ],
)
def test_rejected_metadata_is_permanent_with_youtube_reason(
    world: World, change: dict[str, str], reason: str
) -> None:
    post = world.post(UPDATE_ITEM)
    payload = post.calls[0].payload
    post = with_call(post, 0, payload={**payload, "snippet": {**payload["snippet"], **change}})
    error = world.failure(post)
    assert (error.kind, error.http_status, error.platform_code) == ("permanent", 400, reason)
    assert world.steps(UPDATE_ITEM) == {}


# -- upload of a new video ----------------------------------------------------------------
def test_upload_sends_metadata_video_and_thumbnail_over_tls(world: World) -> None:
    post = world.post(UPLOAD_ITEM)
    video_file, thumbnail_file = (Path(c.files["media"]) for c in post.calls)
    receipt = world.publish(post)

    [video] = world.fake.uploaded_videos()
    assert (receipt.remote_id, receipt.url) == (video["id"], f"https://youtu.be/{video['id']}")
    [start] = world.fake.requests_to("/upload/youtube/v3/videos")[:1]
    assert start.method == "POST" and start.query["uploadType"] == ["resumable"]
    assert start.query["part"] == ["snippet,status"]
    assert start.headers["x-upload-content-type"] == "video/mp4"
    assert start.headers["x-upload-content-length"] == str(video_file.stat().st_size)
    assert start.json() == post.calls[0].payload
    assert world.fake.media[video["id"]] == video_file.read_bytes()
    assert video["snippet"]["title"] == "Cài đặt VssID trong 3 bước | BHXH tỉnh hướng dẫn"
    assert video["status"]["privacyStatus"] == "public"
    [thumb] = world.fake.requests_to("/thumbnails/set")
    assert thumb.query["videoId"] == [video["id"]] and thumb.query["uploadType"] == ["media"]
    assert world.fake.thumbnails[video["id"]] == (thumbnail_file.read_bytes(), "image/jpeg")
    session = world.steps(UPLOAD_ITEM)[SESSION_STEP]
    assert "upload_id=" in session["uri"] and session["size"] == video_file.stat().st_size
    assert world.fake.quota_used == 1600 + 50


def test_publish_at_forces_a_private_upload(world: World) -> None:
    post = world.post(UPLOAD_ITEM)
    payload = post.calls[0].payload
    status = {**payload["status"], "publishAt": "2026-12-05T01:00:00Z"}
    world.publish(with_call(post, 0, payload={**payload, "status": status}))
    [video] = world.fake.uploaded_videos()
    assert video["status"]["privacyStatus"] == "private"
    assert video["status"]["publishAt"] == "2026-12-05T01:00:00Z"


def test_interrupted_upload_resumes_its_session_and_makes_one_video(
    fake: FakeYouTube, tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    world = make_world(fake, tmp_path, certificate[0], video_size=3 * CHUNK_UNIT + 5000)
    post = world.post(UPLOAD_ITEM)
    video_file = Path(post.calls[0].files["media"])
    size = video_file.stat().st_size
    world.timeout = HANG_TIMEOUT  # httplib2 resends the dropped chunk without its bytes
    fake.interrupt_upload(after_chunks=1)  # the line drops on the second chunk

    error = world.failure(post)
    assert error.kind == "retryable"  # not the last chunk: no video can exist yet
    saved = world.steps(UPLOAD_ITEM)[SESSION_STEP]
    assert saved["progress"] == CHUNK_UNIT and "insert" not in world.steps(UPLOAD_ITEM)
    video_only = dataclasses.replace(post, calls=post.calls[:1])
    assert world.client().find_existing(video_only, world.step_log(UPLOAD_ITEM)) is None

    receipt = world.publish(post)  # a new client, as after a restart
    [video] = fake.uploaded_videos()
    assert receipt.remote_id == video["id"]
    assert fake.media[video["id"]] == video_file.read_bytes()
    assert len([r for r in fake.requests if r.method == "POST" and "videos" in r.path]) == 1
    ranges = [r.headers.get("content-range") for r in fake.requests_to("/upload/youtube/v3/videos")]
    assert f"bytes */{size}" in ranges  # asked what YouTube had received
    assert ranges.count(f"bytes 0-{CHUNK_UNIT - 1}/{size}") == 1  # and did not resend it


def test_dropped_last_chunk_is_unknown_and_settled_without_a_second_video(world: World) -> None:
    post = world.post(UPLOAD_ITEM)
    world.timeout = HANG_TIMEOUT  # httplib2 resends the dropped chunk without its bytes
    world.fake.interrupt_upload(after_chunks=0, stored=True)  # the video exists; no answer

    error = world.failure(post)
    assert error.kind == "unknown"
    [video] = world.fake.uploaded_videos()
    client, steps = world.client(), world.step_log(UPLOAD_ITEM)
    video_only = dataclasses.replace(post, calls=post.calls[:1])
    no_session = MemoryStepLog()
    no_session.attempt("insert")  # noted, as the lost upload was
    assert client.find_existing(video_only, no_session) == {"id": video["id"]}  # playlist
    assert client.find_existing(video_only, steps) == {"id": video["id"]}  # its session
    assert client.find_existing(post, steps) is None  # the thumbnail is not there yet

    receipt = world.publish(post)  # a retry asks the session and finds the upload done
    assert receipt.remote_id == video["id"]
    assert len(world.fake.uploaded_videos()) == 1
    assert video["id"] in world.fake.thumbnails


@pytest.mark.parametrize("finished", [False, True])
def test_expired_session_is_settled_by_the_uploads_playlist(
    fake: FakeYouTube, tmp_path: Path, certificate: tuple[Path, Path], finished: bool
) -> None:
    world = make_world(fake, tmp_path, certificate[0], video_size=2 * CHUNK_UNIT + 100)
    post = world.post(UPLOAD_ITEM)
    world.timeout = HANG_TIMEOUT  # httplib2 resends the dropped chunk without its bytes
    fake.interrupt_upload(after_chunks=2 if finished else 1, stored=finished)
    world.failure(post)
    fake.sessions.clear()  # YouTube forgets upload sessions after about a week

    receipt = world.publish(post)
    [video] = fake.uploaded_videos()
    assert receipt.remote_id == video["id"]
    starts = [r for r in fake.requests if r.method == "POST" and "videos" in r.path]
    assert len(starts) == (1 if finished else 2)


def test_failed_thumbnail_is_retried_without_uploading_again(world: World) -> None:
    post = world.post(UPLOAD_ITEM)
    world.fake.inject(
        Fault(google_error(503, "backendError", "Backend Error"), path_contains="thumbnails")
    )

    error = world.failure(post)
    assert (error.kind, error.http_status) == ("unknown", 503)
    assert set(world.steps(UPLOAD_ITEM)) == {SESSION_STEP, "insert"}
    # only the thumbnail is in doubt, and setting it twice is harmless: resend it
    assert world.client().find_existing(post, world.step_log(UPLOAD_ITEM)) is None
    world.publish(post)
    assert len(world.fake.uploaded_videos()) == 1
    assert len(world.fake.requests_to("/thumbnails/set")) == 2
    assert len([r for r in world.fake.requests if r.method == "POST" and "videos" in r.path]) == 1


def test_thumbnails_refused_for_an_unverified_channel_are_permanent(world: World) -> None:
    world.fake.thumbnails_allowed = False
    error = world.failure(world.post(UPLOAD_ITEM))
    assert (error.kind, error.platform_code) == ("permanent", "forbidden")
    assert "verified channel" in error.message


def test_service_settles_unknown_outcomes(
    fake: FakeYouTube, tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    """Through PublishService, as the scheduler's `settle` uses it."""
    root = copy_sample(tmp_path / "ws")
    channel = (root / "channels" / "youtube.yaml").read_text().replace("mode: outbox", "mode: live")
    channel += f"api_base: {fake.base_url}\ntoken_uri: {fake.base_url}/token\n"
    (root / "channels" / "youtube.yaml").write_text(channel + f"tls_ca_file: {certificate[0]}\n")
    environ = {f"YOUTUBE_{name.upper()}": value for name, value in SECRETS.items()}
    catalog = load_catalog(open_workspace(root, environ))
    service = PublishService(catalog, open_store(tmp_path / "state"), timeout=HANG_TIMEOUT)
    update, upload = catalog.item(UPDATE_ITEM), catalog.item(UPLOAD_ITEM)
    assert update is not None and upload is not None

    fake.inject_on("PUT", Fault(hang=True, acted=True))  # made; the answer never comes
    with pytest.raises(PublishError) as caught:
        service.publish(update, "youtube")
    assert caught.value.kind == "unknown"
    assert fake.videos[EXISTING_VIDEO]["snippet"]["categoryId"] == "25"
    assert service.record_existing(update, "youtube") == "found"
    before = len(fake.requests)
    receipt = service.publish(update, "youtube")  # nothing left to send
    assert receipt.remote_id == EXISTING_VIDEO
    assert not [r for r in fake.requests[before:] if r.method == "PUT"]

    fake.interrupt_upload(after_chunks=0, stored=True)
    with pytest.raises(PublishError):
        service.publish(upload, "youtube")
    assert service.record_existing(upload, "youtube") == "not found"  # send again: it resumes
    receipt = service.publish(upload, "youtube")
    [video] = fake.uploaded_videos()
    assert receipt.remote_id == video["id"] and video["id"] in fake.thumbnails


# -- quota, rate limits, transport faults ---------------------------------------------------
def test_quota_exceeded_waits_until_midnight_pacific(world: World) -> None:
    world.fake.exhaust_quota()
    error = world.failure(world.post(UPDATE_ITEM))
    assert (error.kind, error.http_status, error.platform_code) == (
        "retryable",
        403,
        "quotaExceeded",
    )
    assert error.retry_after == 20 * 3600  # 04:00 PST -> midnight


def test_quota_reset_follows_daylight_saving_time(world: World) -> None:
    world.fake.exhaust_quota()
    summer = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)  # 05:00 PDT
    error = world.failure(world.post(UPDATE_ITEM), world.client(clock=lambda: summer))
    assert error.retry_after == 19 * 3600


def test_rate_limit_is_retryable_and_the_retry_succeeds(world: World) -> None:
    world.fake.rate_limit(1)
    error = world.failure(world.post(UPDATE_ITEM))
    assert (error.kind, error.platform_code, error.retry_after) == (
        "retryable",
        "rateLimitExceeded",
        None,
    )
    assert world.publish(world.post(UPDATE_ITEM)).remote_id == EXISTING_VIDEO


@pytest.mark.parametrize(
    ("fault", "method", "kind"),
    [
        (Fault(google_error(503, "backendError", "Backend Error")), "GET", "retryable"),
        (Fault(google_error(503, "backendError", "Backend Error")), "PUT", "unknown"),
        (Fault(hang=True), "GET", "retryable"),
        (Fault(hang=True), "PUT", "unknown"),
        (Fault(google_error(403, "insufficientPermissions", "Insufficient")), "PUT", "auth"),
    ],
)
def test_update_faults_land_in_their_kind(
    world: World, fault: Fault, method: str, kind: str
) -> None:
    world.fake.inject_on(method, fault)
    client = world.client(timeout=HANG_TIMEOUT) if fault.hang else None
    assert world.failure(world.post(UPDATE_ITEM), client).kind == kind
    assert world.steps(UPDATE_ITEM) == {}


def test_connection_refused_is_retryable(world: World) -> None:
    dead = world.settings.model_copy(update={"api_base": "https://127.0.0.1:9"})
    client = create_client(dead, world.env())
    error = world.failure(world.post(UPDATE_ITEM), client)
    assert error.kind == "retryable"


def test_untrusted_certificate_is_retryable_and_names_the_setting(world: World) -> None:
    untrusting = world.settings.model_copy(update={"tls_ca_file": None})
    error = world.failure(world.post(UPDATE_ITEM), create_client(untrusting, world.env()))
    assert error.kind == "retryable" and "tls_ca_file" in error.message
    assert world.fake.requests == []


def test_unreachable_token_endpoint_names_the_address_and_the_setting(world: World) -> None:
    closed = world.settings.model_copy(update={"token_uri": "https://127.0.0.1:9/token"})
    with pytest.raises(PublishError) as caught:
        check_credentials(closed, world.env(timeout=10.0))
    error = caught.value
    assert error.kind == "retryable"
    assert "Google's token endpoint could not be reached at https://127.0.0.1:9/token" in str(error)
    assert "token_uri in channels/youtube.yaml" in error.message


def test_untrusted_token_endpoint_names_tls_ca_file(world: World) -> None:
    untrusting = world.settings.model_copy(update={"tls_ca_file": None})
    with pytest.raises(PublishError) as caught:
        check_credentials(untrusting, world.env(timeout=10.0))
    error = caught.value
    assert error.kind == "retryable"
    assert f"reached at {world.settings.token_uri}" in error.message
    assert "tls_ca_file in channels/youtube.yaml" in error.message


# -- credentials ----------------------------------------------------------------------------
def test_revoked_refresh_token_is_an_auth_failure(world: World) -> None:
    world.fake.revoke(SECRETS["refresh_token"])
    error = world.failure(world.post(UPDATE_ITEM))
    assert (error.kind, error.platform_code) == ("auth", "invalid_grant")
    assert str(error).endswith("(invalid_grant)") and "HTTP None" not in str(error)
    assert "revoked or has expired" in error.message
    assert "run `publisher auth youtube` again" in error.message
    with pytest.raises(PublishError) as caught:
        check_credentials(world.settings, world.env())
    assert caught.value.kind == "auth"


def test_wrong_client_secret_is_an_auth_failure(world: World) -> None:
    client = world.client(secrets={**SECRETS, "client_secret": "GOCSPX-wrong-secret"})
    error = world.failure(world.post(UPDATE_ITEM), client)
    assert (error.kind, error.platform_code) == ("auth", "invalid_client")


def test_access_token_is_kept_and_refreshed_once_when_rejected(world: World) -> None:
    world.publish(world.post(UPDATE_ITEM))
    stored_token = world.client()  # the stored token: no refresh
    stored_token.find_existing(world.post(UPDATE_ITEM), MemoryStepLog())
    assert len(world.fake.requests_to("/token")) == 1

    world.fake.expire_tokens()
    found = world.client().find_existing(world.post(UPDATE_ITEM), MemoryStepLog())
    assert found == {"id": EXISTING_VIDEO}
    assert len(world.fake.requests_to("/token")) == 2
    stored = world.store.tokens("youtube").get("access_token")
    assert stored is not None and stored.value in world.fake.access_tokens


def test_check_credentials_names_the_channel(world: World) -> None:
    assert check_credentials(world.settings, world.env()) == (
        "Channel 'BHXH tỉnh' (id UCbhxhTinh0000000000000)"
    )
    world.fake.channel = None
    with pytest.raises(PublishError) as caught:
        check_credentials(world.settings, world.env())
    assert caught.value.kind == "auth" and "no YouTube channel" in caught.value.message


def test_find_existing_for_an_update_compares_title_and_description(world: World) -> None:
    post = world.post(UPDATE_ITEM)
    assert world.client().find_existing(post, MemoryStepLog()) is None
    world.publish(post)
    assert world.client().find_existing(post, MemoryStepLog()) == {"id": EXISTING_VIDEO}


class StubFlow:
    """Stands in for InstalledAppFlow: no browser, no network."""

    def __init__(self, refresh_token: str = SECRETS["refresh_token"]) -> None:
        self.kwargs: dict[str, Any] = {}
        self.refresh_token = refresh_token

    def run_local_server(self, **kwargs: Any) -> Any:
        self.kwargs = kwargs
        token = self.refresh_token
        return type(
            "Creds",
            (),
            {"refresh_token": token, "to_json": lambda self: json.dumps({"refresh_token": token})},
        )()


def test_authorize_writes_the_token_for_its_owner_only(world: World, tmp_path: Path) -> None:
    token_file = tmp_path / "secrets" / "youtube-token.json"
    token_file.parent.mkdir()
    token_file.write_text("old")
    token_file.chmod(0o644)
    flow = StubFlow()

    hint = authorize(world.settings, "id", "secret", token_file, open_browser=False, flow=flow)

    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text()) == {"refresh_token": SECRETS["refresh_token"]}
    assert "YOUTUBE_REFRESH_TOKEN" in hint and SECRETS["refresh_token"] not in hint
    assert flow.kwargs["open_browser"] is False and flow.kwargs["access_type"] == "offline"


# -- secrets ----------------------------------------------------------------------------------
def test_no_secret_in_messages_or_step_results(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    world.timeout = HANG_TIMEOUT  # httplib2 resends the dropped chunk without its bytes
    world.fake.interrupt_upload(after_chunks=0, stored=True)
    world.failure(world.post(UPLOAD_ITEM))
    world.publish(world.post(UPLOAD_ITEM))
    world.fake.inject(Fault(google_error(500, "backendError", "Backend Error")))
    world.failure(world.post(UPDATE_ITEM))
    world.fake.exhaust_quota()
    world.failure(world.post(UPDATE_ITEM))
    world.fake.revoke(SECRETS["refresh_token"])
    world.fake.expire_tokens()
    world.failure(world.post(UPDATE_ITEM))

    texts = [f"{e} {e.message!r}" for e in world.errors]
    texts += [json.dumps(world.steps(UPLOAD_ITEM)), json.dumps(world.steps(UPDATE_ITEM))]
    texts.append(caplog.text)
    values = [*SECRETS.values(), *world.fake.access_tokens, "ya29."]
    assert len(world.errors) == 4
    assert [v for v in values for t in texts if v in t] == []


def test_the_token_file_of_publisher_auth_is_used_when_the_environment_has_none(
    fake: FakeYouTube, tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    from publisher.clients.youtube import TOKEN_FILE, with_saved_token

    store = open_store(tmp_path / "state")
    env = ClientEnv(
        secrets={"client_id": "id", "client_secret": "secret"},
        tokens=store.tokens("youtube"),
        state_dir=tmp_path,
    )
    assert with_saved_token(env) is env
    (tmp_path / TOKEN_FILE).write_text(json.dumps({"refresh_token": "saved-refresh"}))
    assert with_saved_token(env).secrets["refresh_token"] == "saved-refresh"
    explicit = dataclasses.replace(env, secrets={**env.secrets, "refresh_token": "from-env"})
    assert with_saved_token(explicit).secrets["refresh_token"] == "from-env"


# -- publisher auth youtube -------------------------------------------------------------------
def youtube_workspace(world: World, certificate: Path) -> Path:
    root = copy_sample(world.tmp / "auth-ws")
    path = root / "channels" / "youtube.yaml"
    text = path.read_text(encoding="utf-8").replace("mode: outbox", "mode: live")
    text += f"api_base: {world.fake.base_url}\ntoken_uri: {world.settings.token_uri}\n"
    path.write_text(text + f"tls_ca_file: {certificate}\n", encoding="utf-8")
    return root


def test_auth_signs_in_again_when_google_refuses_the_saved_token(
    world: World, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from google_auth_oauthlib.flow import InstalledAppFlow

    root = youtube_workspace(world, certificate[0])
    token_file = root / ".publisher" / "youtube-token.json"
    token_file.parent.mkdir()
    token_file.write_text(json.dumps({"refresh_token": SECRETS["refresh_token"]}))
    world.fake.revoke(SECRETS["refresh_token"])
    new_token = "1//0fake-refresh-token-after-consent"
    world.fake.refresh_tokens.add(new_token)
    flow = StubFlow(new_token)
    monkeypatch.setattr(InstalledAppFlow, "from_client_config", lambda *a, **k: flow)
    env = {"YOUTUBE_CLIENT_ID": SECRETS["client_id"]}
    env["YOUTUBE_CLIENT_SECRET"] = SECRETS["client_secret"]

    result = CliRunner().invoke(
        main, ["--root", str(root), "auth", "youtube", "--no-browser"], env=env
    )

    assert result.exit_code == 0, result.output
    assert "invalid_grant" in result.output and "youtube: credentials work" in result.output
    assert flow.kwargs["open_browser"] is False
    assert json.loads(token_file.read_text()) == {"refresh_token": new_token}

    world.fake.revoke(new_token)
    world.fake.expire_tokens()  # the access token kept in the store is refused too
    env["YOUTUBE_REFRESH_TOKEN"] = new_token  # a refused token in .env would win over a new file
    result = CliRunner().invoke(
        main, ["--root", str(root), "auth", "youtube", "--no-browser"], env=env
    )
    assert result.exit_code == 1, result.output
    assert "Remove YOUTUBE_REFRESH_TOKEN from .env" in " ".join(result.output.split())
    assert new_token not in result.output


def test_last_years_identical_upload_is_not_taken_for_ours(world: World) -> None:
    """The same video with the same title and description was uploaded a year ago; our
    upload's answer and session are lost: the old one is not ours."""
    post = world.post(UPLOAD_ITEM)
    world.publish(post)
    [video] = world.fake.uploaded_videos()
    video["snippet"]["publishedAt"] = "2025-12-01T01:00:00Z"
    video_only = dataclasses.replace(post, calls=post.calls[:1])
    lost = MemoryStepLog()
    lost.attempt("insert")  # noted now; no session was saved

    assert world.client().find_existing(video_only, lost) is None
