"""What each channel's mock-up shows, read from the very requests publishing sends.

Nothing here formats text again: the mock-ups take the rendered post's payloads, so the
preview cannot drift from what goes out. Media paths become preview URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nh3

from publisher.adapters.base import HOST_METHOD, Call, Post
from publisher.render.telegram_html import ALLOWED_TAGS as TELEGRAM_TAGS

MediaUrl = Callable[[str], str]
FACEBOOK_FOLD_CHARS = 480
FACEBOOK_FOLD_LINES = 5
_HASHTAG = re.compile(r"#\w+")
_HOSTED = re.compile(r"\$(\w+)\.url")


def mock_for(post: Post, media_url: MediaUrl, names: dict[str, str]) -> dict[str, Any] | None:
    """The mock-up data of `post`; `names` maps media file names to local paths."""
    builder = _BUILDERS.get(post.channel)
    return builder(post, media_url, names) if builder and post.calls else None


def local(url: str, media_url: MediaUrl, names: dict[str, str]) -> str:
    """A portal media address as the preview serves it (portal URLs are not live yet)."""
    name = Path(urlsplit(url).path).name
    return media_url(names[name]) if name in names else url


def _call(post: Post, *steps: str) -> Call | None:
    return next((c for c in post.calls if c.step in steps), None)


def _facebook(post: Post, media_url: MediaUrl, names: dict[str, str]) -> dict[str, Any]:
    final = post.calls[-1]
    text = final.payload.get("message") or final.payload.get("caption") or ""
    photos = [media_url(c.files["source"]) for c in post.calls if "source" in c.files]
    link = final.payload.get("link")
    return {
        "page_name": "Bảo hiểm xã hội tỉnh",
        "text": text,
        "fold": _fold(text),
        "photos": photos,
        "link": {"url": link, "domain": urlsplit(link).netloc.upper()}
        if link and not photos
        else None,
    }


def _fold(text: str) -> int:
    """Where Facebook cuts a long post with "See more": about 480 characters or 5 lines."""
    cut = len(text)
    lines = [m.start() for m in re.finditer("\n", text)]
    if len(lines) >= FACEBOOK_FOLD_LINES:
        cut = lines[FACEBOOK_FOLD_LINES - 1]
    if cut > FACEBOOK_FOLD_CHARS:
        space = text.rfind(" ", 0, FACEBOOK_FOLD_CHARS)
        cut = space if space > 0 else FACEBOOK_FOLD_CHARS
    return cut


def _zalo(post: Post, media_url: MediaUrl, names: dict[str, str]) -> dict[str, Any]:
    article = (_call(post, "create") or post.calls[0]).payload
    hosted = {c.step: c.files["file"] for c in post.calls if c.method == HOST_METHOD}

    def image(url: str) -> str:
        """A hosted file ("$host_0.url") or a portal address, as the preview serves it."""
        reference = _HOSTED.fullmatch(url)
        if reference and reference.group(1) in hosted:
            return media_url(hosted[reference.group(1)])
        return local(url, media_url, names)

    blocks = [
        {"type": "text", "text": b.get("content", "")}
        if b.get("type") == "text"
        else {"type": "image", "src": image(b.get("url", "")), "caption": b.get("caption", "")}
        for b in article.get("body", [])
    ]
    return {
        "oa_name": "BHXH tỉnh",
        "title": article.get("title", ""),
        "author": article.get("author", ""),
        "description": article.get("description", ""),
        "cover": image(article.get("cover", {}).get("photo_url", "")),
        "blocks": blocks,
        "broadcast": _call(post, "broadcast") is not None,
        "date": "",
    }


def _youtube(post: Post, media_url: MediaUrl, names: dict[str, str]) -> dict[str, Any]:
    video = _call(post, "insert", "update")
    snippet = video.payload.get("snippet", {}) if video else {}
    thumbnail = _call(post, "thumbnail")
    description = snippet.get("description", "")
    return {
        "channel_name": "BHXH tỉnh",
        "title": snippet.get("title", ""),
        "hashtags_above": _HASHTAG.findall(description)[:3],
        "description": description,
        "thumbnail": media_url(thumbnail.files["media"]) if thumbnail else None,
        "tags": snippet.get("tags", []),
        "mode": video.step if video else "update",
        "video_id": video.payload.get("id") if video and video.step == "update" else None,
    }


def _telegram(post: Post, media_url: MediaUrl, names: dict[str, str]) -> dict[str, Any]:
    media = _call(post, "photo", "album")
    caption = None
    photos: list[str] = []
    if media is not None:
        photos = [media_url(path) for path in media.files.values()]
        caption = media.payload.get("caption") or next(
            (m.get("caption") for m in media.payload.get("media", []) if m.get("caption")), None
        )
    messages = [c.payload["text"] for c in post.calls if c.step.startswith("message")]
    return {
        "channel_name": "BHXH tỉnh – Tin tức",
        "photos": photos,
        "caption_html": _safe(caption) if caption else None,
        "messages_html": [_safe(m) for m in messages],
        "views_note": "",
    }


def _portal(post: Post, media_url: MediaUrl, names: dict[str, str]) -> dict[str, Any]:
    page = _call(post, "page", "post")
    title = ""
    if page is not None and page.step == "post":
        title = page.payload.get("title", "")
    return {"page_url": "", "url": post.url, "title": title}


def _safe(telegram_html: str) -> str:
    """Telegram HTML made safe to show in the page (it is ours, but defence costs little)."""
    return nh3.clean(
        telegram_html,
        tags=set(TELEGRAM_TAGS) - {"tg-emoji", "tg-spoiler", "span"},
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto", "tel"},
    )


_BUILDERS: dict[str, Callable[[Post, MediaUrl, dict[str, str]], dict[str, Any]]] = {
    "facebook": _facebook,
    "zalo": _zalo,
    "youtube": _youtube,
    "telegram": _telegram,
    "portal": _portal,
}
