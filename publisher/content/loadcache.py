"""Remembering the costly, pure steps of loading from one run to the next.

Parsing front matter, parsing Markdown, probing and hashing media and validating a clean
calendar are pure functions of their input (the text, or a file's identity: path, size,
modification time, inode). Their results, and the errors they raise, are kept in one
pickle under `.publisher/cache/`, keyed by a digest of that input, so a run after a
one-file edit parses one file instead of all of them. Everything else the loader does
(checks that depend on other files, problems) still runs every time, so a cached run
reports exactly what an uncached run would.

The file is only ever read by this code from the workspace's own state folder, and carries
a digest of the code and library versions that produced it: another version starts afresh.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from publisher.content.assets import AssetError
from publisher.content.probe import MediaError
from publisher.problems import LocatedError

log = logging.getLogger(__name__)
T = TypeVar("T")
CACHE_FILE = "load.pickle"
# Errors that are as pure as the results: the same input raises them again.
REMEMBERED_ERRORS = (LocatedError, AssetError, MediaError)
_LIBRARIES = ("markdown", "pyyaml", "pillow", "pydantic")


class LoadCache:
    """Results of pure loading steps by input digest; `save()` keeps those used this run."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.known: dict[bytes, bytes] = self._read() if path else {}
        self.used: dict[bytes, bytes] = {}

    def remember(self, kind: str, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, or what it returned (or raised) the last time for this `key`."""
        digest = hashlib.blake2b(f"{kind}\0{key}".encode(), digest_size=16).digest()
        blob = self.used.get(digest) or self.known.get(digest)
        if blob is None:
            try:
                value = compute()
            except REMEMBERED_ERRORS as exc:
                self.used[digest] = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
                raise
            blob = pickle.dumps((True, value), pickle.HIGHEST_PROTOCOL)
            self.used[digest] = blob
            return value
        self.used[digest] = blob
        returned, value = pickle.loads(blob)
        if not returned:
            raise value
        return value

    def merge(self, entries: dict[bytes, bytes]) -> None:
        """Entries another process computed (see `loader.load_content`)."""
        self.known.update(entries)

    def save(self) -> None:
        """Write the entries used this run, if they differ from the file's; never fails."""
        if self.path is None or self.used.keys() == self.known.keys():
            return
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(pickle.dumps((_version(), self.used), pickle.HIGHEST_PROTOCOL))
            temporary.replace(self.path)
        except OSError as exc:
            log.debug("load cache not saved: %s", exc)
            temporary.unlink(missing_ok=True)

    def _read(self) -> dict[bytes, bytes]:
        assert self.path is not None
        try:
            version, entries = pickle.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            return {}
        return entries if version == _version() and isinstance(entries, dict) else {}


@cache
def _version() -> str:
    """A digest of the loading code and the parsing libraries' versions."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("content", "settings"):
        for path in sorted((package / folder).glob("*.py")):
            digest.update(path.read_bytes())
    for name in ("yamlsource.py", "problems.py", "validation.py", "htmltext.py"):
        digest.update((package / name).read_bytes())
    for library in _LIBRARIES:
        digest.update(f"{library}={metadata.version(library)}".encode())
    return digest.hexdigest()
