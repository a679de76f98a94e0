"""Splitting a Markdown file into its YAML front matter and its body."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.problems import LocatedError

_OPEN = "---"
_CLOSE = ("---", "...")


class FrontMatterError(LocatedError):
    """The front matter block is missing or not closed."""


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
            return SplitDocument(
                front_matter="\n".join(lines[1:index]),
                front_matter_line=2,
                body="\n".join(lines[index + 1 :]),
                body_line=index + 2,
            )
    raise FrontMatterError(
        "the front matter opened by '---' on line 1 is never closed: add a line '---' after it", 1
    )
