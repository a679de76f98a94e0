"""`publisher run [--rehearse]`: the scheduler, or the whole calendar on a simulated clock."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from publisher.commands.output import console
from publisher.scheduling.runner import RehearsalSummary, rehearse


def run_service(root: Path) -> int:
    from publisher.scheduling.daemon import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    serve(root)
    return 0


def run_rehearsal(root: Path, start: dt.date | None, end: dt.date | None) -> int:
    summary = rehearse(root, start, end)
    _print_summary(summary)
    return 1 if summary.problems or summary.unplaced else 0


def _print_summary(summary: RehearsalSummary) -> None:
    from rich.table import Table

    out = console()
    table = Table(title="Rehearsal: what went where", title_justify="left")
    for column in ("Channel", "Published"):
        table.add_column(column)
    for channel, count in sorted(summary.by_channel().items()):
        table.add_row(channel, str(count))
    out.print(table)
    for delivery in summary.problems:
        out.print(
            f"[red]{delivery.item_id} on {delivery.channel}: {delivery.state}: {delivery.error}[/]"
        )
    for line in summary.unplaced:
        out.print(f"[yellow]not planned: {line}[/]")
    out.print(
        f"{len(summary.published)} posts published into .publisher/rehearsal/outbox/ "
        f"from {summary.start:%d/%m/%Y} to {summary.end:%d/%m/%Y} in {summary.ticks} steps"
    )
