"""Rendering preview pages with Jinja2: the same templates serve the app and the export."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from publisher.preview.i18n import translator

LANGUAGES = ("vi", "en")
# An absolute http(s) address with a host, and no space or control character anywhere
# (browsers drop tabs and newlines, so "java\tscript:" would still run).
_WEB_URL = re.compile(r"https?://[^\x00-\x20\x7f/?#][^\x00-\x20\x7f]*", re.IGNORECASE)


def is_web_url(value: object) -> bool:
    """Whether `value`, a stored or content-derived address, may become a link."""
    return isinstance(value, str) and _WEB_URL.fullmatch(value) is not None


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("publisher", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["web_url"] = is_web_url
    return env


def render_page(
    template: str,
    context: dict[str, Any],
    *,
    links: Any,
    lang: str,
    other_lang_url: str,
    live_reload: bool,
    workspace_name: str,
    generated_at: str,
) -> str:
    return (
        environment()
        .get_template(f"preview/{template}")
        .render(
            t=translator(lang),
            lang=lang,
            links=links,
            other_lang_url=other_lang_url,
            live_reload=live_reload,
            workspace_name=workspace_name,
            generated_at=generated_at,
            **context,
        )
    )
