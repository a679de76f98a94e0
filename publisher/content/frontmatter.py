"""Splitting a Markdown file into its YAML front matter and its body.

Front matter is a handful of `key: value` lines, so anything far bigger is a mistake (a
missing closing `---`); what is unsafe to parse is refused before parsing, as in every YAML
file the tool reads (`publisher.yamlsource.check_structure`).
"""

from __future__ import annotations

from dataclasses import dataclass

from publisher.problems import LocatedError
from publisher.yamlsource import YamlShapeError, check_structure

_OPEN = "---"
_CLOSE = ("---", "...")
MAX_FRONT_MATTER_LINES = 1_000


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
    """Refuse aliases, deep nesting and impossible dates or numbers before parsing."""
    try:
        check_structure(
            text,
            first_line,
            "front matter",
            "front matter is 'key: value' lines, with lists and one level of per-channel blocks",
        )
    except YamlShapeError as exc:
        raise FrontMatterError(exc.message, exc.line) from None
