"""Rendering never crashes on content: real cases that did, then generated images and Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from publisher.adapters.base import Post
from publisher.adapters.portal import OG_IMAGE
from publisher.adapters.youtube import THUMBNAIL
from publisher.catalog import load_catalog
from publisher.content.assets import file_sha256
from publisher.media import MediaCache, VariantSpec
from publisher.render.service import Renderer
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder

CHANNELS = ("portal", "facebook", "zalo", "youtube", "telegram")


def render_item(root: Path, item_id: str) -> dict[str, Post]:
    """The item's post for each of the five channels, rendered from a cold cache."""
    catalog = load_catalog(open_workspace(root, {}))
    item = catalog.item(item_id)
    assert item is not None, [str(problem) for problem in catalog.problems.errors]
    return Renderer(catalog).render_item(item, CHANNELS)


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


LATEX = (
    r"e_j^{(l)} = \left( \mathbf{w}_{j:}^{(l+1)} \mathbf{e}^{(l+1)} \right) f'(z_j^{(l)})"
    "\n"
    r"\frac{\partial J}{\partial w_{ij}^{(l)}} &=& a_i^{(l-1)} e_j^{(l)} \newline"
    "\n"
)


def test_a_latex_paragraph_renders_for_every_channel(workspace: WorkspaceBuilder) -> None:
    """`_{ij}` after an emphasis is read as an attribute list: `ij` became an attribute
    without a value, which ElementTree cannot serialise."""
    workspace.article("lan-truyen-nguoc/index.md", "title: Lan truyền ngược\n", LATEX)
    posts = render_item(workspace.root, "lan-truyen-nguoc")
    errors = {name: post.errors for name, post in posts.items() if post.errors}
    assert errors.keys() <= {"youtube"}, errors  # an article has no video for YouTube
    assert "a_i^{(l-1)}" in posts["portal"].calls[-1].payload["html"]
