"""What the runner process is doing, shared with the fakes through one small file.

The driver writes the simulated time and the delivery it is working on before every
dispatch; the fakes (in the test process) read it for every request they receive, so each
request and each post is stamped with its delivery and its simulated moment.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FILE = "context.json"


@dataclass(frozen=True)
class Context:
    now: dt.datetime
    delivery: int | None = None
    channel: str | None = None
    activity: str = "idle"  # idle, dispatch, settle

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"now": self.now.isoformat()})


def write(folder: Path, context: Context) -> None:
    temporary = folder / f"{FILE}.{os.getpid()}.tmp"
    temporary.write_text(context.to_json(), encoding="utf-8")
    temporary.replace(folder / FILE)


def read(folder: Path) -> Context | None:
    try:
        data = json.loads((folder / FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Context(**(data | {"now": dt.datetime.fromisoformat(data["now"])}))
