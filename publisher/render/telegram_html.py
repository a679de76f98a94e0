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
from typing import NamedTuple

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


def line_chunks(line: Line, resolve: LinkResolver, limit: int) -> list[Chunk]:
    """A line as chunks: none for a figure, several when it is longer than `limit`."""
    if line.kind == "figure":
        return []
    whole = line_chunk(line, resolve)
    if whole.visible <= limit:
        return [whole]
    return [line_chunk(piece, resolve) for piece in split_line(line, limit)]


class _Fill(NamedTuple):
    """How far packing has gone: messages begun, the last one's visible units and chunk."""

    messages: int = 0
    used: int = 0
    last: Chunk | None = None

    def after(self, chunks: list[Chunk], limit: int) -> _Fill:
        """The fill once `chunks` are added, each starting a new message when it does not fit
        the last one (kept in locals: one fill a line, not one a chunk)."""
        messages, used, last = self
        for chunk in chunks:
            if last is not None:
                grown = used + len(chunk.separator(last)) + chunk.visible
                if grown <= limit:
                    used, last = grown, chunk
                    continue
            messages, used, last = messages + 1, chunk.visible, chunk
        return _Fill(messages, used, last)


def pack_messages(lines: list[Line], resolve: LinkResolver, limit: int) -> list[str]:
    """Lines packed into as few messages of at most `limit` visible units as possible."""
    return _pack([c for line in lines for c in line_chunks(line, resolve, limit)], limit)


def pack_within(
    head: list[Line],
    body: list[Line],
    tail: list[Line],
    resolve: LinkResolver,
    limit: int,
    most: int,
) -> tuple[list[str], int]:
    """`head`, `body` and `tail` packed as `pack_messages` does, in at most `most` messages
    if dropping lines from the end of `body` gets there; and how many messages the whole
    body needs.

    Each line is made into chunks once, and how packing stands after every line of the
    body is kept, so trying each shorter body only packs the tail again: linear in the
    body, where packing every shorter body afresh was quadratic.
    """
    head_chunks = [c for line in head for c in line_chunks(line, resolve, limit)]
    body_chunks = [line_chunks(line, resolve, limit) for line in body]
    tail_chunks = [c for line in tail for c in line_chunks(line, resolve, limit)]
    fills = [_Fill().after(head_chunks, limit)]
    for chunks in body_chunks:
        fills.append(fills[-1].after(chunks, limit))
    needed = fills[-1].after(tail_chunks, limit).messages
    kept = next(
        (
            count
            for count in range(len(body), 0, -1)
            if fills[count].after(tail_chunks, limit).messages <= most
        ),
        0,
    )
    kept_chunks = [c for chunks in body_chunks[:kept] for c in chunks]
    return _pack([*head_chunks, *kept_chunks, *tail_chunks], limit), needed


def _pack(chunks: list[Chunk], limit: int) -> list[str]:
    """The chunks in order, a new message begun wherever the next one does not fit."""
    messages: list[list[Chunk]] = []
    fill = _Fill()
    for chunk in chunks:
        added = fill.after([chunk], limit)
        if added.messages > fill.messages:
            messages.append([])
        messages[-1].append(chunk)
        fill = added
    return [_join(message) for message in messages]


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
