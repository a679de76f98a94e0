"""A Facebook Page through the Graph API, over `requests`.

Calls: POST `/{version}/{page}/feed` (text, link, or `attached_media[i]` of unpublished
photos) and POST `/{version}/{page}/photos` (multipart `source`); lookups read
`/feed` and `/photos?type=uploaded`. The Page token travels in the `Authorization`
header only: `requests` prints URLs in its exception messages.
Errors (CHANNELS.md 2.3, 2.4) come as `{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}`; rate limits are codes 4, 17, 32, 341, 613 and 80001,
not HTTP 429, with the wait in `X-Business-Use-Case-Usage` (minutes). `classify` is the
one place where every failure becomes a PublishError kind.
Docs: developers.facebook.com/docs/pages-api/posts, /docs/graph-api/guides/error-handling,
/docs/graph-api/overview/rate-limiting.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import requests
from requests.exceptions import ChunkedEncodingError
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError
from urllib3.exceptions import SSLError as TLSHandshakeError

from publisher.adapters.base import Call, Post
from publisher.adapters.facebook import FacebookSettings
from publisher.publishing.errors import FailureKind, PublishError
from publisher.publishing.model import ClientEnv, LookupNotSupported, StepLog

PLATFORM = "facebook"
POST_URL = "https://www.facebook.com/{id}"
LOOKUP_LIMIT = 25
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, 80001})
AUTH_CODES = frozenset({10, 102, 104, 190, *range(200, 300)})
TRANSIENT_CODES = frozenset({1, 2})
POLICY_BLOCK = 368
DUPLICATE_POST = 506
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage")
SNIPPET = 200

Failure = requests.Response | requests.RequestException


def create_client(settings: FacebookSettings, env: ClientEnv) -> FacebookClient:
    """The live client of one Facebook Page."""
    return FacebookClient(settings, env)


def check_credentials(settings: FacebookSettings, env: ClientEnv) -> str:
    """Read the Page with the token: proves the token works and names the Page."""
    client = FacebookClient(settings, env)
    node = settings.page_id or "me"  # a Page token's "me" is its Page
    page = client.get(f"/{settings.graph_version}/{node}", {"fields": "id,name"})
    description = f"Page '{page.get('name')}' (id {page.get('id')})"
    if not settings.page_id:
        description += f'; set page_id: "{page.get("id")}" in channels/facebook.yaml'
    return description


class FacebookClient:
    """Performs the calls FacebookChannel.render builds; one Page, one token."""

    platform = PLATFORM

    def __init__(
        self, settings: FacebookSettings, env: ClientEnv, session: requests.Session | None = None
    ) -> None:
        self.settings = settings
        self.env = env
        self.session = session or requests.Session()

    # -- PlatformClient -------------------------------------------------------------
    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        del steps  # every Facebook call is one request; the executor records each answer
        answer = self._send(call.method, call.endpoint, data=payload, files=call.files)
        if "id" not in answer:
            raise PublishError(
                "unknown",
                f"step {call.step}: the answer holds no id ({_snippet(json.dumps(answer))})",
                platform=PLATFORM,
            )
        return answer

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        """The feed post id ("<page>_<post>"); for a photo post, the photo's post_id."""
        last = results[post.calls[-1].step]
        remote_id = str(last.get("post_id") or last["id"])
        return remote_id, POST_URL.format(id=remote_id)

    def find_existing(
        self, post: Post, results: Mapping[str, dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The last step's answer, rebuilt from the Page's recent posts whose text matches."""
        del results
        call = post.calls[-1]
        if call.step == "photo":
            return self._find_photo(call)
        return self._find_feed_post(call)

    # -- reads ------------------------------------------------------------------------
    def get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        """A read: safe to repeat, so a lost answer is retryable rather than unknown."""
        return self._send("GET", endpoint, params=params)

    def _find_feed_post(self, call: Call) -> dict[str, Any] | None:
        wanted = _wanted(call, "message")
        params = {"fields": "id,message,created_time", "limit": LOOKUP_LIMIT}
        for entry in self.get(call.endpoint, params).get("data", []):
            if _text_key(entry.get("message")) == wanted:
                return {"id": entry["id"]}
        return None

    def _find_photo(self, call: Call) -> dict[str, Any] | None:
        wanted = _wanted(call, "caption")
        params = {
            "type": "uploaded",
            "fields": "id,name,created_time,page_story_id",
            "limit": LOOKUP_LIMIT,
        }
        for entry in self.get(call.endpoint, params).get("data", []):
            if _text_key(entry.get("name")) == wanted:
                found = {"id": entry["id"]}
                if entry.get("page_story_id"):
                    found["post_id"] = entry["page_story_id"]
                return found
        return None

    # -- transport --------------------------------------------------------------------
    def _send(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        creating = method != "GET"
        headers = {"Authorization": f"OAuth {self._token()}"}
        timeout = (self.env.timeout, self.env.timeout)
        try:
            with _opened(files or {}) as uploads:
                response = self.session.request(
                    method,
                    self._url(endpoint),
                    params=params,
                    data=data,
                    files=uploads or None,
                    headers=headers,
                    timeout=timeout,
                )
        except requests.RequestException as exc:
            raise self._redacted(classify(exc, creating=creating)) from None
        answer = _json(response)
        if response.ok and isinstance(answer, dict) and "error" not in answer:
            return answer
        raise self._redacted(classify(response, creating=creating))

    def _url(self, endpoint: str) -> str:
        if "{page_id}" in endpoint:
            if not self.settings.page_id:
                raise PublishError(
                    "permanent",
                    "page_id is not set in channels/facebook.yaml "
                    "(`publisher auth facebook` shows the id of the token's Page)",
                    platform=PLATFORM,
                )
            endpoint = endpoint.replace("{page_id}", self.settings.page_id)
        return self.settings.api_base.rstrip("/") + endpoint

    def _token(self) -> str:
        variable = self.settings.credentials.page_token
        token = (self.env.secrets.get("page_token") or "").strip()
        if not token:
            raise PublishError(
                "auth",
                f"no Page access token: set {variable} in the environment or .env",
                platform=PLATFORM,
            )
        if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
            # requests would quote the bad header value, token included, in its error
            raise PublishError(
                "auth",
                f"the Page access token in {variable} holds spaces or characters a token "
                "cannot have: copy it again",
                platform=PLATFORM,
            )
        return token

    def _redacted(self, error: PublishError) -> PublishError:
        # Graph sometimes quotes the token it refused ("Malformed access token ...")
        values = self.settings.credentials.secret_values(self.env.secrets)
        return error.redacted([*values, *(value.strip() for value in values)])


@contextmanager
def _opened(files: Mapping[str, str]) -> Iterator[dict[str, tuple[str, BinaryIO, str]]]:
    with ExitStack() as stack:
        uploads = {}
        for field, path in files.items():
            try:
                handle = stack.enter_context(Path(path).open("rb"))
            except OSError as exc:
                raise PublishError(
                    "permanent",
                    f"cannot read {path}: {exc.strerror}; render the item again",
                    platform=PLATFORM,
                ) from None
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
            uploads[field] = (Path(path).name, handle, kind)
        yield uploads


# -- the one error mapping ----------------------------------------------------------------
def classify(failure: Failure, *, creating: bool) -> PublishError:
    """Turn a failed Graph API exchange into a PublishError (CHANNELS.md 2.3, 2.4).

    `creating` is True for calls that make something (a post, a photo): when their answer
    is lost they may have been carried out, so they are "unknown"; a lost read is retryable.
    """
    if isinstance(failure, requests.RequestException):
        return _from_exception(failure, creating)
    body = _json(failure)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return _from_graph_error(error, failure, creating)
    return _from_status(failure, creating)


def _from_exception(exc: requests.RequestException, creating: bool) -> PublishError:
    reason = _snippet(f"{type(exc).__name__}: {exc}")
    if _never_sent(exc):
        return PublishError(
            "retryable", f"could not reach the Graph API ({reason})", platform=PLATFORM
        )
    if isinstance(exc, requests.ConnectionError | requests.Timeout | ChunkedEncodingError):
        return PublishError(
            _lost(creating),
            f"the request was sent but its answer was lost ({reason}); "
            "the post may exist: look it up before sending again",
            platform=PLATFORM,
        )
    return PublishError("permanent", f"the request could not be made ({reason})", platform=PLATFORM)


def _never_sent(exc: requests.RequestException) -> bool:
    """Connection refused, DNS failure, connect timeout or TLS handshake: nothing was sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    reason = cause.reason if isinstance(cause, MaxRetryError) else None
    return isinstance(exc, requests.ConnectionError) and isinstance(
        reason, ConnectTimeoutError | TLSHandshakeError
    )


def _from_graph_error(
    error: dict[str, Any], response: requests.Response, creating: bool
) -> PublishError:
    code = _int(error.get("code"))
    kind, advice = _graph_kind(code, response.status_code, creating)
    retry_after = _regain_access(response.headers) if code in RATE_LIMIT_CODES else None
    return PublishError(
        kind,
        f"{_graph_message(error)}: {advice}",
        platform=PLATFORM,
        http_status=response.status_code,
        platform_code=code,
        retry_after=retry_after,
    )


def _graph_kind(code: int | None, status: int, creating: bool) -> tuple[FailureKind, str]:
    if code in RATE_LIMIT_CODES:
        return "retryable", "rate limited; wait before calling again"
    if code in AUTH_CODES:
        return "auth", (
            "the Page token was refused or lacks a permission (pages_manage_posts, "
            "pages_read_engagement); get a new one with `publisher auth facebook`"
        )
    if code == POLICY_BLOCK:
        return "permanent", (
            "Facebook blocked posting for a policy violation; stop publishing to this page "
            "and check the page in Meta Business Suite"
        )
    if code == DUPLICATE_POST:
        return "unknown", (
            "Facebook calls this a duplicate of the previous post, so an earlier attempt may "
            "have published it; look it up before sending again"
        )
    if code in TRANSIENT_CODES or status >= 500:
        return _lost(creating), "Facebook failed while handling the call; it may have acted"
    return "permanent", "Facebook rejected the call"


def _from_status(response: requests.Response, creating: bool) -> PublishError:
    status = response.status_code
    body = _snippet(response.text)
    if status == 429:
        kind, wait = "retryable", _seconds(response.headers.get("Retry-After"))
    elif status >= 500 or response.ok:
        kind, wait = _lost(creating), None
    else:
        kind, wait = "permanent", None
    return PublishError(
        kind,
        f"unexpected answer from the Graph API: {body or '(empty)'}",
        platform=PLATFORM,
        http_status=status,
        retry_after=wait,
    )


def _lost(creating: bool) -> FailureKind:
    return "unknown" if creating else "retryable"


def _graph_message(error: dict[str, Any]) -> str:
    details = [str(error.get("type") or "GraphError")]
    if error.get("error_subcode") is not None:
        details.append(f"subcode {error['error_subcode']}")
    if error.get("fbtrace_id"):
        details.append(f"fbtrace_id {error['fbtrace_id']}")
    text = error.get("error_user_msg") or error.get("message") or "no message"
    return f"{_snippet(str(text))} ({', '.join(details)})"


def _regain_access(headers: Mapping[str, str]) -> float | None:
    """Seconds until access returns, from Meta's usage headers (their value is minutes)."""
    minutes = [m for name in USAGE_HEADERS for m in _estimates(_parse(headers.get(name)))]
    longest = max(minutes, default=0)
    return longest * 60 if longest > 0 else None


def _estimates(data: Any) -> Iterator[float]:
    """Every `estimated_time_to_regain_access`, flat (X-App-Usage) or per page (BUC)."""
    if isinstance(data, dict):
        value = data.get("estimated_time_to_regain_access")
        if isinstance(value, int | float):
            yield float(value)
        for item in data.values():
            yield from _estimates(item)
    elif isinstance(data, list):
        for item in data:
            yield from _estimates(item)


# -- small helpers ---------------------------------------------------------------------
def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _parse(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def _wanted(call: Call, field: str) -> str:
    text = _text_key(call.payload.get(field))
    if not text:  # a post without text cannot be told apart from any other
        raise LookupNotSupported(f"step {call.step} has no {field} to look the post up by")
    return text


def _text_key(text: Any) -> str:
    """Post text compared as Facebook may store it: whitespace runs collapsed."""
    return " ".join(str(text or "").split())
