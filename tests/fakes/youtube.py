"""A fake YouTube Data API v3 and Google OAuth token endpoint, served over TLS.

google-api-python-client keeps the https scheme of media-upload URLs even when the API
endpoint is overridden, so the whole fake (API, uploads, token endpoint) speaks TLS with
a self-signed certificate for 127.0.0.1 (`make_certificate`).

Reproduced contract (CHANNELS.md sections 3 and 6): Bearer tokens issued by the token
endpoint (401 otherwise; `invalid_grant` for a revoked refresh token); videos.list,
videos.update (every mutable snippet field replaced, title and categoryId required),
videos.insert as a resumable upload (POST -> 200 + Location; PUT chunks -> 308 + Range
until the last one -> 200 with the video; an empty PUT "bytes */N" reports progress;
chunks other than the last must be multiples of 256 KiB), thumbnails.set, channels.list
mine, playlistItems.list; field limits with Google's error shape; quota accounting with
403 quotaExceeded when the day's units are spent, and 403 rateLimitExceeded on demand.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .base import FakePlatform, Fault, Request, Response, _handler_for

CHUNK_UNIT = 256 * 1024
THUMBNAIL_LIMIT = 2_000_000
CATEGORIES = frozenset({"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27"})
MUTABLE_SNIPPET = ("title", "description", "tags", "categoryId", "defaultLanguage")
MUTABLE_SNIPPET += ("defaultAudioLanguage",)
READ_ONLY_SNIPPET = ("publishedAt", "channelId", "thumbnails", "channelTitle")
READ_ONLY_SNIPPET += ("liveBroadcastContent", "localized")
COSTS = {
    "videos.list": 1,
    "videos.update": 50,
    "videos.insert": 1600,  # older docs; newer ones: own bucket, 100 calls a day
    "thumbnails.set": 50,
    "channels.list": 1,
    "playlistItems.list": 1,
}
EXISTING_VIDEO = "Qm7pXr2LkVs"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for IP 127.0.0.1 and its key, as PEM files in `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fake-youtube.pem", folder / "fake-youtube.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def google_error(status: int, reason: str, message: str, domain: str = "youtube.video") -> Response:
    """Google's JSON error shape, as the Data API sends it."""
    error = {"message": message, "domain": domain, "reason": reason}
    return Response(status, {"error": {"code": status, "message": message, "errors": [error]}})


class DropConnection(Exception):
    """Raised by a route: the handler closes the line without answering."""


@dataclass
class Session:
    """A resumable upload: the metadata from the POST and the bytes received so far."""

    metadata: dict[str, Any]
    parts: list[str]
    size: int | None
    received: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    video_id: str | None = None


class FakeYouTube(FakePlatform):
    """YouTube as one channel sees it; start it, then point `api_base`/`token_uri` at it."""

    def __init__(
        self,
        cert_file: Path,
        key_file: Path,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        quota: int = 10_000,
        insert_cost: int = COSTS["videos.insert"],
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__()
        self.now = now
        self.cert_file, self.key_file = cert_file, key_file
        self.client = (client_id, client_secret)
        self.refresh_tokens = {refresh_token}
        self.access_tokens: set[str] = set()
        self.quota, self.quota_used = quota, 0
        self.costs = {**COSTS, "videos.insert": insert_cost}
        self.rate_limited = 0
        self.thumbnails_allowed = True
        self.channel: dict[str, Any] | None = {
            "id": "UCbhxhTinh0000000000000",
            "title": "BHXH tỉnh",
            "uploads": "UUbhxhTinh0000000000000",
        }
        self.videos: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, Session] = {}
        self.thumbnails: dict[str, tuple[bytes, str]] = {}
        self.media: dict[str, bytes] = {}
        self.interruptions: list[tuple[int, bool]] = []
        self.method_faults: list[tuple[str, Fault]] = []
        self._ids = itertools.count(1)
        self._add_existing_video()

    # -- test controls ------------------------------------------------------------
    def revoke(self, refresh_token: str) -> None:
        """The user revoked access: refreshing with this token gets invalid_grant."""
        self.refresh_tokens.discard(refresh_token)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (401 until refreshed)."""
        self.access_tokens.clear()

    def rate_limit(self, times: int = 1) -> None:
        """The next `times` API calls get 403 rateLimitExceeded."""
        self.rate_limited += times

    def exhaust_quota(self) -> None:
        self.quota_used = self.quota

    def interrupt_upload(self, after_chunks: int, *, stored: bool = False) -> None:
        """The line drops on the chunk that follows `after_chunks` stored ones: before that
        chunk is stored, or once it is (`stored`: for the last chunk, the video exists)."""
        self.interruptions.append((after_chunks, stored))

    def inject_on(self, method: str, fault: Fault) -> None:
        """`fault` replaces the answer to the next videos.list (GET) or videos.update (PUT)."""
        with self.lock:
            self.method_faults.append((method, fault))

    def uploaded_videos(self) -> list[dict[str, Any]]:
        return [v for v in self.videos.values() if v["id"] != EXISTING_VIDEO]

    # -- server -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"

    def start(self) -> FakeYouTube:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        server = _QuietServer(("127.0.0.1", 0), _tls_handler(self))
        # The handshake then happens in the request's thread, not in the accept loop.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for method, fault in self.method_faults:
                if request.method == method and request.path == "/youtube/v3/videos":
                    self.method_faults.remove((method, fault))
                    return fault
        return super()._take_fault(request)

    # -- routing ------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        if request.path == "/token":
            return self._token(request)
        denied = self._deny(request)
        if denied is not None:
            return denied
        return self._dispatch(request)

    def _dispatch(self, request: Request) -> Response:
        method, path = request.method, request.path
        if path == "/upload/youtube/v3/videos":
            upload_id = _one(request, "upload_id")
            if method == "PUT" and upload_id:
                return self._chunk(request, upload_id)
            if method == "POST":
                return self._charged(request, "videos.insert", self._start_upload)
        routes = {
            ("GET", "/youtube/v3/videos"): ("videos.list", self._videos_list),
            ("PUT", "/youtube/v3/videos"): ("videos.update", self._videos_update),
            ("POST", "/upload/youtube/v3/thumbnails/set"): ("thumbnails.set", self._thumbnail),
            ("GET", "/youtube/v3/channels"): ("channels.list", self._channels),
            ("GET", "/youtube/v3/playlistItems"): ("playlistItems.list", self._playlist_items),
        }
        if (method, path) not in routes:
            return google_error(404, "notFound", f"{method} {path} is not a YouTube method")
        name, handler = routes[(method, path)]
        return self._charged(request, name, handler)

    def _deny(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return google_error(401, "required", "Login Required.", "global")
        if header.removeprefix("Bearer ") not in self.access_tokens:
            return google_error(
                401,
                "authError",
                "Request had invalid authentication credentials.",
                "global",
            )
        if self.rate_limited and "upload_id" not in request.query:
            self.rate_limited -= 1
            return google_error(
                403, "rateLimitExceeded", "The request rate is too high.", "usageLimits"
            )
        return None

    def _charged(self, request: Request, name: str, handler: Any) -> Response:
        cost = self.costs[name]
        if self.quota_used + cost > self.quota:
            return google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
                "youtube.quota",
            )
        self.quota_used += cost
        return handler(request)

    # -- OAuth ---------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        form, _ = request.form()
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type"})
        if (form.get("client_id"), form.get("client_secret")) != self.client:
            return Response(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if form.get("refresh_token") not in self.refresh_tokens:
            return Response(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        token = f"ya29.fake-access-{next(self._ids)}"
        self.access_tokens.add(token)
        return Response(
            200,
            {
                "access_token": token,
                "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/youtube.upload",
                "token_type": "Bearer",
            },
        )

    # -- videos ----------------------------------------------------------------------
    def _videos_list(self, request: Request) -> Response:
        parts = _parts(request)
        if not parts:
            return google_error(400, "required", "Required parameter: part", "global")
        ids = [i for value in request.query.get("id", []) for i in value.split(",") if i]
        items = [_with_parts(self.videos[i], parts) for i in ids if i in self.videos]
        return Response(200, {"kind": "youtube#videoListResponse", "items": items})

    def _videos_update(self, request: Request) -> Response:
        parts, body = _parts(request), request.json() or {}
        video = self.videos.get(body.get("id", ""))
        if video is None:
            return google_error(404, "videoNotFound", "The video could not be found.")
        if "snippet" in parts:
            problem = _check_snippet(body.get("snippet"), required=True)
            if problem:
                return problem
            video["snippet"] = _replaced_snippet(video["snippet"], body["snippet"])
        if "status" in parts:
            problem = _check_status(body.get("status") or {})
            if problem:
                return problem
            video["status"] = {**video["status"], **body["status"]}
        return Response(200, _with_parts(video, parts))

    def _start_upload(self, request: Request) -> Response:
        if _one(request, "uploadType") != "resumable":
            return google_error(400, "badRequest", "Only resumable uploads are served here.")
        media_type = request.headers.get("x-upload-content-type", "")
        if not (media_type.startswith("video/") or media_type == "application/octet-stream"):
            return google_error(400, "invalidVideoMetadata", "The media type is not a video.")
        metadata = request.json() or {}
        problem = _check_snippet(metadata.get("snippet"), required=False) or _check_status(
            metadata.get("status") or {}
        )
        if problem:
            return problem
        length = request.headers.get("x-upload-content-length")
        upload_id = f"session-{next(self._ids)}"
        self.sessions[upload_id] = Session(
            metadata, _parts(request), int(length) if length else None
        )
        location = f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable"
        location += f"&part={','.join(_parts(request))}&upload_id={upload_id}"
        return Response(200, b"", {"Location": location, "Content-Type": "text/plain"})

    def _chunk(self, request: Request, upload_id: str) -> Response:
        session = self.sessions.get(upload_id)
        if session is None:
            return google_error(404, "notFound", "The upload session does not exist.", "global")
        match = re.fullmatch(
            r"bytes (\*|(\d+)-(\d+))/(\d+|\*)", request.headers.get("content-range", "")
        )
        if match is None:
            return google_error(400, "badContent", "Content-Range is missing or malformed.")
        if session.video_id is not None:
            return Response(200, _with_parts(self.videos[session.video_id], session.parts))
        if match.group(1) == "*":
            return _progress(session)
        return self._append(request, session, match)

    def _append(self, request: Request, session: Session, match: re.Match[str]) -> Response:
        first, last, total = int(match.group(2)), int(match.group(3)), match.group(4)
        expected = int(request.headers.get("content-length") or 0)
        if len(request.body) != expected or expected != last - first + 1:
            return google_error(400, "badContent", "The chunk is shorter than announced.")
        if first != len(session.received):
            return _progress(session)
        final = total != "*" and last + 1 == int(total)
        if not final and len(request.body) % CHUNK_UNIT:
            return google_error(400, "badContent", "Chunks must be multiples of 256 KiB.")
        cut = self._interruption(session)
        if cut is False:
            raise DropConnection
        session.received += request.body
        session.chunks += 1
        if final:
            video = self._create_video(session)
            response = Response(200, _with_parts(video, session.parts))
        else:
            response = _progress(session)
        if cut:
            raise DropConnection
        return response

    def _interruption(self, session: Session) -> bool | None:
        """None: no cut here; False: drop before storing the chunk; True: after."""
        for after, stored in self.interruptions:
            if after == session.chunks:
                self.interruptions.remove((after, stored))
                return stored
        return None

    def _create_video(self, session: Session) -> dict[str, Any]:
        assert self.channel is not None
        video_id = f"up{next(self._ids):09d}"
        snippet = _replaced_snippet(self._fresh_snippet(), session.metadata.get("snippet") or {})
        status = {"privacyStatus": "public", "uploadStatus": "uploaded"}
        status |= session.metadata.get("status") or {}
        video = {"kind": "youtube#video", "id": video_id, "snippet": snippet, "status": status}
        self.videos[video_id] = video
        self.media[video_id] = bytes(session.received)
        session.video_id = video_id
        return video

    def _fresh_snippet(self) -> dict[str, Any]:
        assert self.channel is not None
        return {
            "publishedAt": self.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channelId": self.channel["id"],
            "channelTitle": self.channel["title"],
            "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/x/default.jpg"}},
            "liveBroadcastContent": "none",
        }

    def _add_existing_video(self) -> None:
        snippet = self._fresh_snippet() | {
            "title": "Phóng sự BHXH tự nguyện (bản nháp)",
            "description": "Mô tả cũ.",
            "tags": ["cũ"],
            "categoryId": "22",
            "localized": {
                "title": "Phóng sự BHXH tự nguyện (bản nháp)",
                "description": "Mô tả cũ.",
            },
        }
        self.videos[EXISTING_VIDEO] = {
            "kind": "youtube#video",
            "id": EXISTING_VIDEO,
            "snippet": snippet,
            "status": {"privacyStatus": "public", "uploadStatus": "processed"},
        }

    # -- thumbnails, channels, playlists ---------------------------------------------
    def _thumbnail(self, request: Request) -> Response:
        video_id = _one(request, "videoId") or ""
        if video_id not in self.videos:
            return google_error(404, "videoNotFound", "The video could not be found.")
        if not self.thumbnails_allowed:
            return google_error(
                403,
                "forbidden",
                "The authenticated user doesnt have permissions to upload "
                "and set custom video thumbnails.",
            )
        media_type = request.headers.get("content-type", "")
        if media_type not in ("image/jpeg", "image/png") or not request.body:
            return google_error(400, "mediaBodyRequired", "A JPEG or PNG image is required.")
        if len(request.body) > THUMBNAIL_LIMIT:
            return google_error(400, "mediaTooLarge", "The thumbnail is larger than 2 MB.")
        self.thumbnails[video_id] = (request.body, media_type)
        url = f"https://i.ytimg.com/vi/{video_id}/maxresdefault.jpg"
        item = {"default": {"url": url, "width": 120, "height": 90}}
        return Response(200, {"kind": "youtube#thumbnailSetResponse", "items": [item]})

    def _channels(self, request: Request) -> Response:
        if _one(request, "mine") != "true":
            return google_error(400, "missingRequiredParameter", "Filter required.", "global")
        if self.channel is None:
            return Response(200, {"kind": "youtube#channelListResponse", "items": []})
        channel = {
            "kind": "youtube#channel",
            "id": self.channel["id"],
            "snippet": {"title": self.channel["title"]},
            "contentDetails": {"relatedPlaylists": {"uploads": self.channel["uploads"]}},
        }
        return Response(200, {"items": [_with_parts(channel, _parts(request))]})

    def _playlist_items(self, request: Request) -> Response:
        if self.channel is None or _one(request, "playlistId") != self.channel["uploads"]:
            return google_error(404, "playlistNotFound", "The playlist could not be found.")
        limit = int(_one(request, "maxResults") or 5)
        if not 0 <= limit <= 50:
            return google_error(400, "invalidParameter", "maxResults must be 0..50.", "global")
        newest_first = list(reversed(self.videos.values()))[:limit]
        return Response(200, {"items": [_playlist_item(v) for v in newest_first]})


def _playlist_item(video: dict[str, Any]) -> dict[str, Any]:
    snippet = video["snippet"]
    return {
        "kind": "youtube#playlistItem",
        "snippet": {
            "publishedAt": snippet.get("publishedAt"),
            "title": snippet.get("title", ""),
            "description": snippet.get("description", ""),
            "resourceId": {"kind": "youtube#video", "videoId": video["id"]},
        },
    }


def _check_snippet(snippet: Any, *, required: bool) -> Response | None:
    """Google's own checks on a snippet; `required`: update needs title and categoryId."""
    if not isinstance(snippet, dict):
        return google_error(400, "invalidVideoMetadata", "The snippet is missing.")
    title, description = snippet.get("title"), snippet.get("description", "")
    if (required and not title) or (title and (_angled(title) or len(title) > 100)):
        return google_error(400, "invalidTitle", "The request metadata specifies an invalid title.")
    if _angled(description) or len(description.encode("utf-8")) > 5000:
        return google_error(
            400, "invalidDescription", "The request metadata specifies an invalid description."
        )
    tags = snippet.get("tags") or []
    if len(",".join(f'"{t}"' if " " in t else t for t in tags)) > 500:
        return google_error(400, "invalidTags", "The request metadata specifies invalid tags.")
    category = snippet.get("categoryId")
    if (required and not category) or (category and category not in CATEGORIES):
        return google_error(
            400, "invalidCategoryId", "The snippet.categoryId property is missing or invalid."
        )
    return None


def _check_status(status: dict[str, Any]) -> Response | None:
    privacy = status.get("privacyStatus", "public")
    if privacy not in ("public", "unlisted", "private"):
        return google_error(400, "invalidVideoMetadata", "Unknown privacyStatus.")
    if status.get("publishAt") and privacy != "private":
        return google_error(
            400,
            "invalidPublishAt",
            "The request metadata specifies an invalid scheduled publishing time.",
        )
    return None


def _replaced_snippet(stored: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """Read-only fields stay; every mutable field takes the sent value or is cleared."""
    kept = {k: v for k, v in stored.items() if k in READ_ONLY_SNIPPET}
    new = {k: sent[k] for k in MUTABLE_SNIPPET if k in sent}
    if "title" in new:
        kept["localized"] = {"title": new["title"], "description": new.get("description", "")}
    return kept | new


def _progress(session: Session) -> Response:
    headers = {"Content-Type": "text/plain"}
    if session.received:
        headers["Range"] = f"bytes=0-{len(session.received) - 1}"
    return Response(308, b"", headers)


def _with_parts(resource: dict[str, Any], parts: list[str]) -> dict[str, Any]:
    keep = {"kind", "id", *parts}
    return {k: v for k, v in resource.items() if k in keep}


def _parts(request: Request) -> list[str]:
    return [p for value in request.query.get("part", []) for p in value.split(",") if p]


def _one(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1] if values else None


def _angled(text: Any) -> bool:
    return isinstance(text, str) and ("<" in text or ">" in text)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped and timed-out lines are the point of several tests


def _tls_handler(fake: FakeYouTube) -> type:
    base = _handler_for(fake)

    class Handler(base):  # type: ignore[misc, valid-type]
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def _serve(self) -> None:
            try:
                base._serve(self)
            except DropConnection:
                self.close_connection = True
                self.connection.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler
