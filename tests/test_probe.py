import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from publisher.content.probe import MediaError, probe_image, probe_video


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims `width` x `height` pixels but holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def test_reads_header_facts(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    image = Image.new("RGB", (300, 200), "white")
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(path, "JPEG", exif=exif)
    info = probe_image(path)
    assert (info.format, info.width, info.height, info.mode, info.orientation, info.frames) == (
        "JPEG",
        300,
        200,
        "RGB",
        6,
        1,
    )


@pytest.mark.parametrize(
    ("mode", "fmt", "suffix"),
    [
        ("CMYK", "JPEG", ".jpg"),
        ("I;16", "PNG", ".png"),
        ("P", "PNG", ".png"),
        ("RGBA", "PNG", ".png"),
    ],
)
def test_unusual_modes_are_accepted(tmp_path: Path, mode: str, fmt: str, suffix: str) -> None:
    path = tmp_path / f"a{suffix}"
    Image.new(mode, (20, 10)).save(path, fmt)
    assert probe_image(path).mode == mode


def test_animated_gif_counts_frames(tmp_path: Path) -> None:
    path = tmp_path / "a.gif"
    frames = [Image.new("RGB", (10, 10), c) for c in ("red", "green", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert probe_image(path).frames == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"this is not an image at all", "not a readable image"),
    ],
)
def test_empty_and_corrupt_images_are_refused(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=expected):
        probe_image(path)


def test_truncated_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.effect_noise((200, 200), 50).save(path, "PNG")
    path.write_bytes(path.read_bytes()[:600])
    with pytest.raises(MediaError, match="damaged"):
        probe_image(path)


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    path = png_header_only(tmp_path / "bomb.png", 40_000, 40_000)
    assert path.stat().st_size < 200
    with pytest.raises(MediaError, match="too many pixels"):
        probe_image(path)


def test_extension_must_match_the_format(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    Image.new("RGB", (10, 10)).save(path, "PNG")
    with pytest.raises(MediaError, match=r"is a PNG image but is named '\.jpg'"):
        probe_image(path)


def test_video_signatures(tmp_path: Path) -> None:
    mp4 = tmp_path / "a.mp4"
    mp4.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(32))
    assert probe_video(mp4).container == "mp4"
    fake = tmp_path / "b.mp4"
    fake.write_bytes(b"<html>not a video</html>")
    with pytest.raises(MediaError, match="not a video"):
        probe_video(fake)
    empty = tmp_path / "c.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        probe_video(empty)
