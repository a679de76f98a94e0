"""A small block/run model of an item's body, built from the one Markdown parse.

Every channel renders these blocks in its own syntax (plain text, Telegram HTML, Zalo
blocks), so no channel re-parses Markdown and all of them agree on the content.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from xml.etree.ElementTree import Element


@dataclass(frozen=True)
class Run:
    """A stretch of text with one set of inline styles."""

    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False
    href: str | None = None


Runs = tuple[Run, ...]


@dataclass(frozen=True)
class Heading:
    level: int
    runs: Runs


@dataclass(frozen=True)
class Paragraph:
    runs: Runs


@dataclass(frozen=True)
class ListBlock:
    ordered: bool
    start: int
    items: tuple[tuple[Block, ...], ...]


@dataclass(frozen=True)
class Quote:
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class CodeBlock:
    text: str


@dataclass(frozen=True)
class Table:
    header: tuple[Runs, ...]
    rows: tuple[tuple[Runs, ...], ...]


@dataclass(frozen=True)
class Figure:
    src: str
    alt: str
    caption: str


@dataclass(frozen=True)
class Rule:
    pass


Block = Heading | Paragraph | ListBlock | Quote | CodeBlock | Table | Figure | Rule

_BLOCK_TAGS = frozenset({"p", "ul", "ol", "blockquote", "pre", "table"})
_STYLE_TAGS = {
    "strong": "bold",
    "b": "bold",
    "em": "italic",
    "i": "italic",
    "del": "strike",
    "s": "strike",
    "code": "code",
}


def blocks_from_tree(tree: Element) -> tuple[Block, ...]:
    """The body's blocks, in order; images inside paragraphs become figures after them."""
    return tuple(block for child in tree for block in _block(child))


def plain_text(runs: Runs) -> str:
    return "".join(run.text for run in runs)


def _block(element: Element) -> list[Block]:
    tag = element.tag
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return [Heading(int(tag[1]), _runs(element))]
    if tag == "p":
        return _paragraph(element)
    if tag in ("ul", "ol"):
        items = tuple(_list_item(li) for li in element if li.tag == "li")
        return [ListBlock(tag == "ol", int(element.get("start", "1") or 1), items)]
    if tag == "blockquote":
        return [Quote(blocks_from_tree(element))]
    if tag == "pre":
        return [CodeBlock("".join(element.itertext()).rstrip("\n"))]
    if tag == "table":
        return [_table(element)]
    if tag == "hr":
        return [Rule()]
    return list(blocks_from_tree(element))  # div and other containers: their children


def _paragraph(element: Element) -> list[Block]:
    runs = _runs(element)
    figures = [
        Figure(img.get("src", ""), img.get("alt", ""), img.get("title") or img.get("alt", ""))
        for img in element.iter("img")
    ]
    text = _trim(runs)
    return ([Paragraph(text)] if text else []) + figures


def _list_item(element: Element) -> tuple[Block, ...]:
    if any(child.tag in _BLOCK_TAGS for child in element):
        inline = [child for child in element if child.tag not in _BLOCK_TAGS]
        lead = _trim(_runs(element, children=inline))
        blocks = [Paragraph(lead)] if lead else []
        blocks.extend(b for child in element if child not in inline for b in _block(child))
        return tuple(blocks)
    return (Paragraph(_trim(_runs(element))),)


def _table(element: Element) -> Table:
    rows = list(element.iter("tr"))
    cells = [tuple(_trim(_runs(cell)) for cell in row if cell.tag in ("th", "td")) for row in rows]
    has_header = bool(rows) and any(cell.tag == "th" for cell in rows[0])
    return Table(cells[0] if has_header else (), tuple(cells[1:] if has_header else cells))


def _runs(element: Element, style: Run = Run(""), children: list[Element] | None = None) -> Runs:
    # Source line breaks inside a paragraph are soft (a space); only <br> breaks a line.
    runs: list[Run] = []
    if element.text:
        runs.append(replace(style, text=_soft(element.text)))
    for child in element if children is None else children:
        runs.extend(_child_runs(child, style))
        if child.tail:
            runs.append(replace(style, text=_soft(child.tail)))
    return tuple(runs)


def _soft(text: str) -> str:
    return " ".join(text.split("\n")) if "\n" in text else text


def _child_runs(child: Element, style: Run) -> Runs:
    if child.tag == "br":
        return (replace(style, text="\n"),)
    if child.tag == "img":
        return ()
    if child.tag == "a":
        return _runs(child, replace(style, href=child.get("href")))
    if child.tag in _STYLE_TAGS:
        return _runs(child, replace(style, **{_STYLE_TAGS[child.tag]: True}))
    return _runs(child, style)


def _trim(runs: Runs) -> Runs:
    """Merge neighbours with equal styles and drop surrounding blank space."""
    merged: list[Run] = []
    for run in runs:
        if merged and replace(merged[-1], text="") == replace(run, text=""):
            merged[-1] = replace(merged[-1], text=merged[-1].text + run.text)
        elif run.text:
            merged.append(run)
    if merged:
        merged[0] = replace(merged[0], text=merged[0].text.lstrip())
        merged[-1] = replace(merged[-1], text=merged[-1].text.rstrip())
    return tuple(run for run in merged if run.text)


LineKind = Literal["heading", "text", "item", "quote", "code", "row", "figure", "rule"]


@dataclass(frozen=True)
class Line:
    """A paragraph-level unit: what plain text and chat messages are made of."""

    kind: LineKind
    runs: Runs = ()
    prefix: str = ""
    figure: Figure | None = None

    @property
    def text(self) -> str:
        return plain_text(self.runs)


def flatten(blocks: tuple[Block, ...], depth: int = 0) -> list[Line]:
    """Blocks as a flat list of lines (list items numbered, table rows labelled)."""
    lines: list[Line] = []
    for block in blocks:
        lines.extend(_lines(block, depth))
    return lines


def _lines(block: Block, depth: int) -> list[Line]:
    match block:
        case Heading(runs=runs):
            return [Line("heading", runs)]
        case Paragraph(runs=runs):
            return [Line("item" if depth else "text", runs, "  " * depth if depth else "")]
        case ListBlock():
            return _list_lines(block, depth)
        case Quote(blocks=inner):
            return [Line("quote", line.runs) for line in flatten(inner) if line.runs]
        case CodeBlock(text=text):
            return [Line("code", (Run(text, code=True),))]
        case Table():
            return [_row_line(block.header, row) for row in block.rows]
        case Figure():
            return [Line("figure", (), figure=block)]
        case Rule():
            return [Line("rule")]
    return []


def _list_lines(block: ListBlock, depth: int) -> list[Line]:
    lines: list[Line] = []
    for number, item in enumerate(block.items, start=block.start):
        marker = f"{number}. " if block.ordered else "• "
        item_lines = flatten(item, depth + 1)
        if item_lines and item_lines[0].kind == "item":
            first = item_lines[0]
            item_lines[0] = Line("item", first.runs, "  " * depth + marker)
        lines.extend(item_lines)
    return lines


def _row_line(header: tuple[Runs, ...], row: tuple[Runs, ...]) -> Line:
    runs: list[Run] = []
    for index, cell in enumerate(row):
        if runs:
            runs.append(Run("; "))
        label = plain_text(header[index]) if index < len(header) else ""
        if label:
            runs.append(Run(f"{label}: ", bold=True))
        runs.extend(cell)
    return Line("row", tuple(runs), "• ")
