"""Sharing a cold run's work with a second core, through the caches.

Loading and rendering are cached by what they depend on, so they can be warmed in any
order by any process. `share_work` hands every other element to one forked process while
this process does the rest; afterwards the caller makes its ordinary pass, in order, which
finds everything computed. A child that fails costs nothing but time: the ordinary pass
computes whatever is missing. Forking is only used where the platform offers it and the
caller knows it has no threads running (the commands that load a whole workspace once).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
MIN_SHARED = 16  # fewer elements than this are not worth a process


def available_workers() -> int:
    """Cores this process may use (at most 2: one forked helper)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return min(cores, 2) if "fork" in multiprocessing.get_all_start_methods() else 1


def share_work(
    elements: Sequence[T],
    work: Callable[[Sequence[T]], Any],
    merge: Callable[[Any], None] = lambda result: None,
    workers: int = 1,
) -> None:
    """Run `work` on the odd elements in a forked process and on the even ones here, then
    give the child's result to `merge`. Serial (nothing done) when not worth it."""
    if workers < 2 or len(elements) < MIN_SHARED:
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, work, elements[1::2]), daemon=True)
    child.start()
    sender.close()
    work(elements[0::2])
    try:
        result = receiver.recv()
    except (EOFError, OSError):
        log.debug("the helper process ended without a result (exit %s)", child.exitcode)
        result = None
    finally:
        receiver.close()
        child.join()
    if result is not None:
        merge(result)


def _child(sender: Connection, work: Callable[[Sequence[T]], Any], part: Sequence[T]) -> None:
    try:
        result = work(part)
    except Exception:  # the parent's ordinary pass redoes it, and reports what is wrong
        log.debug("the helper process failed", exc_info=True)
        result = None
    sender.send(result)
    sender.close()
