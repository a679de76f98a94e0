"""Resolving the files an item refers to, without ever leaving the workspace.

A reference is relative to the item's folder. Absolute paths, `..` that climbs out of the
workspace and symlinks pointing outside are refused, as is anything in the workspace's
private parts (`.publisher/`, `.git/`, `.env`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlsplit

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


def is_external(reference: str) -> bool:
    """True for web, mail and phone links and in-page anchors: nothing on disk to check."""
    scheme = urlsplit(reference).scheme.lower()
    return scheme in _NON_FILE_SCHEMES or reference.startswith("#")


def resolve_reference(reference: str, base_dir: Path, workspace_root: Path) -> Path:
    """The workspace file `reference` names, relative to `base_dir`, or AssetError."""
    parts = urlsplit(reference)
    if parts.scheme and len(parts.scheme) > 1:
        raise AssetError(
            f"'{reference}': only local files may be used here, not {parts.scheme}: URLs"
        )
    raw_path = unquote(parts.path)
    if not raw_path:
        raise AssetError("empty file reference")
    if raw_path.startswith(("/", "\\")) or PurePosixPath(raw_path).is_absolute() or parts.scheme:
        raise AssetError(
            f"'{reference}' is an absolute path; use a path relative to the item's folder"
        )
    root = workspace_root.resolve()
    target = (base_dir / raw_path).resolve()
    if not target.is_relative_to(root):
        raise AssetError(f"'{reference}' points outside the workspace; copy the file into content/")
    if _PRIVATE_PARTS.intersection(target.relative_to(root).parts):
        raise AssetError(f"'{reference}' points into a private part of the workspace")
    if not target.exists():
        raise AssetError(f"'{reference}' does not exist (looked for {_display(target, root)})")
    if not target.is_file():
        raise AssetError(f"'{reference}' is not a file")
    return target


def make_asset(
    path: Path, rel: str, role: AssetRole, alt: str = "", channel: str | None = None
) -> Asset:
    """Probe and hash a resolved file; MediaError/AssetError when it is unusable."""
    image = probe_image(path) if is_image(path) else None
    video = probe_video(path) if is_video(path) else None
    if role in ("cover", "image") and image is None:
        raise AssetError(f"'{PurePosixPath(rel).name}' is not an image (use JPEG or PNG)")
    size = path.stat().st_size
    return Asset(path, rel, role, size, file_sha256(path), image, video, alt, channel)


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _display(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
