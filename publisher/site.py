"""The portal's static site: article pages, an index and every media file, in one folder.

Pages are the portal posts' rendered HTML. Every media file any channel refers to by
portal address (Zalo covers and images, Open Graph images) is copied to `media/`, and
absolute portal addresses become relative links so the folder also works opened locally.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from publisher.adapters.base import Post
from publisher.catalog import Catalog
from publisher.render.service import Renderer


@dataclass(frozen=True)
class SiteReport:
    folder: Path
    pages: int
    media: int


def write_site(catalog: Catalog, renderer: Renderer, folder: Path) -> SiteReport:
    """Write every ready item's portal page, the index and the media into `folder`."""
    base = renderer.context.portal.base_url.rstrip("/") + "/"
    articles, media = [], set()
    for item in catalog.items:
        if item.status != "ready" or "portal" not in item.channels:
            continue
        posts = renderer.render_item(item)
        media.update(m for post in posts.values() for m in post.media if _on_portal(post))
        page = next((c for c in posts["portal"].calls if c.step == "page"), None)
        if page is None or posts["portal"].errors:
            continue
        _write(folder / page.endpoint, _relative(page.payload["html"], base, page.endpoint))
        date = item.meta.date.strftime("%d/%m/%Y") if item.meta.date else ""
        articles.append(
            {
                "title": item.title,
                "href": page.endpoint.removesuffix("index.html"),
                "date": date,
                "sort": item.meta.date.isoformat() if item.meta.date else "",
            }
        )
    for source in sorted(media):
        _copy(Path(source), folder / "media" / Path(source).name)
    articles.sort(key=lambda a: a["sort"], reverse=True)
    from publisher.adapters.portal import index_template

    index = index_template().render(site_name=renderer.context.portal.site_name, articles=articles)
    _write(folder / "index.html", index)
    return SiteReport(folder, len(articles), len(media))


def _on_portal(post: Post) -> bool:
    """Media the portal must serve: everything except YouTube's own uploads."""
    return post.channel != "youtube"


def _relative(html: str, base: str, page_path: str) -> str:
    depth = len(PurePosixPath(page_path).parent.parts)
    return html.replace(base, "../" * depth if depth else "./")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _copy(source: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
