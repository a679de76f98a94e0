"""Outbox mode: what a live call would send, written to `.publisher/outbox/<channel>/`.

Each delivery gets a folder holding the post exactly as `render --json` shows it
(`post.json`), one document per request with its placeholders filled in
(`<step>.request.json`), a copy of every file the requests upload, and `receipt.json`
(written by the caller). Nothing leaves the machine.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from publisher.adapters.base import Call, Post
from publisher.naming import item_path
from publisher.publishing.model import StepLog


def outbox_folder(outbox_dir: Path, post: Post) -> Path:
    """`<outbox>/<channel>/<item id as folders>/`: one folder per item, never shared."""
    return outbox_dir / post.channel / item_path(post.item_id)


class OutboxClient:
    """A PlatformClient for one post that writes documents instead of calling the platform."""

    def __init__(self, folder: Path, platform: str) -> None:
        self.platform = platform
        self.folder = folder

    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        del steps  # writing a document is idempotent: nothing to resume
        self.folder.mkdir(parents=True, exist_ok=True)
        document = {
            "step": call.step,
            "method": call.method,
            "endpoint": call.endpoint,
            "payload": payload,
            "files": call.files,
        }
        write_json(self.folder / f"{call.step}.request.json", document)
        for path in call.files.values():
            shutil.copyfile(path, self.folder / Path(path).name)
        return {"id": f"outbox-{call.step}", "token": f"outbox-{call.step}"}

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        del results
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(self.folder / "post.json", post.to_json())
        return f"outbox-{post.calls[-1].step}", post.url

    def find_existing(self, post: Post, steps: StepLog) -> dict[str, Any] | None:
        del steps
        exists = (self.folder / "post.json").exists()
        return {"id": f"outbox-{post.calls[-1].step}"} if exists else None


def write_json(path: Path, document: Any) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    temporary.replace(path)
