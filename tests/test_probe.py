import io
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from publisher.content import probe
from publisher.content.probe import MediaError, probe_image, probe_video

from .forged_images import gif_screen, png_16_bit_header, png_header_only, webp_canvas


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


# --- what decoding would cost, from the header ------------------------------------------------

MB = 1024 * 1024


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The formats of the images whose pixels were decoded (Pillow's `load`), in order."""
    formats: list[str] = []
    real_load = ImageFile.ImageFile.load

    def recording_load(self: ImageFile.ImageFile) -> object:
        formats.append(str(self.format))
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return formats


@pytest.mark.parametrize(
    ("make", "name", "size", "expected"),
    [
        (
            gif_screen,
            "a.gif",
            (9400, 9400),
            "the image is 9400x9400 px (88.4 megapixels), more than the 40 megapixels an image "
            "may have; no channel shows more than 2560 px on the long side: export it at most "
            "2560 px on its long side",
        ),
        (
            webp_canvas,
            "a.webp",
            (16383, 5400),
            "the image is 16383x5400 px (88.5 megapixels), more than the 20 megapixels a WebP "
            "image may have; no channel shows more than 2560 px on the long side: export it at "
            "most 2560 px on its long side (as JPEG or PNG)",
        ),
        (
            png_16_bit_header,
            "a.png",
            (9400, 9400),
            "the image is 9400x9400 px (88.4 megapixels), more than the 20 megapixels a 16-bit "
            "PNG may have; no channel shows more than 2560 px on the long side: export it at "
            "most 2560 px on its long side, at 8 bits per channel",
        ),
        (png_16_bit_header, "a.png", (5000, 5000), "more than the 20 megapixels a 16-bit PNG"),
        (png_header_only, "a.png", (6400, 6400), "(41.0 megapixels), more than the 40"),
    ],
)
def test_images_too_costly_to_decode_are_refused_from_the_header(
    tmp_path: Path,
    decoded: list[str],
    make: Callable[[Path, int, int], Path],
    name: str,
    size: tuple[int, int],
    expected: str,
) -> None:
    path = make(tmp_path / name, *size)
    assert path.stat().st_size < 100
    with pytest.raises(MediaError) as refused:
        probe_image(path)
    assert expected in str(refused.value)
    assert decoded == []


def test_what_decoding_costs_is_read_from_the_header(tmp_path: Path, decoded: list[str]) -> None:
    wide = tmp_path / "wide.jpg"
    Image.new("RGB", (5200, 400), "white").save(wide)  # libjpeg decodes it at 1/2
    grey = png_16_bit_header(tmp_path / "grey.png", 4000, 2500, colour=0)
    infographic = png_header_only(tmp_path / "tall.png", 1080, 8000)
    costs = {
        path.name: (info.decoded, info.bits, info.decode_megapixels)
        for path in (wide, grey, infographic, webp_canvas(tmp_path / "a.webp", 3000, 2000))
        for info in [probe_image(path)]
    }
    assert costs == {
        "wide.jpg": ((2600, 200), 8, 0.52),
        "grey.png": ((4000, 2500), 16, 20.0),
        "tall.png": ((1080, 8000), 8, 8.64),
        "a.webp": ((3000, 2000), 8, 12.0),
    }
    assert decoded == []


def test_a_png_is_probed_without_decoding_its_pixels(tmp_path: Path, decoded: list[str]) -> None:
    """Pillow's getexif() decodes a whole PNG to look for EXIF after its pixels."""
    plain, turned = tmp_path / "plain.png", tmp_path / "turned.png"
    Image.effect_noise((300, 200), 40).save(plain)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.effect_noise((300, 200), 40).save(turned, exif=exif)
    decoded.clear()
    assert (probe_image(plain).orientation, probe_image(turned).orientation) == (1, 6)
    assert decoded == []


def jpeg_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_a_jpeg_followed_by_much_data_is_checked_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "motion.jpg"
    path.write_bytes(jpeg_bytes())
    with path.open("r+b") as file:
        file.truncate(64 * MB)  # a hole: what a motion photo appends after the image
    tracemalloc.start()
    try:
        info = probe_image(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.format == "JPEG"
    assert peak < 4 * MB


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
def test_the_end_of_a_jpeg_is_found_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(probe, "_JPEG_BLOCK", block)
    data = jpeg_bytes((40, 30))
    for name, content, complete in (
        ("whole.jpg", data, True),
        ("trailing.jpg", data + b"\x00" * 37, True),
        ("cut.jpg", data[: len(data) - 40], False),
        ("cut-then-junk.jpg", data[: len(data) - 40] + b"\x00" * 37, False),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        assert probe._jpeg_is_complete(path) is complete, name
