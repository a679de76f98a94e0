"""Zalo Official Account Open API client over `requests` (CHANNELS.md section 1).

API calls go to `settings.api_base` with the header literally named `access_token`. Zalo
answers HTTP 200 to logical failures too: the `error` field decides (0 = success) and
`run` returns the answer's `data`. An article is created (`{"token"}`), then verified until
Zalo has processed it (`{"id"}`; `-214` meanwhile), then optionally broadcast.

OAuth v4 (`settings.oauth_base`): access tokens last 25 h; the refresh token is single use
and rotates on every refresh. So a refresh happens under the token store's lock, re-reads
the store first (another worker may have refreshed already), and commits the new pair
before anything uses it. Tokens are refreshed 6 h before expiry, and once more when the
API calls the access token invalid or expired (-216, -220).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from publisher.adapters.base import Call, Post
from publisher.adapters.zalo import ZaloSettings
from publisher.publishing.errors import FailureKind, PublishError
from publisher.publishing.model import (
    FOUND_STEP,
    ClientEnv,
    LookupNotSupported,
    StepLog,
    made_after_attempt,
)
from publisher.publishing.placeholders import resolve

log = logging.getLogger(__name__)

PLATFORM = "zalo"
ACCESS, REFRESH = "access_token", "refresh_token"
TOKEN_PATH = "/v4/oa/access_token"
CONSENT_PATH = "/v4/oa/permission"
VERIFY_PATH = "/v2.0/article/verify"
UPDATE_PATH = "/v2.0/article/update"
BROADCAST_PATH = "/v2.0/oa/message"
SLICE_PATH = "/v2.0/article/getslice"
LOOKUP_LIMIT = 20  # the newest articles read when a create's answer was lost
REFRESH_MARGIN = dt.timedelta(hours=6)
DEFAULT_LIFETIME = 90_000  # seconds (25 h), when Zalo leaves `expires_in` out
# Waits between verify checks: 8 checks over about a minute, then the runner retries later.
VERIFY_WAITS = (2.0, 3.0, 5.0, 8.0, 10.0, 15.0, 20.0)
RECONNECT = "reconnect the OA with `publisher auth zalo`"

PROCESSING = -214
RATE_LIMITED = -32
TOKEN_REJECTED = frozenset({-216, -220})
LATER = frozenset({-211, -218})  # quota reached: not processed, retry another time
SETUP = {
    -204: "the OA is disabled",
    -205: "the OA does not exist",
    -209: "the app is not active for this API",
    -212: "the app is not registered for this API",
    -219: "the app was removed or disabled",
    -221: "the OA is not verified",
    -223: "the OA has not granted this API to the app",
    -224: "the OA's service package does not include this API",
    -235: "this API is not available for this type of OA",
    -240: "this API version is retired",
    -248: "the content violates Zalo's policy",
}


@dataclass(frozen=True)
class ApiCall:
    """One request to the API; `what` names it in messages (the step, or the lookup)."""

    what: str
    method: str
    endpoint: str
    payload: dict[str, Any]
    files: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool = False  # verify and lookups publish nothing: resending is harmless


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: its status and its JSON object (empty when it was not JSON)."""

    status: int
    body: dict[str, Any]

    @property
    def code(self) -> int | None:
        value = self.body.get("error")
        return value if isinstance(value, int) else None

    @property
    def oauth_error(self) -> bool:
        """The OAuth endpoint's error shape: `error_name`/`error_reason`, codes -14xxx."""
        shaped = "error_name" in self.body or "error_reason" in self.body
        return shaped or (self.code is not None and self.code <= -14000)

    @property
    def message(self) -> str:
        for key in ("message", "error_description", "error_reason", "error_name"):
            if self.body.get(key):
                return str(self.body[key])
        return f"HTTP {self.status} without a Zalo error message"


def classify(
    failure: requests.RequestException | Answer, what: str, *, idempotent: bool
) -> PublishError:
    """The one place where a Zalo failure becomes a PublishError kind (DESIGN section 6).

    `idempotent` calls (verify, lookups, the token endpoint, which never publish) are
    retryable after a timeout; create and broadcast may have been processed, so unknown.
    """
    if isinstance(failure, requests.RequestException):
        return _transport_error(failure, what, idempotent)
    status, code, text = failure.status, failure.code, failure.message

    def error(kind: FailureKind, message: str, retry_after: float | None = None) -> PublishError:
        return PublishError(
            kind,
            f"{what}: {message}",
            platform=PLATFORM,
            http_status=status,
            platform_code=code,
            retry_after=retry_after,
        )

    if failure.oauth_error:
        return error("auth", f"Zalo refused the credentials ({text}); {RECONNECT}")
    if code is None or status != 200:  # not a Zalo answer: a gateway or a server failure
        if status in (401, 403):
            return error("auth", f"HTTP {status}: {text}; {RECONNECT}")
        if status == 429:
            return error("retryable", text)
        if 400 <= status < 500:
            return error("permanent", text)
        if idempotent:
            return error("retryable", text)
        return error("unknown", f"{text}; Zalo may have processed it, check the OA")
    if code == RATE_LIMITED:
        return error("retryable", f"Zalo's API call limit was reached: {text}", 60.0)
    if code == PROCESSING:
        return error(
            "retryable", f"Zalo is still processing the article ({text}); verify again later", 60.0
        )
    if code in LATER:
        return error("retryable", f"Zalo's quota is used up for now: {text}")
    if code in TOKEN_REJECTED:
        return error("auth", f"Zalo refused the access token after a refresh: {text}; {RECONNECT}")
    if code in SETUP:
        return error("permanent", f"{SETUP[code]} (OA configuration or policy): {text}")
    return error("permanent", f"Zalo rejected the request: {text}")


def _transport_error(exc: requests.RequestException, what: str, idempotent: bool) -> PublishError:
    """Refused, DNS and connect-timeout failures never reached Zalo; the rest may have."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # requests wraps urllib3's MaxRetryError
    never_sent = isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError) or (
        isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)
    )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        kind: FailureKind = "permanent"
        message = f"the Zalo address is invalid ({exc}); check api_base and oauth_base"
    elif never_sent or idempotent:
        kind, message = "retryable", f"Zalo was not reached ({_cause(exc, reason)})"
    else:
        kind = "unknown"
        message = f"the request may have reached Zalo ({_cause(exc, reason)}); check the OA"
    return PublishError(kind, f"{what}: {message}", platform=PLATFORM)


def _cause(exc: requests.RequestException, reason: object) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer in time" if isinstance(exc, requests.ReadTimeout) else "connect timeout"
    inner = reason.__class__.__name__ if isinstance(reason, BaseException) else ""
    return f"{type(exc).__name__}: {inner}" if inner else type(exc).__name__


class ZaloClient:
    """A PlatformClient for one Zalo OA; safe to share between threads."""

    platform = PLATFORM

    def __init__(self, settings: ZaloSettings, env: ClientEnv) -> None:
        self.settings = settings
        self.env = env
        self.session = requests.Session()
        # Several workers may share one client: keep a connection for each.
        adapter = HTTPAdapter(pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    # -- PlatformClient -----------------------------------------------------------------
    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        """Perform one call; a verify waits while Zalo is still processing the article."""
        del steps  # each step (the create token first) is recorded by the executor
        idempotent = call.method.upper() == "GET" or call.endpoint == VERIFY_PATH
        request = ApiCall(call.step, call.method, call.endpoint, payload, call.files, idempotent)
        with self._redacting():
            if call.endpoint == VERIFY_PATH:
                return self._verify(request)
            return _data(self._api(request), request)

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        """The verified article id, and its public address when Zalo tells it."""
        article_id = str(results["verify"]["id"])
        url = results["verify"].get("link_view") or self._link_view(article_id)
        return article_id, url

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        """Settle the step that may have gone out without an answer.

        A lost create: the OA's newest articles are read (`getslice`), and one is ours
        only if its title is ours, Zalo dates it after our first create request, and its
        details (description, text blocks) are what we sent. Zalo lists an article before
        anyone verified it, and a broadcast takes only a verified id; the token that
        verify needs was in the lost answer. So the found article is updated with the
        same content, which gives a new token, and the result stands for "create": the
        verify step then runs and yields a verified id. A hosting or verify step publishes
        nothing and is simply repeated. A broadcast cannot be listed: LookupNotSupported.
        """
        uncertain = next((c for c in post.calls if steps.maybe_sent(c.step)), None)
        if uncertain is None or uncertain.step != "create":
            if uncertain is not None and uncertain.endpoint == BROADCAST_PATH:
                raise LookupNotSupported(
                    "Zalo gives no way to list an OA's broadcasts: look at the OA's sent "
                    "messages, then settle the broadcast with 'publisher resolve'"
                )
            return None
        article = resolve(uncertain.payload, steps.all())
        with self._redacting():
            found = self._find_article(article, steps.first_attempt("create"))
            if found is None:
                return None
            fields = {**article, "id": found}
            what = "update the found article"
            update = ApiCall(what, "POST", UPDATE_PATH, fields, idempotent=True)
            token = _data(self._api(update), update).get("token")
        if not token:
            return None
        return {"token": token, "id": found, FOUND_STEP: "create"}

    def _find_article(self, article: Mapping[str, Any], since: dt.datetime | None) -> str | None:
        """The id of the newest OA article that is the one `article` made, or None."""
        query = {"offset": 0, "limit": LOOKUP_LIMIT, "type": article.get("type", "normal")}
        lookup = ApiCall("find the article", "GET", SLICE_PATH, query, idempotent=True)
        for media in _data(self._api(lookup), lookup).get("medias") or []:
            if media.get("title") != article.get("title"):
                continue
            if not made_after_attempt(_zalo_time(media.get("create_date")), since):
                continue
            detail = ApiCall(
                "read the found article",
                "GET",
                "/v2.0/article/getdetail",
                {"id": media["id"]},
                idempotent=True,
            )
            if _same_article(_data(self._api(detail), detail), article):
                return str(media["id"])
        return None

    # -- credentials ----------------------------------------------------------------------
    def describe_oa(self) -> str:
        """One cheap authenticated call: the OA's name and id."""
        probe = ApiCall("check credentials", "GET", "/v2.0/oa/getoa", {}, idempotent=True)
        with self._redacting():
            oa = _data(self._api(probe), probe)
        return f"Zalo OA '{oa.get('name', '?')}' (id {oa.get('oa_id', '?')})"

    def grant(self, fields: dict[str, str], what: str) -> str:
        """POST the OAuth token endpoint; commit the new token pair, then return the access token.

        Call it holding `env.tokens.exclusive()`: the refresh token it spends is single use.
        """
        app_id = self._secret("app_id")
        url = self.settings.oauth_base.rstrip("/") + TOKEN_PATH
        form = {"app_id": app_id, **fields}
        headers = {"secret_key": self._secret("app_secret")}
        with self._redacting():
            answer = self._exchange("POST", url, what, True, data=form, headers=headers)
            access, refresh = answer.body.get(ACCESS), answer.body.get(REFRESH)
            if answer.status != 200 or not access or not refresh:
                raise classify(answer, what, idempotent=True)
        expires_at = self.env.clock() + _lifetime(answer.body.get("expires_in"))
        self.env.tokens.put_many({ACCESS: (access, expires_at), REFRESH: (refresh, None)})
        log.info("zalo: new access token stored, valid until %s", expires_at.isoformat())
        return str(access)

    # -- calls ------------------------------------------------------------------------------
    def _verify(self, request: ApiCall) -> dict[str, Any]:
        """Check the create token until Zalo gives the article id (bounded, growing waits)."""
        for wait in VERIFY_WAITS:
            answer = self._api(request)
            if answer.code != PROCESSING:
                break
            log.info("zalo: article still being processed; checking again in %.0f s", wait)
            self.env.sleep(wait)
        else:
            answer = self._api(request)
        return _data(answer, request)

    def _link_view(self, article_id: str) -> str | None:
        """The article's public address from its details; None when Zalo does not say."""
        query = {"id": article_id}
        detail = ApiCall(
            "article details", "GET", "/v2.0/article/getdetail", query, idempotent=True
        )
        try:
            return _data(self._api(detail), detail).get("link_view") or None
        except PublishError as exc:  # the article is published: a missing URL is no failure
            log.warning("zalo: no address for article %s: %s", article_id, exc.message)
            return None

    def _api(self, request: ApiCall) -> Answer:
        """One API call; when Zalo calls the token invalid or expired, refresh and resend once."""
        token = self._access_token()
        answer = self._send(request, token)
        if answer.code in TOKEN_REJECTED:
            log.info("zalo: access token refused (%s); refreshing once", answer.code)
            answer = self._send(request, self._refresh(token))
        return answer

    def _send(self, request: ApiCall, token: str) -> Answer:
        url = self.settings.api_base.rstrip("/") + request.endpoint
        headers = {ACCESS: token}
        with contextlib.ExitStack() as stack:
            if request.method.upper() == "GET":
                body: dict[str, Any] = {"params": request.payload}
            elif request.files:
                files = {
                    k: stack.enter_context(Path(p).open("rb")) for k, p in request.files.items()
                }
                body = {"data": request.payload, "files": files}
            else:  # UTF-8 JSON, Vietnamese kept as it is
                body = {"data": json.dumps(request.payload, ensure_ascii=False).encode("utf-8")}
                headers["Content-Type"] = "application/json; charset=utf-8"
            return self._exchange(
                request.method, url, request.what, request.idempotent, headers=headers, **body
            )

    def _exchange(
        self, method: str, url: str, what: str, idempotent: bool, **kwargs: Any
    ) -> Answer:
        timeout = (self.env.timeout, self.env.timeout)
        try:
            response = self.session.request(method, url, timeout=timeout, **kwargs)
            body = response.json()
        except requests.JSONDecodeError:
            body = None
        except requests.RequestException as exc:
            raise classify(exc, what, idempotent=idempotent) from None
        return Answer(response.status_code, body if isinstance(body, dict) else {})

    # -- tokens -----------------------------------------------------------------------------
    def _access_token(self) -> str:
        token = self.env.tokens.get(ACCESS)
        if token is not None and token.valid_for(REFRESH_MARGIN, self.env.clock()):
            return token.value
        return self._refresh(token.value if token else None)

    def _refresh(self, stale: str | None) -> str:
        """A fresh access token: another caller's if it replaced `stale` meanwhile, else ours."""
        with self.env.tokens.exclusive():
            current = self.env.tokens.get(ACCESS)
            fresh = current is not None and current.valid_for(REFRESH_MARGIN, self.env.clock())
            if current is not None and current.value != stale and fresh:
                return current.value
            stored = self.env.tokens.get(REFRESH)
            refresh = stored.value if stored else self.env.secrets.get(REFRESH)
            if not refresh:
                raise PublishError(
                    "auth",
                    f"no Zalo refresh token: set {self.settings.credentials.refresh_token} "
                    f"or {RECONNECT}",
                    platform=PLATFORM,
                )
            fields = {"grant_type": "refresh_token", REFRESH: refresh}
            return self.grant(fields, "refresh the access token")

    def _secret(self, name: str) -> str:
        value = self.env.secrets.get(name)
        if not value:
            variable = getattr(self.settings.credentials, name)
            raise PublishError(
                "auth", f"the Zalo credential {variable} is not set (.env)", platform=PLATFORM
            )
        return value

    @contextlib.contextmanager
    def _redacting(self) -> Iterator[None]:
        """Scrub every secret and run-time token from errors leaving the client."""
        try:
            yield
        except PublishError as exc:
            known = self.settings.credentials.secret_values(self.env.secrets)
            known += [t.value for name in (ACCESS, REFRESH) if (t := self.env.tokens.get(name))]
            raise exc.redacted(known) from None


def _data(answer: Answer, request: ApiCall) -> dict[str, Any]:
    """The `data` of a successful answer; a PublishError for anything else."""
    if answer.status != 200 or answer.code != 0:
        raise classify(answer, request.what, idempotent=request.idempotent)
    data = answer.body.get("data")
    return data if isinstance(data, dict) else {}


def _zalo_time(value: object) -> dt.datetime | None:
    """Zalo's dates: milliseconds since the epoch."""
    try:
        return dt.datetime.fromtimestamp(int(str(value)) / 1000, dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _same_article(detail: Mapping[str, Any], article: Mapping[str, Any]) -> bool:
    """Whether the details Zalo gives match what we sent, field by field where given."""
    if "description" in detail and detail["description"] != article.get("description"):
        return False
    body = detail.get("body")
    if isinstance(body, list):
        return _texts(body) == _texts(article.get("body") or [])
    return True


def _texts(blocks: list[Any]) -> list[str]:
    return [
        str(b.get("content", "")).strip()
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "text"
    ]


def _lifetime(expires_in: object) -> dt.timedelta:
    """`expires_in` arrives as a string; a strange one must not lose the tokens just issued."""
    try:
        return dt.timedelta(seconds=int(str(expires_in)))
    except ValueError:
        return dt.timedelta(seconds=DEFAULT_LIFETIME)


def create_client(settings: ZaloSettings, env: ClientEnv) -> ZaloClient:
    return ZaloClient(settings, env)


def check_credentials(settings: ZaloSettings, env: ClientEnv) -> str:
    """Prove the credentials work (refreshing the token if needed): "Zalo OA 'name' (id N)"."""
    return ZaloClient(settings, env).describe_oa()


def needs_consent(error: PublishError) -> bool:
    """Whether only connecting the OA again helps: Zalo refused its tokens (a refresh token
    spent, expired or revoked, an access token refused after a refresh) or there are none."""
    return error.platform == PLATFORM and error.kind == "auth"


def new_code_verifier() -> str:
    """A PKCE code verifier: 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


def consent_url(
    settings: ZaloSettings, app_id: str, redirect_uri: str, code_verifier: str, state: str
) -> str:
    """The page where the OA admin grants the app access (PKCE, S256 challenge)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    query = {
        "app_id": app_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "state": state,
    }
    return f"{settings.oauth_base.rstrip('/')}{CONSENT_PATH}?{urlencode(query)}"


def exchange_code(settings: ZaloSettings, env: ClientEnv, code: str, code_verifier: str) -> None:
    """Trade the consent callback's `code` for the first token pair, stored in `env.tokens`."""
    fields = {"grant_type": "authorization_code", "code": code, "code_verifier": code_verifier}
    with env.tokens.exclusive():
        ZaloClient(settings, env).grant(fields, "exchange the authorization code")
