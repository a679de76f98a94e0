"""Plain text for platforms without formatting (Facebook, YouTube, Zalo text blocks)."""

from __future__ import annotations

from collections.abc import Callable

from publisher.render.document import Line, Runs
from publisher.render.text import Unit, measure, truncate

LinkResolver = Callable[[str], str]


def runs_text(runs: Runs, resolve: LinkResolver) -> str:
    """Inline text with web links spelt out, since plain text cannot hide an address."""
    parts: list[str] = []
    for run in runs:
        parts.append(run.text)
        if run.href and not run.href.startswith(("mailto:", "tel:", "#")):
            url = resolve(run.href)
            if _bare(url) != _bare(run.text):
                parts.append(f" ({url})")
    return "".join(parts)


def _bare(address: str) -> str:
    """An address as people write it: no scheme, no 'www.', no trailing slash."""
    text = address.strip().lower().removeprefix("https://").removeprefix("http://")
    return text.removeprefix("www.").rstrip("/")


def line_text(line: Line, resolve: LinkResolver) -> str:
    if line.kind == "rule":
        return "———"
    text = runs_text(line.runs, resolve)
    if line.kind == "heading":
        return text.upper()
    if line.kind == "quote":
        return f"“{text}”"
    return f"{line.prefix}{text}"


def paragraphs(lines: list[Line], resolve: LinkResolver) -> list[str]:
    """Text paragraphs; consecutive list items and table rows form one paragraph (joined
    once: adding each row to the text so far would copy it again for every row)."""
    groups: list[list[str]] = []
    previous: Line | None = None
    for line in lines:
        if line.kind == "figure":
            previous = None
            continue
        text = line_text(line, resolve)
        if previous and previous.kind in ("item", "row") and line.kind == previous.kind:
            groups[-1].append(text)
        else:
            groups.append([text])
        previous = line
    return ["\n".join(group) for group in groups]


def fit_paragraphs(
    texts: list[str], limit: int, unit: Unit = "chars", tail: str = ""
) -> tuple[str, bool]:
    """Whole paragraphs joined by blank lines within `limit` (with `tail` after them).

    When they do not all fit, the last one that partly fits is cut at a word and the
    text ends with an ellipsis; the second value says whether anything was cut. Each text
    is measured once (every unit counts a joined text as the sum of its parts).
    """
    joiner = "\n\n"
    gap, after = measure(joiner, unit), measure(tail, unit)
    kept: list[str] = []
    used = 0  # the kept texts joined, and the joiner before the next one
    for text in texts:
        size = measure(text, unit)
        if used + size + after <= limit:
            kept.append(text)
            used += size + gap
            continue
        room = limit - used - after
        if room > 40:  # a stub of a few words reads worse than stopping at a paragraph
            kept.append(truncate(text, room, unit))
        return joiner.join(kept), True
    return joiner.join(kept), False
