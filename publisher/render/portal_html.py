"""The portal article's HTML: figures for images, public addresses, then sanitised.

The HTML comes from the one Markdown parse (raw HTML in Markdown is already escaped);
nh3 (the Ammonia sanitiser) then keeps only an allowlist of tags and attributes, drops
event handlers, and accepts only http(s), mailto and tel URLs.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable
from xml.etree.ElementTree import Element

import nh3

ALLOWED_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "b",
    "i",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
    "sup",
    "sub",
    "abbr",
    "dl",
    "dt",
    "dd",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "rel", "title"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def article_html(
    tree: Element,
    image_src: Callable[[str], tuple[str, int, int] | None],
    resolve_link: Callable[[str], str],
    is_internal: Callable[[str], bool],
) -> str:
    """Sanitised article HTML; `image_src` maps a Markdown src to (url, width, height)."""
    body = copy.deepcopy(tree)
    for element in list(body.iter()):
        _retag(element, image_src, resolve_link, is_internal)
    _figures(body)
    raw = "".join(ET.tostring(child, encoding="unicode", method="html") for child in body)
    return sanitise(raw)


def sanitise(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def _retag(
    element: Element,
    image_src: Callable[[str], tuple[str, int, int] | None],
    resolve_link: Callable[[str], str],
    is_internal: Callable[[str], bool],
) -> None:
    if element.tag == "h1":
        element.tag = "h2"  # the page's own title is the only h1
    elif element.tag == "a" and element.get("href"):
        href = resolve_link(element.get("href", ""))
        element.set("href", href)
        if href.startswith(("http://", "https://")) and not is_internal(href):
            element.set("rel", "noopener noreferrer")
    elif element.tag == "img":
        found = image_src(element.get("src", ""))
        if found:
            url, width, height = found
            element.attrib.update(src=url, width=str(width), height=str(height), loading="lazy")


def _figures(body: Element) -> None:
    """A paragraph holding only images becomes one figure per image, titled by its caption.

    The body's children are replaced once (removing and inserting each would shift all
    the children after it, for every figure).
    """
    children: list[Element] = []
    for child in body:
        images = [c for c in child if c.tag == "img"]
        if (
            child.tag != "p"
            or not images
            or len(images) != len(child)
            or (child.text or "").strip()
            or any((img.tail or "").strip() for img in images)
        ):
            children.append(child)
            continue
        for img in images:
            figure = Element("figure")
            caption_text = img.attrib.pop("title", None) or img.get("alt", "")
            img.tail = None
            figure.tail = "\n"
            figure.append(img)
            if caption_text:
                caption = ET.SubElement(figure, "figcaption")
                caption.text = caption_text
            children.append(figure)
    body[:] = children
