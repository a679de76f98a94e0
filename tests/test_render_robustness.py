"""Rendering never crashes on content: real cases that did, then generated images and Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from publisher.adapters.portal import OG_IMAGE
from publisher.adapters.youtube import THUMBNAIL
from publisher.content.assets import file_sha256
from publisher.media import MediaCache, VariantSpec


@pytest.mark.parametrize(
    ("size", "spec"),
    [
        ((651, 312), OG_IMAGE),  # a screenshot in a real post
        ((2651, 698), OG_IMAGE),
        ((468, 97), THUMBNAIL),
        ((27, 11), THUMBNAIL),
    ],
)
def test_a_crop_wider_than_the_box_keeps_inside_the_source(
    tmp_path: Path, size: tuple[int, int], spec: VariantSpec
) -> None:
    """The crop's height, worked out from its width, came out a hair over the source's."""
    source = tmp_path / "screenshot.png"
    Image.new("RGBA", size, (27, 108, 168, 200)).save(source)
    variant = MediaCache(tmp_path / "cache").variant(source, file_sha256(source), spec)
    height = min(size[1], spec.max_height)  # full height: the sides are cut
    width = round(height * spec.max_width / spec.max_height)
    assert (variant.width, variant.height) == (width, height)
