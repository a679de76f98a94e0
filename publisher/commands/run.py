"""`publisher run [--rehearse]`: the scheduler, or the whole calendar on a simulated clock."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from publisher.commands.output import console
from publisher.content.text import printable
from publisher.scheduling.runner import RehearsalSummary, rehearse


def run_service(root: Path) -> int:
    from publisher.scheduling.daemon import serve

    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    serve(root)
    return 0


class PrintableFormatter(logging.Formatter):
    """Log lines whose message (ids, titles, platform answers) cannot forge or garble a line."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)


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
            f"{delivery.item_id} on {delivery.channel}: {delivery.state}: {delivery.error}",
            style="red",
        )
    for line in summary.unplaced:
        out.print(f"not planned: {line}", style="yellow")
    out.print(
        f"{len(summary.published)} posts published into .publisher/rehearsal/outbox/ "
        f"from {summary.start:%d/%m/%Y} to {summary.end:%d/%m/%Y} in {summary.ticks} steps"
    )
