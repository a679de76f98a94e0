"""`publisher status`, `retry` and `resolve`: what went out, what failed, what is next."""

from __future__ import annotations

from pathlib import Path

from publisher.commands.output import console, print_json, styled
from publisher.errors import WorkspaceError
from publisher.scheduling.operator import resolve, retry
from publisher.scheduling.runner import CampaignRunner
from publisher.store.database import Store, open_workspace_store
from publisher.store.deliveries import HELD_BY_PORTAL, Delivery, utcnow
from publisher.workspace import notify_runner, open_workspace

UNKNOWN_ADVICE = (
    "check the channel: if the post is there run 'publisher resolve {id} --published', "
    "otherwise 'publisher resolve {id} --not-published' to send it again"
)


def _store(root: Path) -> Store:
    return open_workspace_store(open_workspace(root))


def run_status(root: Path, as_json: bool, upcoming: int = 10) -> int:
    store = _store(root)
    try:
        deliveries = store.deliveries.all()
        pauses = store.deliveries.pauses()
    finally:
        store.close()
    groups = {
        state: [d for d in deliveries if d.state == state]
        for state in ("published", "failed", "unknown", "skipped-late", "sending", "scheduled")
    }
    if as_json:
        print_json(
            {
                "counts": {state: len(items) for state, items in groups.items()},
                "paused_channels": {
                    c: {"reason": r, "since": at.isoformat()} for c, (r, at) in pauses.items()
                },
                **{
                    state.replace("-", "_"): [d.to_json() for d in items]
                    for state, items in groups.items()
                    if state != "scheduled"
                },
                "upcoming": [d.to_json() for d in groups["scheduled"][:upcoming]],
            }
        )
    else:
        _print_status(groups, pauses, upcoming)
    return 1 if groups["failed"] or groups["unknown"] or pauses else 0


def _print_status(groups: dict[str, list[Delivery]], pauses: dict, upcoming: int) -> None:
    out = console()
    counts = ", ".join(f"{len(v)} {k}" for k, v in groups.items())
    out.print(styled(("Deliveries:", "bold"), f" {counts}"))
    for channel, (reason, since) in pauses.items():
        out.print(f"{channel} is paused since {since:%d/%m/%Y %H:%M}: {reason}", style="red")
    for delivery in groups["failed"] + groups["skipped-late"]:
        out.print(
            f"#{delivery.id} {delivery.item_id} on {delivery.channel}: "
            f"{delivery.state}: {delivery.error or ''}",
            style="red",
        )
    for delivery in groups["unknown"]:
        out.print(
            f"#{delivery.id} {delivery.item_id} on {delivery.channel}: "
            f"outcome unknown ({delivery.error or ''}); "
            f"{UNKNOWN_ADVICE.format(id=delivery.id)}",
            style="yellow",
        )
    for delivery in groups["published"][-upcoming:]:
        out.print(
            f"#{delivery.id} {delivery.item_id} on {delivery.channel}: "
            f"published {delivery.published_at or delivery.updated_at:%d/%m %H:%M} "
            f"{delivery.url or ''}",
            style="green",
        )
    for delivery in groups["scheduled"]:
        if delivery.error_kind == HELD_BY_PORTAL:
            out.print(
                f"#{delivery.id} {delivery.item_id} on {delivery.channel}: "
                f"held back: {delivery.error}",
                style="yellow",
            )
    for delivery in groups["scheduled"][:upcoming]:
        out.print(
            f"#{delivery.id} {delivery.item_id} on {delivery.channel}: "
            f"due {delivery.due_at:%d/%m/%Y %H:%M} UTC"
        )


def _find(store: Store, reference: str) -> Delivery:
    """A delivery by number (#12 or 12) or as ITEM:CHANNEL."""
    deliveries = store.deliveries
    found = None
    if reference.lstrip("#").isdigit():
        found = deliveries.get(int(reference.lstrip("#")))
    elif ":" in reference:
        item_id, channel = reference.rsplit(":", 1)
        found = deliveries.find(item_id, channel)
    if found is None:
        raise WorkspaceError(f"no delivery '{reference}' (see 'publisher status')")
    return found


def run_retry(root: Path, reference: str) -> int:
    workspace = open_workspace(root)
    runner = CampaignRunner(workspace, clock=utcnow)
    try:
        delivery = retry(runner, _find(runner.store, reference), utcnow())
    finally:
        runner.close()
    notify_runner(workspace)
    console().print(f"#{delivery.id} will be sent at the next tick of 'publisher run'")
    return 0


def run_resolve(root: Path, reference: str, published: bool, url: str | None) -> int:
    workspace = open_workspace(root)
    runner = CampaignRunner(workspace, clock=utcnow)
    try:
        delivery = resolve(runner, _find(runner.store, reference), published, url, utcnow())
    finally:
        runner.close()
    notify_runner(workspace)
    if delivery.state == "published":
        console().print(f"#{delivery.id} marked published")
    else:
        console().print(f"#{delivery.id}: what is left will be sent by 'publisher run'")
    return 0
