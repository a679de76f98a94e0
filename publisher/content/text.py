"""Turning a file's bytes into the text the rest of the pipeline sees.

Officers save files from Word, Notepad, macOS and Vietnamese input methods, so the bytes
may carry a byte-order mark, CRLF line endings or decomposed diacritics (NFD, what
Unikey's "Unicode tổ hợp" produces). The text is decoded, line endings become `\\n`,
and Unicode is normalised to NFC so that counts, slugs and hashtags behave.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

from publisher.problems import LocatedError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class TextDecodeError(LocatedError):
    """The bytes are not text we can read."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    was_nfc: bool


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def decode_text(raw: bytes) -> DecodedText:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16 into NFC text with `\\n` lines."""
    if raw.startswith(_UTF16_BOMS):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise TextDecodeError(
                "the file is not UTF-8 text; save it again with the UTF-8 encoding "
                "(in Notepad: File > Save as > Encoding: UTF-8)",
                line,
            ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TextDecodeError("the file contains NUL bytes: it is not a text file", line)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    normalised = nfc(text)
    return DecodedText(normalised, was_nfc=normalised == text)
