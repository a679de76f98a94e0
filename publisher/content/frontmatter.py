"""Splitting a Markdown file into its YAML front matter and its body.

Front matter is a handful of `key: value` lines, so anything far bigger or deeper is a
mistake (a missing closing `---`) or an attack on the YAML parser: PyYAML nests one Python
call per level (thousands of `[` exhaust the stack), and aliases (`*name`) let a few lines
stand for billions of values ("billion laughs"). `check_yaml_structure` refuses both from
the token stream, which is read without recursion and without building anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from publisher.problems import LocatedError

_OPEN = "---"
_CLOSE = ("---", "...")
MAX_FRONT_MATTER_LINES = 1_000
MAX_YAML_DEPTH = 16  # youtube > chapters > [ ] > {at, title} is 4 levels deep
_MAX_DIGITS = 1_000  # Python refuses to turn over 4 300 digits into a number

_OPENING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


class FrontMatterError(LocatedError):
    """The front matter block is missing, not closed, or unsafe to parse."""


@dataclass(frozen=True)
class SplitDocument:
    """Front matter text (starting at file line `front_matter_line`) and the body."""

    front_matter: str
    front_matter_line: int
    body: str
    body_line: int


def split_front_matter(text: str) -> SplitDocument:
    """Split `---` front matter from the body; lines are 1-based file lines."""
    lines = text.split("\n")
    first = lines[0].rstrip()
    if first == "+++":
        raise FrontMatterError(
            "TOML front matter (+++) is not supported; use YAML between --- lines", 1
        )
    if first != _OPEN:
        raise FrontMatterError(
            "the file does not start with front matter: put a line '---', then at least "
            "'title: ...', then another '---' at the very top",
            1,
        )
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() in _CLOSE:
            if index - 1 > MAX_FRONT_MATTER_LINES:
                raise FrontMatterError(
                    f"the front matter is {index - 1:,} lines long (at most "
                    f"{MAX_FRONT_MATTER_LINES:,}): is the '---' line that should close it "
                    "missing? Front matter holds the title and a few settings; the text goes "
                    "below it",
                    1,
                )
            return SplitDocument(
                front_matter="\n".join(lines[1:index]),
                front_matter_line=2,
                body="\n".join(lines[index + 1 :]),
                body_line=index + 2,
            )
    raise FrontMatterError(
        "the front matter opened by '---' on line 1 is never closed: add a line '---' after it", 1
    )


def check_yaml_structure(text: str, first_line: int = 1) -> None:
    """Refuse aliases, deep nesting and impossible dates or numbers before parsing.

    Syntax errors are left to the parser, which describes them better; this only reads
    tokens, one at a time, so it is safe on any input.
    """
    resolver = yaml.SafeLoader("")
    depth = 0
    try:
        # The pure-Python scanner hands over each token as it reads it, so the limits below
        # apply first, whatever limit the libyaml bundled with PyYAML may have.
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            line = token.start_mark.line + first_line
            if isinstance(token, yaml.AliasToken):
                raise FrontMatterError(
                    f"YAML aliases ('*{token.value}') are not allowed in front matter; "
                    "write the value out in full",
                    line,
                )
            if isinstance(token, _OPENING):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise FrontMatterError(
                        f"the front matter is nested more than {MAX_YAML_DEPTH} levels deep; "
                        "front matter is 'key: value' lines, with lists and one level of "
                        "per-channel blocks",
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
            raise FrontMatterError(
                f"'{value}' is not a real date or time ({exc}); write it as YYYY-MM-DD or "
                "'YYYY-MM-DD HH:MM'",
                line,
            ) from None
    elif value.lstrip("+-").isdigit() and len(value) > _MAX_DIGITS:
        raise FrontMatterError(
            f"a number of {len(value):,} digits; if it is text, put it in quotes", line
        )
