"""A YouTube channel through the Data API v3, with google-api-python-client and google-auth.

Calls (built by YouTubeChannel.render): `videos.update` part=snippet as a read-modify-write
(videos.list first: YouTube clears every snippet field an update omits); `videos.insert` as
a resumable upload whose session URI is saved in the step log ("insert.session") as soon
as YouTube hands it out, so a retry asks for the received range (an empty PUT
"bytes */size") and resumes instead of uploading a second video; `thumbnails.set`.
Lookups: the uploads playlist (channels.list mine -> playlistItems.list) and videos.list.

The library runs offline on its bundled discovery document; `api_base` replaces the host
of both API and upload URLs (uploads keep https), `token_uri` is where access tokens come
from. httplib2 is given `timeout`, the CA bundle `tls_ca_file`, and no 308 redirect (308
means "resume incomplete" here); a token request that fails on the way comes out as
TokenEndpointError, naming the address it tried. httplib2
silently resends a request once when the line drops; a re-sent chunk then carries no bytes
and times out, which `classify` reports like any other dropped line.
Errors (CHANNELS.md 3.2): Google's `{"error": {"code", "message", "errors": [{"reason"}]}}`;
`classify` is the one place where every failure becomes a PublishError kind.
Docs: developers.google.com/youtube/v3/docs/videos/insert, /videos/update,
/thumbnails/set, /docs/errors, /guides/using_resumable_upload_protocol.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import logging
import mimetypes
import os
import re
import socket
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials

from publisher.adapters.base import Call, Post
from publisher.adapters.youtube import GOOGLE_TOKEN_URI, YouTubeSettings
from publisher.publishing.errors import PublishError
from publisher.publishing.model import ClientEnv, StepLog, made_after_attempt
from publisher.publishing.placeholders import resolve

log = logging.getLogger(__name__)

PLATFORM = "youtube"
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
VIDEO_URL = "https://youtu.be/{id}"
CHUNK_UNIT = 256 * 1024  # YouTube accepts chunks in multiples of 256 KiB only
CHUNK_SIZE = 32 * CHUNK_UNIT  # 8 MiB
TOKEN_FILE = "youtube-token.json"  # written by `publisher auth youtube`, mode 0600
SESSION_STEP = "insert.session"
LOOKUP_LIMIT = 25
TOKEN_NAME = "access_token"
QUOTA_RESET_ZONE = ZoneInfo("America/Los_Angeles")  # the daily quota resets at midnight PT
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
DAILY_LIMIT_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"})
AUTH_REASONS = frozenset({"forbidden", "insufficientPermissions", "youtubeSignupRequired"})
REAUTH = "run `publisher auth youtube`"
SETTINGS_FILE = "channels/youtube.yaml"
_STEP_REFERENCE = re.compile(r"\$([a-z][a-z0-9_]*)\.")


def create_client(
    settings: YouTubeSettings, env: ClientEnv, *, chunk_size: int = CHUNK_SIZE
) -> YouTubeClient:
    """The live client of one YouTube channel (the account of the refresh token)."""
    return YouTubeClient(settings, with_saved_token(env), chunk_size=chunk_size)


def with_saved_token(env: ClientEnv) -> ClientEnv:
    """The refresh token from `publisher auth youtube`'s token file when the environment
    has none, so officers need not copy it into `.env`."""
    token_file = env.state_dir / TOKEN_FILE
    if env.secrets.get("refresh_token") or not token_file.is_file():
        return env
    saved = json.loads(token_file.read_text(encoding="utf-8")).get("refresh_token")
    if not saved:
        return env
    return dataclasses.replace(env, secrets={**env.secrets, "refresh_token": saved})


def check_credentials(settings: YouTubeSettings, env: ClientEnv) -> str:
    """Read the authorised account's channel: proves the refresh token works and names it."""
    client = YouTubeClient(settings, with_saved_token(env))
    try:
        channel = client.my_channel("snippet")
    finally:
        client._keep_token()
    return f"Channel '{channel['snippet'].get('title', '?')}' (id {channel['id']})"


def needs_consent(error: PublishError) -> bool:
    """Whether only signing in to Google again helps: it refused the refresh token."""
    return error.platform == PLATFORM and error.platform_code == "invalid_grant"


def authorize(
    settings: YouTubeSettings,
    client_id: str,
    client_secret: str,
    token_file: Path,
    open_browser: bool = True,
    *,
    flow: Any = None,
) -> str:
    """Run Google's installed-app consent flow; save the token JSON readable by its owner only.

    Returns what to put where (the variable name and the file), never the token itself.
    `flow` replaces google_auth_oauthlib's InstalledAppFlow (tests).
    """
    if flow is None:
        from google_auth_oauthlib.flow import InstalledAppFlow

        config = {
            "installed": {
                "client_id": client_id,
                "client_secret": client_secret,
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": settings.token_uri,
                "redirect_uris": ["http://localhost"],
            }
        }
        flow = InstalledAppFlow.from_client_config(config, scopes=list(SCOPES))
    # consent + offline: Google returns a refresh token only when the user is asked again
    credentials = flow.run_local_server(
        port=0, open_browser=open_browser, access_type="offline", prompt="consent"
    )
    if not getattr(credentials, "refresh_token", None):
        raise PublishError(
            "auth",
            "Google returned no refresh token; revoke the app's access and retry",
            platform=PLATFORM,
        )
    write_private(token_file, credentials.to_json())
    variable = settings.credentials.refresh_token
    return (
        f"Saved the YouTube token to {token_file} (readable by you only); publisher uses it "
        f"from there. To publish from another machine, set {variable} to its 'refresh_token'."
    )


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, never readable by others even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # O_CREAT's mode does not apply to an existing file
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


class YouTubeClient:
    """Performs the calls YouTubeChannel.render builds, as one Google account."""

    platform = PLATFORM

    def __init__(
        self, settings: YouTubeSettings, env: ClientEnv, *, chunk_size: int = CHUNK_SIZE
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise ValueError(f"chunk_size must be a multiple of {CHUNK_UNIT} bytes")
        self.settings, self.env, self.chunk_size = settings, env, chunk_size
        self.credentials = self._credentials()
        self.http = _AuthorizedHttp(self.credentials, self._transport())
        self.service = self._service()

    # -- PlatformClient -------------------------------------------------------------
    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        try:
            if call.step == "update":
                return self._update(call, payload)
            if call.step == "insert":
                return self._insert(call, payload, steps)
            if call.step == "thumbnail":
                return self._thumbnail(call, payload, steps)
            raise PublishError("permanent", f"unknown step {call.step!r}", platform=PLATFORM)
        finally:
            self._keep_token()

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        last = results.get(post.calls[-1].step)
        video = results.get("insert") or results.get("update") or last or {}
        if not video.get("id"):
            raise PublishError("unknown", "no video id among the step results", platform=PLATFORM)
        return video["id"], VIDEO_URL.format(id=video["id"])

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        """The video {"id"} when YouTube holds the whole post, else None.

        None is also the answer when the video is there but a thumbnail step follows it:
        whether the thumbnail was set cannot be read back, and sending the post again is
        safe (the upload resumes its saved session or finds the finished video, and the
        update and the thumbnail are idempotent). The runner records a found answer as
        the post's last step, which would skip the thumbnail.
        """
        video_call = post.calls[0]
        if steps.get(video_call.step) is not None or len(post.calls) > 1:
            return None
        try:
            if video_call.step == "update":
                return self._find_update(video_call.payload)
            return self._find_insert(
                video_call.payload, steps.get(SESSION_STEP), steps.first_attempt("insert")
            )
        finally:
            self._keep_token()

    # -- lookups --------------------------------------------------------------------
    def my_channel(self, part: str) -> dict[str, Any]:
        """The authorised account's channel (channels.list mine=true)."""
        answer = self._execute(self.service.channels().list(part=part, mine=True), "read")
        items = answer.get("items") or []
        if not items:
            raise PublishError(
                "auth",
                f"the Google account has no YouTube channel; create one or {REAUTH} "
                "with the channel's account",
                platform=PLATFORM,
            )
        return items[0]

    def _find_insert(
        self,
        payload: Mapping[str, Any],
        session: Mapping[str, Any] | None,
        since: dt.datetime | None,
    ) -> dict[str, Any] | None:
        """The uploaded video: by its upload session when known, else by the uploads playlist."""
        state = self._session_state(session) if session and session.get("uri") else None
        if isinstance(state, dict):
            return {"id": state["id"]}
        if isinstance(state, int):
            return None  # the upload is unfinished: no video exists yet
        return self._find_upload(payload.get("snippet") or {}, since)

    def _find_upload(
        self, snippet: Mapping[str, Any], since: dt.datetime | None
    ) -> dict[str, Any] | None:
        """The newest upload with our title and description, added after our first upload
        request (`since`): last year's identical video is not ours."""
        channel = self.my_channel("contentDetails")
        uploads = channel["contentDetails"]["relatedPlaylists"]["uploads"]
        request = self.service.playlistItems().list(
            part="snippet", playlistId=uploads, maxResults=LOOKUP_LIMIT
        )
        for item in self._execute(request, "read").get("items") or []:
            found = item.get("snippet") or {}
            if _same_text(found, snippet) and made_after_attempt(_rfc3339(found), since):
                return {"id": found["resourceId"]["videoId"]}
        return None

    def _find_update(self, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        current = self._video_snippet(payload["id"])
        if current is not None and _same_text(current, payload.get("snippet") or {}):
            return {"id": payload["id"]}
        return None

    def _video_snippet(self, video_id: str) -> dict[str, Any] | None:
        video = self._video(video_id, "snippet")
        return video["snippet"] if video else None

    def _video(self, video_id: str, parts: str) -> dict[str, Any] | None:
        request = self.service.videos().list(part=parts, id=video_id)
        items = self._execute(request, "read").get("items") or []
        return items[0] if items else None

    # -- steps ----------------------------------------------------------------------
    def _update(self, call: Call, payload: dict[str, Any]) -> dict[str, Any]:
        parts, video_id = _query(call)["part"], payload.get("id") or ""
        current = self._video(video_id, parts) if video_id else None
        if current is None:
            raise PublishError(
                "permanent",
                f"video {video_id or '(no id)'} is not on the channel; check youtube.video_id",
                platform=PLATFORM,
                http_status=404,
                platform_code="videoNotFound",
            )
        # YouTube resets whatever an update omits in the parts it names: send them whole
        body: dict[str, Any] = {"id": video_id}
        for part in parts.split(","):
            body[part] = {**(current.get(part) or {}), **(payload.get(part) or {})}
        request = self.service.videos().update(part=parts, body=_scheduled(body))
        return self._execute(request, "write")

    def _insert(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        path = call.files["media"]
        media = self._media(path, resumable=True)
        try:
            request = self.service.videos().insert(
                part=_query(call)["part"], body=_scheduled(payload), media_body=media
            )
            since = steps.first_attempt(call.step)
            done = self._resume(request, steps.get(SESSION_STEP), path, payload, since)
            if done is not None:
                return done
            return self._upload(request, path, steps)
        finally:
            media.stream().close()

    def _thumbnail(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        video_id = payload.get("videoId") or _query(call, steps)["videoId"]
        media = self._media(call.files["media"], resumable=False)
        try:
            request = self.service.thumbnails().set(videoId=video_id, media_body=media)
            return self._execute(request, "write", action="thumbnails.set")
        finally:
            media.stream().close()

    # -- resumable upload -----------------------------------------------------------
    def _resume(
        self,
        request: Any,
        session: dict[str, Any] | None,
        path: str,
        payload: dict[str, Any],
        since: dt.datetime | None,
    ) -> dict[str, Any] | None:
        """Continue a saved upload session; the finished video if it already completed."""
        if not session or not session.get("uri"):
            return None
        state = self._session_state(session)
        if isinstance(state, dict):
            return state  # completed before the last attempt could record it
        if state is None:
            # The session expired (YouTube keeps them about a week): the video exists
            # only if that upload had finished.
            return self._find_upload(payload.get("snippet") or {}, since)
        if session.get("file") == path and session.get("size") == Path(path).stat().st_size:
            request.resumable_uri, request.resumable_progress = session["uri"], state
            log.info("youtube: resuming an upload at byte %d", state)
        return None

    def _session_state(self, session: Mapping[str, Any]) -> dict[str, Any] | int | None:
        """Ask YouTube about an upload session: the video, the bytes received, or None (gone)."""
        headers = {"Content-Range": f"bytes */{session['size']}", "Content-Length": "0"}
        try:
            response, content = self.http.request(session["uri"], "PUT", headers=headers)
        except Exception as exc:
            raise classify(
                exc, "upload status", may_have_acted=False, now=self.env.clock()
            ) from None
        if response.status in (200, 201):
            return json.loads(content)
        if response.status == 308:
            received = response.get("range", "")  # "bytes=0-N"
            return int(received.rsplit("-", 1)[1]) + 1 if received else 0
        if response.status in (404, 410):
            return None
        from googleapiclient.errors import HttpError

        raise classify(
            HttpError(response, content, uri="upload session"),
            "upload status",
            may_have_acted=False,
            now=self.env.clock(),
        )

    def _upload(self, request: Any, path: str, steps: StepLog) -> dict[str, Any]:
        size = Path(path).stat().st_size
        watch = _SessionWatch(self.http, lambda uri: self._save_session(steps, uri, path, size, 0))
        while True:
            try:
                _, video = request.next_chunk(http=watch)
            except Exception as exc:
                raise classify(
                    exc,
                    "videos.insert",
                    may_have_acted=self._sent_last_chunk(request, size),
                    now=self.env.clock(),
                ) from None
            if video is not None:
                return video
            self._save_session(steps, request.resumable_uri, path, size, request.resumable_progress)

    def _sent_last_chunk(self, request: Any, size: int) -> bool:
        """Only the last chunk can create the video: a failure before it is safe to resume.

        Without a session URI the upload never started; a failed chunk leaves
        `resumable_progress` at the chunk's first byte.
        """
        return (
            request.resumable_uri is not None
            and request.resumable_progress + self.chunk_size >= size
        )

    @staticmethod
    def _save_session(steps: StepLog, uri: str, path: str, size: int, progress: int) -> None:
        steps.record(SESSION_STEP, {"uri": uri, "file": path, "size": size, "progress": progress})

    # -- plumbing -------------------------------------------------------------------
    def _execute(self, request: Any, kind: str, *, action: str | None = None) -> dict[str, Any]:
        """Run one request; every failure comes out classified."""
        try:
            return request.execute()
        except Exception as exc:
            name = action or getattr(request, "methodId", None) or "request"
            raise classify(
                exc, name, may_have_acted=kind == "write", now=self.env.clock()
            ) from None

    def _media(self, path: str, *, resumable: bool) -> Any:
        from googleapiclient.http import MediaFileUpload

        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if resumable:
            return MediaFileUpload(
                path, mimetype=media_type, chunksize=self.chunk_size, resumable=True
            )
        return MediaFileUpload(path, mimetype=media_type)

    def _credentials(self) -> Credentials:
        secrets = self.env.secrets
        credentials = Credentials(
            token=None,
            refresh_token=secrets.get("refresh_token"),
            token_uri=self.settings.token_uri,
            client_id=secrets.get("client_id"),
            client_secret=secrets.get("client_secret"),
        )
        stored = self.env.tokens.get(TOKEN_NAME)
        if stored is not None and stored.expires_at is not None:
            # google-auth refreshes it itself when it is (nearly) expired; naive UTC expected
            credentials.token = stored.value
            credentials.expiry = stored.expires_at.astimezone(dt.UTC).replace(tzinfo=None)
        self._kept_token = credentials.token
        return credentials

    def _keep_token(self) -> None:
        """Store a refreshed access token, so the next client does not refresh again."""
        token, expiry = self.credentials.token, self.credentials.expiry
        if token and token != self._kept_token and expiry is not None:
            self.env.tokens.put(TOKEN_NAME, token, expiry.replace(tzinfo=dt.UTC))
            self._kept_token = token

    def _transport(self) -> httplib2.Http:
        transport = httplib2.Http(
            ca_certs=self.settings.tls_ca_file or None, timeout=self.env.timeout
        )
        # 308 is "resume incomplete" in the upload protocol, not a redirect to follow
        transport.redirect_codes = transport.redirect_codes - {308}
        return transport

    def _service(self) -> Any:
        from googleapiclient.discovery import build

        return build(
            "youtube",
            "v3",
            http=self.http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": self.settings.api_base},
        )


class TokenEndpointError(google.auth.exceptions.TransportError):
    """A request to Google's token endpoint (`token_uri`) that failed on the way."""

    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__(f"{url}: {type(cause).__name__}: {cause}")
        self.url, self.cause = url, cause


class _TokenRequest(google_auth_httplib2.Request):
    """google-auth's requests for access tokens: a failure names the address it tried."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        try:
            return super().__call__(url, method, body, headers, timeout, **kwargs)
        except google.auth.exceptions.TransportError as exc:  # httplib2's own errors
            raise TokenEndpointError(url, exc.args[0] if exc.args else exc) from exc
        except OSError as exc:  # refused, TLS, timeout: httplib2 lets these through
            raise TokenEndpointError(url, exc) from exc


class _AuthorizedHttp(google_auth_httplib2.AuthorizedHttp):
    """The authorised transport; one refresh when YouTube refuses the access token."""

    def __init__(self, credentials: Credentials, transport: httplib2.Http) -> None:
        super().__init__(credentials, http=transport, max_refresh_attempts=1)
        self._request = _TokenRequest(transport)  # what google-auth refreshes tokens with


class _SessionWatch:
    """The authorised transport, reporting the session URI of a resumable upload at once.

    googleapiclient starts the session and sends the first chunk in one `next_chunk`;
    the URI must reach the step log before that chunk goes out.
    """

    def __init__(self, http: _AuthorizedHttp, on_session: Any) -> None:
        self.http = http
        self.on_session = on_session

    def request(self, uri: str, method: str = "GET", **kwargs: Any) -> tuple[Any, bytes]:
        response, content = self.http.request(uri, method, **kwargs)
        if method == "POST" and response.status == 200 and "location" in response:
            self.on_session(response["location"])
        return response, content


def classify(
    exc: BaseException, action: str, *, may_have_acted: bool, now: dt.datetime
) -> PublishError:
    """The one place where a YouTube failure becomes a PublishError kind.

    `may_have_acted`: the request could have changed something on YouTube (a write, or
    the last chunk of an upload), so a lost answer is "unknown", not "retryable".
    """
    from googleapiclient.errors import HttpError

    if isinstance(exc, PublishError):
        return exc
    if isinstance(exc, HttpError):
        return _http_error(exc, action, may_have_acted, now)
    if isinstance(exc, google.auth.exceptions.RefreshError):
        return _refresh_error(exc)
    if isinstance(exc, TokenEndpointError):
        return _token_endpoint_error(exc, action)
    return _transport_error(exc, action, may_have_acted)


def _http_error(exc: Any, action: str, may_have_acted: bool, now: dt.datetime) -> PublishError:
    status, reason = exc.status_code, _reason(exc)
    message = f"{action}: {exc.reason or reason or 'HTTP ' + str(status)}"

    def error(kind: Any, text: str = message, retry_after: float | None = None) -> PublishError:
        return PublishError(
            kind,
            text,
            platform=PLATFORM,
            http_status=status,
            platform_code=reason or None,
            retry_after=retry_after,
        )

    if status == 401:
        return error("auth", f"{message}; {REAUTH}")
    if reason in DAILY_LIMIT_REASONS:
        return error(
            "retryable",
            f"{message}; the daily quota resets at midnight Pacific time",
            _until_quota_reset(now),
        )
    if status == 429 or reason in RATE_LIMIT_REASONS:
        return error("retryable", retry_after=_retry_after(exc))
    if status == 403 and reason == "forbidden" and action == "thumbnails.set":
        return error("permanent", f"{message}; custom thumbnails need a verified channel")
    if status == 403 and (reason in AUTH_REASONS or not reason):
        return error("auth", f"{message}; {REAUTH} with the channel owner's account")
    if status >= 500:
        return error("unknown" if may_have_acted else "retryable")
    return error("permanent")


def _refresh_error(exc: Any) -> PublishError:
    details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    code = details.get("error") or "refresh failed"
    if code == "invalid_client":
        return PublishError(
            "auth",
            "Google refused the OAuth client (invalid_client): check the client id and secret",
            platform=PLATFORM,
            platform_code=code,
        )
    if getattr(exc, "retryable", False):
        return PublishError(
            "retryable",
            f"Google's token endpoint is unavailable ({code})",
            platform=PLATFORM,
            platform_code=code,
        )
    return PublishError(
        "auth",
        f"Google refused the refresh token ({code}): it was revoked or has expired; {REAUTH} "
        "again to sign in to Google anew",
        platform=PLATFORM,
        platform_code=code,
    )


def _token_endpoint_error(exc: TokenEndpointError, action: str) -> PublishError:
    """The token request failed on the way: the API call itself never went out."""
    if isinstance(exc.cause, ssl.SSLError):
        why = (
            f"its TLS certificate is not trusted: set tls_ca_file in {SETTINGS_FILE} to the CA "
            "bundle that signs it (a proxy that re-signs traffic, a test server)"
        )
    else:
        why = (
            f"{type(exc.cause).__name__}: check token_uri in {SETTINGS_FILE} (Google's is "
            f"{GOOGLE_TOKEN_URI}) and the network"
        )
    return PublishError(
        "retryable",
        f"{action}: Google's token endpoint could not be reached at {exc.url} ({why})",
        platform=PLATFORM,
    )


def _transport_error(exc: BaseException, action: str, may_have_acted: bool) -> PublishError:
    never_sent = (ConnectionRefusedError, socket.gaierror, httplib2.ServerNotFoundError)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PublishError(
            "retryable",
            f"{action}: the server's TLS certificate is not trusted (set tls_ca_file in "
            "channels/youtube.yaml if a proxy re-signs traffic)",
            platform=PLATFORM,
        )
    if isinstance(exc, never_sent):
        return PublishError(
            "retryable", f"{action}: could not connect ({type(exc).__name__})", platform=PLATFORM
        )
    lost = (TimeoutError, ConnectionError, http.client.HTTPException, OSError)
    if isinstance(exc, lost):
        kind = "unknown" if may_have_acted else "retryable"
        what = "timed out" if isinstance(exc, TimeoutError) else "lost the connection"
        return PublishError(kind, f"{action}: {what} before YouTube answered", platform=PLATFORM)
    return PublishError(
        "unknown", f"{action}: unexpected {type(exc).__name__}: {exc}", platform=PLATFORM
    )


def _reason(exc: Any) -> str:
    details = exc.error_details if isinstance(exc.error_details, list) else []
    for detail in details:
        if isinstance(detail, dict) and detail.get("reason"):
            return str(detail["reason"])
    return ""


def _retry_after(exc: Any) -> float | None:
    value = exc.resp.get("retry-after") if exc.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _until_quota_reset(now: dt.datetime) -> float:
    """Seconds until the next midnight in America/Los_Angeles (DST-aware)."""
    local = now.astimezone(QUOTA_RESET_ZONE)
    midnight = dt.datetime.combine(
        local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=QUOTA_RESET_ZONE
    )
    return (midnight.astimezone(dt.UTC) - now.astimezone(dt.UTC)).total_seconds()


def _scheduled(payload: dict[str, Any]) -> dict[str, Any]:
    """YouTube schedules only private videos: a publishAt forces privacyStatus private."""
    status = payload.get("status") or {}
    if not status.get("publishAt"):
        return payload
    return {**payload, "status": {**status, "privacyStatus": "private"}}


def _query(call: Call, steps: StepLog | None = None) -> dict[str, str]:
    """The endpoint's query; "$step.field" references filled from the step log."""
    query = dict(parse_qsl(urlsplit(call.endpoint).query))
    if steps is None:
        return query
    names = {name for value in query.values() for name in _STEP_REFERENCE.findall(value)}
    return resolve(query, {name: steps.get(name) or {} for name in names})


def _rfc3339(snippet: Mapping[str, Any]) -> dt.datetime | None:
    """A snippet's `publishedAt` ("2026-12-01T01:00:00Z"), or None."""
    try:
        return dt.datetime.fromisoformat(str(snippet.get("publishedAt")).replace("Z", "+00:00"))
    except ValueError:
        return None


def _same_text(found: Mapping[str, Any], ours: Mapping[str, Any]) -> bool:
    """Same title and description (line endings and outer spaces aside)."""

    def norm(value: Any) -> str:
        return str(value or "").replace("\r\n", "\n").strip()

    return norm(found.get("title")) == norm(ours.get("title")) and norm(
        found.get("description")
    ) == norm(ours.get("description"))
