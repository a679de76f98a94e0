"""Fault storm: a fifth of all platform calls fail, and every promise still holds.

The small live workspace of the crash matrix (tests/reliability/) is published through the
five fakes while a seeded storm turns 20 % of the requests into faults shaped as each
platform shapes them: 5xx answers (with or without the platform having acted), timeouts
(likewise), dropped connections (likewise), rate limits with the wait the platform asks
for, expired or refused tokens, and on YouTube an exhausted daily quota. A paused channel
(credentials refused) gets what an operator does: `publisher run` started again, and for
Zalo new tokens when the single-use refresh token was lost with an answer.

Checked: every delivery ends published, failed with a reason or unknown, with no
duplicate and no loss (as in the crash matrix); no request of a delivery is sent before
the wait a platform asked for, on the simulated clock the fakes stamp every request with;
YouTube's exhausted quota defers the post to midnight Pacific time instead of failing it;
no channel gets more posts in a local day than its daily_cap. PUBLISHER_STORM_CAMPAIGNS
(default 16) sets the campaigns; figures go to tests/artifacts/fault-storm.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .reliability import figures, history
from .reliability.campaign import HARNESS_TIMEOUT, Campaign, Setup, prepare
from .reliability.driver import PUBLISH_TIME
from .reliability.platforms import (
    PACIFIC,
    STORM_KINDS,
    Storm,
    TimeoutBudget,
    until_pacific_midnight,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL and /proc: Linux")

CAMPAIGNS = int(os.environ.get("PUBLISHER_STORM_CAMPAIGNS", "16"))
RATE = 0.2
TIMEOUT = HARNESS_TIMEOUT  # the clients' timeout: a timeout fault holds the answer this long
WORKERS = 2
SEED = 20261215


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return prepare(tmp_path_factory.mktemp("storm"), SEED)


@dataclass
class Weather:
    """What the storm did and what the history shows, over every campaign."""

    verdicts: list[history.Verdict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    early: list[str] = field(default_factory=list)
    caps: list[str] = field(default_factory=list)
    quota: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    faults_by_channel: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    waits_asked: int = 0
    channel_wide_early: int = 0
    operator: Counter[str] = field(default_factory=Counter)
    timeouts: TimeoutBudget = field(default_factory=TimeoutBudget)
    lock: threading.Lock = field(default_factory=threading.Lock)


def weather_campaign(folder: Path, seed: int, setup: Setup, weather: Weather) -> None:
    storm = Storm(RATE, seed, weather.timeouts)
    campaign = Campaign(
        folder, setup.certificate, seed, storm=storm, template=setup.template, timeout=TIMEOUT
    )
    try:
        campaign.finish()
        verdict = campaign.verdict(setup.wanted)
        events = campaign.events()
    finally:
        campaign.close()
    stamps = campaign.recorder.stamps
    with weather.lock:
        weather.verdicts.append(verdict)
        weather.problems += [f"campaign {seed}: {problem}" for problem in verdict.problems]
        weather.early += [f"campaign {seed}: {line}" for line in history.early_requests(stamps)]
        weather.caps += [f"campaign {seed}: {line}" for line in history.cap_excess(stamps)]
        weather.quota.update(history.quota_outcomes(stamps, events))
        weather.faults.update(s.fault for s in stamps if s.fault)
        weather.faults_by_channel.update(s.channel for s in stamps if s.fault)
        weather.requests += len(stamps)
        weather.waits_asked += sum(s.retry_after is not None for s in stamps)
        weather.channel_wide_early += history.channel_wide_early(stamps)
        weather.operator.update(campaign.operator)


def test_fault_storm(tmp_path: Path, setup: Setup) -> None:
    began = time.monotonic()
    weather = Weather()
    seeds = [SEED + 1 + i for i in range(CAMPAIGNS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = [pool.submit(weather_campaign, tmp_path / f"c{s}", s, setup, weather) for s in seeds]
        for run in runs:
            run.result()
    figures.publish(
        "fault-storm",
        {
            "requests": weather.requests,
            "faults": sum(weather.faults.values()),
            "fault_rate": round(sum(weather.faults.values()) / max(weather.requests, 1), 3),
            "faults_by_kind": dict(sorted(weather.faults.items())),
            "faults_by_channel": dict(sorted(weather.faults_by_channel.items())),
            "waits_asked": weather.waits_asked,
            "requests_before_the_wait": len(weather.early),
            "channel_wide_requests_inside_a_wait": weather.channel_wide_early,
            "youtube_quota_exhaustions": dict(weather.quota),
            "daily_cap_excess": len(weather.caps),
            "operator": dict(weather.operator),
            **figures.totals(weather.verdicts),
            "seconds": round(time.monotonic() - began, 1),
            "problems": weather.problems + weather.early + weather.caps,
        },
    )
    assert weather.problems == []
    assert weather.early == []
    assert weather.caps == []
    assert set(weather.quota) <= {"retry"}, weather.quota  # deferred, never failed
    assert set(STORM_KINDS) <= set(weather.faults), weather.faults


# -- two storms that are not random ----------------------------------------------------------
def test_exhausted_youtube_quota_defers_the_upload_to_midnight_pacific(
    tmp_path: Path, setup: Setup
) -> None:
    campaign = Campaign(tmp_path / "c", setup.certificate, SEED, template=setup.template)
    youtube = campaign.fakes.youtube
    youtube.quota_day = dt.date(2026, 12, 1)  # the upload's day, in Pacific time
    youtube.exhaust_quota()
    try:
        campaign.finish()
        stamps, events = campaign.recorder.stamps, campaign.events()
        [delivery] = [d for d in campaign.deliveries() if d.channel == "youtube"]
        verdict = campaign.verdict(setup.wanted)
    finally:
        campaign.close()
    [refused] = [s for s in stamps if s.channel == "youtube" and s.retry_after]
    assert refused.now is not None
    midnight = refused.now + dt.timedelta(seconds=until_pacific_midnight(refused.now))
    assert midnight.astimezone(PACIFIC).time() == dt.time(0)
    retry = next(e for e in events if e.delivery_id == delivery.id and e.kind == "retry")
    assert refused.now <= retry.at <= refused.now + PUBLISH_TIME  # when the answer was in
    retry_at = dt.datetime.fromisoformat(json.loads(retry.detail)["at"])
    assert midnight <= retry_at <= midnight + PUBLISH_TIME  # the wait counts from the answer
    assert delivery.state == "published" and delivery.published_at >= midnight
    assert history.early_requests(stamps) == [] and verdict.problems == []


def test_a_retry_pushed_past_midnight_keeps_the_daily_cap(tmp_path: Path, setup: Setup) -> None:
    """Telegram asks for two hours at the 23:00 post: the post lands on a day that has its
    own post already, and the cap of one a day must still hold."""
    campaign = Campaign(tmp_path / "c", setup.certificate, SEED, template=setup.template)
    campaign.fakes.telegram.rate_limit(7200)  # the first message sent
    try:
        campaign.finish()
        stamps = campaign.recorder.stamps
        verdict = campaign.verdict(setup.wanted)
    finally:
        campaign.close()
    assert any(s.retry_after == 7200 for s in stamps)
    assert history.early_requests(stamps) == []
    assert history.cap_excess(stamps) == []
    assert verdict.problems == []
