"""`publisher publish ITEM --channel C`: publish one post now (or show what would be sent).

It goes through the item's delivery, as `run` does: the same claim, the same lookup of an
interrupted attempt, the same history in `status`.
"""

from __future__ import annotations

from pathlib import Path

from publisher.commands.output import console
from publisher.commands.render import UsageError, find_item, print_post
from publisher.scheduling.operator import publish_now
from publisher.scheduling.runner import CampaignRunner
from publisher.store.deliveries import Delivery, utcnow
from publisher.workspace import notify_runner, open_workspace

ADVICE = {
    "retryable": "nothing was published; 'publisher run' tries again at {retry}",
    "unknown": (
        "the platform may have published it: check the channel, then "
        "'publisher resolve {id} --published' or '--not-published'"
    ),
    "auth": "the credentials were refused: run 'publisher auth {channel}'",
    "permanent": "the platform refused the post: fix it, then 'publisher retry {id}'",
}


def run_publish(root: Path, item_id: str, channel: str, dry_run: bool, force: bool) -> int:
    workspace = open_workspace(root)
    if dry_run:
        return _dry_run(root, item_id, channel)
    runner = CampaignRunner(workspace, clock=utcnow)
    try:
        item = find_item(runner.catalog, item_id)
        if channel not in item.channels:
            raise UsageError(f"item '{item_id}' is not published on '{channel}'")
        outcome = publish_now(runner, item, channel, utcnow(), force)
        mode = runner.catalog.channels[channel].mode
        zone = runner.catalog.schedules.zone
    finally:
        runner.close()
    notify_runner(workspace)
    delivery = outcome.delivery
    out = console()
    if delivery.state == "published":
        where = delivery.url or delivery.remote_id or ""
        if outcome.sent:
            out.print(f"published {item.id} on {channel} ({mode}): {where}")
        else:
            when = delivery.published_at.astimezone(zone) if delivery.published_at else None
            on = f" on {when:%d/%m/%Y %H:%M}" if when else ""
            out.print(f"#{delivery.id} was already published{on}: {where}; nothing was sent")
        return 0
    out.print(f"not published: {delivery.error or delivery.state}", style="red")
    out.print(_advice(delivery, channel, zone))
    return 1


def _advice(delivery: Delivery, channel: str, zone: object) -> str:
    kind = delivery.error_kind or ("unknown" if delivery.state == "unknown" else "permanent")
    retry = delivery.due_at.astimezone(zone).strftime("%d/%m/%Y %H:%M")  # type: ignore[arg-type]
    return ADVICE.get(kind, ADVICE["permanent"]).format(
        id=delivery.id, channel=channel, retry=retry
    )


def _dry_run(root: Path, item_id: str, channel: str) -> int:
    from publisher.catalog import load_catalog
    from publisher.render.service import Renderer

    catalog = load_catalog(open_workspace(root))
    item = find_item(catalog, item_id)
    if channel not in item.channels:
        raise UsageError(f"item '{item_id}' is not published on '{channel}'")
    post = Renderer(catalog).render(item, channel)
    print_post(post)
    mode = catalog.channels[channel].mode
    console().print(f"dry run: nothing sent; a real run would publish in {mode} mode")
    return 1 if post.errors else 0

