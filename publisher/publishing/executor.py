"""Running a post's calls in order, resuming after the last step that finished."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from publisher.adapters.base import Post
from publisher.publishing.errors import PublishError, redact
from publisher.publishing.model import PlatformClient, Receipt, StepLog
from publisher.publishing.placeholders import resolve
from publisher.scheduling import crashpoints
from publisher.store.sealing import SealError

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def publish_post(
    post: Post,
    client: PlatformClient,
    steps: StepLog,
    *,
    mode: Literal["live", "outbox"],
    secrets: Iterable[str] = (),
    clock: Clock = utcnow,
) -> Receipt:
    """Publish `post` through `client`; every step's answer is recorded as soon as it exists.

    A step already in `steps` is not sent again, so a retry after a failure (or a crash)
    resumes where the last attempt stopped. Failures come out as PublishError, with every
    secret value removed from their message.
    """
    secrets = list(secrets)
    if post.errors:
        raise PublishError(
            "permanent", "the post has errors: " + "; ".join(post.errors), platform=post.channel
        )
    results: dict[str, dict[str, Any]] = {}
    for call in post.calls:
        done = steps.get(call.step)
        if done is None:
            _check_files(post, call.files)
            call = dataclasses.replace(call, endpoint=resolve(call.endpoint, results))
            steps.attempt(call.step)
            crashpoints.reach("before-request")
            done = _run(client, call, resolve(call.payload, results), steps, secrets)
            crashpoints.reach("after-response")
            steps.record(call.step, done)
            crashpoints.reach("after-step")
            log.info("%s %s: step %s done", post.channel, post.item_id, call.step)
        results[call.step] = done
    remote_id, url = client.receipt(post, results)
    return Receipt(post.channel, post.item_id, mode, remote_id, url, clock(), results)


def _run(
    client: PlatformClient,
    call: Any,
    payload: dict[str, Any],
    steps: StepLog,
    secrets: list[str],
) -> dict[str, Any]:
    """One call; a failure known to have sent nothing closes the step's attempt."""
    try:
        return client.run(call, payload, steps)
    except PublishError as exc:
        error = exc.redacted(secrets)
    except SealError as exc:  # nothing was sent: the stored token could not even be read
        error = PublishError("auth", str(exc), platform=client.platform)
    except Exception as exc:  # a client bug or an unmapped library error: maybe sent
        message = redact(f"{type(exc).__name__}: {exc}", secrets)
        error = PublishError("unknown", message, platform=client.platform)
    if error.kind != "unknown":
        steps.attempt(call.step, error.kind)
    raise error from None


def _check_files(post: Post, files: dict[str, str]) -> None:
    missing = [path for path in files.values() if not Path(path).is_file()]
    if missing:
        raise PublishError(
            "permanent",
            f"media file missing: {', '.join(missing)}; render the item again",
            platform=post.channel,
        )
