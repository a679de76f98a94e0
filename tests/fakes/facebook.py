"""A fake Facebook Page behind the Graph API (CHANNELS.md 2 and the section 6 checklist).

It serves one Page: `/vNN.N/{page}` (id, name), `/feed` (POST a post, GET the published
ones), `/photos` (POST an upload, GET `type=uploaded`) and `/scheduled_posts`. It checks
what Graph checks: a versioned path, the token in the `Authorization` header (190, with
subcode 463 once `expire_token()` was called), the page id, a `source` file for photos,
`published` and `scheduled_publish_time` together within [10 min, 75 days],
`attached_media[i]` JSON naming unpublished photos of the page, the 63,206-character
message, and 506 on a message identical to the previous post. Errors have Graph's shape
and status codes.

Tokens stand for a Page or a person (`add_token`). `/me` is the token's owner (`metadata=1`
adds its type, "page" or "user"). Only the Page's own token reads its edges (#10 otherwise)
and only one issued with the right to post may post (#200 otherwise, Graph's wording):
a user token, another Page's token, or a Page token issued without pages_manage_posts or
by someone without the Create content task. The right to post is checked before the post
itself, so an empty post by a token that may post gets #100 "Missing message or attachment".
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .base import FakePlatform, Fault, Request, Response

PAGE_ID = "100064000000001"
PAGE_NAME = "Bảo hiểm xã hội tỉnh"
TOKEN = "EAAFakePageToken0123456789abcdefSECRET"
MESSAGE_LIMIT = 63_206
SCHEDULE_MIN = dt.timedelta(minutes=10)
SCHEDULE_MAX = dt.timedelta(days=75)
PHOTO_LIMIT = 4 * 1024 * 1024  # [U]: the historic Graph reference; other sources say 10 MB
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00")
VERSIONED = re.compile(r"/v\d+\.\d+/([^/]+)(?:/([a-z_]+))?/?")
ATTACHED = re.compile(r"attached_media\[(\d+)\]")
DEFAULT_FIELDS = {
    "feed": "id,message,created_time",
    "photos": "id,name,created_time",
    None: "id,name",
}


@dataclass
class FakePost:
    id: str
    message: str
    link: str | None
    created: dt.datetime
    media: list[str] = field(default_factory=list)
    published: bool = True
    scheduled_publish_time: int | None = None


@dataclass
class FakePhoto:
    id: str
    caption: str
    data: bytes
    created: dt.datetime
    published: bool
    post_id: str | None = None


@dataclass
class ProcessThenDrop(Fault):
    """The platform acts on the request, then the line drops before its answer."""

    drop: bool = True


def graph_error(
    code: int,
    message: str,
    *,
    status: int = 400,
    subcode: int | None = None,
    kind: str = "OAuthException",
    headers: dict[str, str] | None = None,
) -> Response:
    """A Graph API error answer: `{"error": {message, type, code, error_subcode, fbtrace_id}}`."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = f"AFakeTrace{code}x{subcode or 0}"
    return Response(status, {"error": error}, headers or {})


def invalid(message: str) -> Response:
    return graph_error(100, f"(#100) {message}")


CANNOT_POST = graph_error(
    200,
    "(#200) If posting to a group, requires app being installed in the group, and either "
    "publish_to_groups permission with user token, or both pages_read_engagement and "
    "pages_manage_posts permission with page token; If posting to a page, requires both "
    "pages_read_engagement and pages_manage_posts as an admin with sufficient "
    "administrative permission",
    status=403,
)
NEEDS_PAGE_TOKEN = graph_error(
    10,
    "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public "
    "Content Access' feature.",
    status=403,
)


@dataclass
class FakeToken:
    """What an access token stands for: a Page's token, or a person's (a user token)."""

    owner_id: str
    owner_name: str
    kind: str = "page"  # "page" or "user"
    can_post: bool = True  # pages_manage_posts granted by someone with the CREATE_CONTENT task
    expired: bool = False


class FakeFacebook(FakePlatform):
    """One Page with one token; `posts` and `photos` hold what was created."""

    def __init__(
        self,
        page_id: str = PAGE_ID,
        token: str = TOKEN,
        *,
        page_name: str = PAGE_NAME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.page_id = page_id
        self.token = token
        self.page_name = page_name
        self.clock = clock
        self.reset()

    # -- test controls ------------------------------------------------------------
    def reset(self) -> None:
        """Forget every request, fault, post and photo (one server can serve many tests)."""
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.posts: list[FakePost] = []
            self.photos: dict[str, FakePhoto] = {}
            self.tokens = {self.token: FakeToken(self.page_id, self.page_name)}
            self._limited = 0
            self._regain_minutes = 0
            self._ids = itertools.count(1_000_000_001)

    def add_token(self, token: str, owner: FakeToken) -> None:
        """Another token Graph knows: a user's, another Page's, or one that may not post."""
        with self.lock:
            self.tokens[token] = owner

    def expire_token(self, token: str | None = None) -> None:
        """The token (the Page's own by default) gets 190 with subcode 463 from now on."""
        self.tokens[token or self.token].expired = True

    def rate_limit(self, times: int = 1, minutes: int = 5) -> None:
        """The next `times` calls get code 80001 with `estimated_time_to_regain_access`."""
        with self.lock:
            self._limited, self._regain_minutes = times, minutes

    def drop_after_processing(self, path_contains: str = "") -> None:
        """The next matching call is carried out, but its answer never arrives."""
        self.inject(ProcessThenDrop(path_contains=path_contains))

    def published_posts(self) -> list[FakePost]:
        return [post for post in self.posts if post.published]

    # -- routing --------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        match = VERSIONED.fullmatch(request.path)
        if match is None:
            return invalid(f"Unknown path {request.path}: pin a Graph API version (/vNN.N/...)")
        refused = self._check_token(request) or self._check_rate()
        if refused is not None:
            return refused
        token = self.tokens[_bearer(request)]
        node, edge = match.groups()
        node = token.owner_id if node == "me" else node
        if node != self.page_id:
            if (node, edge, request.method) == (token.owner_id, None, "GET"):
                return Response(200, _pick(_node(token), request, None))
            return self._unsupported(request.method, node)
        if edge is not None and (token.kind, token.owner_id) != ("page", self.page_id):
            return CANNOT_POST if request.method == "POST" else NEEDS_PAGE_TOKEN
        if request.method == "POST" and not token.can_post:
            return CANNOT_POST
        handler = {
            ("GET", None): self._page,
            ("POST", "feed"): self._create_post,
            ("GET", "feed"): self._list_feed,
            ("POST", "photos"): self._upload_photo,
            ("GET", "photos"): self._list_photos,
            ("GET", "scheduled_posts"): self._list_scheduled,
        }.get((request.method, edge))
        return handler(request) if handler else self._unsupported(request.method, node)

    def _take_fault(self, request: Request) -> Fault | None:
        fault = super()._take_fault(request)
        if isinstance(fault, ProcessThenDrop):
            with self.lock:
                self.route(request)
        return fault

    def _check_token(self, request: Request) -> Response | None:
        value = _bearer(request)
        if not value:
            return graph_error(104, "An access token is required to request this resource.")
        auth_header = {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'}
        if value not in self.tokens:
            message = "Invalid OAuth access token - Cannot parse access token"
            return graph_error(190, message, headers=auth_header)
        if self.tokens[value].expired:
            message = "Error validating access token: Session has expired."
            return graph_error(190, message, subcode=463, headers=auth_header)
        return None

    def _check_rate(self) -> Response | None:
        if self._limited <= 0:
            return None
        self._limited -= 1
        usage = {
            self.page_id: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 12,
                    "total_time": 20,
                    "estimated_time_to_regain_access": self._regain_minutes,
                }
            ]
        }
        return graph_error(
            80001,
            "(#80001) There have been too many calls to this Page account. "
            "Wait a bit and try again.",
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )

    def _unsupported(self, method: str, node: str) -> Response:
        return graph_error(
            100,
            f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation.",
            subcode=33,
            kind="GraphMethodException",
        )

    # -- reads ------------------------------------------------------------------------
    def _page(self, request: Request) -> Response:
        page = FakeToken(self.page_id, self.page_name)
        return Response(200, _pick(_node(page), request, None))

    def _list_feed(self, request: Request) -> Response:
        posts = [p for p in reversed(self.posts) if p.published]
        rows = [
            _pick(
                {"id": p.id, "message": p.message or None, "created_time": _time(p.created)},
                request,
                "feed",
            )
            for p in posts
        ]
        return Response(200, {"data": rows[: _limit(request)]})

    def _list_photos(self, request: Request) -> Response:
        if _param(request, "type") != "uploaded":
            return Response(200, {"data": []})  # the Page is tagged in no one's photos
        photos = [p for p in reversed(self.photos.values()) if p.published]
        rows = [
            _pick(
                {
                    "id": p.id,
                    "name": p.caption or None,
                    "created_time": _time(p.created),
                    "page_story_id": p.post_id,
                },
                request,
                "photos",
            )
            for p in photos
        ]
        return Response(200, {"data": rows[: _limit(request)]})

    def _list_scheduled(self, request: Request) -> Response:
        rows = [
            {"id": p.id, "message": p.message, "scheduled_publish_time": p.scheduled_publish_time}
            for p in self.posts
            if not p.published
        ]
        return Response(200, {"data": rows})

    # -- writes -----------------------------------------------------------------------
    def _create_post(self, request: Request) -> Response:
        fields, _files = _form(request)
        message = fields.get("message", "")
        publishing = _publishing(fields, self.clock())
        if isinstance(publishing, Response):
            return publishing
        media = self._attached_media(fields)
        if isinstance(media, Response):
            return media
        problem = _check_post(message, fields.get("link"), media)
        if problem is not None:
            return problem
        if message and self.posts and self.posts[-1].message == message:
            return graph_error(506, "(#506) Duplicate status message")
        post = self._new_post(message, fields.get("link"), media, publishing)
        return Response(200, {"id": post.id})

    def _upload_photo(self, request: Request) -> Response:
        fields, files = _form(request)
        publishing = _publishing(fields, self.clock())
        if isinstance(publishing, Response):
            return publishing
        data = files["source"][1] if "source" in files else None
        problem = _check_photo(data, fields)
        if problem is not None:
            return problem
        caption = fields.get("caption") or fields.get("message") or ""
        photo_id = str(next(self._ids))
        photo = FakePhoto(photo_id, caption, data or b"", self._now(), publishing is True)
        self.photos[photo_id] = photo
        if publishing is not True:
            return Response(200, {"id": photo_id})
        photo.post_id = self._new_post(caption, None, [photo_id], True).id
        return Response(200, {"id": photo_id, "post_id": photo.post_id})

    def _attached_media(self, fields: dict[str, str]) -> list[str] | Response:
        slots = sorted(
            (int(m.group(1)), v) for k, v in fields.items() if (m := ATTACHED.fullmatch(k))
        )
        if [index for index, _ in slots] != list(range(len(slots))):
            return invalid("attached_media must be numbered from 0 without gaps")
        ids = []
        for index, raw in slots:
            try:
                media_id = str(json.loads(raw)["media_fbid"])
            except (ValueError, TypeError, KeyError):
                return invalid(
                    f"param attached_media[{index}] must be a JSON object with media_fbid"
                )
            photo = self.photos.get(media_id)
            if photo is None or photo.published:
                return invalid(
                    f"attached_media[{index}]: {media_id} is not an unpublished photo of this Page"
                )
            ids.append(media_id)
        return ids

    def _new_post(
        self, message: str, link: str | None, media: list[str], publishing: bool | int
    ) -> FakePost:
        post_id = f"{self.page_id}_{next(self._ids)}"
        scheduled = None if publishing is True else publishing
        post = FakePost(post_id, message, link, self._now(), media, publishing is True, scheduled)
        self.posts.append(post)
        return post

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)


# -- request checks -----------------------------------------------------------------------
def _bearer(request: Request) -> str:
    """The access token of the `Authorization` header ("OAuth" or "Bearer"), or ""."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value if scheme.lower() in ("oauth", "bearer") else ""


def _node(owner: FakeToken) -> dict[str, Any]:
    """A Page or a person as Graph reads it; `metadata` is kept only for `metadata=1`."""
    return {"id": owner.owner_id, "name": owner.owner_name, "metadata": {"type": owner.kind}}


def _form(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """Graph reads parameters from the query string and the body alike."""
    fields, files = request.form() if request.body else ({}, {})
    query = {key: values[-1] for key, values in request.query.items()}
    return {**query, **fields}, files


def _publishing(fields: dict[str, str], now: float) -> bool | int | Response:
    """True (published now), a scheduled unix time, or False (unpublished); else an error."""
    published = fields.get("published", "true").lower()
    if published not in ("true", "false", "1", "0"):
        return invalid("param published must be a boolean")
    is_published = published in ("true", "1")
    when = fields.get("scheduled_publish_time")
    if when is None:
        return is_published
    if is_published:
        return invalid("You cannot specify a scheduled publish time on a published post")
    try:
        moment = int(when)
    except ValueError:
        return invalid("param scheduled_publish_time must be a unix timestamp")
    ahead = dt.timedelta(seconds=moment - now)
    if not SCHEDULE_MIN <= ahead <= SCHEDULE_MAX:
        return invalid(
            "The specified scheduled publish time is invalid: it must be between 10 minutes "
            "and 75 days from the time of the API request"
        )
    return moment


def _check_post(message: str, link: str | None, media: list[str]) -> Response | None:
    if len(message) > MESSAGE_LIMIT:
        return invalid(f"param message must be at most {MESSAGE_LIMIT} characters")
    if link is not None and not re.match(r"https?://[^\s/]+", link):
        return invalid("param link must be a valid URL")
    if not (message or link or media):
        return invalid("Missing message or attachment")
    return None


def _check_photo(data: bytes | None, fields: dict[str, str]) -> Response | None:
    if data is None:
        if re.match(r"https?://", fields.get("url", "")):
            return None
        return graph_error(324, "(#324) Requires upload file")
    if not data.startswith(IMAGE_MAGIC):
        return graph_error(324, "(#324) Missing or invalid image file")
    if len(data) > PHOTO_LIMIT:
        return invalid(f"the photo is larger than {PHOTO_LIMIT} bytes")
    caption = fields.get("caption", "")
    if len(caption) > MESSAGE_LIMIT:
        return invalid(f"param caption must be at most {MESSAGE_LIMIT} characters")
    return None


def _param(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1] if values else None


def _limit(request: Request) -> int:
    try:
        return max(1, min(100, int(_param(request, "limit") or 25)))
    except ValueError:
        return 25


def _pick(row: dict[str, Any], request: Request, edge: str | None) -> dict[str, Any]:
    """Only the requested fields (and the id), without the empty ones, as Graph answers;
    `metadata` too when `metadata=1` asks for it."""
    wanted = {"id", *(_param(request, "fields") or DEFAULT_FIELDS[edge]).split(",")}
    if _param(request, "metadata") == "1":
        wanted.add("metadata")
    return {key: value for key, value in row.items() if key in wanted and value is not None}


def _time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")
