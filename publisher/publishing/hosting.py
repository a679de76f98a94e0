"""Media a platform fetches by address: hosted first, where it will really be served.

Zalo takes a cover and body images only as public URLs. Its render asks for each file
with a HOST call (`Call(step, "HOST", "media", {}, {"file": path})`) and refers to the
answer's address ("$host_0.url"). The portal is the agency's home on the web, so it hosts
them: uploaded to the WordPress media library when the portal is a live WordPress site
(the address WordPress answers, which really serves the file), else copied into the
static site's `media/` folder at the portal's `base_url`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

from publisher.adapters.base import HOST_METHOD, Call, Post
from publisher.publishing.model import PlatformClient, StepLog


@runtime_checkable
class MediaHost(Protocol):
    """Puts a file where the public can fetch it; answers at least its {"url"}."""

    def host(self, path: Path) -> dict[str, Any]: ...


class StaticMediaHost:
    """The static site's `media/` folder, served at `<base_url>/media/<name>`."""

    def __init__(self, media_dir: Path, base_url: str) -> None:
        self.media_dir = media_dir
        self.base_url = base_url.rstrip("/")

    def host(self, path: Path) -> dict[str, Any]:
        copy_once(path, self.media_dir / path.name)
        return {"url": f"{self.base_url}/media/{quote(path.name)}"}


class HostingClient:
    """A platform's client whose HOST calls go to the media host instead."""

    def __init__(self, inner: PlatformClient, media_host: MediaHost) -> None:
        self.inner = inner
        self.media_host = media_host
        self.platform = inner.platform

    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        if call.method == HOST_METHOD:
            return self.media_host.host(Path(call.files["file"]))
        return self.inner.run(call, payload, steps)

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        return self.inner.receipt(post, results)

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        return self.inner.find_existing(post, steps)


def hosts_media(post: Post) -> bool:
    return any(call.method == HOST_METHOD for call in post.calls)


def copy_once(source: Path, target: Path) -> None:
    """Copy unless the same-named file of the same size is there (names carry content hashes)."""
    import shutil

    if target.exists() and target.stat().st_size == source.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
