"""`publisher render ITEM`: the post(s) an item becomes, exactly as they would be sent."""

from __future__ import annotations

import difflib
from pathlib import Path

from publisher.adapters.base import Post
from publisher.catalog import Catalog, load_catalog
from publisher.commands.output import console, print_json, styled
from publisher.content.model import ContentItem
from publisher.errors import WorkspaceError
from publisher.render.service import Renderer
from publisher.workspace import open_workspace


class UsageError(WorkspaceError):
    """A command-line argument that names nothing known (exit code 2)."""


def run_render(root: Path, item_id: str, channel: str | None, as_json: bool) -> int:
    catalog = load_catalog(open_workspace(root))
    item = find_item(catalog, item_id)
    if channel is not None and channel not in item.channels:
        raise UsageError(
            f"item '{item_id}' is not published on '{channel}'; "
            f"its channels: {', '.join(item.channels) or '(none)'}"
        )
    posts = Renderer(catalog).render_item(item, (channel,) if channel else None)
    if as_json:
        print_json(
            {"item": item.id, "posts": {name: post.to_json() for name, post in posts.items()}}
        )
    else:
        for post in posts.values():
            print_post(post)
    return 1 if any(post.errors for post in posts.values()) else 0


def find_item(catalog: Catalog, item_id: str) -> ContentItem:
    """The item with this id, or a usage error suggesting close ids."""
    item = catalog.item(item_id)
    if item is None:
        raise UsageError(_unknown_item(catalog, item_id))
    return item


def _unknown_item(catalog: Catalog, item_id: str) -> str:
    ids = [item.id for item in catalog.items]
    close = difflib.get_close_matches(item_id, ids, n=3, cutoff=0.4)
    hint = (
        f"did you mean: {', '.join(close)}?" if close else "run 'publisher check' to list the items"
    )
    return f"no item '{item_id}' in this workspace ({hint})"


def print_post(post: Post) -> None:
    from rich.rule import Rule

    out = console()
    out.print(Rule(styled((post.channel, "bold"), f" · {post.item_id}"), align="left"))
    for call in post.calls:
        out.print(styled((f"{call.method} {call.endpoint}", "cyan"), f" ({call.step})"))
        for name, value in call.payload.items():
            shown = value if isinstance(value, str) else repr(value)
            out.print(styled("  ", (name, "bold"), f": {shown}"))
        for name, path in call.files.items():
            out.print(styled("  ", (name, "bold"), f" ← {path}"))
    for count in post.counts:
        colour = "green" if count.within else "red"
        out.print(f"  {count.field}: {count.used}/{count.limit} {count.unit}", style=colour)
    for warning in post.warnings:
        out.print(f"  warning: {warning}", style="yellow")
    for error in post.errors:
        out.print(f"  error: {error}", style="red")
