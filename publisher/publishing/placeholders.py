"""Filling "$step.field" references with the answers of earlier steps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"\$([a-z][a-z0-9_]*)\.([a-z_]+)")


class MissingStepResult(KeyError):
    """A call refers to a step that has not run (a render bug, not a platform error)."""


def resolve(value: Any, results: Mapping[str, Mapping[str, Any]]) -> Any:
    """`value` with every "$step.field" replaced, inside strings, lists and dicts."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(whole, results)
        return _REFERENCE.sub(lambda match: str(_lookup(match, results)), value)
    if isinstance(value, list):
        return [resolve(item, results) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, results) for key, item in value.items()}
    return value


def _lookup(match: re.Match[str], results: Mapping[str, Mapping[str, Any]]) -> Any:
    step, name = match.groups()
    try:
        return results[step][name]
    except KeyError:
        raise MissingStepResult(f"${step}.{name} is not known yet") from None
