"""The plan as an iCalendar file officers can open in their calendar application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from publisher.naming import item_uid
from publisher.planning.planner import Plan

PRODUCT_ID = "-//publisher//campaign plan//VI"


def plan_calendar(plan: Plan, titles: Mapping[str, str], now: dt.datetime) -> bytes:
    """One 10-minute event per planned post; UIDs are stable so re-imports update events."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Lịch đăng bài")
    for post in plan.posts:
        event = Event()
        event.add("uid", f"{item_uid(post.item_id, post.channel)}@publisher")
        event.add("dtstamp", now)
        event.add("dtstart", post.at.astimezone(dt.UTC))
        event.add("dtend", post.at.astimezone(dt.UTC) + dt.timedelta(minutes=10))
        event.add("summary", f"[{post.channel}] {titles.get(post.item_id, post.item_id)}")
        event.add("categories", [post.channel, *([post.phase] if post.phase else [])])
        calendar.add_component(event)
    return calendar.to_ical()
