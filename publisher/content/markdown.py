"""One Markdown parse per item; every channel derives its output from this result.

The channels render from the element tree, not from Python-Markdown's HTML string, so the
tree is handed over as plain text: Python-Markdown leaves entities (`&amp;`), e-mail
autolinks, fenced code and footnote marks in it as placeholders or escaped HTML that only
its own serialiser resolves. They are resolved here, once, for every channel.

Python-Markdown is also guarded against hostile text, which could otherwise keep it busy
for hours or crash it: it rebuilds a paragraph's whole text for every bold word, link or
backslash it finds (quadratic: ten minutes for a line of 500 000 backslashes), tests every
kind of block against the rest of a run of lines for each line it takes from it, scans the
rest of a paragraph for every `[`, and recurses once per nesting level. The cost is metered
or estimated before it is paid, and text too costly or nested too deeply to parse is
refused with a MarkdownError that says what to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from publisher.problems import LocatedError


class MarkdownError(LocatedError):
    """The body cannot be parsed as Markdown safely."""


@dataclass(frozen=True)
class Reference:
    """An image source or link target found in the body, with its line in the file."""

    target: str
    line: int | None
    text: str = ""


@dataclass(frozen=True)
class ParsedMarkdown:
    html: str
    tree: Element
    images: tuple[Reference, ...]
    links: tuple[Reference, ...]


def parse_markdown(body: str, body_line: int = 1) -> ParsedMarkdown:
    """Parse `body`; MarkdownError when it is nested too deeply or too costly to parse."""
    from publisher.content.markdown_engine import parse  # the library only when needed

    return parse(body, body_line)
