"""The campaign runner: plan announced into the store, recovery after downtime, ticks.

`run` wakes up with APScheduler at every due time (and once a minute, for retries);
`run --rehearse` drives the very same `tick` with a simulated clock, against the outbox
in a separate state folder, so a rehearsal never touches the real deliveries.
PUBLISHER_WORKERS (environment or `.env`) sets how many channels publish side by side:
unset, all of them; 1, one post after the other.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from publisher.catalog import Catalog, load_catalog
from publisher.errors import WorkspaceError
from publisher.planning.planner import Plan, make_plan
from publisher.publishing.service import PublishService
from publisher.scheduling.dispatcher import Dispatcher, TickReport
from publisher.store.database import Store, open_store, open_workspace_store
from publisher.store.deliveries import Delivery, utcnow
from publisher.workspace import Workspace, open_workspace

log = logging.getLogger(__name__)
REHEARSAL_DIR = "rehearsal"
WORKERS_VARIABLE = "PUBLISHER_WORKERS"


INTERRUPTED = "the tool stopped during this attempt"


class CampaignRunner:
    """Owns one catalog, one state store and the dispatcher that works on them."""

    def __init__(
        self,
        workspace: Workspace,
        state_dir: Path | None = None,
        outbox_only: bool = False,
        seed: int | None = None,
        workers: int | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """`workers`: how many channels publish side by side (see `Dispatcher`); by
        default PUBLISHER_WORKERS, else all of them. `clock`: the real time, read while
        a tick works (see `Dispatcher`); None on a simulated clock."""
        self.workspace = workspace
        self.state_dir = state_dir or workspace.state_dir
        self.outbox_only = outbox_only
        self.seed = seed
        self.clock = clock
        self.workers = workers if workers is not None else workers_setting(workspace)
        self.store: Store = (  # checked whole: a runner sends
            open_store(state_dir, verify=True)
            if state_dir is not None
            else open_workspace_store(workspace)
        )
        if clock is not None:
            self.store.clock = clock
        self.reload()

    def reload(self) -> Catalog:
        """Read the workspace again (content, channels, calendar) and rebuild the dispatcher."""
        catalog = load_catalog(self.workspace)
        if self.outbox_only:
            channels = {
                n: dataclasses.replace(c, mode="outbox") for n, c in catalog.channels.items()
            }
            catalog = dataclasses.replace(catalog, channels=channels)
        self.catalog = catalog
        service = PublishService(catalog, self.store, state_dir=self.state_dir)
        self.dispatcher = Dispatcher(
            catalog,
            self.store.deliveries,
            service,
            seed=self.seed,
            workers=self.workers,
            clock=self.clock,
        )
        return catalog

    def announce(self, now: dt.datetime) -> Plan:
        """Plan around the posts already announced, and record the new ones."""
        deliveries = self.store.deliveries
        fixed = {
            (d.item_id, d.channel): d.due_at for d in deliveries.all() if d.state != "cancelled"
        }
        enabled = tuple(n for n, c in self.catalog.channels.items() if c.enabled)
        plan = make_plan(self.catalog.schedules, self.catalog.items, enabled, now=now, fixed=fixed)
        added = deliveries.announce(
            ((p.item_id, p.channel, p.campaign, p.at) for p in plan.posts), now
        )
        if added:
            log.info("%d new posts planned", added)
        return plan

    def recover(self, now: dt.datetime) -> list[Delivery]:
        """Deliveries left `sending` by a crash: their outcome is unknown until looked up."""
        settled = [
            self.recover_one(delivery, now)
            for delivery in self.store.deliveries.in_state("sending")
        ]
        self.store.deliveries.unpause()  # credentials may have been fixed meanwhile: try again
        self.store.deliveries.release_held(now)
        return settled

    def recover_one(self, delivery: Delivery, now: dt.datetime) -> Delivery:
        """One delivery left `sending` by a process that died: unknown, then looked up."""
        unknown = self.store.deliveries.change(
            delivery,
            "interrupted",
            now,
            INTERRUPTED,
            state="unknown",
            error=INTERRUPTED,
            error_kind="unknown",
        )
        item = self.catalog.item(delivery.item_id)
        return self.dispatcher.settle(item, unknown, now) if item else unknown

    def tick(self, now: dt.datetime) -> TickReport:
        return self.dispatcher.tick(now)

    def close(self) -> None:
        self.store.close()


@dataclass
class RehearsalSummary:
    start: dt.datetime
    end: dt.datetime
    ticks: int = 0
    published: list[Delivery] = field(default_factory=list)
    problems: list[Delivery] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)

    def by_channel(self) -> Counter[str]:
        return Counter(d.channel for d in self.published)


def rehearse(
    root: Path, first_day: dt.date | None = None, last_day: dt.date | None = None
) -> RehearsalSummary:
    """Run the whole calendar now on a simulated clock, into `.publisher/rehearsal/`."""
    workspace = open_workspace(root)
    runner = CampaignRunner(
        workspace, workspace.state_dir / REHEARSAL_DIR, outbox_only=True, seed=0
    )
    try:
        zone = runner.catalog.schedules.zone
        start, end = _campaign_bounds(runner.catalog)
        if first_day is not None:
            start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone)
        if last_day is not None:
            end = dt.datetime.combine(last_day, dt.time.max, tzinfo=zone)
        plan = runner.announce(start)
        summary = RehearsalSummary(
            start, end, unplaced=[f"{u.item_id} ({u.channel}): {u.reason}" for u in plan.unplaced]
        )
        runner.recover(start)
        moment = runner.store.deliveries.next_due()
        while moment is not None and moment <= end:
            report = runner.tick(max(moment, start))
            summary.ticks += 1
            summary.published.extend(report.published)
            summary.problems.extend(report.problems)
            following = runner.store.deliveries.next_due()
            progress = report.published or report.problems
            if following is not None and following <= moment and not progress:
                break  # nothing more can be sent at this moment (a paused channel): stop
            moment = following
        return summary
    finally:
        runner.close()


def _campaign_bounds(catalog: Catalog) -> tuple[dt.datetime, dt.datetime]:
    campaigns = catalog.schedules.campaigns
    zone = catalog.schedules.zone
    if not campaigns:
        now = utcnow()
        return now, now
    first = min(c.start for c in campaigns)
    last = max(c.end for c in campaigns)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone) - dt.timedelta(days=1)
    end = dt.datetime.combine(last, dt.time.max, tzinfo=zone) + dt.timedelta(days=1)
    return start, end


def workers_setting(workspace: Workspace) -> int | None:
    """PUBLISHER_WORKERS from the environment or `.env`; None when unset."""
    value = workspace.env.get(WORKERS_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise WorkspaceError(f"{WORKERS_VARIABLE}={value!r}: expected a whole number, 1 or more")
    return int(value)


def load_runner(root: Path) -> CampaignRunner:
    return CampaignRunner(open_workspace(root))
