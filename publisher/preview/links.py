"""Addresses of the preview's pages and files: served live, or exported as files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from publisher.naming import file_name_of, item_file_name


class ServerLinks:
    """Addresses under the running preview server."""

    def __init__(self, root: Path, lang: str = "vi") -> None:
        self.root = root.resolve()
        self.suffix = "" if lang == "vi" else f"?lang={lang}"

    def index(self) -> str:
        return "/" + self.suffix

    def calendar(self) -> str:
        return "/calendar" + self.suffix

    def status(self) -> str:
        return "/status" + self.suffix

    def item(self, item_id: str) -> str:
        return f"/items/{quote(item_id)}{self.suffix}"

    def portal(self, item_id: str) -> str:
        return f"/portal/{quote(item_id)}"

    def static(self, name: str) -> str:
        return f"/static/{name}"

    def media(self, path: str) -> str:
        relative = Path(path).resolve().relative_to(self.root).as_posix()
        return f"/files/{quote(relative)}"


class ExportLinks:
    """Relative addresses between exported files; `media` collects what must be copied."""

    def __init__(self, depth: int = 0) -> None:
        self.up = "../" * depth
        self.files: set[str] = set()

    def at_depth(self, depth: int) -> ExportLinks:
        links = ExportLinks(depth)
        links.files = self.files  # one shared set: every page's media gets copied
        return links

    def index(self) -> str:
        return f"{self.up}index.html"

    def calendar(self) -> str:
        return f"{self.up}calendar.html"

    def status(self) -> str:
        return f"{self.up}status.html"

    def item(self, item_id: str) -> str:
        return f"{self.up}items/{quote(item_file_name(item_id))}.html"

    def portal(self, item_id: str) -> str:
        return f"{self.up}portal/{quote(item_file_name(item_id))}.html"

    def static(self, name: str) -> str:
        return f"{self.up}static/{name}"

    def media(self, path: str) -> str:
        self.files.add(path)
        return f"{self.up}files/{quote(file_name_of(path))}"
