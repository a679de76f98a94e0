"""The portal's live mode: the WordPress REST API (wp/v2), signed in with an application password.

API reference: developer.wordpress.org/rest-api/reference/ (facts in CHANNELS.md section 5).
- Routes live under `{wordpress_url}/wp-json/...`; with pretty permalinks off the same routes
  answer at `{wordpress_url}/?rest_route=...`. The client tries the first and switches to the
  second, once and for good, when the first answers 404 (`rest_no_route` or a plain HTML page).
- Media: POST /wp/v2/media with the raw bytes, a Content-Type and a Content-Disposition
  filename (ASCII), then POST /wp/v2/media/<id> with the title and alt text.
- Posts: POST /wp/v2/posts (JSON); `publish` with a `date_gmt` >= 60 s ahead is stored `future`.
- Auth: HTTP Basic `username:application password`; WordPress ignores the password's spaces.
  It works over HTTPS only (unless the site is a `local` environment), and many servers drop
  the Authorization header, after which every request is anonymous (401).
- WordPress core has no rate limiting; hosts and firewalls may answer 429 or HTML pages.
No call is retried here: the runner retries what `map_error` calls retryable.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import mimetypes
import re
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.exceptions import SSLError as TLSError

from publisher.adapters.base import Call, Post
from publisher.publishing.errors import FailureKind, PublishError
from publisher.publishing.model import ClientEnv, StepLog
from publisher.render.text import slugify, strip_diacritics

if TYPE_CHECKING:
    from publisher.adapters.portal import PortalSettings

PLATFORM = "portal"
LOOKUP_STATUSES = "publish,future,draft,pending,private"
MEDIA_FIELDS = ("title", "alt_text", "caption", "description")
POST_FIELDS = ("id", "link", "status", "slug")
NEEDED_CAPABILITIES = ("publish_posts", "upload_files")
AUTH_HINT = (
    "check the username and application password (WordPress: Users > Profile > Application "
    "Passwords), that the site is served over HTTPS, and that the web server passes the "
    "Authorization header to WordPress"
)
# WordPress answers these with a 5xx although it refused the upload before storing anything.
_REJECTED_5XX = ("rest_upload_", "db_insert_error")


def create_client(settings: PortalSettings, env: ClientEnv) -> WordPressClient:
    """A client for the WordPress site of `settings`, signed in with `env.secrets`."""
    if not settings.wordpress_url:
        raise PublishError(
            "permanent", "channels/portal.yaml: set wordpress_url for live mode", platform=PLATFORM
        )
    transport = settings.transport_problem()
    if transport is not None and transport[0] == "error":
        raise PublishError("permanent", f"channels/portal.yaml: {transport[1]}", platform=PLATFORM)
    missing = [
        variable
        for field, variable in settings.credentials.model_dump().items()
        if not env.secrets.get(field)
    ]
    if missing:
        raise PublishError(
            "auth", f"set {' and '.join(missing)} (in the environment or .env)", platform=PLATFORM
        )
    return WordPressClient(
        settings.wordpress_url, env.secrets["username"], env.secrets["app_password"], env.timeout
    )


def check_credentials(settings: PortalSettings, env: ClientEnv) -> str:
    """Prove the credentials work: "WordPress user <name> on <site>"."""
    client = create_client(settings, env)
    me = client.me()
    name = me.get("name") or me.get("slug")
    capabilities = me.get("capabilities")
    lacking = [c for c in NEEDED_CAPABILITIES if not (capabilities or {}).get(c)]
    if isinstance(capabilities, dict) and lacking:
        raise PublishError(
            "auth",
            f"the WordPress user lacks {', '.join(lacking)}: give it the Author or Editor role",
            platform=PLATFORM,
        )
    return f"WordPress user {name} on {client.site}"


class WordPressClient:
    """Performs the portal's WordPress calls; see the module docstring for the protocol."""

    platform = PLATFORM

    def __init__(self, site: str, username: str, app_password: str, timeout: float = 30.0) -> None:
        self.site = site.rstrip("/")
        self.timeout = timeout
        self.pretty_routes = True  # False once the site showed pretty permalinks are off
        self.session = requests.Session()
        # WordPress strips every non-alphanumeric character of an application password.
        self.session.auth = (username, re.sub(r"[^A-Za-z0-9]", "", app_password))
        self.session.headers.update({"Accept": "application/json", "User-Agent": "publisher"})

    # -- PlatformClient ----------------------------------------------------------------
    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        route = _route(call.endpoint)
        if call.files:
            return self._upload(call, route, payload, steps)
        marked = {**payload, "content": with_marker(str(payload.get("content", "")), steps.marker)}
        answer = self._request(call.method, route, creates=True, json=marked)
        return {field: answer.get(field) for field in POST_FIELDS}

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        answer = results[post.calls[-1].step]
        return str(answer["id"]), answer.get("link")

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        """The post this delivery made, in any status but trash, or None.

        Every post carries the delivery's marker in an HTML comment (invisible on the
        page, kept by WordPress's sanitiser); the lookup searches for it and reads each
        hit's raw content back, so a post with the same title or slug made by anyone else
        (last year's notice, another item's article) is never taken for ours.
        """
        call = post.calls[-1]
        if call.files:
            return None  # media steps need no lookup: a lost upload is only re-uploaded
        params = {
            "search": steps.marker,
            "status": LOOKUP_STATUSES,
            "context": "edit",
            "per_page": 10,
        }
        found = self._request("GET", _route(call.endpoint), creates=False, params=params)
        ours = [
            entry
            for entry in (found if isinstance(found, list) else [])
            if isinstance(entry, dict) and marker_comment(steps.marker) in _raw_content(entry)
        ]
        if not ours:
            return None
        first = min(ours, key=lambda entry: entry.get("id") or 0)  # a second copy is not ours
        return {field: first.get(field) for field in POST_FIELDS}

    def host(self, path: Path) -> dict[str, Any]:
        """Upload a file another channel refers to by address (a Zalo cover) to the media
        library; its {"url"} is the address WordPress serves it at. A lost answer only
        costs an unused copy, so it is retried, never left unknown."""
        try:
            uploaded = self._upload_file("/wp/v2/media", path)
        except PublishError as exc:
            if exc.kind != "unknown":
                raise
            raise PublishError(
                "retryable",
                f"uploading {path.name} for another channel: {exc.message} (it is uploaded "
                "again; an unused copy at worst)",
                platform=PLATFORM,
                http_status=exc.http_status,
                platform_code=exc.platform_code,
            ) from None
        return {"url": uploaded["source_url"], "id": uploaded["id"]}

    def me(self) -> dict[str, Any]:
        """The signed-in user, with its capabilities (GET /wp/v2/users/me?context=edit)."""
        return self._request("GET", "/wp/v2/users/me", creates=False, params={"context": "edit"})

    # -- media ---------------------------------------------------------------------------
    def _upload(
        self, call: Call, route: str, payload: dict[str, Any], steps: StepLog
    ) -> dict[str, Any]:
        """Upload once (recorded as "<step>.upload"), then set the title and alt text."""
        uploaded = steps.get(f"{call.step}.upload")
        if uploaded is None:
            uploaded = self._upload_file(route, Path(call.files["file"]))
            steps.record(f"{call.step}.upload", uploaded)
        meta = {key: payload[key] for key in MEDIA_FIELDS if key in payload}
        if meta:  # an update of an existing attachment: safe to repeat
            self._request("POST", f"{route}/{uploaded['id']}", creates=False, json=meta)
        return uploaded

    def _upload_file(self, route: str, path: Path) -> dict[str, Any]:
        content_type = sniff_content_type(path)
        filename = ascii_filename(path.name, content_type)
        headers = {
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
        with path.open("rb") as body:
            answer = self._request("POST", route, creates=True, data=body, headers=headers)
        return {key: answer.get(key) for key in ("id", "source_url", "link")}

    # -- transport -----------------------------------------------------------------------
    def _request(self, method: str, route: str, *, creates: bool, **kwargs: Any) -> Any:
        """Send one request; on a first 404 of the pretty route, resend it as ?rest_route."""
        response = self._send(method, route, creates, kwargs)
        if self.pretty_routes and _no_route(response):
            self.pretty_routes = False  # a 404 for the route means nothing was processed
            if hasattr(kwargs.get("data"), "seek"):
                kwargs["data"].seek(0)
            response = self._send(method, route, creates, kwargs)
        answer = _json(response)
        if response.status_code >= 300 or answer is None or (creates and not _has_id(answer)):
            raise map_error(response, creates=creates)
        return answer

    def _send(
        self, method: str, route: str, creates: bool, kwargs: dict[str, Any]
    ) -> requests.Response:
        url, params = self._url(route, kwargs.get("params"))
        try:
            return self.session.request(
                method,
                url,
                params=params,
                json=kwargs.get("json"),
                data=kwargs.get("data"),
                headers=kwargs.get("headers"),
                timeout=(self.timeout, self.timeout),
                allow_redirects=False,  # a redirect would turn a POST into a GET
            )
        except requests.RequestException as exc:
            raise map_error(exc, creates=creates) from None

    def _url(self, route: str, params: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        if self.pretty_routes:
            return f"{self.site}/wp-json{route}", dict(params or {})
        return f"{self.site}/", {"rest_route": route, **(params or {})}


def map_error(
    failure: requests.Response | requests.RequestException, *, creates: bool
) -> PublishError:
    """The one place where WordPress answers and transport failures become PublishErrors.

    `creates`: the request may have created something (a post, an attachment), so a failure
    after sending is `unknown`; other requests (lookups, updates) are safe to repeat.
    """
    if isinstance(failure, requests.RequestException):
        sent = not _never_sent(failure)
        kind: FailureKind = "unknown" if sent and creates else "retryable"
        return PublishError(kind, _transport_text(failure, sent), platform=PLATFORM)
    status = failure.status_code
    code, message = _wp_error(failure)

    def error(kind: FailureKind, text: str, retry_after: float | None = None) -> PublishError:
        return PublishError(
            kind,
            text,
            platform=PLATFORM,
            http_status=status,
            platform_code=code,
            retry_after=retry_after,
        )

    if 300 <= status < 400:
        where = failure.headers.get("Location", "?")
        return error("permanent", f"the site redirects to {where}: set wordpress_url to it")
    if status < 300:
        kind = "unknown" if creates else "permanent"
        return error(kind, f"WordPress answered HTTP {status} without the expected JSON: {message}")
    if status == 401 or code in ("incorrect_password", "invalid_username"):
        return error("auth", f"WordPress refused the credentials ({message}): {AUTH_HINT}")
    if status == 501 and code == "application_passwords_disabled":
        return error("auth", f"{message}: enable application passwords (they need HTTPS)")
    if status == 403 and code and code.startswith(("rest_cannot", "rest_forbidden")):
        return error(
            "auth",
            f"the WordPress user lacks a capability ({message}): give it the Author or Editor role",
        )
    if status == 429:
        return error("retryable", f"rate limited by the site: {message}", _retry_after(failure))
    if status == 408:  # the server gave up waiting for the request: nothing was processed
        return error("retryable", f"the site timed out reading the request: {message}")
    if status >= 500 and not (code and code.startswith(_REJECTED_5XX)):
        kind = "unknown" if creates else "retryable"
        return error(kind, f"server error after the request was sent: {message}")
    if code == "rest_no_route":
        message += " (is the REST API disabled by a security plugin?)"
    return error("permanent", message)


# -- helpers -----------------------------------------------------------------------------
def marker_comment(marker: str) -> str:
    return f"<!-- {marker} -->"


def with_marker(content: str, marker: str) -> str:
    """The post's content with the delivery's marker appended as an HTML comment."""
    return f"{content}\n{marker_comment(marker)}"


def _raw_content(entry: Mapping[str, Any]) -> str:
    """A post's stored content, as `context=edit` gives it (`content.raw`)."""
    content = entry.get("content")
    raw = content.get("raw") if isinstance(content, dict) else content
    return raw if isinstance(raw, str) else ""


def sniff_content_type(path: Path) -> str:
    """The file's type from its first bytes (JPEG, PNG), else from its name."""
    with path.open("rb") as file:
        head = file.read(8)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def ascii_filename(name: str, content_type: str) -> str:
    """'Ảnh bìa.JPG' -> 'anh-bia.jpg'. Header values must be ASCII, and WordPress refuses a
    file whose extension does not match its type, so a missing or wrong one is replaced."""
    path = PurePath(name)
    suffix = path.suffix.lower()
    if mimetypes.guess_type(f"x{suffix}")[0] != content_type:
        suffix = mimetypes.guess_extension(content_type) or suffix
    stem = slugify(path.stem, max_length=len(path.stem) + 1)[:120].rstrip("-")
    return stem + re.sub(r"[^a-z0-9.]", "", strip_diacritics(suffix))


def _route(endpoint: str) -> str:
    """'/wp-json/wp/v2/posts' -> '/wp/v2/posts'."""
    return "/" + endpoint.removeprefix("/").removeprefix("wp-json").lstrip("/")


def _no_route(response: requests.Response) -> bool:
    """A pretty-permalink 404: WordPress's rest_no_route, or the web server's own HTML page."""
    if response.status_code != 404:
        return False
    answer = _json(response)
    return not isinstance(answer, dict) or answer.get("code") == "rest_no_route"


def _json(response: requests.Response) -> Any:
    """The body as JSON, even after PHP notices printed before it; None if it is not JSON."""
    text = response.content.decode("utf-8", "replace")
    starts = [0, *sorted(i for i in (text.find("{"), text.find("[")) if i > 0)]
    for start in starts:
        try:
            return json.loads(text[start:])
        except ValueError:
            continue
    return None


def _has_id(answer: Any) -> bool:
    return isinstance(answer, dict) and isinstance(answer.get("id"), int)


def _wp_error(response: requests.Response) -> tuple[str | None, str]:
    """(code, message) of a WordPress error body, naming invalid params; or a page's text."""
    answer = _json(response)
    if isinstance(answer, dict) and "code" in answer:
        message = re.sub(r"<[^>]+>", "", str(answer.get("message") or answer["code"])).strip()
        data = answer.get("data")
        params = data.get("params") if isinstance(data, dict) else None
        if isinstance(params, dict) and params:
            message += " (" + "; ".join(f"{k}: {v}" for k, v in params.items()) + ")"
        return str(answer["code"]), message
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)).strip()
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    return None, f"{response.reason or 'no reason'} ({kind}: {text[:160] or 'empty body'})"


def _never_sent(exc: requests.RequestException) -> bool:
    """Refused, DNS failure, connect timeout, TLS handshake: nothing reached WordPress."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError | TLSError)


def _transport_text(exc: requests.RequestException, sent: bool) -> str:
    host = exc.request.url.split("?")[0] if exc.request is not None and exc.request.url else "?"
    if not sent:
        return f"could not connect to {host} ({type(exc).__name__}); nothing was sent"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer from {host} in time after the request was sent (read timeout)"
    return f"the connection to {host} broke after the request was sent ({type(exc).__name__})"


def _retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds, given as a number or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
