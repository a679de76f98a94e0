"""The preview web app (Starlette): pages rendered from the same posts publishing sends,
reloaded in the browser within a second of a saved change (watchdog + server-sent events).

It answers only to the address it listens on (a page elsewhere cannot rebind its own name
to it), serves only the media the pages show (never `.env`, hidden files, the state store
or active content), sends a strict Content-Security-Policy with every answer, and draws
pages off the event loop, so a slow page holds up neither static files nor other pages.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import ipaddress
import re
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from functools import cache, partial
from importlib import resources
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publisher.catalog import load_catalog
from publisher.content.model import ContentItem
from publisher.errors import StoreError
from publisher.preview.i18n import translator
from publisher.preview.links import ServerLinks
from publisher.preview.pages import LANGUAGES, render_page
from publisher.preview.views import PreviewData
from publisher.store.database import Store, open_workspace_store
from publisher.store.deliveries import utcnow
from publisher.watching import Debounced, watch_workspace
from publisher.workspace import Workspace

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

T = TypeVar("T")
RELOAD_DEBOUNCE_SECONDS = 0.25
RENDER_LIMIT_SECONDS = 30.0  # then a "still preparing" page; the render goes on meanwhile
RENDER_THREADS = 4  # page renders waiting at once; static files keep the default threads
RETRY_SECONDS = 3
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

# Pages use only /static/ scripts and styles, /files/ images, the event stream and the
# portal mock-up's frame; nothing inline, nothing from the network.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'none'"
)
# A served file is never a document that could act: opened on its own, it is sandboxed.
FILE_POLICY = (
    "default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'self'; sandbox"
)
SECURITY_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class PreviewState:
    """The current reading of the workspace, and a version bumped on every reload."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.version = 0
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()  # shared by every reading: see PreviewData.build
        self.store_problem: str | None = None  # why the state store cannot be read, if so
        self.changed = Debounced(self.reload, RELOAD_DEBOUNCE_SECONDS)  # editors save in bursts
        self.reload()

    def reload(self) -> None:
        catalog = load_catalog(self.workspace)
        data = PreviewData.build(catalog, self._deliveries(), self._render_lock)
        with self._lock:
            self.data = data
            self.version += 1

    def latest(self) -> PreviewData:
        """The data of the last reload, as it is."""
        with self._lock:
            return self.data

    def refresh_deliveries(self, data: PreviewData) -> None:
        """Read the deliveries again: `run` may be publishing meanwhile."""
        data.deliveries = {(d.item_id, d.channel): d for d in self._deliveries()}

    def pauses(self) -> dict:
        return self._read(lambda store: store.deliveries.pauses(), {})

    def _deliveries(self) -> list:
        return self._read(lambda store: store.deliveries.all(), [])

    def _read(self, what: Callable[[Store], T], otherwise: T) -> T:
        """What the store says; a damaged store is shown on the pages, never a crash."""
        try:
            store = open_workspace_store(self.workspace, verify=False)
            try:
                found = what(store)
            finally:
                store.close()
        except StoreError as exc:
            self.store_problem = str(exc)
            return otherwise
        self.store_problem = None
        return found


def create_app(
    state: PreviewState,
    live_reload: bool = True,
    host: str = "127.0.0.1",
    render_limit: float = RENDER_LIMIT_SECONDS,
) -> Starlette:
    """The preview of `state`, answering only to `host` (the address it listens on)."""
    root = state.workspace.root
    renders = anyio.CapacityLimiter(RENDER_THREADS)

    def language(request: Request) -> str:
        lang = request.query_params.get("lang", "vi")
        return lang if lang in LANGUAGES else "vi"

    def links(request: Request) -> ServerLinks:
        return ServerLinks(root, language(request))

    def page(
        request: Request, data: PreviewData, template: str, context: Callable[[], dict]
    ) -> Callable[[], str]:
        """What makes the page (in a worker thread): deliveries read again, then `template`."""
        lang = language(request)
        other = "en" if lang == "vi" else "vi"
        other_url = request.url.path + ("" if other == "vi" else "?lang=en")

        def make() -> str:
            state.refresh_deliveries(data)
            return render_page(
                template,
                context(),
                links=ServerLinks(root, lang),
                lang=lang,
                other_lang_url=other_url,
                live_reload=live_reload,
                workspace_name=root.name,
                generated_at=utcnow().astimezone(data.zone).strftime("%d/%m/%Y %H:%M"),
            )

        return make

    async def answer(
        request: Request,
        data: PreviewData,
        items: Sequence[ContentItem],
        make: Callable[[], str],
        headers: dict[str, str] | None = None,
    ) -> Response:
        """The page `make` builds once the posts of `items` are drawn. Drawing them may take
        long: past `render_limit` a "still preparing" page answers while it goes on."""
        if not data.rendered(items):
            with anyio.move_on_after(render_limit):
                await anyio.to_thread.run_sync(
                    data.prepare, items, abandon_on_cancel=True, limiter=renders
                )
            if not data.rendered(items):
                return _preparing(language(request))
        return HTMLResponse(await run_in_threadpool(make), headers=headers)

    async def index(request: Request) -> Response:
        data = state.latest()
        make = page(request, data, "index.html", partial(data.index, links(request)))
        return await answer(request, data, data.catalog.items, make)

    async def item(request: Request) -> Response:
        data = state.latest()
        found = data.catalog.item(request.path_params["item_id"])
        if found is None:  # maybe mid-edit: keep listening, so fixing the file brings it back
            hook = ' data-live-reload="/events"' if live_reload else ""
            return HTMLResponse(_NOT_FOUND.format(reload=hook), status_code=404)
        make = page(request, data, "item.html", partial(data.item, found, links(request)))
        return await answer(request, data, [found], make)

    async def portal(request: Request) -> Response:
        data = state.latest()
        found = data.catalog.item(request.path_params["item_id"])
        if found is None or "portal" not in found.channels:
            return HTMLResponse("<h1>404</h1>", status_code=404)
        make = partial(data.portal_page, found, links(request))
        return await answer(
            request, data, [found], make, {"Content-Security-Policy": portal_policy()}
        )

    async def calendar(request: Request) -> Response:
        data = state.latest()
        make = page(request, data, "calendar.html", partial(data.calendar, links(request)))
        return await answer(request, data, [], make)

    async def status(request: Request) -> Response:
        data = state.latest()

        def context() -> dict:
            found = data.status(links(request), state.pauses())
            return found | {"store_problem": state.store_problem}

        make = page(request, data, "status.html", context)
        return await answer(request, data, [], make)

    async def files(request: Request) -> Response:
        """Only a file a page shows: looked up by its exact path, never opened by any other."""
        target = state.latest().served_file(request.path_params["path"])
        if target is None or not target.is_file():
            return Response(status_code=404)
        return FileResponse(target, headers={"Content-Security-Policy": FILE_POLICY})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        resource = resources.files("publisher") / "static" / name
        if "/" in name or not resource.is_file():
            return Response(status_code=404)
        with resources.as_file(resource) as path:
            return FileResponse(path)

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            seen = state.version
            yield ": connected\n\n"
            while not await request.is_disconnected():
                await asyncio.sleep(0.1)
                if state.version != seen:
                    seen = state.version
                    yield "data: reload\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/items/{item_id:path}", item),
            Route("/portal/{item_id:path}", portal),
            Route("/calendar", calendar),
            Route("/status", status),
            Route("/files/{path:path}", files),
            Route("/static/{name}", static),
            Route("/events", events),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                TrustedHostMiddleware, allowed_hosts=allowed_hosts(host), www_redirect=False
            ),
        ],
    )


def allowed_hosts(host: str) -> list[str]:
    """The Host names the preview answers to: the address it listens on, and the loopback
    names when that is a loopback or wildcard address.

    Ports are not compared (TrustedHostMiddleware ignores them): a browser always names the
    port it connected to, so a rebound name arrives with ours anyway, and an SSH tunnel
    (another port) keeps working.
    """
    name = host.strip("[]").lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        hosts = [name]
        loopback = name == "localhost"
    else:
        hosts = [f"[{name}]" if address.version == 6 else name]
        loopback = address.is_loopback or address.is_unspecified
    return list(dict.fromkeys(hosts + list(LOOPBACK_HOSTS if loopback else ())))


class SecurityHeaders:
    """Adds the security headers to every answer; a route may set its own policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


@cache
def portal_policy() -> str:
    """The portal page's policy: its template's own <style> (by hash), images from /files/."""
    template = resources.files("publisher") / "templates" / "portal" / "article.html"
    styles = re.findall(r"<style>(.*?)</style>", template.read_text(encoding="utf-8"), re.S)
    digests = (base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in styles)
    hashes = " ".join(f"'sha256-{digest}'" for digest in digests)
    return (
        f"default-src 'none'; style-src {hashes}; img-src 'self'; frame-ancestors 'self'; "
        "base-uri 'none'; form-action 'none'"
    )


def _preparing(lang: str) -> HTMLResponse:
    """A page that reloads itself while its posts are still being drawn."""
    t = translator(lang)
    page = _PREPARING.format(
        lang=lang,
        seconds=RETRY_SECONDS,
        title=html.escape(t("app.preparing")),
        help=html.escape(t("app.preparing_help")),
    )
    headers = {"Retry-After": str(RETRY_SECONDS), "Cache-Control": "no-store"}
    return HTMLResponse(page, status_code=503, headers=headers)


_PREPARING = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
    '<meta http-equiv="refresh" content="{seconds}"><title>{title}</title>'
    '<link rel="stylesheet" href="/static/preview.css"></head>'
    '<body><main class="main"><h1>{title}…</h1><p class="lede">{help}</p></main></body></html>'
)
_NOT_FOUND = (
    '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>404</title></head>'
    "<body{reload}><p>Không tìm thấy nội dung này; có thể tệp đang có lỗi (chạy "
    '<code>publisher check</code>). <a href="/">Tất cả nội dung</a></p>'
    '<script src="/static/preview.js"></script></body></html>'
)


def watch(state: PreviewState) -> BaseObserver:
    """Reload on any change under content/, channels/ or to schedules.yaml."""
    return watch_workspace(state.workspace, state.changed)
