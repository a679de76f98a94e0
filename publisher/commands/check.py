"""`publisher check`: validate the whole workspace and report every problem."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from publisher.catalog import Catalog, load_catalog
from publisher.commands.output import console, print_json, styled
from publisher.content.text import printable
from publisher.parallel import available_workers
from publisher.workspace import open_workspace

MAX_LISTED_ITEMS = 60  # beyond this, a table of items is too long to read in a terminal


def run_check(root: Path, as_json: bool = False, strict: bool = False) -> int:
    workers = available_workers()
    catalog = load_catalog(open_workspace(root), workers)
    add_render_problems(catalog, workers)
    add_plan_problems(catalog)
    if as_json:
        print_json(check_document(catalog))
    else:
        _print_report(catalog)
    problems = catalog.problems
    return 1 if problems.has_errors() or (strict and problems.warnings) else 0


def add_render_problems(catalog: Catalog, workers: int = 1) -> None:
    """Render every item for each of its channels; their warnings and errors are problems."""
    from publisher.render.service import Renderer

    renderer = Renderer(catalog)
    renderer.prepare(catalog.items, workers)
    for item in catalog.items:
        for channel, post in renderer.render_item(item).items():
            for warning in post.warnings:
                catalog.problems.warning(item.path, warning, channel=channel)
            for error in post.errors:
                catalog.problems.error(item.path, error, channel=channel)
    _add_shared_addresses(catalog)


def _add_shared_addresses(catalog: Catalog) -> None:
    """Two portal articles that ask for one address: the later one gets "-2" (WordPress
    does the same), and officers should know, or choose another with `portal: {slug}`."""
    from publisher.render.context import unique_slugs, wanted_slug

    slugs = unique_slugs(catalog.items)
    owners = {slug: item_id for item_id, slug in slugs.items()}
    for item in catalog.items:
        slug = slugs.get(item.id)
        wanted = wanted_slug(item)
        if slug is not None and slug != wanted and wanted in owners:
            catalog.problems.warning(
                item.path,
                f"its portal address would be the same as '{owners[wanted]}''s ({wanted}): it "
                f"gets {slug} instead; set 'portal: {{slug: ...}}' to choose another",
                channel="portal",
            )


def add_plan_problems(catalog: Catalog) -> None:
    """Posts the calendar cannot place, each with why (a social post whose portal article
    finds no slot would link to nothing, so it is not planned either)."""
    from publisher.planning.planner import make_plan

    enabled = tuple(name for name, config in catalog.channels.items() if config.enabled)
    items = {item.id: item for item in catalog.items}
    for unplaced in make_plan(catalog.schedules, catalog.items, enabled).unplaced:
        item = items[unplaced.item_id]
        where = f"not planned on {unplaced.channel}" if unplaced.channel else "not planned"
        catalog.problems.warning(item.path, f"{where}: {unplaced.reason}", channel=unplaced.channel)


def check_document(catalog: Catalog) -> dict[str, object]:
    """The stable JSON contract of `check --json`."""
    return {
        "workspace": str(catalog.workspace.root),
        "items": [item.summary_json() for item in catalog.items],
        "channels": [
            {"name": c.name, "enabled": c.enabled, "mode": c.mode, "file": c.file}
            for c in catalog.channels.values()
        ],
        "errors": [p.to_json() for p in catalog.problems.errors],
        "warnings": [p.to_json() for p in catalog.problems.warnings],
    }


def _print_report(catalog: Catalog) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    if len(catalog.items) <= MAX_LISTED_ITEMS:
        items = Table(title="Items", title_justify="left", expand=False)
        for column in ("ID", "Kind", "Status", "Channels", "Title"):
            items.add_column(column, overflow="fold")
        for item in catalog.items:
            items.add_row(
                item.id, item.kind.value, item.status, " ".join(item.channels), item.title
            )
        out.print(items)
    else:
        kinds = Counter(f"{item.kind.value} ({item.status})" for item in catalog.items)
        listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        out.print(styled(("Items:", "bold"), f" {listed}; 'publisher check --json' lists them all"))
    channels = Table(title="Channels", title_justify="left")
    for column in ("Channel", "Enabled", "Mode", "Settings"):
        channels.add_column(column)
    for config in catalog.channels.values():
        enabled = "yes" if config.enabled else "no"
        channels.add_row(config.name, enabled, config.mode, config.file or "(none)")
    out.print(channels)
    lines = [
        Text(printable(str(p)), style="red" if p.severity == "error" else "yellow")
        for p in [*catalog.problems.errors, *catalog.problems.warnings]
    ]
    if lines:
        out.print(Text("\n").join(lines))  # one print: rich's cost is per call
    errors, warnings = len(catalog.problems.errors), len(catalog.problems.warnings)
    style = "bold red" if errors else "bold green"
    counts = f"{_plural(len(catalog.items), 'item')} loaded, {_plural(errors, 'error')}, "
    out.print(f"{counts}{_plural(warnings, 'warning')}", style=style)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
