"""Python-Markdown, guarded and its output made plain: the engine behind `parse_markdown`.

Imported only when a body is really parsed (a cached load never needs the library). See
`publisher/content/markdown.py` for what the guards protect against.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, SubElement

import markdown
from markdown import util
from markdown.extensions.footnotes import FN_BACKLINK_TEXT, NBSP_PLACEHOLDER
from markdown.treeprocessors import Treeprocessor

from publisher.content.markdown import MarkdownError, ParsedMarkdown, Reference
from publisher.htmltext import text_of_html

EXTENSIONS = ["extra", "sane_lists"]
MAX_LINES = 20_000  # a long report is a few hundred lines; a 5 000-row table is 5 000
MAX_NESTING = 40  # elements inside each other: a list in a list in a quote... far fewer are real
MAX_BRACKET_DEPTH = 20  # `[` inside `[` in one link text
MAX_LINK_LENGTH = 2_000  # characters between a link's `(` and `)`, address and title together
# Characters the link parser may examine in one document: about the length of its links for
# a real article (20 000 links of 100 characters), billions for a line of 50 000 `[`.
LINK_SCAN_BUDGET = 2_000_000
# Inline parsing costs about (length of a paragraph) x (Markdown marks in it) steps; this is
# well under a second, and 30 times what a 50 000-character pasted paragraph needs.
INLINE_COST_BUDGET = 1_000_000_000
_INLINE_MARKS = re.compile(r"[\\`*_\[\]!<&]|  \n")
# The block parser tests every kind of block against the rest of a run of lines without a
# blank line, once for each line it takes from it: quadratic in the length of such a run.
# Characters tested, in all: 500 times what the longest sample article needs.
BLOCK_TEST_BUDGET = 100_000_000
MAX_BLOCK_DEPTH = 100  # block parsers running inside each other (a list item in a list...)

_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[0-9a-z]+);", re.IGNORECASE)
_STASHED = re.compile(util.HTML_PLACEHOLDER % r"([0-9]+)")
_LEFTOVER_PLACEHOLDER = re.compile(f"{util.STX}[^{util.ETX}]*{util.ETX}|[{util.STX}{util.ETX}]")
_BRACKET = re.compile(r"[\[\]]")
_LINK_PATTERNS = (
    "reference",
    "link",
    "image_link",
    "image_reference",
    "short_reference",
    "short_image_ref",
)


class _InlineCostGuard(Treeprocessor):
    """Runs just before inline parsing and refuses text that would take far too long."""

    def run(self, root: Element) -> None:
        total = 0
        for element in root.iter():
            for text in (element.text, element.tail):
                if not text or isinstance(text, util.AtomicString):
                    continue
                total += len(text) * len(_INLINE_MARKS.findall(text))
                if total > INLINE_COST_BUDGET:
                    raise _TooCostly(text, 0, paragraph=True)


class _KeepTree(Treeprocessor):
    """Keeps the finished element tree (after inline processing) for later outputs."""

    def run(self, root: Element) -> None:
        self.md.kept_tree = root  # type: ignore[attr-defined]


@dataclass
class _LinkScanner:
    """Bounded replacements for the link parser's bracket and parenthesis scans."""

    budget: int = LINK_SCAN_BUDGET
    used: int = 0

    def charge(self, amount: int, data: str, index: int) -> None:
        self.used += amount
        if self.used > self.budget:
            raise _TooCostly(data, index)

    def get_text(self, data: str, index: int) -> tuple[str, int, bool]:
        """The link text up to the `]` matching the `[` before `index` (Python-Markdown's
        getText, visiting only brackets and giving up past MAX_BRACKET_DEPTH)."""
        depth = 1
        visited = 0
        for match in _BRACKET.finditer(data, index):
            visited += 1
            depth += 1 if match.group() == "[" else -1
            if depth == 0:
                self.charge(visited, data, index)
                return data[index : match.start()], match.end(), True
            if depth > MAX_BRACKET_DEPTH:
                break
        self.charge(visited, data, index)
        return data[index:], len(data), False

    def bounded_get_link(self, original: _GetLink) -> _GetLink:
        """Python-Markdown's getLink, looking no further than MAX_LINK_LENGTH characters."""

        def get_link(data: str, index: int) -> tuple[str, str | None, int, bool]:
            window = data[index : index + MAX_LINK_LENGTH]
            if not window.startswith("(") or ")" not in window:
                return "", None, index, False
            href, title, end, handled = original(window, 0)
            self.charge(end if handled else len(window), data, index)
            return href, title, end + index, handled

        return get_link


_GetLink = Callable[[str, int], tuple[str, str | None, int, bool]]


@dataclass
class _BlockGuard:
    """Meters Python-Markdown's block parser: characters tested and nesting of blocks."""

    tested: int = 0
    depth: int = 0

    def install(self, md: markdown.Markdown) -> None:
        for processor in md.parser.blockprocessors:
            processor.test = self._metered_test(processor.test)  # type: ignore[method-assign]
            processor.run = self._nested_run(processor.run)  # type: ignore[method-assign]

    def _metered_test(self, test: Callable[[Element, str], bool]) -> Callable[[Element, str], bool]:
        def metered(parent: Element, block: str) -> bool:
            self.tested += len(block)
            if self.tested > BLOCK_TEST_BUDGET:
                raise _TooCostly(block, 0, lines=True)
            return test(parent, block)

        return metered

    def _nested_run(
        self, run: Callable[[Element, list[str]], bool | None]
    ) -> Callable[[Element, list[str]], bool | None]:
        def nested(parent: Element, blocks: list[str]) -> bool | None:
            self.depth += 1
            try:
                if self.depth > MAX_BLOCK_DEPTH:
                    raise RecursionError  # reported like Python-Markdown's own
                return run(parent, blocks)
            finally:
                self.depth -= 1

        return nested


class _TooCostly(Exception):
    def __init__(self, data: str, index: int, paragraph: bool = False, lines: bool = False):
        super().__init__()
        self.excerpt = data[max(0, index - 1) : index + 30]
        self.paragraph = paragraph
        self.lines = lines


def parse(body: str, body_line: int = 1) -> ParsedMarkdown:
    """Parse `body`; MarkdownError when it is nested too deeply or too costly to parse."""
    line_count = body.count("\n") + 1
    if line_count > MAX_LINES:
        raise MarkdownError(
            f"the text is {line_count:,} lines long (at most {MAX_LINES:,}); split it into "
            "several articles",
            body_line + MAX_LINES,
        )
    md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    # Raw HTML is shown as text, never interpreted: officers write Markdown, and no channel
    # but the portal could carry HTML anyway. This closes script injection at the source.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.treeprocessors.register(_InlineCostGuard(md), "inline_cost_guard", 21)  # inline: 20
    md.treeprocessors.register(_KeepTree(md), "keep_tree", -10)
    _BlockGuard().install(md)
    scanner = _LinkScanner()
    for name in _LINK_PATTERNS:
        processor = md.inlinePatterns[name]
        processor.getText = scanner.get_text  # type: ignore[method-assign]
        if hasattr(processor, "getLink"):
            processor.getLink = scanner.bounded_get_link(processor.getLink)  # type: ignore[method-assign]
    try:
        html_text = md.convert(body)
    except RecursionError:
        raise MarkdownError(
            "the text is nested too deeply to be read (lists, quotes or definitions inside "
            "each other, or a very long definition list); simplify its structure",
            None,
        ) from None
    except _TooCostly as exc:
        line = _line_of_excerpt(body, exc.excerpt, body_line)
        if exc.lines:
            raise MarkdownError(
                "the text has too many lines in a row without a blank line between them to be "
                "processed; separate paragraphs, headings and lists with blank lines",
                line,
            ) from None
        if exc.paragraph:
            raise MarkdownError(
                "the text has paragraphs too long and too full of Markdown marks "
                "(* _ [ ] ` \\ < & !) to be processed; separate paragraphs with a blank line "
                "and remove the marks that are not formatting",
                line,
            ) from None
        raise MarkdownError(
            f"the text has too many unclosed '[' or '(' to be read as Markdown (near "
            f"'{exc.excerpt.strip()}'); close each link's brackets or write '\\[' for a "
            "bracket that is not a link",
            line,
        ) from None
    # Markdown skips every processor for blank text, so an empty body has no kept tree.
    tree: Element = getattr(md, "kept_tree", None) or Element("div")
    _check_nesting(tree)
    _Restorer(md).restore(tree)
    image_lines, link_lines = _LineFinder(body, body_line), _LineFinder(body, body_line)
    images = tuple(
        Reference(img.get("src", ""), image_lines.find(img.get("src", "")), img.get("alt", ""))
        for img in tree.iter("img")
    )
    links = tuple(
        Reference(href, link_lines.find(href, text), text)
        for href, text in ((a.get("href", ""), "".join(a.itertext())) for a in tree.iter("a"))
    )
    return ParsedMarkdown(html_text, tree, images, links)


def _check_nesting(tree: Element) -> None:
    stack = [(tree, 0)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_NESTING:
            raise MarkdownError(
                f"the text is nested more than {MAX_NESTING} levels deep (lists or quotes "
                "inside each other); simplify its structure",
                None,
            )
        stack.extend((child, depth + 1) for child in element)


def _line_of_excerpt(body: str, excerpt: str, body_line: int) -> int | None:
    position = body.find(excerpt.split("\n")[0]) if excerpt else -1
    return body.count("\n", 0, position) + body_line if position >= 0 else None


class _Restorer:
    """Turns Python-Markdown's placeholders and escaped text in the tree into plain text."""

    def __init__(self, md: markdown.Markdown) -> None:
        self.stash = md.htmlStash.rawHtmlBlocks

    def restore(self, tree: Element) -> None:
        rebuilt = self._blocks(tree)
        for element in tree.iter():
            if id(element) in rebuilt:
                continue  # made from stashed HTML: already plain text
            if element.text:
                element.text = self._text(element.text, code=element.tag == "code")
            if element.tail:
                element.tail = self._text(element.tail)
            for key, value in element.items():
                # attr_list keeps an attribute written without a value (`{name}`) as None,
                # which no serialiser but Python-Markdown's own accepts: HTML reads it as "".
                element.set(key, "" if value is None else self._text(value))

    def _blocks(self, tree: Element) -> set[int]:
        """A paragraph that is only a placeholder holds stashed HTML (a fenced code block).

        Returns the ids of the elements put in its place.
        """
        rebuilt: set[int] = set()
        for parent in list(tree.iter()):
            for index, child in reversed(list(enumerate(parent))):
                match = _STASHED.fullmatch((child.text or "").strip())
                if child.tag != "p" or len(child) or match is None:
                    continue
                stashed = self._stashed(int(match.group(1)))
                if isinstance(stashed, Element):
                    replacement = [stashed]
                else:
                    replacement = _elements_from_html(stashed)
                if replacement:
                    replacement[-1].tail = child.tail
                parent.remove(child)
                for offset, element in enumerate(replacement):
                    parent.insert(index + offset, element)
                    rebuilt.update(id(e) for e in element.iter())
        return rebuilt

    def _stashed(self, key: int) -> str | Element:
        return self.stash[key] if 0 <= key < len(self.stash) else ""

    def _inline(self, match: re.Match[str]) -> str:
        stashed = self._stashed(int(match.group(1)))
        if isinstance(stashed, Element):
            return "".join(stashed.itertext())
        return text_of_html(stashed)

    def _text(self, text: str, code: bool = False) -> str:
        if util.STX in text:
            text = _STASHED.sub(self._inline, text)
            text = text.replace(util.AMP_SUBSTITUTE, "&")
            text = text.replace(NBSP_PLACEHOLDER, "\xa0").replace(FN_BACKLINK_TEXT, "\u21a9")
            text = _LEFTOVER_PLACEHOLDER.sub("", text)
        if code:  # code spans and blocks hold HTML-escaped text
            return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        return _ENTITY.sub(lambda m: html.unescape(m.group()), text) if "&" in text else text


class _TreeBuilder(HTMLParser):
    """Stashed HTML (always Python-Markdown's own, escaped output) back into elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("div")
        self.open: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = SubElement(self.open[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in ("br", "hr", "img"):
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if len(self.open) > 1 and self.open[-1].tag == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        current = self.open[-1]
        if len(current):
            current[-1].tail = (current[-1].tail or "") + data
        else:
            current.text = (current.text or "") + data


def _elements_from_html(raw: str) -> list[Element]:
    builder = _TreeBuilder()
    builder.feed(raw)
    builder.close()
    if builder.root.text and builder.root.text.strip():
        paragraph = Element("p")
        paragraph.text = builder.root.text.strip()
        return [paragraph, *builder.root]
    return list(builder.root)


class _LineFinder:
    """The file line of a link or image target, searching forward in document order."""

    def __init__(self, body: str, body_line: int) -> None:
        self.body = body
        self.body_line = body_line
        self.cursor = 0

    def find(self, target: str, text: str = "") -> int | None:
        """The line of `target`; else (an address written with entities) of `[text]`."""
        if not target:
            return None
        position = self._position(target)
        if position < 0 and text:
            position = self._first((f"[{text}]",))
        if position < 0:
            return None
        self.cursor = position
        return self.body.count("\n", 0, position) + self.body_line

    def _position(self, target: str) -> int:
        # As written in the link syntax first, so that 'a.png' is not found inside 'xa.png'.
        return self._first((f"]({target}", f"](<{target}>", f"]: {target}", f'="{target}"', target))

    def _first(self, forms: tuple[str, ...]) -> int:
        for start in (self.cursor, 0):
            for form in forms:
                position = self.body.find(form, start)
                if position >= 0:
                    return position
        return -1
