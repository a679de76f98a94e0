"""From item ids to names on disk: one item, one place, within file-system limits.

An item's id is its path inside `content/` ("tin/bai-viet"), so mirroring it as nested
folders (the outbox, the preview's export) can never give two items the same place, as
flattening it ("tin__bai-viet") did for "t/a/b" and "t/a__b". A segment longer than a file
system allows once a suffix is added is shortened and marked with a digest of the whole.
"""

from __future__ import annotations

import hashlib

MAX_SEGMENT_BYTES = 120  # well under the 255 bytes of ext4, NTFS and APFS, with room for ".html"
_KEPT_BYTES = 100


def item_path(item_id: str) -> str:
    """`item_id` as a relative path: its segments as they are, long ones shortened."""
    return "/".join(_segment(segment) for segment in item_id.split("/"))


def _segment(segment: str) -> str:
    encoded = segment.encode("utf-8")
    if len(encoded) <= MAX_SEGMENT_BYTES:
        return segment
    kept = encoded[:_KEPT_BYTES].decode("utf-8", "ignore")  # never half a letter
    return f"{kept}~{hashlib.sha256(encoded).hexdigest()[:12]}"


def item_file_name(item_id: str) -> str:
    """`item_id` as one file name (no folders): "/" written as "__" and "_" as "_5f", so no
    two ids share a name ("t/a/b" and "t/a__b" do not), long ones shortened."""
    return _segment(item_id.replace("_", "_5f").replace("/", "__"))


def file_name_of(path: str) -> str:
    """A file of a workspace named for a flat folder: two "anh.jpg" of two items differ."""
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{digest}-{_segment(path.rsplit('/', 1)[-1])}"


def item_uid(item_id: str, channel: str) -> str:
    """A stable identifier of one item's post on one channel (calendar UIDs)."""
    return hashlib.sha256(f"{item_id}\0{channel}".encode()).hexdigest()[:32]
