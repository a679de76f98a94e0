"""Signing what publisher writes to its caches, with a key that never lives in a workspace.

Workspaces travel: on shared drives, in zip files, through sync services. A cache file in
`.publisher/` may therefore come from someone else. Every cache entry publisher trusts is
signed (HMAC-SHA256) with a key kept in this user's own cache folder, outside any
workspace; an entry that does not carry this key's signature is not read at all, only
rebuilt. Without a usable key folder nothing is signed, and nothing is trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

KEY_VARIABLE = "PUBLISHER_CACHE_KEY_FILE"  # where the key lives, when not in the default place
SIGNATURE_BYTES = 32


@cache
def _key() -> bytes | None:
    """This user's cache key, made on first use (mode 0600); None when it cannot be kept."""
    path = _key_path()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return path.read_bytes()
    except OSError:
        return None
    key = secrets.token_bytes(32)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    return key


def _key_path() -> Path:
    configured = os.environ.get(KEY_VARIABLE)
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("publisher", appauthor=False)) / "cache.key"


def sign(data: bytes) -> bytes | None:
    """`data` preceded by its signature; None when no key can be kept (do not cache)."""
    key = _key()
    if key is None:
        return None
    return hmac.new(key, data, hashlib.sha256).digest() + data


def verified(blob: bytes) -> bytes | None:
    """The data of a signed blob, or None when its signature is not this user's."""
    key = _key()
    if key is None or len(blob) < SIGNATURE_BYTES:
        return None
    signature, data = blob[:SIGNATURE_BYTES], blob[SIGNATURE_BYTES:]
    expected = hmac.new(key, data, hashlib.sha256).digest()
    return data if hmac.compare_digest(signature, expected) else None
