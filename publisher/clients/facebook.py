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
/docs/graph-api/overview/rate-limiting, /docs/pages-api/getting-started (a Page token and
the CREATE_CONTENT task).
"""

from __future__ import annotations

import datetime as dt
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
from publisher.adapters.facebook import FacebookCredentials, FacebookSettings
from publisher.publishing.errors import FailureKind, PublishError
from publisher.publishing.model import (
    ClientEnv,
    LookupNotSupported,
    StepLog,
    made_after_attempt,
)

PLATFORM = "facebook"
POST_URL = "https://www.facebook.com/{id}"
LOOKUP_LIMIT = 25
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, 80001})
TOKEN_CODES = frozenset({102, 104, 190})  # no token, or one Graph does not accept
PERMISSION_CODES = frozenset({10, *range(200, 300)})  # a token that may not do this
# Why Graph refuses a token (code 190): its subcodes, from the error-handling guide.
TOKEN_PROBLEMS = {
    460: "was invalidated when its user changed their password",
    463: "has expired",
    467: "is no longer valid (its user logged out, or it was revoked)",
    492: "is no longer valid: the user who issued it lost their role on the Page",
}
INVALID_PARAMETER = 100
POSTING_RIGHTS = (
    "the Page's own token, issued with pages_manage_posts and pages_read_engagement by "
    "someone with the Create content task on the Page"
)
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
    """Prove the token is the Page's own and may post there: "Page 'name' (id N)".

    Graph's `/me` is the Page for a Page token and the person for a user token (`metadata=1`
    says which), and an empty post probes the right to post (`FacebookClient.probe_posting`).
    A user token, another Page's token, a token that may not post and an expired one each
    fail with what to do.
    """
    client = FacebookClient(settings, env)
    variable = settings.credentials.page_token
    me = client.get(f"/{settings.graph_version}/me", {"fields": "id,name", "metadata": "1"})
    owner_id, kind = str(me.get("id")), (me.get("metadata") or {}).get("type")
    owner = f"'{me.get('name')}' (id {owner_id})"
    page_id = settings.page_id or owner_id
    if kind == "user":
        message = (
            f"{variable} holds a user access token (of {owner}), not a Page token: Facebook "
            "refuses posts made with it (#200). Get the Page's own token with it (Graph API "
            f"Explorer: GET /{page_id if settings.page_id else '<page id>'}?fields=access_token; "
            "the user needs the Create content task on the Page) or use a System User's, "
            f"put it in {variable}, then run `publisher auth facebook` again"
        )
        raise PublishError("auth", message, platform=PLATFORM)
    if owner_id != page_id:
        whose = "the token of another Page," if kind == "page" else "a token of"
        message = (
            f"{variable} holds {whose} {owner}, not the token of the Page set in "
            f"channels/facebook.yaml (page_id: {page_id}): put the token of Page {page_id} in "
            f"{variable}, or set page_id: \"{owner_id}\" if '{me.get('name')}' is the Page to "
            "publish to; then run `publisher auth facebook` again"
        )
        raise PublishError("auth", message, platform=PLATFORM)
    client.probe_posting(page_id, owner)
    description = f"Page {owner}"
    if not settings.page_id:
        description += f'; set page_id: "{owner_id}" in channels/facebook.yaml'
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
        answer = self._send(
            call.method, call.endpoint, creating=True, data=payload, files=call.files
        )
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

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        """The last step's answer, rebuilt from the Page's recent posts whose text matches
        and that Facebook dates after our first request for that step (an identical post
        from an earlier campaign is not ours)."""
        call = post.calls[-1]
        since = steps.first_attempt(call.step)
        if call.step == "photo":
            return self._find_photo(call, since)
        return self._find_feed_post(call, since)

    # -- reads ------------------------------------------------------------------------
    def get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        """A read: safe to repeat, so a lost answer is retryable rather than unknown."""
        return self._send("GET", endpoint, creating=False, params=params)

    def probe_posting(self, page_id: str, page: str) -> None:
        """Raise unless the token may post to the Page (`page` names it in the message).

        Graph checks the right to post before the post itself: an empty post is refused with
        #100 ("Missing message or attachment") when the token may post, with a permission
        error (#200, #10) when it may not. It is unpublished besides, so nothing shows even
        if Graph ever took it.
        """
        endpoint = f"/{self.settings.graph_version}/{page_id}/feed"
        try:
            self._send("POST", endpoint, creating=False, data={"published": "false"})
        except PublishError as error:
            if error.platform_code == INVALID_PARAMETER:
                return  # refused for being empty only
            if error.kind != "auth":
                raise
            message = f"the token cannot post to the Page {page}: {error.message}"
            raise PublishError(
                "auth",
                message,
                platform=PLATFORM,
                http_status=error.http_status,
                platform_code=error.platform_code,
            ) from None

    def _find_feed_post(self, call: Call, since: dt.datetime | None) -> dict[str, Any] | None:
        wanted = _wanted(call, "message")
        params = {"fields": "id,message,created_time", "limit": LOOKUP_LIMIT}
        for entry in self.get(call.endpoint, params).get("data", []):
            if _text_key(entry.get("message")) == wanted and _since(entry, since):
                return {"id": entry["id"]}
        return None

    def _find_photo(self, call: Call, since: dt.datetime | None) -> dict[str, Any] | None:
        wanted = _wanted(call, "caption")
        params = {
            "type": "uploaded",
            "fields": "id,name,created_time,page_story_id",
            "limit": LOOKUP_LIMIT,
        }
        for entry in self.get(call.endpoint, params).get("data", []):
            if _text_key(entry.get("name")) == wanted and _since(entry, since):
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
        creating: bool,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One request; `creating`: it may make something, so a lost answer is unknown."""
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
        variable = self.settings.credentials.page_token
        raise self._redacted(classify(response, creating=creating, variable=variable))

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
def classify(
    failure: Failure, *, creating: bool, variable: str = FacebookCredentials().page_token
) -> PublishError:
    """Turn a failed Graph API exchange into a PublishError (CHANNELS.md 2.3, 2.4).

    `creating` is True for calls that make something (a post, a photo): when their answer
    is lost they may have been carried out, so they are "unknown"; a lost read is retryable.
    `variable` holds the token, for the advice on a refused one.
    """
    if isinstance(failure, requests.RequestException):
        return _from_exception(failure, creating)
    body = _json(failure)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return _from_graph_error(error, failure, creating, variable)
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
    error: dict[str, Any], response: requests.Response, creating: bool, variable: str
) -> PublishError:
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    kind, advice = _graph_kind(code, subcode, response.status_code, creating, variable)
    retry_after = _regain_access(response.headers) if code in RATE_LIMIT_CODES else None
    return PublishError(
        kind,
        f"{_graph_message(error)}: {advice}",
        platform=PLATFORM,
        http_status=response.status_code,
        platform_code=code,
        retry_after=retry_after,
    )


def _graph_kind(
    code: int | None, subcode: int | None, status: int, creating: bool, variable: str
) -> tuple[FailureKind, str]:
    if code in RATE_LIMIT_CODES:
        return "retryable", "rate limited; wait before calling again"
    if code in TOKEN_CODES:
        problem = TOKEN_PROBLEMS.get(subcode or 0, "was refused")
        return "auth", (
            f"the token in {variable} {problem}: put a new Page token there (.env; a System "
            "User's token does not expire), then run `publisher auth facebook`"
        )
    if code in PERMISSION_CODES:
        return "auth", (
            f"the token in {variable} may not do this: Facebook needs {POSTING_RIGHTS}; put "
            "such a token there (.env), then run `publisher auth facebook`"
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


def _since(entry: Mapping[str, Any], attempted: dt.datetime | None) -> bool:
    """Whether the entry's `created_time` ("2026-12-01T01:00:00+0000") allows it to be ours."""
    try:
        created = dt.datetime.strptime(str(entry.get("created_time")), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        created = None
    return made_after_attempt(created, attempted)


def _text_key(text: Any) -> str:
    """Post text compared as Facebook may store it: whitespace runs collapsed."""
    return " ".join(str(text or "").split())
