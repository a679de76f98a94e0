"""A plain web server on 127.0.0.1 serving a folder, as a portal serves its media.

Used as the media host of Zalo's images in tests (the fake Zalo fetches what an article
refers to): `host(path)` copies a file into the folder and answers its address, as the
static site's media host does; any file put in the folder is served by its path.
"""

from __future__ import annotations

import mimetypes
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from .base import FakePlatform, Request, Response


class FakeWebHost(FakePlatform):
    """GET /<path> answers the file at `folder/<path>`, with its type; else 404."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def host(self, path: Path) -> dict[str, Any]:
        """A MediaHost: the file copied into `media/`, and its address."""
        target = self.folder / "media" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return {"url": f"{self.base_url}/media/{quote(path.name)}"}

    def route(self, request: Request) -> Response:
        file = (self.folder / unquote(request.path).lstrip("/")).resolve()
        inside = file.is_relative_to(self.folder.resolve())
        if request.method != "GET" or not inside or not file.is_file():
            return Response(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return Response(200, file.read_bytes(), {"Content-Type": kind})
