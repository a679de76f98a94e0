"""What the runner process is doing, shared with the fakes through one small file.

The driver writes the simulated time, and the delivery each channel is working on (the
channels publish side by side) before every dispatch; the fakes (in the test process) read
it for every request they receive, so each request and each post is stamped with its
channel's delivery and its simulated moment.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FILE = "context.json"


@dataclass(frozen=True)
class Context:
    now: dt.datetime
    delivery: int | None = None
    channel: str | None = None
    activity: str = "idle"  # idle, dispatch, settle


def write(folder: Path, now: dt.datetime, working: Sequence[Context] = ()) -> None:
    """The simulated now and what the busy channels work on, the last entered last."""
    document = {
        "now": now.isoformat(),
        "working": [
            {"delivery": c.delivery, "channel": c.channel, "activity": c.activity} for c in working
        ],
    }
    temporary = folder / f"{FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(document), encoding="utf-8")
    temporary.replace(folder / FILE)


def read(folder: Path, channel: str | None = None) -> Context | None:
    """The simulated now with what `channel` works on (idle when nothing); without a
    channel, with the work entered last."""
    try:
        data = json.loads((folder / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    now = dt.datetime.fromisoformat(data["now"])
    working = [w for w in data["working"] if channel is None or w["channel"] == channel]
    return Context(now, **working[-1]) if working else Context(now)
