"""`publisher plan`: the campaign timeline, as a table, JSON or an iCalendar file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from publisher.catalog import load_catalog
from publisher.commands.output import console, print_json
from publisher.planning.ics import plan_calendar
from publisher.planning.planner import Plan, PlannedPost, make_plan
from publisher.store.database import open_workspace_store
from publisher.store.deliveries import utcnow
from publisher.workspace import open_workspace


def run_plan(
    root: Path, start: dt.date | None, end: dt.date | None, as_json: bool, ics: Path | None
) -> int:
    catalog = load_catalog(open_workspace(root))
    store = open_workspace_store(catalog.workspace)
    try:
        deliveries = {(d.item_id, d.channel): d for d in store.deliveries.all()}
    finally:
        store.close()
    fixed = {key: d.due_at for key, d in deliveries.items() if d.state != "cancelled"}
    enabled = tuple(n for n, c in catalog.channels.items() if c.enabled)
    plan = make_plan(catalog.schedules, catalog.items, enabled, now=utcnow(), fixed=fixed)
    zone = catalog.schedules.zone
    shown = _between(plan, start, end, zone)
    titles = {item.id: item.title for item in catalog.items}
    states = {key: d.state for key, d in deliveries.items()}
    if ics is not None:
        ics.write_bytes(plan_calendar(shown, titles, utcnow()))
    if as_json:
        print_json(
            {
                "timezone": zone.key,
                "posts": [
                    {**p.to_json(), "state": states.get(p.key, "planned")} for p in shown.posts
                ],
                "unplaced": [
                    {"item": u.item_id, "channel": u.channel, "reason": u.reason}
                    for u in plan.unplaced
                ],
            }
        )
    else:
        _print_plan(shown, titles, states, zone, ics)
    return 1 if plan.unplaced else 0


def _between(plan: Plan, start: dt.date | None, end: dt.date | None, zone: dt.tzinfo) -> Plan:
    def inside(post: PlannedPost) -> bool:
        day = post.at.astimezone(zone).date()
        return (start is None or day >= start) and (end is None or day <= end)

    return Plan([p for p in plan.posts if inside(p)], plan.unplaced)


def _print_plan(
    plan: Plan, titles: dict[str, str], states: dict, zone: dt.tzinfo, ics: Path | None
) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"Plan ({getattr(zone, 'key', zone)})", title_justify="left")
    for column in ("When", "Channel", "Item", "Phase", "State"):
        table.add_column(column, overflow="fold")
    for post in plan.posts:
        phase = f"{post.phase}{' ★' if post.sprint else ''}" if post.phase else ""
        when = post.at.astimezone(zone).strftime("%a %d/%m/%Y %H:%M") + (
            " 📌" if post.pinned else ""
        )
        table.add_row(
            when,
            post.channel,
            titles.get(post.item_id, post.item_id),
            phase,
            states.get(post.key, "planned"),
        )
    out.print(table)
    for unplaced in plan.unplaced:
        where = unplaced.channel or "every channel"
        out.print(f"not planned: {unplaced.item_id} ({where}): {unplaced.reason}", style="yellow")
    out.print(f"{len(plan.posts)} posts" + (f"; calendar written to {ics}" if ics else ""))
