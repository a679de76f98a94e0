"""A fake Zalo OA Open API and OAuth v4 server, strict where Zalo is (CHANNELS.md 1 and 6).

- API calls need the header `access_token`: missing or unknown -> -216, expired -> -220.
- Every logical error is HTTP 200 with `{"error": <negative>, "message"}`; success is
  `{"error": 0, "message": "Success", "data": {...}}`.
- `article/create` checks the required fields, the cover and the body blocks, and the
  limits in characters (title 150, author 50, description 300) -> -201 naming the field;
  it answers `{"token"}`. Zalo fetches the cover and every image block from its address:
  one that does not answer an image is refused (-201; the fake's wording). `article/update`
  takes the same fields and the article's `id`, and answers a new token.
  `article/verify` answers -214 `processing_checks` times per token, then `{"id"}`.
  `article/getslice` and `getdetail` list what was created, dated by `now` (an article
  exists once created, whether or not anyone verified it). A broadcast takes only the id
  of an article whose latest token was verified. `rate_limit(n)` answers -32 beyond n
  calls a minute.
- OAuth (`/v4/oa/access_token`, form-encoded, header `secret_key`): refresh tokens are single
  use and rotate; a spent or unknown one gets the OAuth error shape `{"error": -14xxx,
  "error_name", "error_reason", "error_description"}`; `expires_in` is a string. The
  consent page (`/v4/oa/permission`) redirects to the callback with a code bound to the
  PKCE S256 challenge. The -14xxx values are the fake's choice (Zalo's list is unpublished).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from .base import FakePlatform, Request, Response

APP_ID = "3141592653589793"
APP_SECRET = "fake-zalo-app-secret-9f8e7d6c"
FIRST_REFRESH_TOKEN = "fake-zalo-refresh-initial-5a4b3c2d"
OA_ID = "579745863508352884"
OA_NAME = "BHXH tỉnh (thử nghiệm)"
TOKEN_PATH = "/v4/oa/access_token"
LIMITS = {"title": 150, "author": 50, "description": 300}
SHOW_HIDE = ("show", "hide")


@dataclass
class Article:
    token: str
    id: str
    fields: dict[str, Any]
    checks_left: int
    created: int = 0  # milliseconds since the epoch
    verified: bool = False  # verify answered the id for the latest token

    @property
    def link_view(self) -> str:
        return f"https://zalo.me/s/{OA_ID}/{self.id}"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.fields["type"],
            "title": self.fields["title"],
            "status": self.fields.get("status", "show"),
            "total_view": 0,
            "total_share": 0,
            "create_date": self.created,
            "update_date": self.created,
            "thumb": (self.fields.get("cover") or {}).get("photo_url", ""),
            "link_view": self.link_view,
        }


def ok(data: dict[str, Any]) -> Response:
    return Response(200, {"error": 0, "message": "Success", "data": data})


def fail(code: int, message: str) -> Response:
    return Response(200, {"error": code, "message": message})  # Zalo: HTTP 200 regardless


def oauth_fail(code: int, reason: str, description: str) -> Response:
    body = {
        "error": code,
        "error_name": "Invalid Parameter",
        "error_reason": reason,
        "error_description": description,
    }
    return Response(200, body)


class ZaloFake(FakePlatform):
    """One OA, one app. Read `articles`, `broadcasts` and `requests` after the calls."""

    def __init__(
        self,
        *,
        processing_checks: int = 0,
        expires_in: str = "90000",
        fetch_images: bool = True,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__()
        self.processing_checks = processing_checks
        self.expires_in = expires_in
        self.fetch_images = fetch_images
        self.now = now
        self.fetched: list[str] = []  # image addresses Zalo fetched
        self.redirect_uri: str | None = None  # the app's registered callback, when set
        self.articles: list[Article] = []
        self.broadcasts: list[dict[str, Any]] = []
        self.access_tokens: dict[str, bool] = {}  # token -> expired
        self.refresh_tokens: set[str] = {FIRST_REFRESH_TOKEN}  # unspent ones
        self.codes: dict[str, str] = {}  # authorization code -> PKCE challenge
        self.observers: list[Callable[[Request], None]] = []
        self.calls_per_minute: int | None = None
        self._recent: deque[float] = deque()
        self._serial = itertools.count(1)

    # -- test controls ----------------------------------------------------------------
    def expire_access_token(self) -> None:
        """Every access token issued so far now gets -220."""
        for token in self.access_tokens:
            self.access_tokens[token] = True

    def rate_limit(self, calls_per_minute: int) -> None:
        self.calls_per_minute = calls_per_minute

    def issue_tokens(self) -> tuple[str, str]:
        """A valid (access, refresh) pair, as if the app had been connected before."""
        with self.lock:
            return self._issue()

    def refresh_requests(self) -> list[Request]:
        return [r for r in self.requests_to(TOKEN_PATH) if b"grant_type=refresh_token" in r.body]

    def api_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/v2.0/")]

    def processed(self) -> list[Article]:
        """Articles whose latest token verify answered: the ones a broadcast may carry."""
        return [a for a in self.articles if a.verified]

    # -- routing --------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        for observer in self.observers:
            observer(request)
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._token(request)
        if request.path == "/v4/oa/permission" and request.method == "GET":
            return self._consent(request)
        handler = ROUTES.get((request.method, request.path))
        if handler is None:
            return Response(404, {"error": 404, "message": f"no such API: {request.path}"})
        return self._authorise(request) or self._throttle() or handler(self, request)

    def _authorise(self, request: Request) -> Response | None:
        token = request.headers.get("access_token")
        if not token or token not in self.access_tokens:
            return fail(-216, "Access token is invalid")
        if self.access_tokens[token]:
            return fail(-220, "Access token has expired or has been revoked")
        return None

    def _throttle(self) -> Response | None:
        if self.calls_per_minute is None:
            return None
        now = time.monotonic()
        while self._recent and now - self._recent[0] > 60:
            self._recent.popleft()
        if len(self._recent) >= self.calls_per_minute:
            return fail(-32, "The application has reached the limit of API calls per minute")
        self._recent.append(now)
        return None

    # -- articles ---------------------------------------------------------------------------
    def _create(self, request: Request) -> Response:
        article = _json_object(request)
        if article is None:
            return fail(-201, "Request body must be a JSON object")
        problem = _article_problem(article) or self._unreachable_image(article)
        if problem:
            return fail(-201, problem)
        serial = next(self._serial)
        token = f"create-{serial}-{secrets.token_hex(4)}"
        article_id = f"{9_000_000_000 + serial}"
        created = int(self.now().timestamp() * 1000)
        self.articles.append(Article(token, article_id, article, self.processing_checks, created))
        return ok({"token": token})

    def _update(self, request: Request) -> Response:
        fields = _json_object(request)
        if fields is None:
            return fail(-201, "Request body must be a JSON object")
        article = next((a for a in self.articles if a.id == str(fields.pop("id", ""))), None)
        if article is None:
            return fail(-201, "Parameter 'id' is invalid")
        problem = _article_problem(fields) or self._unreachable_image(fields)
        if problem:
            return fail(-201, problem)
        article.fields = fields
        article.token = f"update-{next(self._serial)}-{secrets.token_hex(4)}"
        article.checks_left, article.verified = self.processing_checks, False
        return ok({"token": article.token})

    def _verify(self, request: Request) -> Response:
        body = _json_object(request) or {}
        article = next((a for a in self.articles if a.token == body.get("token")), None)
        if article is None:
            return fail(-201, "Parameter 'token' is invalid")
        if article.checks_left > 0:
            article.checks_left -= 1
            return fail(-214, "Article is being processed")
        article.verified = True
        return ok({"id": article.id})

    def _unreachable_image(self, article: dict[str, Any]) -> str | None:
        """Zalo shows the cover and image blocks from their addresses: fetch each."""
        if not self.fetch_images:
            return None
        cover = article.get("cover") or {}
        urls = [("cover.photo_url", cover.get("photo_url"))] if cover.get("photo_url") else []
        urls += [
            (f"body[{i}].url", block["url"])
            for i, block in enumerate(article.get("body") or [])
            if isinstance(block, dict) and block.get("type") == "image"
        ]
        for name, url in urls:
            self.fetched.append(str(url))
            try:
                answer = requests.get(str(url), timeout=30)
            except requests.RequestException:
                return f"Parameter '{name}': the image cannot be fetched from {url}"
            kind = answer.headers.get("Content-Type", "")
            if answer.status_code != 200 or not kind.startswith("image/"):
                status = f"{answer.status_code} {kind}".strip()
                return f"Parameter '{name}': {url} answered {status}, not an image"
        return None

    def _getslice(self, request: Request) -> Response:
        try:
            offset, limit = int(_param(request, "offset")), int(_param(request, "limit"))
        except ValueError:
            return fail(-201, "Parameters 'offset' and 'limit' must be numbers")
        kind = _param(request, "type")
        if kind not in ("normal", "video") or offset < 0 or not 0 < limit <= 50:
            return fail(-201, "Parameter 'type', 'offset' or 'limit' is invalid")
        matching = [a for a in reversed(self.articles) if a.fields["type"] == kind]
        medias = [a.summary() for a in matching[offset : offset + limit]]
        return ok({"medias": medias, "total": len(matching)})

    def _getdetail(self, request: Request) -> Response:
        article = next((a for a in self.articles if a.id == _param(request, "id")), None)
        if article is None:
            return fail(-201, "Parameter 'id' is invalid")
        return ok({**article.fields, **article.summary()})

    # -- messages and OA ------------------------------------------------------------------
    def _broadcast(self, request: Request) -> Response:
        message = _json_object(request)
        if message is None:
            return fail(-201, "Request body must be a JSON object")
        problem = _broadcast_problem(message, {a.id for a in self.processed()})
        if problem:
            return fail(-201, problem)
        self.broadcasts.append(message)
        return ok({"message_id": secrets.token_hex(16)})

    def _getoa(self, request: Request) -> Response:
        del request
        return ok({"oa_id": OA_ID, "name": OA_NAME, "description": "Fake OA", "is_verified": True})

    def _upload_image(self, request: Request) -> Response:
        _, files = request.form()
        upload = files.get("file")
        if upload is None:
            return fail(-201, "Parameter 'file' is required")
        if not upload[1].startswith((b"\xff\xd8", b"\x89PNG")):
            return fail(-201, "file must be a JPG or PNG image")
        if len(upload[1]) > 1_000_000:
            return fail(-210, "file exceeds 1 MB")
        return ok({"attachment_id": secrets.token_hex(12)})

    # -- OAuth v4 ---------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return oauth_fail(-14001, "Invalid request", "body must be form-encoded")
        if request.headers.get("secret_key") != APP_SECRET:
            return oauth_fail(-14002, "Invalid secret key", "secret_key header is wrong")
        form, _ = request.form()
        if form.get("app_id") != APP_ID:
            return oauth_fail(-14003, "Invalid app id", "app_id is wrong")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            return self._refresh(form.get("refresh_token", ""))
        if grant == "authorization_code":
            return self._code(form.get("code", ""), form.get("code_verifier", ""))
        return oauth_fail(-14004, "Invalid grant type", "grant_type is not supported")

    def _refresh(self, refresh_token: str) -> Response:
        if refresh_token not in self.refresh_tokens:
            return oauth_fail(
                -14014, "Invalid refresh token", "refresh token is invalid or already used"
            )
        self.refresh_tokens.discard(refresh_token)  # single use
        return self._tokens_answer()

    def _code(self, code: str, verifier: str) -> Response:
        challenge = self.codes.pop(code, None)  # single use
        if challenge is None:
            return oauth_fail(-14019, "Invalid code", "code is invalid or expired")
        if _challenge(verifier) != challenge:
            return oauth_fail(-14020, "Invalid code verifier", "code_verifier does not match")
        return self._tokens_answer()

    def _tokens_answer(self) -> Response:
        access, refresh = self._issue()
        body = {"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in}
        return Response(200, body)

    def _issue(self) -> tuple[str, str]:
        serial = next(self._serial)
        access = f"fake-zalo-access-{serial}-{secrets.token_hex(8)}"
        refresh = f"fake-zalo-refresh-{serial}-{secrets.token_hex(8)}"
        self.access_tokens[access] = False
        self.refresh_tokens.add(refresh)
        return access, refresh

    def _consent(self, request: Request) -> Response:
        """The admin approves at once: redirect to the callback with a fresh code."""
        wanted = ("app_id", "redirect_uri", "code_challenge", "state")
        values = {name: _param(request, name) for name in wanted}
        if values["app_id"] != APP_ID or not all(values.values()):
            return Response(400, b"app_id, redirect_uri, code_challenge and state are required")
        if self.redirect_uri and values["redirect_uri"] != self.redirect_uri:
            return Response(400, b"redirect_uri is not registered for this app")
        code = f"code-{secrets.token_hex(8)}"
        self.codes[code] = values["code_challenge"]
        query = urlencode({"code": code, "oa_id": OA_ID, "state": values["state"]})
        return Response(302, b"", {"Location": f"{values['redirect_uri']}?{query}"})


ROUTES: dict[tuple[str, str], Callable[[ZaloFake, Request], Response]] = {
    ("POST", "/v2.0/article/create"): ZaloFake._create,
    ("POST", "/v2.0/article/update"): ZaloFake._update,
    ("POST", "/v2.0/article/verify"): ZaloFake._verify,
    ("GET", "/v2.0/article/getslice"): ZaloFake._getslice,
    ("GET", "/v2.0/article/getdetail"): ZaloFake._getdetail,
    ("POST", "/v2.0/oa/message"): ZaloFake._broadcast,
    ("GET", "/v2.0/oa/getoa"): ZaloFake._getoa,
    ("POST", "/v2.0/oa/upload/image"): ZaloFake._upload_image,
}


# -- validation ---------------------------------------------------------------------------
def _article_problem(article: dict[str, Any]) -> str | None:
    """Why Zalo would reject this normal or video article (its first problem), or None."""
    kind = article.get("type")
    required = {
        "normal": ("title", "author", "cover", "description", "body"),
        "video": ("title", "description", "video_id", "avatar"),
    }.get(kind)
    if required is None:
        return "Parameter 'type' must be normal or video"
    missing = next((name for name in required if not article.get(name)), None)
    if missing:
        return f"Parameter '{missing}' is required"
    for name, limit in LIMITS.items():
        if len(str(article.get(name, ""))) > limit:  # characters, not bytes
            return f"Parameter '{name}' exceeds {limit} characters"
    for name in ("status", "comment"):
        if article.get(name, "show") not in SHOW_HIDE:
            return f"Parameter '{name}' must be show or hide"
    if kind == "video":
        return None
    return _cover_problem(article["cover"]) or _body_problem(article["body"])


def _cover_problem(cover: Any) -> str | None:
    if not isinstance(cover, dict):
        return "Parameter 'cover' must be an object"
    if cover.get("cover_type") == "photo":
        url = str(cover.get("photo_url") or "")
        if not url.startswith(("http://", "https://")):
            return "Parameter 'cover.photo_url' is required (a public URL)"
    elif cover.get("cover_type") == "video":
        if not cover.get("video_id"):
            return "Parameter 'cover.video_id' is required"
    else:
        return "Parameter 'cover.cover_type' must be photo or video"
    if cover.get("status", "show") not in SHOW_HIDE:
        return "Parameter 'cover.status' must be show or hide"
    return None


BLOCK_FIELDS = {"text": ("content",), "image": ("url",), "product": ("id",)}


def _body_problem(body: Any) -> str | None:
    if not isinstance(body, list) or not body:
        return "Parameter 'body' must be a non-empty list of blocks"
    for index, block in enumerate(body):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "video":
            if not (block.get("url") or block.get("video_id")):
                return f"Parameter 'body[{index}].url' or 'video_id' is required"
            continue
        if kind not in BLOCK_FIELDS:
            return f"Parameter 'body[{index}].type' is invalid"
        missing = next((name for name in BLOCK_FIELDS[kind] if not block.get(name)), None)
        if missing:
            return f"Parameter 'body[{index}].{missing}' is required"
    return None


def _broadcast_problem(message: dict[str, Any], article_ids: set[str]) -> str | None:
    target = (message.get("recipient") or {}).get("target")
    if not isinstance(target, dict):
        return "Parameter 'recipient.target' is required"
    attachment = (message.get("message") or {}).get("attachment") or {}
    payload = attachment.get("payload") or {}
    if attachment.get("type") != "template" or payload.get("template_type") != "media":
        return "Parameter 'message.attachment' must be a media template"
    elements = payload.get("elements")
    if not isinstance(elements, list) or not 0 < len(elements) <= 5:
        return "Parameter 'elements' must hold 1 to 5 articles"
    for element in elements:
        if element.get("media_type") != "article":
            return "Parameter 'elements.media_type' must be article"
        if str(element.get("attachment_id")) not in article_ids:
            return "Parameter 'attachment_id' is invalid: no such article"
    return None


def _json_object(request: Request) -> dict[str, Any] | None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        value = request.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _param(request: Request, name: str) -> str:
    return (request.query.get(name) or [""])[-1]


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
