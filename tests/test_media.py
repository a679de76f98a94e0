"""Image variants: every source image is generated here with Pillow, nothing binary is committed."""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageFilter

from publisher.adapters import facebook, portal, telegram, youtube, zalo
from publisher.content.assets import file_sha256
from publisher.content.probe import LARGEST_VARIANT
from publisher.media import MediaCache, MediaError, Variant, VariantSpec, prepare_variants
from publisher.media import cache as media_cache

from .forged_images import gif_screen, png_16_bit_header, png_header_only, webp_canvas

RED, BLUE, BACKGROUND = (255, 0, 0), (0, 0, 255), "#336699"
BACKGROUND_RGB = (0x33, 0x66, 0x99)


def make_cache(tmp_path: Path) -> MediaCache:
    return MediaCache(tmp_path / "cache")


def save(image: Image.Image, path: Path, **params: object) -> Path:
    image.save(path, **params)
    return path


def noisy(size: tuple[int, int]) -> Image.Image:
    """Random colour noise: JPEG cannot compress it well, so byte budgets bite."""
    return Image.frombytes("RGB", size, random.Random(str(size)).randbytes(size[0] * size[1] * 3))


def grainy(size: tuple[int, int]) -> Image.Image:
    """Softened noise, like film grain: over a JPEG budget at quality 85, within it at 40."""
    return noisy(size).filter(ImageFilter.GaussianBlur(1))


def variant_of(tmp_path: Path, source: Path, spec: VariantSpec) -> Variant:
    return make_cache(tmp_path).variant(source, file_sha256(source), spec)


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


# --- sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fit", "expected"), [("fit", (400, 300)), ("pad", (400, 400)), ("crop", (400, 400))]
)
def test_each_fit_mode_gives_its_size(tmp_path: Path, fit: str, expected: tuple[int, int]) -> None:
    source = save(Image.new("RGB", (1600, 1200), RED), tmp_path / "a.png")
    spec = VariantSpec("test", 400, 400, fit=fit, background=BACKGROUND)  # type: ignore[arg-type]
    variant = variant_of(tmp_path, source, spec)
    with Image.open(variant.path) as image:
        assert (variant.width, variant.height) == image.size == expected
        assert close(image.getpixel((200, 200)), RED)
        if fit == "pad":
            assert close(image.getpixel((200, 10)), BACKGROUND_RGB)


def test_crop_keeps_the_centre(tmp_path: Path) -> None:
    image = Image.new("RGB", (900, 300), BLUE)
    image.paste(RED, (300, 0, 600, 300))
    source = save(image, tmp_path / "a.png")
    variant = variant_of(tmp_path, source, VariantSpec("square", 200, 200, fit="crop"))
    with Image.open(variant.path) as result:
        assert result.size == (200, 200)
        assert close(result.getpixel((5, 100)), RED) and close(result.getpixel((194, 100)), RED)


@pytest.mark.parametrize("fit", ["fit", "pad", "crop"])
def test_small_images_are_never_enlarged(tmp_path: Path, fit: str) -> None:
    source = save(Image.new("RGB", (120, 90), RED), tmp_path / "a.png")
    spec = VariantSpec("big", 800, 600, fit=fit, format="PNG")  # type: ignore[arg-type]
    variant = variant_of(tmp_path, source, spec)
    with Image.open(variant.path) as image:
        content = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
        assert content is not None
        width, height = content[2] - content[0], content[3] - content[1]
    assert width <= 120 and height <= 90
    expected = {"fit": (120, 90), "pad": (800, 600), "crop": (120, 90)}[fit]
    assert (variant.width, variant.height) == expected
    assert variant.warnings == ()  # smaller than the box is fine; only min_width warns


def test_a_source_already_inside_the_box_keeps_its_size(tmp_path: Path) -> None:
    source = save(Image.new("RGB", (640, 480), RED), tmp_path / "a.jpg", quality=90)
    variant = variant_of(tmp_path, source, VariantSpec("same", 2048, 2048))
    assert (variant.width, variant.height) == (640, 480)


# --- byte budget --------------------------------------------------------------------------


def test_jpeg_byte_budget_is_met_by_lowering_quality(tmp_path: Path) -> None:
    source = save(grainy((600, 400)), tmp_path / "grain.png")
    spec = VariantSpec("small", 600, 600, max_bytes=60_000)
    variant = variant_of(tmp_path, source, spec)
    assert variant.bytes == variant.path.stat().st_size <= 60_000
    assert variant.quality is not None and 40 <= variant.quality < 85
    assert (variant.width, variant.height) == (600, 400)


def test_an_easy_image_keeps_quality_85(tmp_path: Path) -> None:
    source = save(Image.new("RGB", (800, 600), RED), tmp_path / "flat.png")
    variant = variant_of(tmp_path, source, VariantSpec("easy", 800, 800))
    assert variant.quality == 85


def test_jpeg_over_budget_at_quality_40_is_scaled_down(tmp_path: Path) -> None:
    source = save(noisy((800, 800)), tmp_path / "noise.png")
    variant = variant_of(tmp_path, source, VariantSpec("tiny", 800, 800, max_bytes=40_000))
    assert variant.bytes <= 40_000
    assert variant.width < 800 and variant.width == variant.height
    assert any("scaled down" in warning for warning in variant.warnings)


def test_png_over_budget_is_quantized_then_scaled_down(tmp_path: Path) -> None:
    source = save(noisy((500, 500)), tmp_path / "noise.png")
    spec = VariantSpec("png", 500, 500, format="PNG", max_bytes=150_000)
    variant = variant_of(tmp_path, source, spec)
    assert variant.bytes <= 150_000 and variant.quality is None
    assert any("256 colours" in warning for warning in variant.warnings)


def test_an_impossible_budget_is_a_media_error(tmp_path: Path) -> None:
    source = save(noisy((400, 400)), tmp_path / "noise.png")
    with pytest.raises(MediaError, match="cannot be made smaller than 100 bytes"):
        variant_of(tmp_path, source, VariantSpec("absurd", 400, 400, max_bytes=100))


# --- orientation, metadata and colour -----------------------------------------------------


def test_png_exif_orientation_is_applied_too(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    source = save(Image.new("RGB", (300, 200), RED), tmp_path / "a.png", exif=exif)
    variant = variant_of(tmp_path, source, VariantSpec("upright", 100, 100, format="PNG"))
    assert (variant.width, variant.height) == (67, 100)


def test_exif_orientation_6_ends_upright_without_exif(tmp_path: Path) -> None:
    image = Image.new("RGB", (300, 200), BLUE)
    image.paste(RED, (0, 0, 100, 200))  # left third as stored; a 90 degree turn puts it on top
    exif = image.getexif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera maker"
    source = save(image, tmp_path / "a.jpg", exif=exif, quality=95)
    variant = variant_of(tmp_path, source, VariantSpec("upright", 1000, 1000))
    assert (variant.width, variant.height) == (200, 300)
    with Image.open(variant.path) as result:
        assert result.size == (200, 300)
        assert close(result.getpixel((100, 20)), RED) and close(result.getpixel((100, 280)), BLUE)
        assert not result.getexif() and "exif" not in result.info


def test_orientation_is_applied_when_decoding_at_reduced_scale(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    source = save(Image.new("RGB", (3000, 2000), RED), tmp_path / "a.jpg", exif=exif)
    variant = variant_of(tmp_path, source, VariantSpec("thumb", 200, 200))
    assert variant.height == 200 and variant.width in (133, 134)


def test_icc_profile_is_converted_and_stripped(tmp_path: Path) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for name, icc in (("lab.png", profile), ("srgb.png", srgb)):
        source = save(Image.new("RGB", (50, 50), RED), tmp_path / name, icc_profile=icc)
        variant = variant_of(tmp_path, source, VariantSpec("profile", 100, 100, format="PNG"))
        with Image.open(variant.path) as result:
            assert "icc_profile" not in result.info and not result.getexif()


def test_an_srgb_profile_leaves_pixels_alone(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = save(Image.new("RGB", (50, 50), (10, 200, 30)), tmp_path / "a.png", icc_profile=srgb)
    variant = variant_of(tmp_path, source, VariantSpec("srgb", 100, 100, format="PNG"))
    with Image.open(variant.path) as result:
        assert result.getpixel((25, 25)) == (10, 200, 30)
    assert variant.warnings == ()


def test_cmyk_jpeg_becomes_rgb_jpeg(tmp_path: Path) -> None:
    source = save(Image.new("CMYK", (200, 100), (0, 255, 255, 0)), tmp_path / "print.jpg")
    variant = variant_of(tmp_path, source, VariantSpec("web", 100, 100))
    with Image.open(variant.path) as result:
        assert (result.format, result.mode) == ("JPEG", "RGB")
        red, green, blue = result.getpixel((50, 25))
    assert red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_16_bit_grayscale_png_becomes_8_bit(tmp_path: Path, fmt: str) -> None:
    image = Image.new("I;16", (64, 64), 30000)
    source = save(image, tmp_path / "deep.png")
    with Image.open(source) as check:
        assert check.mode == "I;16"
    variant = variant_of(tmp_path, source, VariantSpec("gray", 64, 64, format=fmt))  # type: ignore[arg-type]
    with Image.open(variant.path) as result:
        assert result.mode in ("L", "RGB")
        assert abs(result.convert("L").getpixel((32, 32)) - 30000 // 257) <= 3


def test_16_bit_grayscale_png_with_a_transparent_grey_keeps_its_greys(tmp_path: Path) -> None:
    image = Image.new("I;16", (64, 64), 30000)
    image.paste(Image.new("I;16", (32, 64), 7))  # the left half: the grey marked transparent
    source = save(image, tmp_path / "deep.png", transparency=7)
    variant = variant_of(tmp_path, source, VariantSpec("gray", 64, 64, format="PNG"))
    with Image.open(variant.path) as result:
        rgba = result.convert("RGBA")
    assert close(rgba.getpixel((48, 32)), (30000 // 257,) * 3 + (255,), tolerance=3)
    assert rgba.getpixel((16, 32))[3] == 0


# --- transparency and animation -----------------------------------------------------------


GRAY = (128, 128, 128)


def transparent_sources(tmp_path: Path) -> list[tuple[Path, tuple[int, int, int]]]:
    """Palette, RGBA and LA PNGs transparent in the top-left corner, with their opaque colour."""
    palette = Image.new("P", (100, 100), 1)
    palette.putpalette([0, 0, 0, *RED] + [0] * 762)
    palette.paste(0, (0, 0, 30, 30))
    rgba = Image.new("RGBA", (100, 100), (*RED, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 30, 30))
    gray = Image.new("LA", (100, 100), (128, 255))
    gray.paste((0, 0), (0, 0, 30, 30))
    return [
        (save(palette, tmp_path / "palette.png", transparency=0), RED),
        (save(rgba, tmp_path / "rgba.png"), RED),
        (save(gray, tmp_path / "gray.png"), GRAY),
    ]


def test_transparency_is_flattened_onto_the_background_for_jpeg(tmp_path: Path) -> None:
    for source, colour in transparent_sources(tmp_path):
        spec = VariantSpec("flat", 100, 100, background=BACKGROUND)
        variant = variant_of(tmp_path, source, spec)
        with Image.open(variant.path) as result:
            assert result.mode == "RGB"
            assert close(result.getpixel((5, 5)), BACKGROUND_RGB), source.name
            assert close(result.getpixel((80, 80)), colour), source.name


def test_png_output_keeps_the_alpha_channel(tmp_path: Path) -> None:
    for source, colour in transparent_sources(tmp_path):
        variant = variant_of(tmp_path, source, VariantSpec("alpha", 100, 100, format="PNG"))
        with Image.open(variant.path) as result:
            rgba = result.convert("RGBA")
            assert rgba.getpixel((5, 5))[3] == 0, source.name
            assert rgba.getpixel((80, 80)) == (*colour, 255), source.name


def test_pad_keeps_alpha_inside_and_fills_the_border_in_png(tmp_path: Path) -> None:
    source, _ = transparent_sources(tmp_path)[1]
    spec = VariantSpec("pad", 200, 100, fit="pad", format="PNG", background=BACKGROUND)
    variant = variant_of(tmp_path, source, spec)
    with Image.open(variant.path) as result:
        rgba = result.convert("RGBA")
        assert rgba.size == (200, 100)
        assert rgba.getpixel((10, 50)) == (*BACKGROUND_RGB, 255)
        assert rgba.getpixel((55, 5))[3] == 0 and rgba.getpixel((120, 80)) == (*RED, 255)


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_animations_give_their_first_frame_and_a_warning(tmp_path: Path, suffix: str) -> None:
    frames = [Image.new("RGB", (60, 40), colour) for colour in (RED, (0, 255, 0), BLUE)]
    source = tmp_path / f"anim{suffix}"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=100, loop=0)
    variant = variant_of(tmp_path, source, VariantSpec("still", 60, 60))
    with Image.open(variant.path) as result:
        assert close(result.getpixel((30, 20)), RED)
    assert any("first frame" in warning for warning in variant.warnings)


# --- refusals -----------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = png_header_only(tmp_path / "bomb.png", 40_000, 40_000)
    loaded: list[str] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: loaded.append(image.format))
    with pytest.raises(MediaError, match="too many pixels"):
        variant_of(tmp_path, source, VariantSpec("bomb", 100, 100))
    assert loaded == []


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (png_header_only, "a.png", "6400x6400 px (41.0 megapixels), more than the 40 megapixels"),
        (gif_screen, "a.gif", "6400x6400 px (41.0 megapixels), more than the 40 megapixels"),
        (webp_canvas, "a.webp", "more than the 20 megapixels a WebP image may have"),
        (png_16_bit_header, "a.png", "more than the 20 megapixels a 16-bit PNG may have"),
    ],
)
def test_images_too_costly_to_decode_are_refused_before_decoding(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path, int, int], Path],
    name: str,
    expected: str,
) -> None:
    source = make(tmp_path / name, 6400, 6400)
    loaded: list[str] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: loaded.append(image.format))
    with pytest.raises(MediaError, match=re.escape(expected)) as refused:
        variant_of(tmp_path, source, VariantSpec("any", 100, 100))
    assert "export it at most 2560 px on its long side" in str(refused.value)
    assert loaded == []


def test_a_jpeg_over_the_limit_is_decoded_at_a_reduced_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = save(Image.new("L", (9000, 5000), 90), tmp_path / "big.jpg")  # 45 megapixels
    loaded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def recording_load(image: ImageFile.ImageFile) -> object:
        loaded.append(image.size)
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    variant = variant_of(tmp_path, source, VariantSpec("telegram-like", 2560, 2560))
    assert (variant.width, variant.height) == (2560, 1422)
    assert loaded[0] == (4500, 2500)


def test_the_bomb_warning_level_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = save(Image.new("RGB", (40, 40), RED), tmp_path / "a.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)  # 1600 px: a warning, not an error
    with pytest.raises(MediaError, match="too many pixels"):
        variant_of(tmp_path, source, VariantSpec("bomb", 100, 100))


def test_corrupt_and_empty_files_are_media_errors(tmp_path: Path) -> None:
    for name, content in (("junk.jpg", b"this is not an image at all" * 10), ("empty.png", b"")):
        source = tmp_path / name
        source.write_bytes(content)
        with pytest.raises(MediaError, match="not a readable image"):
            variant_of(tmp_path, source, VariantSpec("x", 100, 100))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_media_errors(tmp_path: Path, fmt: str) -> None:
    buffer = io.BytesIO()
    noisy((300, 300)).save(buffer, fmt)
    source = tmp_path / f"cut.{fmt.lower()}"
    source.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(MediaError, match="truncated"):
        variant_of(tmp_path, source, VariantSpec("x", 100, 100))


def test_a_missing_file_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="missing"):
        make_cache(tmp_path).variant(tmp_path / "gone.jpg", "0" * 64, VariantSpec("x", 10, 10))


def test_narrow_images_get_a_warning(tmp_path: Path) -> None:
    narrow = save(Image.new("RGB", (480, 300), RED), tmp_path / "narrow.png")
    wide = save(Image.new("RGB", (800, 500), RED), tmp_path / "wide.png")
    spec = VariantSpec("facebook-photo", 2048, 2048, min_width=600)
    assert variant_of(tmp_path, narrow, spec).warnings == (
        "image is 480 px wide; facebook-photo shows it blurred below 600 px",
    )
    assert variant_of(tmp_path, wide, spec).warnings == ()


# --- the cache ----------------------------------------------------------------------------


def test_a_cache_hit_does_no_image_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = save(noisy((300, 200)), tmp_path / "a.png")
    spec = VariantSpec("hit", 200, 200, max_bytes=30_000, min_width=400)
    first = variant_of(tmp_path, source, spec)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the image was opened again")

    monkeypatch.setattr(Image, "open", refuse)
    assert variant_of(tmp_path, source, spec) == first
    assert first.warnings and first.quality is not None


def test_several_variants_of_one_source_decode_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = save(noisy((900, 600)), tmp_path / "a.jpg", quality=90)
    opened: list[object] = []
    real_open = Image.open

    def counting_open(*args: object, **kwargs: object) -> Image.Image:
        opened.append(args[0])
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "open", counting_open)
    cache, sha = make_cache(tmp_path), file_sha256(source)
    sizes = [cache.variant(source, sha, VariantSpec(f"v{n}", n, n)) for n in (800, 400, 100)]
    assert [(v.width, v.height) for v in sizes] == [(800, 533), (400, 267), (100, 67)]
    assert len(opened) == 1


def test_cache_files_land_under_the_cache_dir_only(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = save(Image.new("RGB", (300, 200), RED), tmp_path / "src" / "a.png")
    cache_dir = tmp_path / "cache"
    sha = file_sha256(source)
    specs = [VariantSpec("a", 100, 100), VariantSpec("b", 50, 50, format="PNG", fit="pad")]
    variants = [MediaCache(cache_dir).variant(source, sha, spec) for spec in specs]
    everything = {path for path in tmp_path.rglob("*") if path.is_file()}
    assert everything - {source} == {
        *(v.path for v in variants),
        *(v.path.with_suffix(".json") for v in variants),
    }
    for variant, spec in zip(variants, specs, strict=True):
        suffix = ".jpg" if spec.format == "JPEG" else ".png"
        assert variant.path == cache_dir / sha[:2] / f"{sha}-{spec.key()}{suffix}"
        sidecar = json.loads(variant.path.with_suffix(".json").read_text(encoding="utf-8"))
        assert sidecar["width"] == variant.width and sidecar["quality"] == variant.quality


def test_a_damaged_cache_entry_is_made_again(tmp_path: Path) -> None:
    source = save(Image.new("RGB", (300, 200), RED), tmp_path / "a.png")
    first = variant_of(tmp_path, source, VariantSpec("a", 100, 100))
    first.path.write_bytes(b"half")
    again = variant_of(tmp_path, source, VariantSpec("a", 100, 100))
    assert again == first and first.path.stat().st_size == first.bytes
    first.path.with_suffix(".json").write_text("{not json", encoding="utf-8")
    assert variant_of(tmp_path, source, VariantSpec("a", 100, 100)) == first


def test_a_bad_sha256_cannot_escape_the_cache_dir(tmp_path: Path) -> None:
    source = save(Image.new("RGB", (30, 20), RED), tmp_path / "a.png")
    with pytest.raises(ValueError, match="sha256"):
        make_cache(tmp_path).variant(source, "../../" + "a" * 58, VariantSpec("x", 10, 10))


def test_spec_key_is_stable_and_covers_every_field() -> None:
    spec = VariantSpec("telegram-photo", 2560, 2560)
    assert spec.key() == VariantSpec("telegram-photo", 2560, 2560).key()
    assert len(spec.key()) == 16
    changed = [
        VariantSpec("other", 2560, 2560),
        VariantSpec("telegram-photo", 2561, 2560),
        VariantSpec("telegram-photo", 2560, 2561),
        VariantSpec("telegram-photo", 2560, 2560, fit="pad"),
        VariantSpec("telegram-photo", 2560, 2560, format="PNG"),
        VariantSpec("telegram-photo", 2560, 2560, max_bytes=5),
        VariantSpec("telegram-photo", 2560, 2560, min_width=1),
        VariantSpec("telegram-photo", 2560, 2560, background="#000000"),
    ]
    assert len({spec.key(), *(other.key() for other in changed)}) == len(changed) + 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "a/b"},
        {"max_width": 0},
        {"max_bytes": 0},
        {"fit": "stretch"},
        {"format": "GIF"},
        {"background": "not a colour"},
    ],
)
def test_invalid_specs_are_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"name": "ok", "max_width": 10, "max_height": 10, **kwargs}
    with pytest.raises(ValueError):
        VariantSpec(**fields)  # type: ignore[arg-type]


# --- many variants at once ----------------------------------------------------------------


def test_variants_come_in_the_order_asked_and_equal_single_requests(tmp_path: Path) -> None:
    source = save(grainy((900, 600)), tmp_path / "a.png")
    specs = [VariantSpec(f"v{n}", n, n, fit=fit) for n, fit in ((100, "crop"), (800, "fit"))]
    made = MediaCache(tmp_path / "one").variants(source, file_sha256(source), specs)
    assert [(v.width, v.height) for v in made] == [(100, 100), (800, 533)]
    for variant, spec in zip(made, specs, strict=True):
        alone = MediaCache(tmp_path / "alone").variant(source, file_sha256(source), spec)
        assert (alone.width, alone.height, alone.quality) == (
            variant.width,
            variant.height,
            variant.quality,
        )


def test_smaller_variants_are_resampled_from_larger_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = save(grainy((1000, 800)), tmp_path / "a.png")
    resized_from: list[tuple[int, int]] = []
    real_resize = Image.Image.resize

    def recording_resize(self: Image.Image, *args: object, **kwargs: object) -> Image.Image:
        resized_from.append(self.size)
        return real_resize(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "resize", recording_resize)
    specs = [VariantSpec(f"v{n}", n, n) for n in (110, 330, 770)]  # asked smallest first
    made = make_cache(tmp_path).variants(source, file_sha256(source), specs)
    assert [v.width for v in made] == [110, 330, 770]
    assert resized_from.count((1000, 800)) == 1  # only the largest touches the full image


def test_the_quality_search_needs_few_encodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encodes: list[int | None] = []
    real_save = Image.Image.save

    def counting_save(self: Image.Image, fp: object, format: object = None, **params: object):
        encodes.append(params.get("quality"))  # type: ignore[arg-type]
        return real_save(self, fp, format, **params)  # type: ignore[arg-type]

    source = save(grainy((600, 400)), tmp_path / "grain.png")
    monkeypatch.setattr(Image.Image, "save", counting_save)
    variant = variant_of(tmp_path, source, VariantSpec("small", 600, 600, max_bytes=60_000))
    assert variant.bytes <= 60_000 and variant.quality is not None
    assert len(encodes) <= 3 and encodes[0] == 85


def test_prepare_variants_fills_the_cache_from_two_processes(tmp_path: Path) -> None:
    sources = [save(grainy((300 + 40 * n, 200)), tmp_path / f"{n}.png") for n in range(3)]
    specs = [VariantSpec("big", 250, 250), VariantSpec("small", 60, 60, fit="crop")]
    bad = tmp_path / "junk.jpg"
    bad.write_bytes(b"not an image" * 10)
    requests = [(s, file_sha256(s), spec) for s in [*sources, bad] for spec in specs]
    made = prepare_variants(tmp_path / "cache", requests, workers=2)
    assert len(made) == len(requests)
    assert all(isinstance(made[file_sha256(bad), spec], MediaError) for spec in specs)
    for source in sources:
        for spec in specs:
            variant = made[file_sha256(source), spec]
            assert isinstance(variant, Variant) and variant.path.is_file()
            assert variant_of(tmp_path, source, spec) == variant
    written = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*")}
    again = prepare_variants(tmp_path / "cache", requests[:-2], workers=2)
    assert again == {key: made[key] for key in again}
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*")} == written


def test_a_damaged_cached_variant_is_made_again(tmp_path: Path) -> None:
    """Every cached variant overwritten with 7 bytes was uploaded as it was."""
    source = save(noisy((300, 200)), tmp_path / "a.png")
    spec = VariantSpec("damaged", 200, 200, max_bytes=30_000)
    first = variant_of(tmp_path, source, spec)
    good = first.path.read_bytes()

    first.path.write_bytes(b"7 bytes")  # a sync conflict, a full disk
    again = variant_of(tmp_path, source, spec)
    assert again.path.read_bytes() == good

    same_size = b"\xff\xd8\xff" + bytes(len(good) - 3)  # the right size and signature
    first.path.write_bytes(same_size)
    assert media_cache.usable(first.path)  # cheap checks pass: no image is opened
    assert not media_cache.verified(first.path)  # the digest, read before any upload, does not


def test_no_channel_makes_an_image_larger_than_decoding_is_budgeted_for() -> None:
    """The probe prices a JPEG at the scale `LARGEST_VARIANT` needs: no spec may need more."""
    specs = [
        value
        for module in (facebook, portal, telegram, youtube, zalo)
        for value in vars(module).values()
        if isinstance(value, VariantSpec)
    ]
    assert len(specs) == 7
    assert max(max(spec.max_width, spec.max_height) for spec in specs) == LARGEST_VARIANT


def test_variants_along_a_request_come_from_its_one_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = save(grainy((900, 600)), tmp_path / "a.png")
    decodes: list[Path] = []
    real_decode = media_cache.decode

    def counting_decode(path: Path, needed: object) -> object:
        decodes.append(path)
        return real_decode(path, needed)  # type: ignore[arg-type]

    monkeypatch.setattr(media_cache, "decode", counting_decode)
    cache, sha = make_cache(tmp_path), file_sha256(source)
    wanted, other = VariantSpec("wanted", 400, 400), VariantSpec("other", 800, 800)
    impossible = VariantSpec("impossible", 300, 300, max_bytes=100)
    made = cache.variant(source, sha, wanted, along=[other, impossible])
    assert (made.width, made.height) == (400, 267)
    assert cache.cached(sha, other) is not None and cache.cached(sha, impossible) is None
    assert cache.variant(source, sha, other, along=[wanted]).width == 800
    assert len(decodes) == 1
