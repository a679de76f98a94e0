"""A Facebook Page through the Graph API.

Render: plain text (Facebook shows no formatting), the portal link, hashtags without
diacritics, and one photo (a photo post) or several (unpublished uploads, then one feed
post with `attached_media`, so the page shows one post, not N+1).
Limits: message 63,206 characters [C]; photos JPEG <= 4 MB [U], shown sharp from 600 px.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pydantic import Field

from publisher.adapters.base import Call, Channel, CredentialNames, Post, SocialSettings
from publisher.content.model import ContentItem
from publisher.media import VariantSpec
from publisher.render.common import Findings, counted, cut_warning, make_post, variants, view
from publisher.render.context import RenderContext
from publisher.render.plain import fit_paragraphs, paragraphs
from publisher.render.text import hashtags, measure

if TYPE_CHECKING:
    from publisher.publishing.model import ClientEnv, PlatformClient

MESSAGE_LIMIT = 63_206
MAX_PHOTOS = 10
PHOTO = VariantSpec("facebook-photo", 2048, 2048, "fit", "JPEG", 4_000_000, min_width=600)


class FacebookCredentials(CredentialNames):
    page_token: str = "FACEBOOK_PAGE_TOKEN"


class FacebookSettings(SocialSettings):
    credentials: FacebookCredentials = FacebookCredentials()
    page_id: str | None = Field(default=None, pattern=r"^\d+$")
    graph_version: str = Field(default="v25.0", pattern=r"^v\d+\.\d+$")
    api_base: str = "https://graph.facebook.com"
    read_more: str = Field(
        default="👉 Xem chi tiết: {url}", description="line with the portal link"
    )

    def live_requirements(self) -> list[str]:
        return [] if self.page_id else ["page_id"]


class FacebookChannel(Channel):
    name = "facebook"
    label = "Facebook"
    settings_model = FacebookSettings
    settings: FacebookSettings
    image_specs = (PHOTO,)

    def live_client(self, env: ClientEnv) -> PlatformClient:
        from publisher.clients.facebook import create_client

        return create_client(self.settings, env)

    def render(self, item: ContentItem, context: RenderContext) -> Post:
        seen = view(item, self.name, context)
        findings = Findings()
        tail = self._tail(seen.url, list(seen.tags))
        head = f"{seen.title}\n\n"
        texts = paragraphs(list(seen.text_lines(self.settings.text)), seen.resolve)
        body, cut = fit_paragraphs(texts, MESSAGE_LIMIT - measure(head, "chars"), tail=tail)
        if cut:
            findings.warnings.append(cut_warning("the message", MESSAGE_LIMIT, "chars"))
        message = head + body + tail
        photos = seen.photos
        if len(photos) > MAX_PHOTOS:
            findings.warnings.append(
                f"only the first {MAX_PHOTOS} of {len(photos)} photos are posted"
            )
        made = variants(photos[:MAX_PHOTOS], PHOTO, context, findings)
        photo_files = [str(v.path) for v in made]
        calls = self._calls(message, seen.url, photo_files)
        counts = [counted("message", message, MESSAGE_LIMIT, "chars")]
        return make_post(self.name, seen, findings, calls, photo_files, counts)

    def _tail(self, url: str | None, tags: list[str]) -> str:
        lines = [self.settings.read_more.format(url=url)] if url else []
        if self.settings.footer:
            lines.append(self.settings.footer)
        tag_line = " ".join(hashtags([*tags, *self.settings.hashtags]))
        if tag_line:
            lines.append(tag_line)
        return "\n\n" + "\n".join(lines) if lines else ""

    def _endpoint(self, edge: str) -> str:
        page = self.settings.page_id or "{page_id}"
        return f"/{self.settings.graph_version}/{page}/{edge}"

    def _calls(self, message: str, url: str | None, photos: list[str]) -> tuple[Call, ...]:
        if not photos:
            payload = {"message": message, **({"link": url} if url else {})}
            return (Call("feed", "POST", self._endpoint("feed"), payload),)
        if len(photos) == 1:
            payload = {"caption": message, "published": "true"}
            return (
                Call("photo", "POST", self._endpoint("photos"), payload, {"source": photos[0]}),
            )
        uploads = [
            Call(
                f"photo_{i}",
                "POST",
                self._endpoint("photos"),
                {"published": "false"},
                {"source": p},
            )
            for i, p in enumerate(photos)
        ]
        feed: dict[str, str] = {"message": message}
        for i in range(len(photos)):
            feed[f"attached_media[{i}]"] = json.dumps({"media_fbid": f"$photo_{i}.id"})
        return (*uploads, Call("feed", "POST", self._endpoint("feed"), feed))
