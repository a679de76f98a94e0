"""Counting and cutting text the way each platform counts it.

Platforms count differently: Zalo and YouTube titles in characters (code points),
YouTube descriptions in UTF-8 bytes, Telegram in UTF-16 code units after entity parsing.
Cutting never splits a word when a space is available, and never a grapheme cluster
(a letter with its combining marks, an emoji sequence).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

Unit = Literal["chars", "bytes", "utf16"]
ELLIPSIS = "…"
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def measure(text: str, unit: Unit) -> int:
    if unit == "bytes":
        return len(text.encode("utf-8"))
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def measurer(unit: Unit) -> Callable[[str], int]:
    return lambda text: measure(text, unit)


@dataclass(frozen=True)
class Count:
    """One measured field against its platform limit, for `render` and the preview."""

    field: str
    used: int
    limit: int
    unit: Unit

    @property
    def within(self) -> bool:
        return self.used <= self.limit

    def to_json(self) -> dict[str, object]:
        return {"field": self.field, "used": self.used, "limit": self.limit, "unit": self.unit}


def truncate(text: str, limit: int, unit: Unit = "chars", suffix: str = ELLIPSIS) -> str:
    """`text` if it fits, else its longest prefix ending at a word (or grapheme) + `suffix`."""
    if measure(text, unit) <= limit:
        return text
    budget = limit - measure(suffix, unit)
    if budget <= 0:
        return _fit_graphemes(suffix, limit, unit)
    head = _fit_graphemes(text, budget, unit)
    mid_word = not head[-1:].isspace() and not text[len(head) : len(head) + 1].isspace()
    last_space = max(head.rfind(" "), head.rfind("\n")) if mid_word else -1
    if last_space > len(head) // 2:
        head = head[:last_space]
    return head.rstrip(" \n,;:-–—") + suffix


def _fit_graphemes(text: str, budget: int, unit: Unit) -> str:
    """The longest prefix of whole graphemes within `budget` (the rest is never scanned)."""
    kept, used = [], 0
    for match in _graphemes().finditer(text):
        cluster = match.group()
        size = measure(cluster, unit)
        if used + size > budget:
            break
        kept.append(cluster)
        used += size
    return "".join(kept)


def strip_diacritics(text: str) -> str:
    """'Bảo hiểm y tế Đồng Nai' -> 'Bao hiem y te Dong Nai' (đ is a letter, not a mark)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slugify(text: str, max_length: int = 80) -> str:
    """A URL slug from a Vietnamese title: ASCII, lowercase, hyphens, cut at a word."""
    words = _NON_ALNUM.sub(" ", strip_diacritics(text).lower()).split()
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "bai-viet"


def hashtag(tag: str) -> str:
    """'BHXH tự nguyện' -> '#BHXHTuNguyen': no diacritics, no spaces, words capitalised."""
    words = _NON_ALNUM.sub(" ", strip_diacritics(tag)).split()
    body = "".join(word if word.isupper() else word[:1].upper() + word[1:] for word in words)
    return f"#{body}" if body else ""


def hashtags(tags: list[str], limit: int | None = None) -> list[str]:
    """Unique hashtags in order, at most `limit`."""
    seen: dict[str, str] = {}
    for tag in tags:
        tag_text = hashtag(tag if not tag.startswith("#") else tag[1:])
        if tag_text and tag_text.lower() not in seen:
            seen[tag_text.lower()] = tag_text
    values = list(seen.values())
    return values[:limit] if limit is not None else values


@cache
def _graphemes() -> Any:
    """User-perceived characters (`regex`'s \\X), compiled when a text is first cut: the
    module costs start-up time that most runs do not need."""
    import regex

    return regex.compile(r"\X")
