"""The planner: deterministic, stable, in the right time zone, within caps and blackouts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from publisher.catalog import Catalog, load_catalog
from publisher.planning.planner import Plan, make_plan
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = """\
timezone: Asia/Ho_Chi_Minh
campaigns:
  - id: test
    name: Test
    start: 2026-12-01
    end: 2026-12-10
    blackout: [2026-12-03]
    channels:
      portal:
        slots:
          - days: daily
            times: ["08:00", "14:00"]
        daily_cap: 1
      facebook:
        slots:
          - days: daily
            times: ["09:00", "20:00"]
        daily_cap: 2
"""


def catalog_with(builder: WorkspaceBuilder, count: int, calendar: str = CALENDAR) -> Catalog:
    builder.write("channels/zalo.yaml", "enabled: false\n")
    builder.write("channels/telegram.yaml", "enabled: false\n")
    builder.write("schedules.yaml", calendar)
    for index in range(count):
        builder.article(
            f"bai-{index:02d}.md", f"title: Bài {index}\ndate: 2026-11-{10 + index:02d}\n"
        )
    return load_catalog(open_workspace(builder.root, {}))


def plan_of(catalog: Catalog, **kwargs: Any) -> Plan:
    enabled = tuple(n for n, c in catalog.channels.items() if c.enabled)
    return make_plan(catalog.schedules, catalog.items, enabled, **kwargs)


def test_slots_are_local_times_in_the_campaign_zone(workspace: WorkspaceBuilder) -> None:
    plan = plan_of(catalog_with(workspace, 1))
    first = plan.posts[0]
    assert first.channel == "portal"
    assert first.at == dt.datetime(2026, 12, 1, 8, 0, tzinfo=HANOI)
    assert first.at.astimezone(dt.UTC) == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def test_the_same_inputs_give_the_same_plan(workspace: WorkspaceBuilder) -> None:
    catalog = catalog_with(workspace, 6)
    assert plan_of(catalog).posts == plan_of(catalog).posts


def test_a_new_item_takes_a_free_slot_and_moves_nothing(workspace: WorkspaceBuilder) -> None:
    catalog = catalog_with(workspace, 5)
    announced = plan_of(catalog)
    fixed = {post.key: post.at for post in announced.posts}
    workspace.article("urgent.md", "title: Khẩn\npriority: high\ndate: 2026-11-01\n")
    grown = plan_of(load_catalog(open_workspace(workspace.root, {})), fixed=fixed)
    for post in announced.posts:
        assert grown.post(post.key).at == post.at  # type: ignore[union-attr]
    new = [p for p in grown.posts if p.item_id == "urgent"]
    assert {p.channel for p in new} == {"portal", "facebook"}
    taken = {(p.channel, p.at) for p in announced.posts}
    assert all((p.channel, p.at) not in taken for p in new)


def test_priority_then_date_orders_the_queue(workspace: WorkspaceBuilder) -> None:
    catalog = catalog_with(workspace, 3)
    workspace.article("low.md", "title: Thấp\npriority: low\ndate: 2026-10-01\n")
    workspace.article("high.md", "title: Cao\npriority: high\ndate: 2026-12-01\n")
    catalog = load_catalog(open_workspace(workspace.root, {}))
    portal = [p.item_id for p in plan_of(catalog).posts if p.channel == "portal"]
    assert portal == ["high", "bai-00", "bai-01", "bai-02", "low"]


def test_caps_and_blackouts_hold(workspace: WorkspaceBuilder) -> None:
    for index in range(12):  # Facebook-only posts fill Facebook's second daily slot
        workspace.article(f"fb-{index:02d}.md", f"title: FB {index}\nchannels: [facebook]\n")
    plan = plan_of(catalog_with(workspace, 12))
    per_day = Counter((p.channel, p.at.astimezone(HANOI).date()) for p in plan.posts)
    assert max(n for (c, _), n in per_day.items() if c == "portal") == 1
    assert max(n for (c, _), n in per_day.items() if c == "facebook") == 2
    assert all(day != dt.date(2026, 12, 3) for (_, day) in per_day)
    unplaced = {u.item_id for u in plan.unplaced}
    assert {"bai-09", "bai-10", "bai-11"} <= unplaced  # 9 days, cap 1
    assert len([p for p in plan.posts if p.channel == "facebook"]) == 18  # 9 days, cap 2


def test_portal_goes_first_and_windows_and_drafts_are_honoured(workspace: WorkspaceBuilder) -> None:
    catalog = catalog_with(workspace, 0)
    workspace.article("a.md", "title: A\nnot_before: 2026-12-05\n")
    workspace.article("b.md", "title: B\nnot_after: 2026-12-01\npriority: low\n")
    workspace.article("c.md", "title: C\nstatus: draft\n")
    workspace.article("d.md", 'title: D\nat: "2026-12-02 10:15"\n')
    catalog = load_catalog(open_workspace(workspace.root, {}))
    plan = plan_of(catalog)
    a_portal, a_facebook = plan.post(("a", "portal")), plan.post(("a", "facebook"))
    assert a_portal.at.date() >= dt.date(2026, 12, 5)  # type: ignore[union-attr]
    assert a_facebook.at >= a_portal.at  # type: ignore[union-attr]
    assert plan.post(("b", "portal")).at.date() == dt.date(2026, 12, 1)  # type: ignore[union-attr]
    assert not any(p.item_id == "c" for p in plan.posts)
    pinned = plan.post(("d", "facebook"))
    assert pinned.pinned and pinned.at == dt.datetime(2026, 12, 2, 10, 15, tzinfo=HANOI)  # type: ignore[union-attr]


def test_items_outside_every_campaign_are_reported(workspace: WorkspaceBuilder) -> None:
    calendar = CALENDAR.replace(
        "    blackout:", "    content:\n      folders: [chien-dich]\n    blackout:"
    )
    catalog = catalog_with(workspace, 1, calendar)
    plan = plan_of(catalog)
    assert plan.posts == []
    assert plan.unplaced[0].reason == "no campaign in schedules.yaml selects it"


def test_past_slots_are_not_offered_to_new_items(workspace: WorkspaceBuilder) -> None:
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=HANOI)
    plan = plan_of(catalog_with(workspace, 1), now=now)
    assert all(p.at >= now for p in plan.posts)


def test_sample_plan_is_deterministic_and_complete(sample_copy: Path) -> None:
    catalog = load_catalog(open_workspace(sample_copy, {}))
    plan = plan_of(catalog)
    assert plan.unplaced == []
    ready = [i for i in catalog.items if i.status == "ready"]
    assert len(plan.posts) == sum(len(i.channels) for i in ready)
    assert plan.posts == plan_of(catalog).posts


def test_a_social_post_whose_portal_article_finds_no_slot_is_not_planned(
    workspace: WorkspaceBuilder,
) -> None:
    """The portal has 9 slots (a cap of one a day, a blackout day), Facebook 18: the posts
    of the 10th and later items would link to an article that never goes out."""
    catalog = catalog_with(workspace, 12)
    plan = plan_of(catalog)

    portal_items = {p.item_id for p in plan.posts if p.channel == "portal"}
    facebook_items = {p.item_id for p in plan.posts if p.channel == "facebook"}
    assert len(portal_items) == 9 and facebook_items == portal_items
    unplaced = {(u.item_id, u.channel): u.reason for u in plan.unplaced}
    for item in catalog.items:
        if item.id not in portal_items:
            assert "no free slot" in unplaced[(item.id, "portal")]
            assert "its portal article has no slot" in unplaced[(item.id, "facebook")]
