"""Turning pydantic validation errors into messages an officer can act on.

Every message names the key as written in the YAML file, the line it is on, and what to
write instead; unknown keys get a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from publisher.problems import Problems
from publisher.yamlsource import Loc, YamlDocument


@dataclass(frozen=True)
class FieldError:
    line: int | None
    message: str


def describe_errors(
    exc: ValidationError, model: type[BaseModel], document: YamlDocument
) -> list[FieldError]:
    return [_describe(error, model, document) for error in exc.errors(include_url=False)]


def _describe(error: dict, model: type[BaseModel], document: YamlDocument) -> FieldError:
    loc: Loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
    key = _dotted(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        message = f"unknown key '{key}'{_suggestion(model, loc)}"
    elif kind == "missing":
        message = f"'{key}' is required"
    elif kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"'{key}' must be one of {expected} (found {error['input']!r})"
    elif key:
        message = f"'{key}': {_lower_first(error['msg'])}"
    else:
        message = _lower_first(error["msg"])
    return FieldError(document.line_of(loc), message)


def _is_union_tag(part: str | int) -> bool:
    # pydantic adds the union member's type name ("function-before[...]", "list[str]") to loc
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "bool", "date"})


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _suggestion(model: type[BaseModel], loc: Loc) -> str:
    parent = _model_at(model, loc[:-1])
    if parent is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(parent.model_fields), n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f"; known keys: {', '.join(parent.model_fields)}"


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        current = next(_models_in(field.annotation), None) if field else None
    return current


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _models_in(typing.get_args(annotation)[0])
        return
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


M = typing.TypeVar("M", bound=BaseModel)


def validate_document(
    model: type[M],
    document: YamlDocument,
    file: str,
    problems: Problems,
    channel: str | None = None,
) -> M | None:
    """Validate parsed YAML against `model`, reporting every problem with its line."""
    for key, line in document.duplicate_keys:
        problems.error(file, f"key '{key}' is written twice; keep one", line, channel)
    data = document.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.error(
            file, "expected 'key: value' lines at the top level", document.line_of(()), channel
        )
        return None
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        for error in describe_errors(exc, model, document):
            problems.error(file, error.message, error.line, channel)
        return None
    return None if document.duplicate_keys else result
