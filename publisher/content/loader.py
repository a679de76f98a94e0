"""Loading and validating every item of `content/` (DESIGN section 3).

Every problem is collected with its file and line; an item with an error is left out,
and every other item still loads. Nothing a file holds may crash or stall the load: sizes
are checked before reading, YAML and Markdown are guarded (see frontmatter.py and
markdown.py), characters nobody can see are reported, and remote images are left out
(never downloaded).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from publisher.adapters.registry import CHANNEL_NAMES, CHANNEL_TYPES
from publisher.content.assets import (
    Asset,
    AssetError,
    AssetRole,
    inside_workspace,
    is_external,
    is_remote,
    make_asset,
    reference_path,
    resolve_path,
    resolve_reference,
    resolving_once,
    split_reference,
)
from publisher.content.discovery import Candidate, discover
from publisher.content.frontmatter import (
    FrontMatterError,
    check_yaml_structure,
    split_front_matter,
)
from publisher.content.loadcache import CACHE_FILE, LoadCache
from publisher.content.markdown import MarkdownError, ParsedMarkdown, parse_markdown
from publisher.content.model import ContentItem, ItemKind
from publisher.content.probe import (
    LARGEST_VARIANT,
    MAX_ITEM_IMAGES,
    MAX_ITEM_MEGAPIXELS,
    MediaError,
    is_image,
    is_video,
)
from publisher.content.schema import FrontMatter
from publisher.content.text import (
    MAX_COMBINING_MARKS,
    TextDecodeError,
    UnusualCharacter,
    decode_text,
    line_of_offset,
    remove_control_characters,
    unusual_characters,
)
from publisher.parallel import share_work
from publisher.problems import Problems
from publisher.settings.channels import ChannelConfig
from publisher.validation import validate_document
from publisher.workspace import Workspace
from publisher.yamlsource import YamlDocument, YamlSyntaxError, parse_yaml

HASH_VERSION = b"publisher-item-v1\n"
MAX_MARKDOWN_BYTES = 2 * 1024 * 1024  # a long article is 50 KB; pictures go in their own files
# Characters refused in front matter values: YAML cannot hold the first three, and the last
# two make a title display differently from what was typed.
_FRONT_MATTER_REFUSED = frozenset({"control", "separator", "surrogate", "bidi", "combining"})
_BODY_REFUSED = frozenset({"bidi", "combining"})


@dataclass
class _ItemContext:
    """What loading one item needs, and what it found."""

    workspace: Workspace
    candidate: Candidate
    file: str
    cache: LoadCache
    problems: Problems = field(default_factory=Problems)
    assets: list[Asset] = field(default_factory=list)

    def error(self, message: str, line: int | None = None, channel: str | None = None) -> None:
        self.problems.error(self.file, message, line, channel)

    def warning(self, message: str, line: int | None = None, channel: str | None = None) -> None:
        self.problems.warning(self.file, message, line, channel)


def load_content(
    workspace: Workspace,
    channels: Mapping[str, ChannelConfig],
    timezone: ZoneInfo,
    problems: Problems,
    workers: int = 1,
    cache: LoadCache | None = None,
) -> list[ContentItem]:
    """Load every item; problems go to `problems`, bad items are left out.

    With `workers` 2, a forked process parses half of the items first (see parallel.py).
    Without a `cache` (the caller saves it), one is read and saved here.
    """
    with resolving_once():
        return _load_all(workspace, channels, timezone, problems, workers, cache)


def _load_all(
    workspace: Workspace,
    channels: Mapping[str, ChannelConfig],
    timezone: ZoneInfo,
    problems: Problems,
    workers: int,
    cache: LoadCache | None,
) -> list[ContentItem]:
    discovery = discover(workspace.content_dir, workspace.rel, problems)
    own_cache = cache is None
    cache = cache or LoadCache(workspace.state_dir / "cache" / CACHE_FILE)

    def warm(candidates: Sequence[Candidate]) -> dict[bytes, bytes]:
        for candidate in candidates:
            rel = workspace.rel(candidate.source)
            _load_item(_ItemContext(workspace, candidate, rel, cache), channels, timezone)
        return cache.used

    if len(cache.known) < len(discovery.candidates):  # a cold or mostly cold run
        share_work(discovery.candidates, warm, cache.merge, workers)
    items: list[ContentItem] = []
    for candidate in discovery.candidates:
        context = _ItemContext(workspace, candidate, workspace.rel(candidate.source), cache)
        item = _load_item(context, channels, timezone)
        problems.extend(context.problems)
        if item is not None and not context.problems.has_errors():
            items.append(item)
    if own_cache:
        cache.save()
    duplicated = _report_duplicate_ids(discovery.candidates, workspace, problems)
    _report_unused(discovery.loose_files, items, workspace, problems)
    return [item for item in items if item.id not in duplicated]


def _load_item(
    context: _ItemContext, channels: Mapping[str, ChannelConfig], timezone: ZoneInfo
) -> ContentItem | None:
    parsed = _read_front_matter(context)
    if parsed is None:
        return None
    meta, document, body, body_line, text = parsed
    candidate = context.candidate
    base = candidate.source.parent
    if candidate.media is not None and _found_file(context, candidate.media):
        _add_asset(context, candidate.media, "media")
    _add_covers(context, meta, document, base)
    body = _clean_body(context, body, body_line)
    try:
        markdown = context.cache.remember(
            "markdown", f"{body_line}\0{body}", lambda: parse_markdown(body, body_line)
        )
    except MarkdownError as exc:
        context.error(exc.message, exc.line)
        return None
    _add_body_references(context, markdown, base)
    _check_image_budget(context)
    kind = _kind_of(candidate, meta)
    item_channels = _resolve_channels(context, meta, kind, document, channels)
    return ContentItem(
        id=candidate.id,
        path=context.file,
        path_on_disk=resolve_path(candidate.source),
        kind=kind,
        meta=meta,
        body=body,
        document=markdown,
        assets=tuple(context.assets),
        channels=item_channels,
        content_hash=_content_hash(text, context.assets),
        not_before=_aware(meta.not_before, timezone),
        not_after=_aware(meta.not_after, timezone, end_of_day=True),
        at=_aware(meta.at, timezone),
    )


def _read_front_matter(
    context: _ItemContext,
) -> tuple[FrontMatter, YamlDocument, str, int, str] | None:
    raw = _read_source(context)
    if raw is None:
        return None
    if not raw.strip():
        context.error("the file is empty: it needs front matter with at least a title")
        return None
    try:
        decoded = decode_text(raw)
        split = split_front_matter(decoded.text)
        if not _front_matter_characters_ok(context, split.front_matter, split.front_matter_line):
            return None
        text, line = split.front_matter, split.front_matter_line
        document = context.cache.remember(
            "front-matter", f"{line}\0{text}", lambda: _parse_front_matter(text, line)
        )
    except (TextDecodeError, FrontMatterError, YamlSyntaxError) as exc:
        context.error(exc.message, exc.line)
        return None
    for note in decoded.notes:
        context.warning(note)
    if not decoded.was_nfc:
        context.warning(
            "the text uses decomposed Unicode (NFD) and was normalised to NFC; set your "
            "input method to 'Unicode dựng sẵn' to avoid this"
        )
    if document.data is not None and not isinstance(document.data, dict):
        context.error(
            "the front matter must be 'key: value' lines (title: ..., summary: ...), "
            f"not {_kind_of_value(document.data)}",
            split.front_matter_line,
        )
        return None
    if not _values_ok(context, document):
        return None
    meta = validate_document(FrontMatter, document, context.file, context.problems)
    if meta is None:
        meta = _salvage(document.data)
    if meta is None:
        return None
    _warn_invisible_in_tags(context, meta, document)
    return meta, document, split.body, split.body_line, decoded.text


def _read_source(context: _ItemContext) -> bytes | None:
    """The Markdown file's bytes, if it is a regular file inside the workspace, not too big."""
    try:
        path = inside_workspace(context.candidate.source, context.workspace.root)
        size = path.stat().st_size
        if size > MAX_MARKDOWN_BYTES:
            context.error(
                f"the file is {size / 1024 / 1024:.1f} MB; a Markdown file may be at most "
                f"{MAX_MARKDOWN_BYTES // 1024 // 1024} MB: split the article, and keep pictures "
                "and documents in their own files (refer to them by name)"
            )
            return None
        return path.read_bytes()
    except AssetError as exc:
        context.error(str(exc))
    except OSError as exc:
        context.error(f"the file cannot be read ({exc.strerror or exc})")
    return None


def _parse_front_matter(text: str, first_line: int) -> YamlDocument:
    """The front matter parsed, once check_yaml_structure found it safe to parse."""
    check_yaml_structure(text, first_line)
    try:
        return parse_yaml(text, first_line)
    except YamlSyntaxError as exc:
        lines = text.split("\n")
        index = (exc.line or 0) - first_line
        if 0 <= index < len(lines) and "\t" in lines[index]:
            raise YamlSyntaxError(
                f"{exc.message} (indent with spaces, not tabs)", exc.line
            ) from None
        raise
    except (ValueError, TypeError, RecursionError, MemoryError) as exc:
        # check_yaml_structure refuses what is known to reach here; this is the last guard
        raise YamlSyntaxError(f"invalid YAML: {exc}", None) from None


def _kind_of_value(data: object) -> str:
    if isinstance(data, list):
        return "a list ('- ...' lines)"
    return f"a single value ({str(data)[:40]!r})"


def _front_matter_characters_ok(context: _ItemContext, text: str, first_line: int) -> bool:
    """Refuse characters YAML cannot read or that disguise text, naming their line."""
    found = unusual_characters(text, _FRONT_MATTER_REFUSED)
    for character in found:
        context.error(
            _character_message(character), line_of_offset(text, character.offset, first_line)
        )
    return not found


def _values_ok(context: _ItemContext, document: YamlDocument) -> bool:
    """The same, for characters written as YAML escapes ("\\u202e", "\\0")."""
    ok = True
    for loc, value in _strings(document.data, ()):
        for character in unusual_characters(value, _FRONT_MATTER_REFUSED):
            context.error(_character_message(character), document.line_of(loc))
            ok = False
    return ok


def _strings(data: Any, loc: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every string key and value with its location (check_yaml_structure bounds the depth)."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(data, str):
        found.append((loc, data))
    elif isinstance(data, dict):
        for key, value in data.items():
            found.extend(_strings(key, (*loc, str(key))))
            found.extend(_strings(value, (*loc, str(key))))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(_strings(value, (*loc, index)))
    return found


def _character_message(character: UnusualCharacter) -> str:
    what = character.described()
    more = f" ({character.count:,} in all)" if character.count > 1 else ""
    if character.kind == "bidi":
        return (
            f"the text holds a direction control character {what}{more}: it makes the text "
            "display in a different order from how it was written; delete it (retype the "
            "line if you cannot see it)"
        )
    if character.kind == "combining":
        return (
            f"a letter carries {character.count:,} accents or combining marks (at most "
            f"{MAX_COMBINING_MARKS}): the text would smear over the lines around it; retype it"
        )
    if character.kind == "surrogate":
        return f"the text holds {what}, half of a character, which cannot be published; delete it"
    return (
        f"the front matter holds an invisible character {what}{more}; delete it (retype the "
        "line if you cannot see it)"
    )


def _warn_invisible_in_tags(
    context: _ItemContext, meta: FrontMatter, document: YamlDocument
) -> None:
    for channel in (None, *CHANNEL_NAMES):
        block = meta.override(channel) if channel else meta
        for index, tag in enumerate(getattr(block, "tags", None) or []):
            for character in unusual_characters(tag, frozenset({"zero-width"})):
                loc = (channel, "tags", index) if channel else ("tags", index)
                context.warning(
                    f"the tag '{tag}' holds an invisible character {character.described()}: "
                    "it looks like another tag but is not the same; retype it",
                    document.line_of(loc),
                )


def _clean_body(context: _ItemContext, body: str, body_line: int) -> str:
    """Refuse text that disguises itself; drop control characters, with a warning."""
    for character in unusual_characters(body, _BODY_REFUSED):
        message = _character_message(character)
        context.error(message, line_of_offset(body, character.offset, body_line))
    for character in unusual_characters(body, frozenset({"control"})):
        more = f"; {character.count:,} in all" if character.count > 1 else ""
        context.warning(
            f"the text holds invisible control characters (first: {character.described()}"
            f"{more}); they were removed",
            line_of_offset(body, character.offset, body_line),
        )
        return remove_control_characters(body)
    return body


def _found_file(context: _ItemContext, path: Path) -> bool:
    """A media file found beside the Markdown file: it must really be in the workspace."""
    try:
        inside_workspace(path, context.workspace.root)
    except AssetError as exc:
        context.error(f"{context.workspace.rel(path)}: {exc}")
        return False
    return True


def _salvage(data: object) -> FrontMatter | None:
    """The front matter without its invalid keys, so the rest of the item is still checked.

    The item stays invalid (its errors are already reported); this only lets one run of
    `check` report the item's other problems too (missing images, unknown channels).
    """
    if not isinstance(data, dict):
        return None
    kept = dict(data)
    for _ in range(3):
        kept.setdefault("title", "?")
        try:
            return FrontMatter.model_validate(kept)
        except ValidationError as exc:
            bad = {error["loc"][0] for error in exc.errors() if error["loc"]}
            if not bad:
                return None
            kept = {key: value for key, value in kept.items() if key not in bad}
    return None


def _add_asset(
    context: _ItemContext,
    path: Path,
    role: AssetRole,
    line: int | None = None,
    alt: str = "",
    channel: str | None = None,
) -> None:
    rel = context.workspace.rel(path)
    if any(a.path == path and a.role == role and a.channel == channel for a in context.assets):
        return
    try:
        context.assets.append(make_asset(path, rel, role, alt, channel, context.cache.remember))
    except (MediaError, AssetError) as exc:
        context.error(f"{rel}: {exc}", line, channel)


def _check_image_budget(context: _ItemContext) -> None:
    """Refuse an item with more than `MAX_ITEM_IMAGES` images, or whose images together cost
    more to decode than `MAX_ITEM_MEGAPIXELS` (each was held to its own limit by its probe)."""
    images = {asset.path: (asset.rel, asset.image) for asset in context.assets if asset.image}
    if len(images) > MAX_ITEM_IMAGES:
        context.error(
            f"the item has {len(images)} images, more than the {MAX_ITEM_IMAGES} one item may "
            "hold (each is made into a variant for every channel); split it into several "
            "articles"
        )
        return
    costs = sorted(
        ((info.decode_megapixels, rel) for rel, info in images.values()),
        key=lambda cost: -cost[0],
    )
    total = sum(cost for cost, _ in costs)
    if total <= MAX_ITEM_MEGAPIXELS:
        return
    largest = ", ".join(f"{PurePosixPath(rel).name} ({cost:.0f})" for cost, rel in costs[:3])
    context.error(
        f"the item's {len(costs)} images need {total:.0f} megapixels decoded, more than the "
        f"{MAX_ITEM_MEGAPIXELS} one item may use (about 25 phone photos); the largest: "
        f"{largest}: use fewer images, or export them at most {LARGEST_VARIANT} px on the "
        "long side"
    )


def _resolve(context: _ItemContext, reference: str, base: Path, line: int | None) -> Path | None:
    try:
        return resolve_reference(reference, base, context.workspace.root)
    except AssetError as exc:
        context.error(str(exc), line)
        return None


def _add_covers(
    context: _ItemContext, meta: FrontMatter, document: YamlDocument, base: Path
) -> None:
    for channel in (None, *CHANNEL_NAMES):
        block = meta.override(channel) if channel else meta
        reference = getattr(block, "cover", None) if block else None
        if not reference:
            continue
        line = document.line_of((channel, "cover") if channel else ("cover",))
        path = _resolve(context, reference, base, line)
        if path is not None:
            _add_asset(context, path, "cover", line, channel=channel)
    poster = context.candidate.poster
    if poster is not None and not meta.cover and _found_file(context, poster):
        _add_asset(context, poster, "cover")


def _add_body_references(context: _ItemContext, markdown: ParsedMarkdown, base: Path) -> None:
    for image in markdown.images:
        if is_remote(image.target):
            context.warning(
                f"remote image '{_short(image.target)}' is left out: images are never "
                "downloaded; save it in the item's folder and refer to it by file name",
                image.line,
            )
            continue
        path = _resolve(context, image.target, base, image.line)
        if path is not None:
            _add_asset(context, path, "image", image.line, alt=image.text)
    _remove_remote_images(markdown)
    for link in markdown.links:
        _check_link(context, link.target, link.line, base)


def _remove_remote_images(markdown: ParsedMarkdown) -> None:
    """No channel may show (and so make someone fetch) an image from elsewhere."""
    parents = {child: parent for parent in markdown.tree.iter() for child in parent}
    for image in [e for e in markdown.tree.iter("img") if is_remote(e.get("src", ""))]:
        parent = parents[image]
        _remove_keeping_tail(parent, image)
        grandparent = parents.get(parent)
        empty = not len(parent) and not (parent.text or "").strip()
        if parent.tag == "p" and empty and grandparent is not None:
            _remove_keeping_tail(grandparent, parent)


def _remove_keeping_tail(parent: Any, child: Any) -> None:
    """Remove `child`, keeping the text that followed it."""
    children = list(parent)
    index = children.index(child)
    if child.tail:
        if index > 0:
            previous = children[index - 1]
            previous.tail = (previous.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail
    parent.remove(child)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_link(context: _ItemContext, target: str, line: int | None, base: Path) -> None:
    if is_external(target):
        return
    parts = split_reference(target)
    if parts is None:
        context.error(f"link '{_short(target)}' is not a valid address", line)
        return
    scheme = parts.scheme.lower()
    if len(scheme) > 1:
        context.error(
            f"link '{_short(target)}': only http(s), mailto: and tel: links are allowed", line
        )
        return
    path = _resolve_link_target(context, target, base, line)
    if path is not None and path.suffix.lower() not in (".md", ".markdown") and path.is_file():
        _add_asset(context, path, "file", line)


def _resolve_link_target(
    context: _ItemContext, target: str, base: Path, line: int | None
) -> Path | None:
    """Links may point at files or at another item's folder (the one holding index.md)."""
    path = reference_path(target)
    try:
        folder = resolve_path(base / path)
        is_item_folder = folder.is_dir() and (folder / "index.md").is_file()
    except (OSError, RuntimeError, ValueError):
        is_item_folder = False  # resolve_reference names the problem
    if is_item_folder:
        return _resolve(context, f"{path.rstrip('/')}/index.md", base, line)
    return _resolve(context, target, base, line)


def _kind_of(candidate: Candidate, meta: FrontMatter) -> ItemKind:
    if candidate.media is not None and is_video(candidate.media):
        return ItemKind.VIDEO
    if candidate.media is not None and is_image(candidate.media):
        return ItemKind.INFOGRAPHIC
    if meta.youtube and meta.youtube.video_id:
        return ItemKind.VIDEO
    return ItemKind.ARTICLE


def _resolve_channels(
    context: _ItemContext,
    meta: FrontMatter,
    kind: ItemKind,
    document: YamlDocument,
    channels: Mapping[str, ChannelConfig],
) -> tuple[str, ...]:
    has_video = kind is ItemKind.VIDEO

    def suits(name: str) -> bool:
        return has_video or not CHANNEL_TYPES[name].needs_video

    if meta.channels is None:
        chosen = [n for n in CHANNEL_NAMES if channels[n].enabled and suits(n)]
    else:
        chosen = []
        for index, name in enumerate(meta.channels):
            line = document.line_of(("channels", index))
            key = name.lower()
            if key not in CHANNEL_TYPES:
                close = difflib.get_close_matches(key, CHANNEL_NAMES, n=1)
                hint = (
                    f"did you mean '{close[0]}'?" if close else f"known: {', '.join(CHANNEL_NAMES)}"
                )
                context.error(f"unknown channel '{name}' ({hint})", line)
            elif not suits(key):
                context.error(
                    f"channel '{key}' needs a video: add a video file beside the Markdown "
                    "or set youtube.video_id",
                    line,
                    key,
                )
            elif not channels[key].enabled:
                context.warning(
                    f"channel '{key}' is disabled in channels/{key}.yaml; "
                    "the item will not be published there",
                    line,
                    key,
                )
            else:
                chosen.append(key)
    _warn_unused_blocks(context, meta, chosen, document)
    return tuple(n for n in CHANNEL_NAMES if n in chosen)


def _warn_unused_blocks(
    context: _ItemContext, meta: FrontMatter, chosen: list[str], document: YamlDocument
) -> None:
    for name in CHANNEL_NAMES:
        if meta.override(name) is not None and name not in chosen:
            context.warning(
                f"the '{name}' block has no effect: the item is not published on {name}",
                document.line_of((name,)),
                name,
            )


def _report_duplicate_ids(
    candidates: list[Candidate], workspace: Workspace, problems: Problems
) -> set[str]:
    counts = Counter(c.id for c in candidates)
    for candidate in candidates:
        if counts[candidate.id] > 1:
            problems.error(
                workspace.rel(candidate.source),
                f"item id '{candidate.id}' is used by {counts[candidate.id]} items; rename one",
            )
    return {item_id for item_id, count in counts.items() if count > 1}


def _report_unused(
    loose_files: list[Path], items: list[ContentItem], workspace: Workspace, problems: Problems
) -> None:
    used = {resolve_path(asset.path) for item in items for asset in item.assets}
    for path in loose_files:
        try:
            if resolve_path(path) in used:
                continue
        except (OSError, RuntimeError):
            pass  # a symlink loop: reported below like any other stray file
        rel = workspace.rel(path)
        if is_image(path) or is_video(path):
            problems.warning(
                rel,
                f"not published: no item uses it; add '{path.stem}.md' beside it to publish "
                "it on its own, or refer to it from an article",
            )
        elif path.suffix.lower() not in (".md", ".markdown"):
            problems.warning(rel, "ignored: it is not an item or a file an item refers to")


def _aware(
    value: dt.datetime | dt.date | None, timezone: ZoneInfo, end_of_day: bool = False
) -> dt.datetime | None:
    """Local date or time to an aware datetime; a date alone covers the whole day."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.max if end_of_day else dt.time.min)
    return value if value.tzinfo else value.replace(tzinfo=timezone)


def _content_hash(text: str, assets: list[Asset]) -> str:
    digest = hashlib.sha256(HASH_VERSION)
    digest.update(text.encode("utf-8"))
    for asset in sorted(assets, key=lambda a: (a.rel, a.role, a.channel or "")):
        digest.update(f"\n{asset.role}:{asset.channel or ''}:{asset.rel}:{asset.sha256}".encode())
    return digest.hexdigest()
