"""Crash matrix: the runner SIGKILLed again and again while it publishes a live campaign.

A small workspace (three items, all five channels, a three-day calendar) is published
through the five fakes by a runner process (tests/reliability/driver.py) that is killed
with SIGKILL and started again until the calendar is done. Kills land:

- at named crash points (publisher/scheduling/crashpoints.py), scoped to one channel:
  (a) `before-intent`; (b) `after-intent`, `before-request`; (c) `after-response`;
  (d) `after-step`, `before-receipt`;
- inside a fake, while a request is in flight: before the platform acts on it, or after
  it acted and before its answer leaves (the exact moment (c));
- after a random delay, wherever the process happens to be.

Then the history is checked against what the fakes hold: no delivery has more posts than
its post makes (no duplicate), every published delivery has all of them (no loss), every
delivery ends published, failed with a reason or unknown (Telegram has no lookup: an
unknown Telegram delivery is accepted since the fake holds no duplicate), none stays
`sending`. PUBLISHER_CRASH_KILLS (default 50) sets the kills per channel; the figures go
to tests/artifacts/crash-matrix.json and, with -s, to the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from publisher.scheduling import crashpoints
from publisher.store.database import open_store

from .conftest import WorkspaceBuilder, calendar_yaml
from .reliability import driver, figures, history
from .reliability.campaign import Campaign, Kill, Setup, prepare
from .reliability.workspace import CHANNELS

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL and /proc: Linux")

KILLS_PER_CHANNEL = int(os.environ.get("PUBLISHER_CRASH_KILLS", "50"))
MAX_KILLS_PER_CAMPAIGN = 30
WORKERS = 2  # CI has two cores; each campaign's runner is one process at a time
SEED = 20261201
MOMENTS = {  # the four moments that matter, and the kills that land on each
    "a: before the intent is committed": ("point before-intent",),
    "b: after the intent, before the request": (
        "point after-intent",
        "point before-request",
        "inflight before",
    ),
    "c: after the request, before the response": ("point after-response", "inflight after"),
    "d: after the response, before the receipt": ("point after-step", "point before-receipt"),
}


OUTBOX_CALENDAR = calendar_yaml({"portal": ["08:00"], "telegram": ["08:30", "20:00"]})


# -- the crash points themselves ------------------------------------------------------------
def run_points(spec: str, names: list[str]) -> subprocess.CompletedProcess[str]:
    code = "from publisher.scheduling import crashpoints as c\n"
    code += "".join(f"c.reach({name!r}); print({name!r}, flush=True)\n" for name in names)
    env = os.environ | {crashpoints.ENVIRONMENT_VARIABLE: spec}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_a_crash_point_kills_at_its_nth_passage_only() -> None:
    names = ["before-intent", "after-step", "after-step", "after-step"]
    second = run_points("after-step:2", names)
    assert second.returncode == -9 and second.stdout.split() == names[:2]
    never = run_points("before-receipt", names)
    assert never.returncode == 0 and never.stdout.split() == names


def test_unset_crash_points_cost_nothing_and_bad_names_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted: list[str] = []
    monkeypatch.setattr(crashpoints, "_passed", lambda target, name: counted.append(name))
    monkeypatch.setattr(crashpoints, "_target", None)  # restored after the test, armed or not
    for name in crashpoints.POINTS:
        crashpoints.reach(name)  # still alive: no point is armed
    assert counted == []  # nothing is counted either: one comparison with None, no more
    crashpoints.configure("after-step:5")
    crashpoints.reach("after-step")
    assert counted == ["after-step"]  # the recorder sees passages once a point is armed
    with pytest.raises(ValueError, match="expected NAME"):
        crashpoints.parse("after-repsonse")
    with pytest.raises(ValueError):
        crashpoints.parse("after-step:0")
    assert run_points("nowhere", []).returncode != 0  # a typo in the variable is loud


def test_rehearsal_killed_by_the_variable_resumes_without_duplicates(
    workspace: WorkspaceBuilder,
) -> None:
    """`publisher run --rehearse` (outbox only) dies at a crash point, then runs again."""
    for name in ("facebook", "zalo", "youtube"):
        workspace.write(f"channels/{name}.yaml", "enabled: false\n")
    workspace.write("channels/telegram.yaml", "enabled: true\nmode: outbox\nchat_id: '@kenh_thu'\n")
    workspace.write("schedules.yaml", OUTBOX_CALENDAR)
    for name in ("a", "b", "c"):
        workspace.article(f"{name}.md", f"title: Bài {name.upper()}\ndate: 2026-11-01\n")
    command = [sys.executable, "-m", "publisher", "--root", str(workspace.root), "run"]
    command += ["--rehearse", "--from", "2026-12-01", "--to", "2026-12-07"]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    killed = subprocess.run(
        command, env=env | {crashpoints.ENVIRONMENT_VARIABLE: "before-receipt:2"}, timeout=120
    )
    assert killed.returncode == -9
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    rehearsal = workspace.root / ".publisher" / "rehearsal"
    store = open_store(rehearsal)
    states = Counter(d.state for d in store.deliveries.all())
    store.close()
    assert states == {"published": 6}
    for channel in ("portal", "telegram"):
        assert len(list((rehearsal / "outbox" / channel).glob("*/post.json"))) == 3


# -- the matrix -----------------------------------------------------------------------------
@dataclass
class Tally:
    """One worker's kills and findings (each worker has its own seeds and its own share)."""

    quota: int
    by_channel: Counter[str] = field(default_factory=Counter)
    by_kill: Counter[str] = field(default_factory=Counter)
    starts: int = 0
    left_sending: int = 0
    operator: Counter[str] = field(default_factory=Counter)
    verdicts: list[history.Verdict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def done(self) -> bool:
        return all(self.by_channel[c] >= self.quota for c in CHANNELS)

    def add(self, other: Tally) -> None:
        self.by_channel.update(other.by_channel)
        self.by_kill.update(other.by_kill)
        self.starts += other.starts
        self.left_sending += other.left_sending
        self.operator.update(other.operator)
        self.verdicts += other.verdicts
        self.problems += other.problems


def choose_kill(campaign: Campaign, tally: Tally) -> Kill:
    """A kill aimed at the least killed channel that still has work in this campaign."""
    rng = campaign.rng
    remaining = sorted(c for c, n in campaign.remaining().items() if n)
    if not remaining:
        return Kill("none")
    channel = min(remaining, key=lambda c: (tally.by_channel[c], rng.random()))
    nth = rng.choices((1, 2, 3, 4, 5), (50, 25, 12, 8, 5))[0]  # mostly soon: fewer idle runs
    roll = rng.random()
    if roll < 0.55:
        return Kill("point", channel, rng.choice(crashpoints.POINTS), min(nth, 3))
    if roll < 0.85:
        return Kill("inflight", channel, rng.choice(("before", "after")), nth)
    return Kill("timer", seconds=round(rng.uniform(0.02, 0.6), 3))


def kill_name(kill: Kill) -> str:
    return kill.kind if kill.kind == "timer" else f"{kill.kind} {kill.where}"


def torture(campaign: Campaign, tally: Tally) -> None:
    """Kill the runner up to MAX_KILLS_PER_CAMPAIGN times, then let it finish the calendar."""
    kills = 0
    while kills < MAX_KILLS_PER_CAMPAIGN and not tally.done():
        kill = choose_kill(campaign, tally)
        if kill.kind == "none":
            break
        start = campaign.launch(kill)
        if start.ended.exitcode == driver.EXIT_PAUSED:
            campaign.operate()
        elif start.ended.exitcode == driver.EXIT_DONE:
            break  # the kill never came: the calendar is done
        if start.ended.killed:
            kills += 1
            tally.by_channel[start.channel or "between deliveries"] += 1
            tally.by_kill[kill_name(kill)] += 1
            tally.left_sending += start.left_sending
    campaign.finish()


def run_campaign(folder: Path, seed: int, tally: Tally, setup: Setup) -> None:
    campaign = Campaign(folder, setup.certificate, seed, template=setup.template)
    try:
        torture(campaign, tally)
        verdict = campaign.verdict(setup.wanted)
    except AssertionError as error:  # the runner hung or would not finish: a finding too
        tally.problems.append(f"campaign {seed}: {error}")
        return
    finally:
        campaign.close()
    tally.starts += len(campaign.starts)
    tally.operator.update(campaign.operator)
    tally.verdicts.append(verdict)
    tally.problems += [f"campaign {seed}: {problem}" for problem in verdict.problems]
    if verdict.problems:
        tally.problems.append(f"campaign {seed}: its starts: {trail(campaign)}")


def trail(campaign: Campaign) -> str:
    """How each start of a campaign ended, to replay a finding."""
    return "; ".join(
        f"{describe(s.kill)} -> {s.ended.exitcode} in {s.channel}" for s in campaign.starts
    )


def describe(kill: Kill) -> str:
    if kill.kind == "timer":
        return f"timer {kill.seconds} s"
    return f"{kill.kind} {kill.where} #{kill.nth} on {kill.channel}"


def worker(folder: Path, seeds: range, setup: Setup) -> Tally:
    tally = Tally(quota=-(-KILLS_PER_CHANNEL // WORKERS))
    for seed in seeds:
        if tally.done():
            break
        run_campaign(folder / f"campaign-{seed}", seed, tally, setup)
    return tally


def test_crash_matrix(tmp_path: Path) -> None:
    began = time.monotonic()
    setup = prepare(tmp_path, SEED)
    tally = Tally(quota=KILLS_PER_CHANNEL)
    seeds = [range(SEED + 1000 * (w + 1), SEED + 1000 * (w + 2)) for w in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        for done in [pool.submit(worker, tmp_path, s, setup) for s in seeds]:
            tally.add(done.result())
    moments = {m: sum(tally.by_kill[k] for k in kinds) for m, kinds in MOMENTS.items()}
    figures.publish(
        "crash-matrix",
        {
            "kills": sum(tally.by_channel.values()),
            "kills_by_channel": dict(sorted(tally.by_channel.items())),
            "kills_by_moment": moments,
            "kills_by_kind": dict(sorted(tally.by_kill.items())),
            "runner_starts": tally.starts,
            "left_sending_by_kills": tally.left_sending,
            "operator": dict(tally.operator),
            **figures.totals(tally.verdicts),
            "seconds": round(time.monotonic() - began, 1),
            "problems": tally.problems,
        },
    )
    assert tally.problems == []
    assert all(tally.by_channel[c] >= KILLS_PER_CHANNEL for c in CHANNELS), tally.by_channel
    assert all(count >= KILLS_PER_CHANNEL // 5 for count in moments.values()), moments


def test_a_kill_while_zalo_rotates_its_tokens_asks_to_reconnect(tmp_path: Path) -> None:
    """Killed after Zalo issued a new refresh token (spending the old one) and before the
    runner stored it: Zalo alone pauses, with 'reconnect' in the reason; the others go on."""
    setup = prepare(tmp_path, SEED)
    campaign = Campaign(tmp_path / "c", setup.certificate, SEED, template=setup.template)
    try:
        killed = campaign.launch(Kill("inflight", "zalo", "after", 1))  # the token refresh
        assert killed.ended.killed
        [token_request] = [s for s in campaign.recorder.stamps if s.channel == "zalo"]
        assert token_request.path == "/v4/oa/access_token"
        assert campaign.launch().ended.exitcode == driver.EXIT_PAUSED
        store = open_store(campaign.root / ".publisher")
        try:
            pauses = store.deliveries.pauses()
        finally:
            store.close()
        assert set(pauses) == {"zalo"}
        assert "publisher auth zalo" in pauses["zalo"][0]
        states = {(d.channel == "zalo", d.state) for d in campaign.deliveries()}
        assert {state for zalo, state in states if not zalo} <= {"published", "scheduled"}
        assert (False, "published") in states  # the others went on meanwhile
        assert {state for zalo, state in states if zalo} <= {"scheduled", "unknown"}
        campaign.operate()  # `publisher auth zalo`, then `publisher run` again
        campaign.finish()
        verdict = campaign.verdict(setup.wanted)
        ends = {(d.channel == "zalo", d.state) for d in campaign.deliveries()}
    finally:
        campaign.close()
    assert verdict.problems == []  # no duplicate, no loss, every end state with its reason
    assert {state for zalo, state in ends if not zalo} == {"published"}
    assert {state for zalo, state in ends if zalo} <= {"published", "skipped-late"}
