"""Telegram's HTML dialect: only the tags Telegram accepts, split into messages.

Telegram rejects `<p>`, `<br>`, lists and headings ("can't parse entities"), so lines
become text separated by newlines, headings become bold, and lists keep their markers.
Limits are counted on the visible text in UTF-16 code units, as Telegram counts them.
Messages are split between lines; a line too long on its own is split between words,
with every tag closed in the part it opened in.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from publisher.htmltext import text_of_html
from publisher.render.document import Line, Run
from publisher.render.plain import LinkResolver
from publisher.render.text import measure, truncate

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
        "tg-emoji",
    }
)


@dataclass(frozen=True)
class Chunk:
    """A piece of a message: its HTML and the length Telegram will count for it."""

    html: str
    visible: int
    kind: str = "text"

    def separator(self, previous: Chunk | None) -> str:
        """List items and table rows follow each other on the next line; blocks get a gap."""
        if previous is None:
            return ""
        return "\n" if previous.kind == self.kind and self.kind in ("item", "row") else "\n\n"


def run_html(run: Run, resolve: LinkResolver) -> str:
    text = html.escape(run.text, quote=False)
    if run.code:
        text = f"<code>{text}</code>"
    if run.bold:
        text = f"<b>{text}</b>"
    if run.italic:
        text = f"<i>{text}</i>"
    if run.strike:
        text = f"<s>{text}</s>"
    if run.href and not run.href.startswith("#"):
        text = f'<a href="{html.escape(resolve(run.href), quote=True)}">{text}</a>'
    return text


def line_chunk(line: Line, resolve: LinkResolver) -> Chunk:
    if line.kind == "rule":
        return Chunk("———", 3, "rule")
    runs = line.runs
    if line.kind == "heading":
        runs = tuple(replace(run, bold=True) for run in runs)
    body = "".join(run_html(run, resolve) for run in runs)
    visible = measure(line.prefix + "".join(run.text for run in runs), "utf16")
    if line.kind == "quote":
        body = f"<blockquote>{body}</blockquote>"
    elif line.kind == "code":
        body = f"<pre>{html.escape(line.text, quote=False)}</pre>"
    return Chunk(html.escape(line.prefix, quote=False) + body, visible, line.kind)


def split_line(line: Line, limit: int) -> list[Line]:
    """A line longer than `limit` as several lines, cut between words."""
    pieces: list[Line] = []
    current: list[Run] = []
    used = 0
    for run in line.runs:
        for word in _words(run.text):
            size = measure(word, "utf16")
            if used + size > limit and current:
                pieces.append(replace(line, runs=tuple(current)))
                current, used = [], 0
                word = word.lstrip()
                size = measure(word, "utf16")
            if size > limit:
                word = truncate(word, limit, "utf16")
                size = measure(word, "utf16")
            current.append(replace(run, text=word))
            used += size
    if current:
        pieces.append(replace(line, runs=tuple(current)))
    return pieces


def _words(text: str) -> list[str]:
    """Words keeping their leading space, so joining them gives the text back."""
    words: list[str] = []
    for index, word in enumerate(text.split(" ")):
        words.append(word if index == 0 else " " + word)
    return [w for w in words if w]


def pack_messages(lines: list[Line], resolve: LinkResolver, limit: int) -> list[str]:
    """Lines packed into as few messages of at most `limit` visible units as possible."""
    messages: list[list[Chunk]] = [[]]
    used = 0  # visible units of the last message, separators included
    for line in lines:
        if line.kind == "figure":
            continue
        whole = line_chunk(line, resolve)
        pieces = [whole]
        if whole.visible > limit:
            pieces = [line_chunk(piece, resolve) for piece in split_line(line, limit)]
        for chunk in pieces:
            current = messages[-1]
            gap = len(chunk.separator(current[-1])) if current else 0
            if current and used + gap + chunk.visible > limit:
                messages.append([])
                used, gap = 0, 0
            messages[-1].append(chunk)
            used += gap + chunk.visible
    return [_join(chunks) for chunks in messages if chunks]


def _join(chunks: list[Chunk]) -> str:
    previous: Chunk | None = None
    parts: list[str] = []
    for chunk in chunks:
        parts.append(chunk.separator(previous) + chunk.html)
        previous = chunk
    return "".join(parts)


def visible_length(message_html: str) -> int:
    """The length Telegram counts: the text after entity parsing, in UTF-16 units."""
    return measure(text_of_html(message_html), "utf16")
