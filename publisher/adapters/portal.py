"""The agency's web portal: a static site by default, WordPress REST API when live.

Render: the canonical article (sanitised HTML, figures, Open Graph tags) at a slug made
from the Vietnamese title without diacritics. Its URL is the link every other channel
uses. With `wordpress_url` set, the calls are the WordPress REST requests (media uploads,
then the post); otherwise a page of the static site under `.publisher/site/`.
"""

from __future__ import annotations

import html
import ipaddress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field

from publisher.adapters.base import Call, Channel, ChannelSettings, CredentialNames, Post
from publisher.content.assets import Asset
from publisher.content.model import ContentItem
from publisher.media import Variant, VariantSpec
from publisher.render.common import Findings, ItemView, card_or_cover, make_post, variants, view
from publisher.render.context import RenderContext
from publisher.render.portal_html import article_html
from publisher.render.text import truncate

if TYPE_CHECKING:
    from jinja2 import Environment, Template

    from publisher.publishing.model import ClientEnv, PlatformClient

IMAGE = VariantSpec("portal-image", 1600, 1600, "fit", "JPEG", 600_000)
OG_IMAGE = VariantSpec("portal-og", 1200, 630, "crop", "JPEG", 1_000_000, min_width=600)


class PortalCredentials(CredentialNames):
    public = frozenset({"username"})
    username: str = "WORDPRESS_USERNAME"
    app_password: str = "WORDPRESS_APP_PASSWORD"


class PortalSettings(ChannelSettings):
    credentials: PortalCredentials = PortalCredentials()
    base_url: str = Field(
        default="http://localhost:8000",
        pattern=r"^https?://[^\s/]+",
        description="public address of the portal; every other channel links to its articles",
    )
    article_path: str = Field(default="/tin-tuc/{slug}/", description="path of an article; {slug}")
    site_name: str = "Cổng thông tin điện tử"
    wordpress_url: str | None = Field(default=None, description="WordPress site for live mode")

    def live_requirements(self) -> list[str]:
        return [] if self.wordpress_url else ["wordpress_url"]

    def transport_problem(self) -> tuple[Literal["error", "warning"], str] | None:
        """WordPress's application password must not cross a network unencrypted."""
        return plain_http_problem(self.wordpress_url)


def plain_http_problem(url: str | None) -> tuple[Literal["error", "warning"], str] | None:
    """An error for credentials sent to `url` over plain http, a warning when that address
    is this computer's own (a test site), None for https."""
    parts = urlsplit(url or "")
    if parts.scheme != "http":
        return None
    if is_loopback(parts.hostname or ""):
        return (
            "warning",
            f"wordpress_url {url} is plain http: accepted because it is this computer's own "
            "address; a real site needs https://",
        )
    return (
        "error",
        f"wordpress_url {url} is plain http: the application password would travel "
        "unencrypted; use https:// (plain http is accepted only for localhost)",
    )


def is_loopback(host: str) -> bool:
    """localhost, a *.localhost name, or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PortalChannel(Channel):
    name = "portal"
    label = "Cổng thông tin"
    settings_model = PortalSettings
    settings: PortalSettings
    image_specs = (IMAGE, OG_IMAGE)

    def live_client(self, env: ClientEnv) -> PlatformClient:
        from publisher.clients.portal import create_client

        return create_client(self.settings, env)

    def render(self, item: ContentItem, context: RenderContext) -> Post:
        seen = view(item, self.name, context)
        findings = Findings()
        images = {v_asset.path: made for v_asset, made in self._images(seen, context, findings)}

        def image_src(src: str) -> tuple[str, int, int] | None:
            asset = item.image_for(src)
            made = images.get(asset.path) if asset else None
            return (context.media_url(made.path), made.width, made.height) if made else None

        base = self.settings.base_url.rstrip("/")
        content = article_html(
            item.document.tree, image_src, seen.resolve, lambda url: url.startswith(base)
        )
        og_image = card_or_cover(seen, OG_IMAGE, context, findings, "link preview image (og:image)")
        media = [str(p) for p in [og_image, *(m.path for m in images.values())] if p]
        calls = self._calls(seen, context, content, og_image, images)
        return make_post(self.name, seen, findings, calls, media)

    @staticmethod
    def _images(
        seen: ItemView, context: RenderContext, findings: Findings
    ) -> list[tuple[Asset, Variant]]:
        assets = (
            (seen.item.media,) if seen.item.media and seen.item.media.image else ()
        ) + seen.item.images
        return [
            (asset, made)
            for asset in assets
            for made in variants((asset,), IMAGE, context, findings)
        ]

    def _calls(
        self,
        seen: ItemView,
        context: RenderContext,
        content: str,
        og_image: Path | None,
        images: dict[Path, Variant],
    ) -> tuple[Call, ...]:
        if seen.item.media is not None and seen.item.media.image is not None:
            made = images.get(seen.item.media.path)
            if made:
                content = _figure(context.media_url(made.path), seen.title) + content
        if self.settings.wordpress_url:
            return self._wordpress_calls(seen, context, content, og_image, images)
        page = _template().render(
            title=seen.title,
            summary=seen.item.meta.summary or "",
            description=truncate(seen.summary, 300),
            url=seen.url,
            home=self.settings.base_url.rstrip("/") + "/",
            site_name=self.settings.site_name,
            content=content,
            image=context.media_url(og_image) if og_image else None,
            image_width=OG_IMAGE.max_width,
            image_height=OG_IMAGE.max_height,
            date=seen.item.meta.date.strftime("%d/%m/%Y") if seen.item.meta.date else "",
            published=seen.item.meta.date.isoformat() if seen.item.meta.date else "",
            author=seen.item.meta.author,
            tags=list(seen.tags),
        )
        path = self.settings.article_path.format(slug=context.slug(seen.item)).strip("/")
        return (Call("page", "WRITE", f"{path}/index.html", {"html": page}),)

    def _wordpress_calls(
        self,
        seen: ItemView,
        context: RenderContext,
        content: str,
        og_image: Path | None,
        images: dict[Path, Variant],
    ) -> tuple[Call, ...]:
        """Images uploaded to the WordPress media library first; the post refers to them."""
        calls: list[Call] = []
        for index, made in enumerate(images.values()):
            meta = {"title": seen.title}
            calls.append(
                Call(
                    f"image_{index}", "POST", "/wp-json/wp/v2/media", meta, {"file": str(made.path)}
                )
            )
            content = content.replace(context.media_url(made.path), f"$image_{index}.source_url")
        if og_image:
            meta = {"title": seen.title, "alt_text": seen.title}
            calls.append(
                Call("media_0", "POST", "/wp-json/wp/v2/media", meta, {"file": str(og_image)})
            )
        post = {
            "title": seen.title,
            "content": content,
            "excerpt": seen.summary,
            "slug": context.slug(seen.item),
            "status": "publish",
            "comment_status": "closed",
        }
        if og_image:
            post["featured_media"] = "$media_0.id"
        calls.append(Call("post", "POST", "/wp-json/wp/v2/posts", post))
        return tuple(calls)


def _figure(src: str, alt: str) -> str:
    return f'<figure><img src="{html.escape(src)}" alt="{html.escape(alt)}"></figure>\n'


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape  # only when rendering

    return Environment(
        loader=PackageLoader("publisher", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def _template() -> Template:
    return _environment().get_template("portal/article.html")


def index_template() -> Template:
    return _environment().get_template("portal/index.html")
