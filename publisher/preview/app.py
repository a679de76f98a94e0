"""The preview web app (Starlette): pages rendered from the same posts publishing sends,
reloaded in the browser within a second of a saved change (watchdog + server-sent events).
It serves only the media the pages show (never `.env`, hidden files, the state store or
active content)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from importlib import resources
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

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
# A served file is never a document that could act: opened on its own, it is sandboxed.
FILE_POLICY = (
    "default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'self'; sandbox"
)


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


def create_app(state: PreviewState, live_reload: bool = True) -> Starlette:
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
        return HTMLResponse(data.portal_page(found, links(request)))

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
        ]
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
