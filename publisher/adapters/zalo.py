"""A Zalo Official Account through the Zalo OA Open API (articles and broadcasts).

Render: a normal OA article (`/v2.0/article/create`): title <= 150, author <= 50 and
description <= 300 characters, a cover photo given by public URL (required; a title card
is generated when the item has no image), and a body of text and image blocks. The
article id only arrives from `/v2.0/article/verify`; an optional broadcast to followers
refers to it. Images referenced by an article must be <= 1 MB and publicly reachable, so
each is first hosted by the portal (a HOST call, see publisher.publishing.hosting) and the
article refers to the address it answers ("$host_0.url").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from publisher.adapters.base import (
    HOST_METHOD,
    Call,
    Channel,
    ChannelSettings,
    CredentialNames,
    Post,
)
from publisher.content.assets import Asset
from publisher.content.model import ContentItem
from publisher.media import VariantSpec
from publisher.render.common import (
    Findings,
    ItemView,
    card_or_cover,
    counted,
    cut_warning,
    make_post,
    variants,
    view,
)
from publisher.render.context import RenderContext
from publisher.render.plain import line_text
from publisher.render.text import truncate

if TYPE_CHECKING:
    from publisher.publishing.model import ClientEnv, PlatformClient

TITLE_LIMIT = 150
AUTHOR_LIMIT = 50
DESCRIPTION_LIMIT = 300
IMAGE = VariantSpec("zalo-image", 1280, 1280, "fit", "JPEG", 1_000_000, min_width=400)
COVER = VariantSpec("zalo-cover", 1280, 720, "pad", "JPEG", 1_000_000)


class ZaloCredentials(CredentialNames):
    public = frozenset({"app_id"})
    app_id: str = "ZALO_APP_ID"
    app_secret: str = "ZALO_APP_SECRET"
    refresh_token: str = "ZALO_REFRESH_TOKEN"


class ZaloSettings(ChannelSettings):
    credentials: ZaloCredentials = ZaloCredentials()
    author: str = Field(default="Bảo hiểm xã hội", max_length=AUTHOR_LIMIT)
    broadcast: bool = Field(default=False, description="send each article to followers")
    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    read_more: str = "Xem chi tiết: {url}"


class ZaloChannel(Channel):
    name = "zalo"
    label = "Zalo OA"
    settings_model = ZaloSettings
    settings: ZaloSettings
    image_specs = (IMAGE, COVER)

    def live_client(self, env: ClientEnv) -> PlatformClient:
        from publisher.clients.zalo import create_client

        return create_client(self.settings, env)

    def render(self, item: ContentItem, context: RenderContext) -> Post:
        seen = view(item, self.name, context)
        findings = Findings()
        title = self._limited("title", seen.title, TITLE_LIMIT, findings)
        author = self._limited(
            "author", item.meta.author or self.settings.author, AUTHOR_LIMIT, findings
        )
        description = self._limited(
            "description", seen.summary or seen.title, DESCRIPTION_LIMIT, findings
        )
        cover = card_or_cover(seen, COVER, context, findings, "article cover Zalo requires")
        hosted = _Hosted()
        cover_url = hosted.url(cover) if cover else ""
        body, media = self._body(seen, context, findings, hosted)
        article: dict[str, Any] = {
            "type": "normal",
            "title": title,
            "author": author,
            "cover": {
                "cover_type": "photo",
                "photo_url": cover_url,
                "status": "show",
            },
            "description": description,
            "body": body,
            "status": "show",
            "comment": "show",
        }
        counts = (
            counted("title", title, TITLE_LIMIT, "chars"),
            counted("author", author, AUTHOR_LIMIT, "chars"),
            counted("description", description, DESCRIPTION_LIMIT, "chars"),
        )
        files = ([cover] if cover else []) + media
        calls = (*hosted.calls, *self._calls(article, item))
        return make_post(self.name, seen, findings, calls, files, counts)

    @staticmethod
    def _limited(name: str, text: str, limit: int, findings: Findings) -> str:
        cut = truncate(text, limit)
        if cut != text:
            findings.warnings.append(cut_warning(f"the {name}", limit, "chars"))
        return cut

    def _body(
        self, seen: ItemView, context: RenderContext, findings: Findings, hosted: _Hosted
    ) -> tuple[list[dict[str, str]], list[Path]]:
        """Text blocks per paragraph (list items and table rows grouped), image blocks."""
        blocks: list[dict[str, str]] = []
        grouped: dict[int, list[str]] = {}  # a text block's lines, joined once at the end
        media: list[Path] = []

        def image(asset: Asset | None, caption: str) -> None:
            for made in variants((asset,), IMAGE, context, findings) if asset else []:
                media.append(made.path)
                blocks.append({"type": "image", "url": hosted.url(made.path), "caption": caption})

        if seen.item.media is not None and seen.item.media.image is not None:
            image(seen.item.media, seen.title)
        for line in seen.lines:
            if line.figure is not None:
                image(seen.item.image_for(line.figure.src), line.figure.caption)
            elif blocks and blocks[-1]["type"] == "text" and line.kind in ("item", "row"):
                lines = grouped.setdefault(len(blocks) - 1, [blocks[-1]["content"]])
                lines.append(line_text(line, seen.resolve))
            else:
                blocks.append({"type": "text", "content": line_text(line, seen.resolve)})
        for index, lines in grouped.items():
            blocks[index]["content"] = "\n".join(lines)
        if seen.url:
            blocks.append({"type": "text", "content": self.settings.read_more.format(url=seen.url)})
        return blocks, media

    def _calls(self, article: dict[str, Any], item: ContentItem) -> tuple[Call, ...]:
        calls = [
            Call("create", "POST", "/v2.0/article/create", article),
            Call("verify", "POST", "/v2.0/article/verify", {"token": "$create.token"}),
        ]
        block = item.meta.zalo
        broadcast = (
            block.broadcast if block and block.broadcast is not None else self.settings.broadcast
        )
        if broadcast:
            element = {"media_type": "article", "attachment_id": "$verify.id"}
            message = {
                "recipient": {"target": {}},
                "message": {
                    "attachment": {
                        "type": "template",
                        "payload": {"template_type": "media", "elements": [element]},
                    }
                },
            }
            calls.append(Call("broadcast", "POST", "/v2.0/oa/message", message))
        return tuple(calls)


class _Hosted:
    """The HOST calls of one article, one per file, and the address each answers."""

    def __init__(self) -> None:
        self.steps: dict[Path, str] = {}

    def url(self, path: Path) -> str:
        step = self.steps.setdefault(path, f"host_{len(self.steps)}")
        return f"${step}.url"

    @property
    def calls(self) -> tuple[Call, ...]:
        return tuple(
            Call(step, HOST_METHOD, "media", {}, {"file": str(path)})
            for path, step in self.steps.items()
        )
