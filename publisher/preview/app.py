"""The preview web app (Starlette): pages rendered from the same posts publishing sends,
reloaded in the browser within a second of a saved change (watchdog + server-sent events).

It answers only to the address it listens on (a page elsewhere cannot rebind its own name
to it), serves only the media the pages show (never `.env`, hidden files, the state store
or active content) and sends a strict Content-Security-Policy with every answer.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import re
import threading
from collections.abc import AsyncIterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from publisher.catalog import load_catalog
from publisher.preview.links import ServerLinks
from publisher.preview.pages import LANGUAGES, render_page
from publisher.preview.views import PreviewData
from publisher.store.database import open_workspace_store
from publisher.store.deliveries import utcnow
from publisher.watching import Debounced, watch_workspace
from publisher.workspace import Workspace

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

RELOAD_DEBOUNCE_SECONDS = 0.25
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
        self.changed = Debounced(self.reload, RELOAD_DEBOUNCE_SECONDS)  # editors save in bursts
        self.reload()

    def reload(self) -> None:
        catalog = load_catalog(self.workspace)
        data = PreviewData.build(catalog, self._deliveries())
        with self._lock:
            self.data = data
            self.version += 1

    def latest(self) -> PreviewData:
        """The data of the last reload, as it is."""
        with self._lock:
            return self.data

    def current(self) -> PreviewData:
        """The data, with deliveries read again: `run` may be publishing meanwhile."""
        data = self.latest()
        data.deliveries = {(d.item_id, d.channel): d for d in self._deliveries()}
        return data

    def pauses(self) -> dict:
        store = open_workspace_store(self.workspace)
        try:
            return store.deliveries.pauses()
        finally:
            store.close()

    def _deliveries(self) -> list:
        store = open_workspace_store(self.workspace)
        try:
            return store.deliveries.all()
        finally:
            store.close()


def create_app(state: PreviewState, live_reload: bool = True, host: str = "127.0.0.1") -> Starlette:
    """The preview of `state`, answering only to `host` (the address it listens on)."""
    root = state.workspace.root

    def page(request: Request, template: str, context: dict) -> HTMLResponse:
        lang = request.query_params.get("lang", "vi")
        lang = lang if lang in LANGUAGES else "vi"
        other = "en" if lang == "vi" else "vi"
        path = request.url.path + ("" if other == "vi" else "?lang=en")
        html = render_page(
            template,
            context,
            links=ServerLinks(root, lang),
            lang=lang,
            other_lang_url=path,
            live_reload=live_reload,
            workspace_name=root.name,
            generated_at=utcnow().astimezone(state.current().zone).strftime("%d/%m/%Y %H:%M"),
        )
        return HTMLResponse(html)

    def links(request: Request) -> ServerLinks:
        return ServerLinks(root, request.query_params.get("lang", "vi"))

    async def index(request: Request) -> Response:
        return page(request, "index.html", state.current().index(links(request)))

    async def item(request: Request) -> Response:
        data = state.current()
        found = data.catalog.item(request.path_params["item_id"])
        if found is None:  # maybe mid-edit: keep listening, so fixing the file brings it back
            hook = ' data-live-reload="/events"' if live_reload else ""
            return HTMLResponse(_NOT_FOUND.format(reload=hook), status_code=404)
        return page(request, "item.html", data.item(found, links(request)))

    async def portal(request: Request) -> Response:
        data = state.current()
        found = data.catalog.item(request.path_params["item_id"])
        if found is None or "portal" not in found.channels:
            return HTMLResponse("<h1>404</h1>", status_code=404)
        return HTMLResponse(
            data.portal_page(found, links(request)),
            headers={"Content-Security-Policy": portal_policy()},
        )

    async def calendar(request: Request) -> Response:
        return page(request, "calendar.html", state.current().calendar(links(request)))

    async def status(request: Request) -> Response:
        return page(request, "status.html", state.current().status(links(request), state.pauses()))

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


_NOT_FOUND = (
    '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>404</title></head>'
    "<body{reload}><p>Không tìm thấy nội dung này; có thể tệp đang có lỗi (chạy "
    '<code>publisher check</code>). <a href="/">Tất cả nội dung</a></p>'
    '<script src="/static/preview.js"></script></body></html>'
)


def watch(state: PreviewState) -> BaseObserver:
    """Reload on any change under content/, channels/ or to schedules.yaml."""
    return watch_workspace(state.workspace, state.changed)
