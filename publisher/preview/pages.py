"""Rendering preview pages with Jinja2: the same templates serve the app and the export."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from publisher.preview.i18n import translator

LANGUAGES = ("vi", "en")


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("publisher", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


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
