"""The portal's static site: article pages, an index and every media file, in one folder.

Pages are the portal posts' rendered HTML. Every media file any channel refers to by
portal address (Zalo covers and images, Open Graph images) is copied to `media/`, and
absolute portal addresses become relative links so the folder also works opened locally.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from publisher.adapters.base import Post
from publisher.catalog import Catalog
from publisher.publishing.hosting import copy_once
from publisher.render.service import Renderer


@dataclass(frozen=True)
class SiteReport:
    folder: Path
    pages: int
    media: int


def write_site(catalog: Catalog, renderer: Renderer, folder: Path) -> SiteReport:
    """Write every ready item's portal page, the index and the media into `folder`."""
    base = renderer.context.portal.base_url
    articles, media = [], set()
    for item in catalog.items:
        if item.status != "ready" or "portal" not in item.channels:
            continue
        posts = renderer.render_item(item)
        media.update(m for post in posts.values() for m in post.media if _on_portal(post))
        page = next((c for c in posts["portal"].calls if c.step == "page"), None)
        if page is None or posts["portal"].errors:
            continue
        _write(folder / page.endpoint, page_html(page.payload["html"], base, page.endpoint))
        date = item.meta.date.isoformat() if item.meta.date else ""
        href = page.endpoint.removesuffix("index.html")
        articles.append({"title": item.title, "href": href, "date": date})
    for source in sorted(media):
        copy_once(Path(source), folder / "media" / Path(source).name)
    write_index(folder, renderer.context.portal.site_name, articles)
    return SiteReport(folder, len(articles), len(media))


def page_html(html: str, base_url: str, page_path: str) -> str:
    """The page with the portal's absolute addresses made relative to where it lives."""
    depth = len(PurePosixPath(page_path).parent.parts)
    return html.replace(base_url.rstrip("/") + "/", "../" * depth if depth else "./")


def write_index(folder: Path, site_name: str, articles: list[dict[str, str]]) -> None:
    """The index page: articles newest first (`title`, `href`, ISO `date`)."""
    from publisher.adapters.portal import index_template

    ordered = sorted(articles, key=lambda a: a.get("date", ""), reverse=True)
    shown = [{**a, "date": _display_date(a.get("date", ""))} for a in ordered]
    _write(folder / "index.html", index_template().render(site_name=site_name, articles=shown))


def _display_date(iso: str) -> str:
    try:
        return dt.date.fromisoformat(iso[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return ""


def _on_portal(post: Post) -> bool:
    """Media the portal must serve: everything except YouTube's own uploads."""
    return post.channel != "youtube"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
