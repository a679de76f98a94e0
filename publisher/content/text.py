"""Turning a file's bytes into the text the rest of the pipeline sees.

Officers save files from Word, Notepad, macOS and Vietnamese input methods, so the bytes
may carry a byte-order mark, CRLF line endings or decomposed diacritics (NFD, what
Unikey's "Unicode tổ hợp" produces). The text is decoded, line endings become `\\n`,
and Unicode is normalised to NFC so that counts, slugs and hashtags behave.

Text pasted from web pages, PDFs and chat apps may also carry characters nobody sees:
control characters, Unicode line separators, direction overrides that make a title read
differently from what was typed, or a letter buried under thousands of combining marks.
`unusual_characters` finds them so the loader can name the line.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from publisher.problems import LocatedError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Every Markdown file starts with '---', so UTF-16 without a byte-order mark is recognisable.
_UTF16_WITHOUT_BOM = {b"-\x00-\x00-\x00": "utf-16-le", b"\x00-\x00-\x00-": "utf-16-be"}

# At most two combining marks stack on a Vietnamese letter (decomposed ệ: e + ̂ + ̣); other
# scripts use a few more. Far more than that is "Zalgo" text that smears over the lines.
MAX_COMBINING_MARKS = 8

CharacterKind = Literal["control", "separator", "surrogate", "bidi", "combining", "zero-width"]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SEPARATOR = re.compile(r"[\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Embeddings, overrides and isolates reorder the letters that follow them on screen.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad\u061c]")
_COMBINING_RUN = re.compile(
    r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
    rf"{{{MAX_COMBINING_MARKS + 1},}}"
)


class TextDecodeError(LocatedError):
    """The bytes are not text we can read."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    was_nfc: bool
    notes: tuple[str, ...] = ()  # warnings about how the bytes were read


@dataclass(frozen=True)
class UnusualCharacter:
    """The first of `count` unusual characters of one kind, at a 0-based `offset` in the text."""

    kind: CharacterKind
    char: str
    offset: int
    count: int

    @property
    def code(self) -> str:
        return f"U+{ord(self.char):04X}"

    @property
    def name(self) -> str:
        return unicodedata.name(self.char, "") if not _SURROGATE.match(self.char) else ""

    def described(self) -> str:
        """'U+202E (RIGHT-TO-LEFT OVERRIDE)' or 'U+001B'."""
        return f"{self.code} ({self.name})" if self.name else self.code


_UNSHOWABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    r"\u200b-\u200f\u2060\ufeff\u00ad\u061c\ud800-\udfff]"
)


def printable(text: str, keep_lines: bool = False) -> str:
    """`text` safe for a terminal or a log line: every control, direction or invisible
    character written out as an escape (`\\x1b`, `\\u202e`), so none can clear the screen,
    set the window title, overwrite or forge a line. `keep_lines` keeps line feeds and tabs
    (a post's text); a name or a message keeps none."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if keep_lines and char in "\n\t":
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSHOWABLE.sub(escape, text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def decode_text(raw: bytes) -> DecodedText:
    """Decode UTF-8 (with or without BOM) or UTF-16 into NFC text with `\\n` lines."""
    notes: tuple[str, ...] = ()
    encoding = "utf-16" if raw.startswith(_UTF16_BOMS) else _UTF16_WITHOUT_BOM.get(raw[:6])
    if encoding is not None:
        text = _decode_utf16(raw, encoding)
        if encoding != "utf-16":
            notes = (
                "the file is saved as UTF-16 without a byte-order mark; it was read as UTF-16, "
                "but save it again with the UTF-8 encoding to be safe",
            )
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _looks_like_utf16(raw):
                raise TextDecodeError(
                    "the file looks like UTF-16 text without a byte-order mark; save it again "
                    "with the UTF-8 encoding (in Notepad: File > Save as > Encoding: UTF-8)",
                    1,
                ) from None
            raise TextDecodeError(
                "the file is not UTF-8 text; save it again with the UTF-8 encoding "
                "(in Notepad: File > Save as > Encoding: UTF-8)",
                _line_at(raw, exc.start),
            ) from None
    if "\x00" in text:
        line = _line_at(text, text.index("\x00"))
        raise TextDecodeError("the file contains NUL bytes: it is not a text file", line)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    normalised = nfc(text)
    return DecodedText(normalised, was_nfc=normalised == text, notes=notes)


def _decode_utf16(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _line_at(raw[: exc.start].decode(encoding, errors="replace"), None)
        raise TextDecodeError(
            "the file is damaged UTF-16 text (an incomplete character); save it again with "
            "the UTF-8 encoding",
            line,
        ) from None


def _looks_like_utf16(raw: bytes) -> bool:
    """Mostly-ASCII text in UTF-16 has a NUL in every other byte."""
    sample = raw[:4000]
    return len(sample) >= 8 and max(sample[0::2].count(0), sample[1::2].count(0)) > len(sample) // 3


def _line_at(text: str | bytes, offset: int | None) -> int:
    """The 1-based line of `offset` (the end when None); CRLF, CR and LF each end a line."""
    head = text if offset is None else text[:offset]
    if isinstance(head, bytes):
        return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1


def unusual_characters(
    text: str, kinds: frozenset[CharacterKind] | None = None
) -> list[UnusualCharacter]:
    """Characters an officer cannot see or did not mean, the first of each kind, in order.

    Tabs and line feeds are ordinary; every other control character is not.
    """
    patterns: list[tuple[CharacterKind, re.Pattern[str]]] = [
        ("control", _CONTROL),
        ("separator", _SEPARATOR),
        ("surrogate", _SURROGATE),
        ("bidi", _BIDI),
        ("zero-width", _ZERO_WIDTH),
        ("combining", _COMBINING_RUN),
    ]
    found: list[UnusualCharacter] = []
    for kind, pattern in patterns:
        if kinds is not None and kind not in kinds:
            continue
        first = pattern.search(text)
        if first is None:
            continue
        if kind == "combining":
            count = max(len(m.group()) for m in pattern.finditer(text))
            found.append(UnusualCharacter(kind, first.group()[0], first.start(), count))
        else:
            found.append(
                UnusualCharacter(kind, first.group(), first.start(), len(pattern.findall(text)))
            )
    return sorted(found, key=lambda c: c.offset)


def remove_control_characters(text: str) -> str:
    """Control characters dropped; Word's line and page breaks (VT, FF) become spaces."""
    return _CONTROL.sub(lambda m: " " if m.group() in "\x0b\x0c" else "", text)


def line_of_offset(text: str, offset: int, first_line: int = 1) -> int:
    return text.count("\n", 0, offset) + first_line
