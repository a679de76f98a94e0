"""A fake WordPress site: the REST API (wp/v2) as WordPress core answers it.

What it holds to (CHANNELS.md sections 5 and 6): routes under /wp-json/ and /?rest_route=
(only the latter once pretty permalinks are off); HTTP Basic with an application password
(spaces and punctuation ignored); a wrong one leaves the request anonymous, as stock
WordPress 6.1 does (401 rest_cannot_create on create, 401 rest_not_logged_in on users/me),
or answers 401 incorrect_password / invalid_username like sites whose plugins authenticate
earlier; parameters validated before permissions (400 rest_invalid_param with data.params);
403 rest_cannot_publish for a contributor; raw media uploads needing Content-Type and a
Content-Disposition filename, the file type checked from the name and the bytes (500
rest_upload_sideload_error); unique slugs ("-2"); `publish` with a `date_gmt` >= 60 s ahead
stored as `future`; `featured_media` of an unknown attachment ignored on create (core's
handle_featured_media result is not checked there), so the post shows featured_media 0.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .base import FakePlatform, Fault, Request, Response

POST_STATUSES = ("publish", "future", "draft", "pending", "private")
LIST_STATUSES = (
    *POST_STATUSES,
    *("trash", "auto-draft", "inherit", "request-pending", "request-confirmed"),
    *("request-failed", "request-completed", "any"),
)
ALLOWED_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "pdf": "application/pdf",
}
MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"GIF8": "image/gif"}
ROLES = {
    "editor": ("read", "edit_posts", "publish_posts", "upload_files", "edit_others_posts"),
    "author": ("read", "edit_posts", "publish_posts", "upload_files"),
    "contributor": ("read", "edit_posts"),
}
SITE_ZONE = dt.timezone(dt.timedelta(hours=7))  # Asia/Ho_Chi_Minh, for `date`
CRITICAL_ERROR = "<p>There has been a critical error on this website.</p>"
UPLOADS = "/wp-content/uploads/"


def wp_error(status: int, code: str, message: str, **data: Any) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status, **data}})


def invalid_params(params: dict[str, str]) -> Response:
    return wp_error(
        400,
        "rest_invalid_param",
        f"Invalid parameter(s): {', '.join(params)}",
        params=params,
        details={name: {"code": "rest_invalid_param", "message": m} for name, m in params.items()},
    )


def sanitize_title(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")


class FakeWordPress(FakePlatform):
    """A WordPress site with one user; switches reproduce real sites' configurations."""

    def __init__(
        self,
        username: str = "bientap",
        app_password: str = "abcd EFGH 1234 ijkl MNOP 5678",
        *,
        display_name: str = "Biên tập viên Cổng TTĐT",
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__()
        self.username, self.app_password, self.display_name = username, app_password, display_name
        self.now = now
        self.role = "editor"
        self.pretty_permalinks = True
        self.no_route_page = "json"  # what /wp-json/ answers with permalinks off: json | html
        self.reports_password_errors = False  # True: incorrect_password, as with some plugins
        self.passes_authorization = True  # False: the web server drops the Authorization header
        self.posts: dict[int, dict[str, Any]] = {}
        self.media: dict[int, dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # uploads/<path> -> (bytes, type)
        self._next_id = 100
        self._crashes = 0

    # -- test controls ---------------------------------------------------------------------
    def permalinks_off(self, page: str = "json") -> None:
        """/wp-json/ stops working: WordPress's rest_no_route (json) or a theme 404 (html)."""
        self.pretty_permalinks, self.no_route_page = False, page

    def seed_post(self, *, slug: str, title: str, content: str = "<p>Last year.</p>") -> dict:
        """An article already on the site (made by someone else, a year ago)."""
        with self.lock:
            year_ago = self.now() - dt.timedelta(days=365)
            body = {"title": title, "slug": slug, "content": content, "status": "publish"}
            return self._store_post({**body, "date_gmt": year_ago.isoformat()})

    def crash_after_create(self, times: int = 1) -> None:
        """The next creates are stored, then answered 500 (a plugin's save hook dies)."""
        self._crashes = times

    def waf_rate_limit(self, times: int = 1, retry_after: int = 30) -> None:
        """A host firewall answers 429 with an HTML page and Retry-After."""
        page = b"<html><body><h1>429 Too Many Requests</h1></body></html>"
        headers = {"Content-Type": "text/html", "Retry-After": str(retry_after)}
        self.inject(Fault(Response(429, page, headers)), times)

    def uploads(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and self._route(r) == "/wp/v2/media"]

    def creates(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and self._route(r) == "/wp/v2/posts"]

    # -- routing -----------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        if request.method == "GET" and request.path.startswith(UPLOADS):
            return self._uploaded_file(request.path.removeprefix(UPLOADS))
        route = self._route(request)
        if route is None:
            return self._not_found()
        user, refusal = self._authenticate(request)
        if refusal is not None and self.reports_password_errors:
            return refusal
        for methods, pattern, handler in self._routes():
            match = re.fullmatch(pattern, route)
            if match and request.method in methods:
                return handler(request, user, *match.groups())
        return wp_error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    def _routes(self) -> list[tuple[tuple[str, ...], str, Callable[..., Response]]]:
        return [
            (("GET",), r"/wp/v2/users/me", self._me),
            (("GET",), r"/wp/v2/posts", self._list_posts),
            (("POST",), r"/wp/v2/posts", self._create_post),
            (("POST",), r"/wp/v2/media", self._upload),
            (("POST", "PUT", "PATCH"), r"/wp/v2/media/(\d+)", self._update_media),
        ]

    def _route(self, request: Request) -> str | None:
        if request.path == "/" and "rest_route" in request.query:
            return unquote(request.query["rest_route"][0]).rstrip("/") or "/"
        if request.path.startswith("/wp-json/") and self.pretty_permalinks:
            return request.path.removeprefix("/wp-json").rstrip("/") or "/"
        return None

    def _not_found(self) -> Response:
        if self.no_route_page == "json":
            return wp_error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
        page = (
            b"<!doctype html><title>Page not found</title><h1>Oops! That page can't be found.</h1>"
        )
        return Response(404, page, {"Content-Type": "text/html; charset=UTF-8"})

    def _authenticate(self, request: Request) -> tuple[str | None, Response | None]:
        """(user, refusal): a refused password leaves the request anonymous."""
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic ") or not self.passes_authorization:
            return None, None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, wp_error(401, "invalid_username", "Unknown username.")
        if user != self.username:
            message = "Unknown username. Check again or try your email address."
            return None, wp_error(401, "invalid_username", message)
        if _alnum(password) != _alnum(self.app_password):
            message = "The provided password is an invalid application password."
            return None, wp_error(401, "incorrect_password", message)
        return user, None

    def _can(self, user: str | None, capability: str) -> bool:
        return user is not None and capability in ROLES[self.role]

    def _denied(self, user: str | None, code: str, message: str) -> Response:
        return wp_error(401 if user is None else 403, code, message)

    # -- users -------------------------------------------------------------------------------
    def _me(self, request: Request, user: str | None) -> Response:
        if user is None:
            return wp_error(401, "rest_not_logged_in", "You are not currently logged in.")
        answer: dict[str, Any] = {"id": 2, "name": self.display_name, "slug": self.username}
        if request.query.get("context") == ["edit"]:
            answer["roles"] = [self.role]
            answer["capabilities"] = dict.fromkeys(ROLES[self.role], True)
        return Response(200, answer)

    # -- posts -------------------------------------------------------------------------------
    def _list_posts(self, request: Request, user: str | None) -> Response:
        statuses = _csv(request.query, "status") or ["publish"]
        wrong = [s for s in statuses if s not in LIST_STATUSES]
        if wrong:
            return invalid_params(
                {"status": f"status[0] is not one of {', '.join(LIST_STATUSES)}."}
            )
        if any(s != "publish" for s in statuses) and not self._can(user, "edit_posts"):
            return invalid_params({"status": "Status is forbidden."})
        edit = request.query.get("context") == ["edit"]
        if edit and not self._can(user, "edit_posts"):
            message = "Sorry, you are not allowed to edit posts in this post type."
            return self._denied(user, "rest_forbidden_context", message)
        per_page = (request.query.get("per_page") or ["10"])[-1]
        if not per_page.isdigit() or not 1 <= int(per_page) <= 100:
            return invalid_params({"per_page": "per_page must be between 1 (inclusive) and 100"})
        slugs = _csv(request.query, "slug")
        search = (request.query.get("search") or [""])[-1]
        found = [
            self._post_json(post, edit)
            for post in sorted(self.posts.values(), key=lambda p: p["date_gmt"], reverse=True)
            if (statuses == ["any"] or post["status"] in statuses)
            and (not slugs or post["slug"] in slugs)
            and _matches(search, post)
        ]
        total = len(found)
        pages = max(1, -(-total // int(per_page)))
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        return Response(200, found[: int(per_page)], headers)

    def _create_post(self, request: Request, user: str | None) -> Response:
        body = _body(request)
        if isinstance(body, Response):
            return body
        invalid = _invalid_post_params(body)
        if invalid:
            return invalid_params(invalid)
        if not self._can(user, "edit_posts"):
            message = "Sorry, you are not allowed to create posts as this user."
            return self._denied(user, "rest_cannot_create", message)
        status = body.get("status", "draft")
        if status in ("publish", "future", "private") and not self._can(user, "publish_posts"):
            message = "Sorry, you are not allowed to publish posts in this post type."
            return self._denied(user, "rest_cannot_publish", message)
        post = self._store_post(body)
        if self._crashes:
            self._crashes -= 1
            return wp_error(500, "internal_server_error", CRITICAL_ERROR)
        location = f"{self.base_url}/wp-json/wp/v2/posts/{post['id']}"
        return Response(201, self._post_json(post, edit=False), {"Location": location})

    def _store_post(self, body: dict[str, Any]) -> dict[str, Any]:
        when = _parse_date(body["date_gmt"]) if body.get("date_gmt") else self.now()
        status = body.get("status", "draft")
        ahead = (when - self.now()).total_seconds()
        if status == "publish" and ahead >= 60:
            status = "future"  # wp_insert_post: a publish date in the future schedules
        elif status == "future" and ahead < 60:
            status = "publish"
        media = int(body.get("featured_media") or 0)
        post = {
            "id": self._new_id(),
            "date_gmt": when.replace(tzinfo=None).isoformat(timespec="seconds"),
            "date": when.astimezone(SITE_ZONE).replace(tzinfo=None).isoformat(timespec="seconds"),
            "status": status,
            "slug": self._unique_slug(sanitize_title(body.get("slug") or _raw(body.get("title")))),
            "title": _raw(body.get("title")),
            "content": _raw(body.get("content")),
            "excerpt": _raw(body.get("excerpt")),
            "featured_media": media if media in self.media else 0,
            "comment_status": body.get("comment_status", "open"),
        }
        self.posts[post["id"]] = post
        return post

    def _post_json(self, post: dict[str, Any], edit: bool) -> dict[str, Any]:
        answer = {
            "id": post["id"],
            "date": post["date"],
            "date_gmt": post["date_gmt"],
            "guid": {"rendered": f"{self.base_url}/?p={post['id']}"},
            "slug": post["slug"],
            "status": post["status"],
            "type": "post",
            "link": self._link(post),
            "title": {"rendered": post["title"]},
            "content": {"rendered": post["content"], "protected": False},
            "excerpt": {"rendered": f"<p>{post['excerpt']}</p>\n", "protected": False},
            "author": 2,
            "featured_media": post["featured_media"],
            "comment_status": post["comment_status"],
        }
        if edit:
            for field in ("title", "content", "excerpt"):
                answer[field]["raw"] = post[field]
        return answer

    def _link(self, post: dict[str, Any]) -> str:
        # get_permalink gives scheduled and unpublished posts the ?p= form.
        if self.pretty_permalinks and post["status"] in ("publish", "private"):
            return f"{self.base_url}/{post['slug']}/"
        return f"{self.base_url}/?p={post['id']}"

    def _unique_slug(self, slug: str) -> str:
        taken = {post["slug"] for post in self.posts.values()}
        candidate, suffix = slug, 2
        while candidate in taken:
            candidate, suffix = f"{slug}-{suffix}", suffix + 1
        return candidate

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- media -------------------------------------------------------------------------------
    def _upload(self, request: Request, user: str | None) -> Response:
        if not self._can(user, "upload_files"):
            message = "Sorry, you are not allowed to create posts as this user."
            return self._denied(user, "rest_cannot_create", message)
        received = _received_file(request)
        if isinstance(received, Response):
            return received
        filename, data = received
        mime = _allowed_type(filename, data)
        if mime is None:
            message = "Sorry, you are not allowed to upload this file type."
            return wp_error(500, "rest_upload_sideload_error", message)
        attachment = self._store_media(filename, data, mime)
        location = f"{self.base_url}/wp-json/wp/v2/media/{attachment['id']}"
        return Response(201, attachment, {"Location": location})

    def _store_media(self, filename: str, data: bytes, mime: str) -> dict[str, Any]:
        name = re.sub(r"\s+", "-", filename)
        folder = self.now().strftime("%Y/%m")
        used = {m["media_details"]["file"] for m in self.media.values()}
        stem, dot, ext = name.rpartition(".")
        count = 1
        while f"{folder}/{name}" in used:  # wp_unique_filename
            name, count = f"{stem}-{count}{dot}{ext}", count + 1
        media_id = self._new_id()
        attachment = {
            "id": media_id,
            "slug": sanitize_title(stem),
            "type": "attachment",
            "link": f"{self.base_url}/{sanitize_title(stem)}/",
            "title": {"rendered": stem},
            "alt_text": "",
            "caption": {"rendered": ""},
            "media_type": "image" if mime.startswith("image/") else "file",
            "mime_type": mime,
            "source_url": f"{self.base_url}/wp-content/uploads/{folder}/{name}",
            "media_details": {"file": f"{folder}/{name}", "filesize": len(data)},
        }
        self.media[media_id] = attachment
        self.files[f"{folder}/{name}"] = (data, mime)
        return attachment

    def _uploaded_file(self, path: str) -> Response:
        """The web server serving wp-content/uploads/ (WordPress is not involved)."""
        found = self.files.get(unquote(path))
        if found is None:
            return Response(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})
        return Response(200, found[0], {"Content-Type": found[1]})

    def _update_media(self, request: Request, user: str | None, media_id: str) -> Response:
        attachment = self.media.get(int(media_id))
        if attachment is None:
            return wp_error(404, "rest_post_invalid_id", "Invalid post ID.")
        if not self._can(user, "upload_files"):
            message = "Sorry, you are not allowed to edit this post."
            return self._denied(user, "rest_cannot_edit", message)
        body = _body(request)
        if isinstance(body, Response):
            return body
        if "title" in body:
            attachment["title"] = {"rendered": _raw(body["title"])}
        for field in ("alt_text", "caption", "description"):
            if field in body:
                attachment[field] = body[field]
        return Response(200, attachment)


# -- request parsing (module level: pure) -----------------------------------------------
def _alnum(password: str) -> str:
    return re.sub(r"[^a-z\d]", "", password, flags=re.IGNORECASE)


def _csv(query: dict[str, list[str]], name: str) -> list[str]:
    values = query.get(name, []) + query.get(f"{name}[]", [])
    return [part for value in values for part in value.split(",") if part]


def _matches(search: str, post: dict[str, Any]) -> bool:
    """WP_Query's search: every term (split on spaces, commas and "+", or a quoted phrase)
    appears, case-insensitively, in the raw title, excerpt or content; "-term" excludes."""
    terms = re.findall(r'"[^"]*"?|[^\s",+]+', search)
    haystack = " ".join((post["title"], post["excerpt"], post["content"])).casefold()
    for term in (t.strip('"') for t in terms):
        if not term:
            continue
        if term.startswith("-") and len(term) > 1:
            if term[1:].casefold() in haystack:
                return False
        elif term.casefold() not in haystack:
            return False
    return True


def _raw(value: Any) -> str:
    return str(value.get("raw", "")) if isinstance(value, dict) else str(value or "")


def _body(request: Request) -> dict[str, Any] | Response:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = request.json()
        except ValueError:
            return wp_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        return body if isinstance(body, dict) else {}
    return request.form()[0]


def _parse_date(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _invalid_post_params(body: dict[str, Any]) -> dict[str, str]:
    invalid: dict[str, str] = {}
    if "status" in body and body["status"] not in POST_STATUSES:
        invalid["status"] = f"status is not one of {', '.join(POST_STATUSES)}."
    if "comment_status" in body and body["comment_status"] not in ("open", "closed"):
        invalid["comment_status"] = "comment_status is not one of open, closed."
    media = body.get("featured_media")
    if media is not None and not re.fullmatch(r"\d+", str(media)):
        invalid["featured_media"] = "featured_media is not of type integer."
    for field in ("date_gmt", "date"):
        if body.get(field):
            try:
                _parse_date(str(body[field]))
            except ValueError:
                invalid[field] = "Invalid date."
    return invalid


def _received_file(request: Request) -> tuple[str, bytes] | Response:
    """(filename, bytes) of a raw or multipart upload, checked as upload_from_data does."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        upload = request.form()[1].get("file")
        if upload is None:
            return wp_error(400, "rest_upload_no_data", "No data supplied.")
        return upload[0], upload[1]
    if not request.body:
        return wp_error(400, "rest_upload_no_data", "No data supplied.")
    if not content_type:
        return wp_error(400, "rest_upload_no_content_type", "No Content-Type supplied.")
    disposition = request.headers.get("content-disposition", "")
    if not disposition:
        return wp_error(
            400, "rest_upload_no_content_disposition", "No Content-Disposition supplied."
        )
    match = re.search(r';\s*filename\s*=\s*"?([^";]+)"?', disposition)
    if not match:
        message = (
            "Invalid Content-Disposition supplied. Content-Disposition needs to be formatted "
            'as `attachment; filename="image.png"` or similar.'
        )
        return wp_error(400, "rest_upload_invalid_disposition", message)
    md5 = request.headers.get("content-md5")
    if md5 and md5.strip() != hashlib.md5(request.body).hexdigest():
        return wp_error(412, "rest_upload_hash_mismatch", "Content hash did not match expected.")
    return match.group(1).strip(), request.body


def _allowed_type(filename: str, data: bytes) -> str | None:
    """wp_check_filetype_and_ext: the extension must be allowed and match image bytes."""
    mime = ALLOWED_TYPES.get(filename.rpartition(".")[2].lower()) if "." in filename else None
    if mime is None:
        return None
    sniffed = next((m for magic, m in MAGIC.items() if data.startswith(magic)), None)
    if mime.startswith("image/") and sniffed is None:
        return None
    return sniffed or mime
