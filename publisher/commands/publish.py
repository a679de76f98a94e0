"""`publisher publish ITEM --channel C`: publish one post now (or show what would be sent)."""

from __future__ import annotations

from pathlib import Path

from publisher.catalog import load_catalog
from publisher.commands.output import console
from publisher.commands.render import UsageError, find_item, print_post
from publisher.publishing.errors import PublishError
from publisher.publishing.service import PublishService
from publisher.store.database import open_workspace_store
from publisher.workspace import open_workspace

ADVICE = {
    "retryable": "nothing was published; try again later",
    "unknown": "the platform may have published it: check the channel before trying again",
    "auth": "the credentials were refused: run 'publisher auth {channel}'",
    "permanent": "the platform refused the post: fix it and try again",
}


def run_publish(root: Path, item_id: str, channel: str, dry_run: bool) -> int:
    catalog = load_catalog(open_workspace(root))
    item = find_item(catalog, item_id)
    if channel not in item.channels:
        raise UsageError(f"item '{item_id}' is not published on '{channel}'")
    out = console()
    mode = catalog.channels[channel].mode
    if dry_run:
        from publisher.render.service import Renderer

        post = Renderer(catalog).render(item, channel)
        print_post(post)
        out.print(f"dry run: nothing sent; a real run would publish in {mode} mode")
        return 1 if post.errors else 0
    store = open_workspace_store(catalog.workspace)
    try:
        receipt = PublishService(catalog, store).publish(item, channel)
    except PublishError as error:
        out.print(f"[red]not published: {error}[/]")
        out.print(ADVICE[error.kind].format(channel=channel))
        return 1
    finally:
        store.close()
    where = receipt.url or receipt.remote_id
    out.print(f"published {item.id} on {channel} ({receipt.mode}): {where}")
    return 0
