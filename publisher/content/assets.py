"""Resolving the files an item refers to, without ever leaving the workspace.

A reference is relative to the item's folder. Absolute paths, `..` that climbs out of the
workspace and symlinks pointing outside are refused, as is anything in the workspace's
private parts (`.publisher/`, `.git/`, `.env`). Web addresses are never downloaded: nothing
here opens a network connection. Only regular files are used (never a pipe or a device,
which could block a read forever).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit

from publisher.content.probe import (
    ImageInfo,
    VideoInfo,
    is_image,
    is_video,
    probe_image,
    probe_video,
)

AssetRole = Literal["media", "cover", "image", "file"]
_PRIVATE_PARTS = frozenset({".publisher", ".git", ".env"})
_NON_FILE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_WEB_SCHEMES = frozenset({"http", "https"})
_SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "data"})
_VECTOR_SUFFIXES = frozenset({".svg", ".svgz", ".eps", ".ai", ".pdf"})


class AssetError(Exception):
    """A reference that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Asset:
    """A local file that belongs to an item."""

    path: Path
    rel: str
    role: AssetRole
    size: int
    sha256: str
    image: ImageInfo | None = None
    video: VideoInfo | None = None
    alt: str = ""
    channel: str | None = None


def split_reference(reference: str) -> SplitResult | None:
    """`urlsplit`, or None for text no browser could read as an address (`http://[x`)."""
    try:
        return urlsplit(reference)
    except ValueError:
        return None


def is_external(reference: str) -> bool:
    """True for web, mail and phone links and in-page anchors: nothing on disk to check."""
    parts = split_reference(reference)
    return parts is not None and (
        parts.scheme.lower() in _NON_FILE_SCHEMES or reference.startswith("#")
    )


def is_remote(reference: str) -> bool:
    """A web address, including a scheme-relative one (`//host/x.png`)."""
    parts = split_reference(reference)
    return parts is not None and (
        parts.scheme.lower() in _WEB_SCHEMES or (not parts.scheme and bool(parts.netloc))
    )


def reference_path(reference: str) -> str:
    """The file path a local reference names (its %-escapes decoded)."""
    parts = split_reference(reference)
    return unquote(parts.path) if parts is not None else reference


def resolve_reference(reference: str, base_dir: Path, workspace_root: Path) -> Path:
    """The workspace file `reference` names, relative to `base_dir`, or AssetError."""
    parts = split_reference(reference)
    if parts is None:
        raise AssetError(f"'{_short(reference)}' is not a valid file name or address")
    scheme = parts.scheme.lower()
    if scheme in _WEB_SCHEMES or (not scheme and parts.netloc):
        raise AssetError(
            f"'{_short(reference)}' is a web address: files are never downloaded; save the "
            "file in the item's folder and write its file name"
        )
    if scheme in _SCRIPT_SCHEMES:
        raise AssetError(f"'{_short(reference)}': {scheme}: addresses are not allowed; use a file")
    if scheme == "file":
        raise AssetError(
            f"'{_short(reference)}': only local files inside the workspace may be used, "
            "written as a path relative to the item's folder, not file: addresses"
        )
    if len(scheme) > 1:
        raise AssetError(
            f"'{_short(reference)}': only files inside the workspace may be used here, "
            f"not {scheme}: addresses"
        )
    raw_path = unquote(parts.path)
    if not raw_path:
        raise AssetError("empty file reference")
    if raw_path.startswith(("/", "\\")) or PurePosixPath(raw_path).is_absolute() or scheme:
        raise AssetError(
            f"'{_short(reference)}' is an absolute path; use a path relative to the item's folder"
        )
    if "\\" in raw_path:
        raise AssetError(
            f"'{_short(reference)}': separate folders with '/', not '\\' "
            "(for example anh/bia.jpg), and stay inside the item's folder"
        )
    if "\x00" in raw_path:
        raise AssetError(f"'{_short(reference)}' contains a NUL character (%00)")
    target = _resolved(base_dir / raw_path, reference)
    root = _home(target, workspace_root)
    if root is None:
        raise AssetError(
            f"'{_short(reference)}' points outside the workspace; copy the file into content/"
        )
    if _PRIVATE_PARTS.intersection(target.relative_to(root).parts):
        raise AssetError(f"'{_short(reference)}' points into a private part of the workspace")
    mode = _mode(target, reference)
    if mode is None:
        raise AssetError(
            f"'{_short(reference)}' does not exist (looked for {_display(target, root)})"
        )
    if not stat.S_ISREG(mode):
        raise AssetError(f"'{_short(reference)}' is not a file")
    return target


def inside_workspace(path: Path, workspace_root: Path) -> Path:
    """`path` (a file found in content/) resolved, if it is a regular file in the workspace.

    A symlink in content/ may point anywhere; following it out would publish (or read) a
    file the workspace does not hold.
    """
    target = _resolved(path, path.name)
    root = _home(target, workspace_root)
    if root is None:
        raise AssetError(
            f"'{path.name}' is a link to a file outside the workspace; copy the file itself "
            "into content/"
        )
    if _PRIVATE_PARTS.intersection(target.relative_to(root).parts):
        raise AssetError(f"'{path.name}' is a link into a private part of the workspace")
    mode = _mode(target, path.name)
    if mode is None:
        raise AssetError(f"'{path.name}' is a link to a file that does not exist")
    if not stat.S_ISREG(mode):
        raise AssetError(f"'{path.name}' is not a regular file (a folder, pipe or device)")
    return target


@dataclass(frozen=True)
class ProbedFile:
    """What probing and hashing a file found: the part of an Asset that the bytes decide."""

    size: int
    sha256: str
    image: ImageInfo | None
    video: VideoInfo | None


Memo = Callable[[str, str, Callable[[], ProbedFile]], ProbedFile]


def make_asset(
    path: Path,
    rel: str,
    role: AssetRole,
    alt: str = "",
    channel: str | None = None,
    memo: Memo | None = None,
) -> Asset:
    """Probe and hash a resolved file; MediaError/AssetError when it is unusable.

    `memo(kind, key, compute)` may remember the probe by the file's identity (path, size,
    modification time, inode): see LoadCache.remember.
    """
    name = PurePosixPath(rel).name
    status = _status(path, name)
    if status is None or not stat.S_ISREG(status.st_mode):
        raise AssetError(f"'{name}' is not a regular file")
    identity = f"{path}\0{status.st_size}\0{status.st_mtime_ns}\0{status.st_ino}"
    probed = (memo or _no_memo)("file", identity, lambda: _probe(path, name))
    if role in ("cover", "image") and probed.image is None:
        if path.suffix.lower() in _VECTOR_SUFFIXES:
            raise AssetError(
                f"'{name}': {path.suffix.lstrip('.').upper()} images are not supported; "
                "export it as PNG or JPEG"
            )
        raise AssetError(f"'{name}' is not an image (use JPEG or PNG)")
    return Asset(
        path, rel, role, probed.size, probed.sha256, probed.image, probed.video, alt, channel
    )


def _probe(path: Path, name: str) -> ProbedFile:
    image = probe_image(path) if is_image(path) else None
    video = probe_video(path) if is_video(path) else None
    try:
        return ProbedFile(path.stat().st_size, file_sha256(path), image, video)
    except OSError as exc:
        raise AssetError(f"'{name}' cannot be read ({exc.strerror})") from None


def _no_memo(kind: str, key: str, compute: Callable[[], ProbedFile]) -> ProbedFile:
    return compute()


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _home(target: Path, workspace_root: Path) -> Path | None:
    """The folder `target` is inside: the workspace, or content/ when that is a link to a
    folder elsewhere (a shared drive); None when it is outside both."""
    return next((home for home in _homes(workspace_root) if target.is_relative_to(home)), None)


@lru_cache(maxsize=8)
def _homes(workspace_root: Path) -> tuple[Path, ...]:
    """The workspace and its content/ folder, resolved once (every reference is checked)."""
    homes = []
    for folder in (workspace_root, workspace_root / "content"):
        try:
            homes.append(folder.resolve())
        except (OSError, RuntimeError):
            continue
    return tuple(homes)


_RESOLVED: ContextVar[dict[str, Path] | None] = ContextVar("resolved_paths", default=None)


@contextmanager
def resolving_once() -> Iterator[None]:
    """Within the block (one load of the workspace), each path is resolved once: links do
    not change in the middle of a load, and a thousand items refer to the same folders and
    images. Outside it, every call resolves afresh (a long-lived process sees changes)."""
    token = _RESOLVED.set({})
    try:
        yield
    finally:
        _RESOLVED.reset(token)


def resolve_path(path: Path) -> Path:
    """`path.resolve()`, remembered inside `resolving_once()`."""
    memo = _RESOLVED.get()
    if memo is None:
        return path.resolve()
    key = str(path)
    if key not in memo:
        memo[key] = path.resolve()
    return memo[key]


def _resolved(path: Path, reference: str) -> Path:
    try:
        return resolve_path(path)
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loops, NUL, name too long
        raise AssetError(f"'{_short(reference)}' cannot be used as a file name ({exc})") from None


def _mode(path: Path, reference: str) -> int | None:
    """The file's mode, None when it does not exist; AssetError when it cannot be checked."""
    status = _status(path, reference)
    return status.st_mode if status is not None else None


def _status(path: Path, reference: str) -> os.stat_result | None:
    """The file's stat, None when it does not exist; AssetError when it cannot be checked."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AssetError(
            f"'{_short(reference)}' cannot be used as a file name ({reason})"
        ) from None


def _short(reference: str, limit: int = 120) -> str:
    """A reference as messages show it: one line, not a whole screen."""
    text = reference.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _display(path: Path, root: Path) -> str:
    return _short(path.relative_to(root).as_posix())
