"""One Markdown parse per item; every channel derives its output from this result."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

import markdown
from markdown.treeprocessors import Treeprocessor

EXTENSIONS = ["extra", "sane_lists"]


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


class _KeepTree(Treeprocessor):
    """Keeps the finished element tree (after inline processing) for later outputs."""

    def run(self, root: Element) -> None:
        self.md.kept_tree = root  # type: ignore[attr-defined]


def parse_markdown(body: str, body_line: int = 1) -> ParsedMarkdown:
    md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    # Raw HTML is shown as text, never interpreted: officers write Markdown, and no channel
    # but the portal could carry HTML anyway. This closes script injection at the source.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_KeepTree(md), "keep_tree", -10)
    html = md.convert(body)
    # Markdown skips every processor for blank text, so an empty body has no kept tree.
    tree: Element = getattr(md, "kept_tree", None) or Element("div")
    images = tuple(
        Reference(
            img.get("src", ""), _line_of(body, img.get("src", ""), body_line), img.get("alt", "")
        )
        for img in tree.iter("img")
    )
    links = tuple(
        Reference(
            a.get("href", ""), _line_of(body, a.get("href", ""), body_line), "".join(a.itertext())
        )
        for a in tree.iter("a")
    )
    return ParsedMarkdown(html, tree, images, links)


def _line_of(body: str, target: str, body_line: int) -> int | None:
    if not target:
        return None
    position = body.find(target)
    return body.count("\n", 0, position) + body_line if position >= 0 else None
