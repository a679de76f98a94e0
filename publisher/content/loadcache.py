"""Remembering the costly, pure steps of loading from one run to the next.

Parsing front matter, parsing Markdown, probing and hashing media and validating a clean
calendar are pure functions of their input (the text, or a file's identity: path, size,
modification time, inode). Their results, and the errors they raise, are kept in one file
under `.publisher/cache/`, keyed by a digest of that input, so a run after a one-file edit
parses one file instead of all of them. Everything else the loader does (checks that
depend on other files, problems) still runs every time, so a cached run reports exactly
what an uncached run would.

A workspace may come from anyone, so its cache is not trusted as it is: the file is signed
with this user's key (`publisher.signing`, kept outside every workspace) and one without
that signature is never unpickled; what is unpickled may only build the few plain classes
the loader's results are made of (`SafeUnpickler`), never call a function. A file that is
unsigned, altered, made by another version or unreadable is discarded and rebuilt, with a
note (`discarded`). The file also carries a digest of the code and library versions that
produced it: another version starts afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import logging
import os
import pickle
from collections.abc import Callable
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from publisher.content.assets import AssetError
from publisher.content.probe import MediaError
from publisher.problems import LocatedError
from publisher.signing import sign, verified

log = logging.getLogger(__name__)
T = TypeVar("T")
CACHE_FILE = "load.cache"
MAGIC = b"publisher load cache 2\n"
# Errors that are as pure as the results: the same input raises them again.
REMEMBERED_ERRORS = (LocatedError, AssetError, MediaError)
_LIBRARIES = ("markdown", "pyyaml", "pillow", "pydantic")
# The classes the loader's results are made of: the only things a cache may build.
SAFE_CLASSES = frozenset(
    {
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("xml.etree.ElementTree", "Element"),
        ("publisher.content.assets", "ProbedFile"),
        ("publisher.content.markdown", "ParsedMarkdown"),
        ("publisher.content.markdown", "Reference"),
        ("publisher.content.probe", "ImageInfo"),
        ("publisher.content.probe", "VideoInfo"),
        ("publisher.yamlsource", "YamlDocument"),
        *(
            ("publisher.settings.schedules", name)
            for name in ("Campaign", "ChannelPlan", "ContentSelection", "Phase")
        ),
        ("publisher.settings.schedules", "Schedules"),
        ("publisher.settings.schedules", "Slot"),
    }
)
# Modules whose remembered errors (REMEMBERED_ERRORS and their subclasses) a cache may hold.
ERROR_MODULES = frozenset(
    {
        "publisher.problems",
        "publisher.content.assets",
        "publisher.content.frontmatter",
        "publisher.content.markdown",
        "publisher.content.probe",
        "publisher.yamlsource",
    }
)


class SafeUnpickler(pickle.Unpickler):
    """Builds only SAFE_CLASSES and the loader's own errors; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in SAFE_CLASSES:
            return super().find_class(module, name)
        if module in ERROR_MODULES:
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and issubclass(found, REMEMBERED_ERRORS):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not something a load cache holds")


def _loads(data: bytes) -> Any:
    return SafeUnpickler(io.BytesIO(data)).load()


class LoadCache:
    """Results of pure loading steps by input digest; `save()` keeps those used this run."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.discarded: str | None = None  # why the file on disk was not used, if it was not
        self.known: dict[bytes, bytes] = self._read() if path else {}
        self.used: dict[bytes, bytes] = {}

    def remember(self, kind: str, key: str, compute: Callable[[], T]) -> T:
        """`compute()`, or what it returned (or raised) the last time for this `key`."""
        digest = hashlib.blake2b(f"{kind}\0{key}".encode(), digest_size=16).digest()
        blob = self.used.get(digest) or self.known.get(digest)
        if blob is not None:
            try:
                returned, value = _loads(blob)
            except Exception as exc:  # signed, yet not what the loader makes: computed anew
                self._discard(f"an entry cannot be read ({type(exc).__name__})")
            else:
                self.used[digest] = blob
                if not returned:
                    raise value
                return value  # type: ignore[no-any-return]
        try:
            value = compute()
        except REMEMBERED_ERRORS as exc:
            self.used[digest] = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
            raise
        self.used[digest] = pickle.dumps((True, value), pickle.HIGHEST_PROTOCOL)
        return value

    def merge(self, entries: dict[bytes, bytes]) -> None:
        """Entries another process computed (see `loader.load_content`)."""
        self.known.update(entries)

    def save(self) -> None:
        """Write the entries used this run, if they differ from the file's; never fails."""
        if self.path is None or self.used.keys() == self.known.keys():
            return
        signed = sign(pickle.dumps((_version(), self.used), pickle.HIGHEST_PROTOCOL))
        if signed is None:
            return  # no key to sign with: a cache nobody could trust is not written
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(MAGIC + signed)
            temporary.replace(self.path)
        except OSError as exc:
            log.debug("load cache not saved: %s", exc)
            with contextlib.suppress(OSError):  # a folder where the file should be, say
                temporary.unlink(missing_ok=True)

    def _read(self) -> dict[bytes, bytes]:
        """The entries of a signed file of this version; {} (and a note) for anything else."""
        assert self.path is not None
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            return self._discard(f"it cannot be read ({exc.strerror})")
        data = verified(blob[len(MAGIC) :]) if blob.startswith(MAGIC) else None
        if data is None:
            return self._discard("it was not written by publisher for this user, or was altered")
        try:
            version, entries = _loads(data)
        except Exception as exc:  # a signed file of ours, yet not one this code reads
            return self._discard(f"it cannot be read ({type(exc).__name__})")
        if version != _version() or not isinstance(entries, dict):
            return {}  # another version of publisher: rebuilt, nothing to say
        return entries

    def _discard(self, why: str) -> dict[bytes, bytes]:
        self.discarded = f"the load cache was not used and is rebuilt: {why}"
        log.warning("%s: %s", self.path, self.discarded)
        return {}


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
