"""YAML parsing that keeps line numbers and avoids YAML 1.1 surprises.

PyYAML follows YAML 1.1, where `no`, `on` and `off` are booleans and `08:30` is the
integer 510 (base 60). Officers write times and Vietnamese words, so only `true` and
`false` are booleans here and sexagesimal numbers stay strings. Every mapping key and
sequence entry is indexed by its path so validation errors can name a line, and duplicate
keys (silently "last one wins" in PyYAML) are reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from publisher.problems import LocatedError

Loc = tuple[str | int, ...]


class YamlSyntaxError(LocatedError):
    """The text is not valid YAML; `line` is 1-based within the whole file."""


class YamlShapeError(YamlSyntaxError):
    """Valid YAML, but unsafe to parse: aliases, deep nesting, impossible dates or numbers."""


MAX_YAML_DEPTH = 16  # schedules.yaml's deepest: campaigns > [ ] > channels > x > slots > [ ]
_MAX_DIGITS = 1_000  # Python refuses to turn over 4 300 digits into a number
_OPENING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def check_structure(text: str, first_line: int = 1, where: str = "", shape: str = "") -> None:
    """Refuse what would make parsing `text` cost far more than its size, before parsing.

    PyYAML nests one Python call per level (thousands of `[` exhaust the stack), aliases
    (`*name`) let a few lines stand for billions of values ("billion laughs"), and a number
    of a million digits takes minutes to convert. Only tokens are read, one at a time,
    without recursion and without building anything, so this is safe on any input.
    Syntax errors are left to the parser, which describes them better. `where` names the
    text in messages ("front matter", "schedules.yaml"); `shape` says what it should be.
    """
    where = where or "this file"
    resolver = yaml.SafeLoader("")
    depth = 0
    try:
        # The pure-Python scanner hands over each token as it reads it, so the limits below
        # apply first, whatever limit the libyaml bundled with PyYAML may have.
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            line = token.start_mark.line + first_line
            if isinstance(token, yaml.AliasToken):
                raise YamlShapeError(
                    f"YAML aliases ('*{token.value}') are not allowed in {where}; "
                    "write the value out in full",
                    line,
                )
            if isinstance(token, _OPENING):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise YamlShapeError(
                        f"the {where} is nested more than {MAX_YAML_DEPTH} levels deep"
                        + (f"; {shape}" if shape else ""),
                        line,
                    )
            elif isinstance(token, _CLOSING):
                depth -= 1
            elif isinstance(token, yaml.ScalarToken) and token.plain:
                _check_plain_scalar(resolver, token.value, line)
    except yaml.YAMLError:
        return  # the parser reports it, with its line
    finally:
        resolver.dispose()


def _check_plain_scalar(resolver: yaml.SafeLoader, value: str, line: int) -> None:
    """Unquoted values YAML would turn into a date or a number that cannot exist."""
    tag = resolver.resolve(yaml.ScalarNode, value, (True, False))
    if tag == "tag:yaml.org,2002:timestamp":
        try:
            resolver.construct_yaml_timestamp(yaml.ScalarNode(tag, value))
        except (ValueError, OverflowError) as exc:
            raise YamlShapeError(
                f"'{value}' is not a real date or time ({exc}); write it as YYYY-MM-DD or "
                "'YYYY-MM-DD HH:MM'",
                line,
            ) from None
    elif value.lstrip("+-").isdigit() and len(value) > _MAX_DIGITS:
        raise YamlShapeError(
            f"a number of {len(value):,} digits; if it is text, put it in quotes", line
        )


# libyaml (C) where PyYAML was built with it: the same nodes and marks, ten times faster.
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader with YAML 1.2 booleans and without base-60 numbers."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


@dataclass
class YamlDocument:
    """Parsed data plus the line of every key and list entry, by path."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[str, int]] = field(default_factory=list)

    def line_of(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest ancestor that has one."""
        for end in range(len(loc), 0, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


def parse_yaml(text: str, first_line: int = 1) -> YamlDocument:
    """Parse one YAML document; `first_line` is the file line where `text` starts."""
    loader = _Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # At the end of the text ("unclosed quote"), the place it started is more useful.
        at_end = "end of stream" in (exc.problem or "")
        mark = (exc.context_mark if at_end else None) or exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(f"invalid YAML: {message}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"invalid YAML: {exc}", None) from None
    finally:
        loader.dispose()
    document = YamlDocument(data)
    if node is not None:
        _index(node, (), first_line, document)
    return document


def _index(node: yaml.Node, loc: Loc, first_line: int, document: YamlDocument) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + first_line
            if key in seen:
                document.duplicate_keys.append((".".join(map(str, (*loc, key))), line))
            seen.add(key)
            document.lines[(*loc, key)] = line
            _index(value_node, (*loc, key), first_line, document)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            document.lines[(*loc, index)] = item.start_mark.line + first_line
            _index(item, (*loc, index), first_line, document)
