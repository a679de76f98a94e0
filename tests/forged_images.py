"""Tiny image files whose headers claim far more pixels than they hold.

They let tests prove that costly images are refused from their headers, before
any pixel is decoded, without writing large files.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image


def png_bytes(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    """A PNG (RGB, or grey with `colour` 0) claiming `width` x `height` pixels of `depth` bits."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_bytes(width: int, height: int) -> bytes:
    """A 35-byte GIF: a `width` x `height` logical screen holding one 1x1 frame."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + bytes(3) + b"\xff" * 3
    frame = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return screen + frame + b";"


def webp_bytes(width: int, height: int) -> bytes:
    """A lossless WebP of a few bytes whose header claims a `width` x `height` canvas."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, "WEBP", lossless=True)
    data = bytearray(buffer.getvalue())
    header = data.index(b"VP8L") + 9  # after the chunk's size and its 0x2f signature
    bits = int.from_bytes(data[header : header + 4], "little") & ~((1 << 28) - 1)
    bits |= (width - 1) | (height - 1) << 14
    data[header : header + 4] = bits.to_bytes(4, "little")
    return bytes(data)


def png_header_only(path: Path, width: int, height: int) -> Path:
    """Writes an 8-bit RGB PNG claiming `width` x `height` pixels to `path`."""
    path.write_bytes(png_bytes(width, height))
    return path


def png_16_bit_header(path: Path, width: int, height: int, colour: int = 2) -> Path:
    """Writes a 16-bit PNG (RGB, or grey with `colour` 0) claiming `width` x `height` pixels."""
    path.write_bytes(png_bytes(width, height, depth=16, colour=colour))
    return path


def gif_screen(path: Path, width: int, height: int) -> Path:
    """Writes a GIF whose logical screen is `width` x `height` to `path`."""
    path.write_bytes(gif_bytes(width, height))
    return path


def webp_canvas(path: Path, width: int, height: int) -> Path:
    """Writes a WebP whose canvas is `width` x `height` to `path`."""
    path.write_bytes(webp_bytes(width, height))
    return path
