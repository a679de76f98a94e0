"""What every channel's render shares: the item seen through one channel's overrides."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from xml.etree.ElementTree import Element

from publisher.adapters.base import Call, Post
from publisher.cards import cover_card
from publisher.content.assets import Asset
from publisher.content.model import ContentItem, ItemKind
from publisher.media import MediaError, Variant, VariantSpec
from publisher.render.context import RenderContext
from publisher.render.document import Line, Run, blocks_from_tree, flatten
from publisher.render.plain import LinkResolver, paragraphs
from publisher.render.text import Count, Unit, measure


@dataclass(frozen=True)
class ItemView:
    """An item as one channel sees it: its block's overrides applied, links resolved."""

    item: ContentItem
    title: str
    summary: str
    tags: tuple[str, ...]
    cover: Asset | None
    url: str | None  # the portal article's address; None when the item is not on the portal
    lines: tuple[Line, ...]
    resolve: LinkResolver

    @property
    def paragraphs(self) -> list[str]:
        return paragraphs(list(self.lines), self.resolve)

    def text_lines(self, mode: str) -> tuple[Line, ...]:
        """The body's lines, or only the summary when a channel posts summaries."""
        if mode == "summary" and self.summary:
            return (Line("text", (Run(self.summary),)),)
        return tuple(line for line in self.lines if line.kind != "figure")

    @property
    def photos(self) -> tuple[Asset, ...]:
        """Images to post, in order: the infographic itself, or the cover then body images."""
        if self.item.kind is ItemKind.INFOGRAPHIC and self.item.media is not None:
            return (self.item.media,)
        images = [self.cover] if self.cover and self.item.kind is ItemKind.ARTICLE else []
        images.extend(a for a in self.item.images if a.path not in {i.path for i in images})
        return tuple(images)


def view(item: ContentItem, channel: str, context: RenderContext) -> ItemView:
    block = item.meta.override(channel)
    lines = body_lines(item.document.tree)
    resolve = context.link_resolver(item)
    summary = (block and block.summary) or item.meta.summary or _first_text(lines, resolve)
    return ItemView(
        item=item,
        title=(block and block.title) or item.title,
        summary=summary,
        tags=tuple((block and block.tags) or item.meta.tags),
        cover=item.cover_for(channel),
        url=context.article_url(item),
        lines=lines,
        resolve=resolve,
    )


@lru_cache(maxsize=64)
def body_lines(tree: Element) -> tuple[Line, ...]:
    """The body as lines, made once for all the channels an item is rendered for (the
    tree is never changed once loaded)."""
    return tuple(flatten(blocks_from_tree(tree)))


def _first_text(lines: tuple[Line, ...], resolve: LinkResolver) -> str:
    texts = paragraphs([line for line in lines if line.kind == "text"], resolve)
    return texts[0] if texts else ""


@dataclass
class Findings:
    """Warnings and errors one render collects."""

    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# What every channel rendered together may ask of an image (see `making_together`).
_ALONG: ContextVar[tuple[VariantSpec, ...]] = ContextVar("variants_along", default=())


@contextmanager
def making_together(specs: Iterable[VariantSpec]) -> Iterator[None]:
    """Within the block, an image decoded for one variant gets its `specs` variants (each
    shaped for it) from the same decode: what the other channels rendered in the block will
    ask of it. Channel by channel, each would decode the image again."""
    token = _ALONG.set(tuple(dict.fromkeys(specs)))
    try:
        yield
    finally:
        _ALONG.reset(token)


def variants(
    assets: tuple[Asset, ...], spec: VariantSpec, context: RenderContext, findings: Findings
) -> list[Variant]:
    """Each asset's variant for `spec`; an image that cannot be made is an error."""
    made: list[Variant] = []
    for asset in assets:
        along = [_shaped_for(asset, other) for other in _ALONG.get()]
        try:
            variant = context.media.variant(asset.path, asset.sha256, spec, along)
        except MediaError as exc:
            findings.errors.append(f"{asset.rel}: {exc}")
            continue
        findings.warnings.extend(f"{asset.rel}: {warning}" for warning in variant.warnings)
        made.append(variant)
    return made


def card_or_cover(
    view_: ItemView, spec: VariantSpec, context: RenderContext, findings: Findings, why: str
) -> Path | None:
    """The cover's variant, else the first photo's, else a generated title card."""
    source = view_.cover or next(iter(view_.photos), None)
    made = variants((source,), _shaped_for(source, spec), context, findings) if source else []
    if made:
        return made[0].path
    if findings.errors:
        return None
    findings.warnings.append(
        f"no cover image: a title card is used as the {why}; set 'cover:' to choose a photo"
    )
    return cover_card(view_.title, (spec.max_width, spec.max_height), context.cards_dir)


def _shaped_for(source: Asset, spec: VariantSpec) -> VariantSpec:
    """Cropping a tall infographic to a wide box would cut most of it away: pad it instead."""
    if spec.fit != "crop" or source.image is None:
        return spec
    width, height = source.image.width, source.image.height
    if source.image.orientation in (5, 6, 7, 8):
        width, height = height, width
    ratio = (width / height) / (spec.max_width / spec.max_height)
    if 1 / 1.5 <= ratio <= 1.5:
        return spec
    return replace(spec, name=f"{spec.name}-padded", fit="pad")


def make_post(
    channel: str,
    seen: ItemView,
    findings: Findings,
    calls: Iterable[Call],
    media: Iterable[Path | str] = (),
    counts: Iterable[Count] = (),
) -> Post:
    """The post, with the findings collected while making it."""
    return Post(
        channel=channel,
        item_id=seen.item.id,
        content_hash=seen.item.content_hash,
        calls=tuple(calls),
        media=tuple(str(m) for m in media),
        url=seen.url,
        counts=tuple(counts),
        warnings=tuple(findings.warnings),
        errors=tuple(findings.errors),
    )


def counted(field_name: str, text: str, limit: int, unit: Unit) -> Count:
    return Count(field_name, measure(text, unit), limit, unit)


def cut_warning(field_name: str, limit: int, unit: Unit) -> str:
    units = {"chars": "characters", "bytes": "UTF-8 bytes", "utf16": "characters"}[unit]
    return f"{field_name} was shortened to fit the platform's {limit} {units}"
