"""The journal: every publication, appended to a file beside the state store.

The state store is the truth, but a store can be lost: a full disk, a failed sync or a bad
restore leaves `state.db` empty or gone. Without a second record, the next `run` would
plan every post again and publish it a second time. So each delivery that becomes
published is also appended, flushed and synced, as one JSON line to `journal.jsonl`. A
store started afresh beside a journal (`announce`) records the journal's posts as
published instead of planning them, and a store that is empty while the journal says
it existed is refused (see `publisher.store.database`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal.jsonl"

Key = tuple[str, str]  # (item id, channel)


class Journal:
    """Append-only lines {"item", "channel", "remote_id", "url", "published_at", "store"}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def record(self, entry: Mapping[str, Any]) -> None:
        """Append one publication; it is on disk when this returns."""
        line = json.dumps(dict(entry), ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def published(self) -> dict[Key, dict[str, Any]]:
        """What the journal says was published, by (item, channel); the last line wins.

        A line cut short by a crash (the last one) or damaged otherwise is skipped.
        """
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return {}
        found: dict[Key, dict[str, Any]] = {}
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and {"item", "channel"} <= entry.keys():
                found[(str(entry["item"]), str(entry["channel"]))] = entry
        return found
