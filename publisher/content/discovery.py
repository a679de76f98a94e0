"""Finding the items in `content/`: Markdown files, folder items and media with sidecars.

- `x.md` is an article;
- a folder holding `index.md` is one item, and every file below it is one of its assets;
- `x.png` (or `.jpg`) with `x.md` beside it is an infographic, `x.mp4` with `x.md` a video
  (an image of the same stem beside a video is its default cover).
Anything else is a loose file: an asset if some item refers to it, otherwise reported.

Links to folders are not followed (they could lead anywhere, or around in circles), and
names that are not valid Unicode (bytes from another system's encoding) are reported and
skipped: nothing could show or publish them.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from publisher.content.probe import is_image, is_video
from publisher.content.text import nfc, printable
from publisher.problems import Problems

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
FOLDER_INDEX = "index.md"
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "__pycache__"})


@dataclass(frozen=True)
class Candidate:
    """A would-be item, before its Markdown is read."""

    id: str
    source: Path
    media: Path | None = None
    poster: Path | None = None
    folder: Path | None = None


@dataclass
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    loose_files: list[Path] = field(default_factory=list)


def is_ignored(name: str) -> bool:
    """System, editor and Office lock files that are never content."""
    lowered = name.lower()
    return (
        name.startswith((".", "~$"))
        or name.endswith("~")
        or lowered.endswith(".tmp")
        or lowered in _IGNORED_NAMES
    )


def discover(content_dir: Path, rel: Callable[[Path], str], problems: Problems) -> Discovery:
    """Walk `content_dir` in a stable order and sort its files into candidates."""
    found = Discovery()
    for directory, dirnames, filenames in os.walk(content_dir):
        here = Path(directory)
        dirnames[:] = _usable(here, dirnames, rel, problems, folders=True)
        names = _usable(here, filenames, rel, problems)
        index = next((n for n in names if n.lower() == FOLDER_INDEX), None)
        if index and here != content_dir:
            found.candidates.append(
                Candidate(_item_id(here, content_dir), here / index, folder=here)
            )
            others = [n for n in names if n != index]
            found.loose_files.extend(_files_below(here, others, dirnames, rel, problems))
            dirnames.clear()
            continue
        _group_by_stem(here, names, content_dir, rel, found, problems)
    return found


def _group_by_stem(
    here: Path,
    names: list[str],
    content_dir: Path,
    rel: Callable[[Path], str],
    found: Discovery,
    problems: Problems,
) -> None:
    by_stem: dict[str, list[Path]] = defaultdict(list)
    for name in names:
        by_stem[Path(name).stem].append(here / name)
    for paths in by_stem.values():
        sources = [p for p in paths if p.suffix.lower() in MARKDOWN_SUFFIXES]
        if not sources:
            found.loose_files.extend(paths)
            continue
        if len(sources) > 1:
            problems.error(
                rel(sources[1]), f"two Markdown files for one item; also {sources[0].name}"
            )
        source = sources[0]
        videos = [p for p in paths if is_video(p)]
        images = [p for p in paths if is_image(p)]
        media, poster = (
            (videos[0], images[0] if images else None)
            if videos
            else (
                images[0] if images else None,
                None,
            )
        )
        if len(videos) > 1 or (not videos and len(images) > 1):
            names_list = ", ".join(p.name for p in (videos or images))
            problems.error(
                rel(source), f"several media files share this name ({names_list}); keep one"
            )
        used = {source, media, poster}
        found.loose_files.extend(p for p in paths if p not in used)
        found.candidates.append(
            Candidate(_item_id(source.with_suffix(""), content_dir), source, media, poster)
        )


def _usable(
    here: Path,
    names: list[str],
    rel: Callable[[Path], str],
    problems: Problems,
    folders: bool = False,
) -> list[str]:
    """The names worth looking at, sorted; unreadable names and folder links are reported."""
    kept = []
    for name in sorted(names):
        if is_ignored(name):
            continue
        if not _is_unicode(name):
            problems.error(
                _printable(rel(here / name)),
                "skipped: the name is not valid Unicode (saved by a system with another "
                "encoding); rename it",
            )
        elif printable(name) != name:
            problems.error(
                printable(rel(here / name)),
                "skipped: the name holds a control, direction or invisible character "
                "(written out here as \\x.. or \\u....), which would garble it or disguise "
                "it on screen; rename it",
            )
        elif folders and (here / name).is_symlink():
            problems.warning(
                rel(here / name),
                "skipped: links to folders are not followed; move or copy the folder itself "
                "into content/",
            )
        else:
            kept.append(name)
    return kept


def _is_unicode(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.walk decodes undecodable bytes to lone surrogates
        return False
    return True


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _item_id(path: Path, content_dir: Path) -> str:
    return nfc(path.relative_to(content_dir).as_posix())


def _files_below(
    folder: Path,
    names: list[str],
    subfolders: list[str],
    rel: Callable[[Path], str],
    problems: Problems,
) -> list[Path]:
    """Every usable file of a folder item, its own (already checked) names first."""
    files = [folder / name for name in names]
    for subfolder in subfolders:
        for directory, dirnames, filenames in os.walk(folder / subfolder):
            here = Path(directory)
            dirnames[:] = _usable(here, dirnames, rel, problems, folders=True)
            files.extend(here / name for name in _usable(here, filenames, rel, problems))
    return files
