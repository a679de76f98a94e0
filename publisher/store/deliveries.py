"""Deliveries: one per (item, channel), with its state, attempts and every change logged.

States: scheduled -> sending -> published | failed | unknown, and skipped-late or
cancelled. The intent (`sending`, with a fresh attempt id) is committed before any
platform call and the outcome after it; `claim` is atomic, so two workers can never
both send the same delivery. Every change also lands in `events` with its time,
attempt count and text, for `status` and `report`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Engine, Row, and_, func, or_, select

from publisher.store import schema
from publisher.store.damage import reading
from publisher.store.journal import Journal

State = Literal[
    "scheduled", "sending", "published", "failed", "unknown", "skipped-late", "cancelled"
]
# The error_kind of a social post held back while its portal article's outcome is unknown.
HELD_BY_PORTAL = "portal-unknown"
# The error_kind of an unknown delivery whose lookup failed: it is looked up again at due_at.
LOOKUP_PENDING = "lookup"
FINAL_STATES = frozenset({"published", "failed", "skipped-late", "cancelled"})


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Delivery:
    id: int
    item_id: str
    channel: str
    campaign: str
    planned_at: dt.datetime
    due_at: dt.datetime
    state: State
    attempts: int
    attempt_id: str | None
    content_hash: str | None
    remote_id: str | None
    url: str | None
    error_kind: str | None
    error: str | None
    published_at: dt.datetime | None
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Delivery:
        return cls(**row._mapping)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item_id,
            "channel": self.channel,
            "campaign": self.campaign,
            "state": self.state,
            "planned_at": self.planned_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "attempts": self.attempts,
            "remote_id": self.remote_id,
            "url": self.url,
            "error_kind": self.error_kind,
            "error": self.error,
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }


@dataclass(frozen=True)
class Event:
    delivery_id: int
    at: dt.datetime
    kind: str
    state: str
    attempt: int
    detail: str


def journal_entry(delivery: Delivery, store_id: str) -> dict[str, Any]:
    """A publication as the journal keeps it."""
    published = delivery.published_at or delivery.updated_at
    return {
        "item": delivery.item_id,
        "channel": delivery.channel,
        "remote_id": delivery.remote_id,
        "url": delivery.url,
        "published_at": published.isoformat(),
        "store": store_id,
    }


class DeliveryStore:
    def __init__(self, engine: Engine, journal: Journal | None = None, store_id: str = "") -> None:
        self.engine = engine
        self.journal = journal
        self.store_id = store_id

    # -- reading -------------------------------------------------------------------------
    def all(self) -> list[Delivery]:
        query = select(schema.deliveries).order_by(
            schema.deliveries.c.due_at, schema.deliveries.c.id
        )
        with reading(self.engine) as connection:
            return [Delivery.from_row(row) for row in connection.execute(query)]

    def get(self, delivery_id: int) -> Delivery | None:
        query = select(schema.deliveries).where(schema.deliveries.c.id == delivery_id)
        with reading(self.engine) as connection:
            row = connection.execute(query).first()
        return Delivery.from_row(row) if row else None

    def find(self, item_id: str, channel: str) -> Delivery | None:
        table = schema.deliveries
        query = select(table).where(table.c.item_id == item_id, table.c.channel == channel)
        with reading(self.engine) as connection:
            row = connection.execute(query).first()
        return Delivery.from_row(row) if row else None

    def in_state(self, *states: State) -> list[Delivery]:
        table = schema.deliveries
        query = select(table).where(table.c.state.in_(states)).order_by(table.c.due_at, table.c.id)
        with reading(self.engine) as connection:
            return [Delivery.from_row(row) for row in connection.execute(query)]

    def published_urls(self, channel: str) -> dict[str, str]:
        """The address each published delivery of `channel` got, by item id."""
        table = schema.deliveries
        query = select(table.c.item_id, table.c.url).where(
            table.c.channel == channel, table.c.state == "published", table.c.url.is_not(None)
        )
        with reading(self.engine) as connection:
            return {row.item_id: row.url for row in connection.execute(query)}

    def due(self, now: dt.datetime) -> list[Delivery]:
        table = schema.deliveries
        query = (
            select(table)
            .where(and_(table.c.state == "scheduled", table.c.due_at <= now))
            .order_by(table.c.due_at, table.c.id)
        )
        with reading(self.engine) as connection:
            return [Delivery.from_row(row) for row in connection.execute(query)]

    def next_due(self) -> dt.datetime | None:
        """The earliest moment something is due: a post to send or a lookup to repeat, on a
        channel that is not paused."""
        table = schema.deliveries
        paused = select(schema.channel_pauses.c.channel)
        query = select(func.min(table.c.due_at)).where(
            or_(table.c.state == "scheduled", _lookup_pending(table)),
            table.c.channel.not_in(paused),
        )
        with reading(self.engine) as connection:
            return connection.execute(query).scalar()

    def lookups_due(self, now: dt.datetime) -> list[Delivery]:
        """Unknown deliveries whose failed lookup is to be repeated by `now`."""
        table = schema.deliveries
        query = (
            select(table)
            .where(_lookup_pending(table), table.c.due_at <= now)
            .order_by(table.c.due_at, table.c.id)
        )
        with reading(self.engine) as connection:
            return [Delivery.from_row(row) for row in connection.execute(query)]

    def events(self, delivery_id: int | None = None) -> list[Event]:
        table = schema.events
        query = select(table).order_by(table.c.id)
        if delivery_id is not None:
            query = query.where(table.c.delivery_id == delivery_id)
        with reading(self.engine) as connection:
            return [
                Event(r.delivery_id, r.at, r.kind, r.state, r.attempt, r.detail)
                for r in connection.execute(query)
            ]

    # -- writing -------------------------------------------------------------------------
    def announce(
        self, posts: Iterable[tuple[str, str, str, dt.datetime]], now: dt.datetime | None = None
    ) -> int:
        """Record newly planned posts (item, channel, campaign, time); existing ones stay.

        A post the journal shows was published already (by a store that was lost) is
        recorded as published, with the journal's address, instead of being planned again.
        """
        now = now or utcnow()
        journal = self.journal.published() if self.journal else {}
        added = 0
        with self.engine.begin() as connection:
            for item_id, channel, campaign, at in posts:
                table = schema.deliveries
                exists = connection.execute(
                    select(table.c.id).where(table.c.item_id == item_id, table.c.channel == channel)
                ).first()
                if exists:
                    continue
                earlier = journal.get((item_id, channel))
                values = {"state": "scheduled"} if earlier is None else _restored(earlier, now)
                result = connection.execute(
                    table.insert().values(
                        item_id=item_id,
                        channel=channel,
                        campaign=campaign,
                        planned_at=at,
                        due_at=at,
                        attempts=0,
                        updated_at=now,
                        **values,
                    )
                )
                key = result.inserted_primary_key[0]
                _log(connection, key, now, "planned", "scheduled", 0, at.isoformat())
                if earlier is not None:
                    where = earlier.get("url") or earlier.get("remote_id") or ""
                    detail = f"published before, as the journal records {where}".strip()
                    _log(connection, key, now, "restored", "published", 0, detail)
                added += 1
        return added

    def claim(self, delivery: Delivery, content_hash: str, now: dt.datetime) -> Delivery | None:
        """Atomically move a scheduled delivery to `sending` under a new attempt id."""
        table = schema.deliveries
        attempt_id = str(uuid.uuid4())
        with self.engine.begin() as connection:
            claimed = connection.execute(
                table.update()
                .where(table.c.id == delivery.id, table.c.state == "scheduled")
                .values(
                    state="sending",
                    attempts=table.c.attempts + 1,
                    attempt_id=attempt_id,
                    content_hash=content_hash,
                    updated_at=now,
                )
            ).rowcount
            if claimed != 1:
                return None
            _log(
                connection,
                delivery.id,
                now,
                "sending",
                "sending",
                delivery.attempts + 1,
                attempt_id,
            )
        return self.get(delivery.id)

    def change(
        self, delivery: Delivery, kind: str, now: dt.datetime, detail: str = "", **values: Any
    ) -> Delivery:
        """Update a delivery's fields and log the change as one transaction; a delivery
        that becomes published is also written to the journal."""
        table = schema.deliveries
        state = values.get("state", delivery.state)
        with self.engine.begin() as connection:
            connection.execute(
                table.update().where(table.c.id == delivery.id).values(updated_at=now, **values)
            )
            _log(
                connection,
                delivery.id,
                now,
                kind,
                state,
                values.get("attempts", delivery.attempts),
                detail,
            )
        updated = self.get(delivery.id)
        assert updated is not None
        if state == "published" and delivery.state != "published" and self.journal is not None:
            self.journal.record(journal_entry(updated, self.store_id))
        return updated

    # -- channel pauses ------------------------------------------------------------------
    def pause(self, channel: str, reason: str, now: dt.datetime) -> None:
        table = schema.channel_pauses
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.channel == channel))
            connection.execute(table.insert().values(channel=channel, reason=reason, paused_at=now))

    def unpause(self, channel: str | None = None) -> None:
        table = schema.channel_pauses
        with self.engine.begin() as connection:
            query = table.delete()
            connection.execute(
                query if channel is None else query.where(table.c.channel == channel)
            )

    def release_held(self, now: dt.datetime, item_id: str | None = None) -> None:
        """Social posts held back by their portal article (HELD_BY_PORTAL) are looked at
        again now: an operator settled the article or resumed the portal channel."""
        for delivery in self.in_state("scheduled"):
            if delivery.error_kind == HELD_BY_PORTAL and item_id in (None, delivery.item_id):
                self.change(
                    delivery,
                    "released",
                    now,
                    "the portal article may go on",
                    due_at=now,
                    error=None,
                    error_kind=None,
                )

    def pauses(self) -> dict[str, tuple[str, dt.datetime]]:
        table = schema.channel_pauses
        with reading(self.engine) as connection:
            return {r.channel: (r.reason, r.paused_at) for r in connection.execute(select(table))}

    # -- waits a platform asked for --------------------------------------------------------
    def hold(self, channel: str, until: dt.datetime, reason: str) -> None:
        """Send nothing to `channel` before `until` (a later hold already there stays)."""
        table = schema.channel_holds
        current = self.holds().get(channel)
        if current is not None and current[0] >= until:
            return
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.channel == channel))
            connection.execute(table.insert().values(channel=channel, until=until, reason=reason))

    def holds(self) -> dict[str, tuple[dt.datetime, str]]:
        """Each held channel's (until, reason), those already over included."""
        table = schema.channel_holds
        with reading(self.engine) as connection:
            return {r.channel: (r.until, r.reason) for r in connection.execute(select(table))}


def _log(
    connection: Any,
    delivery_id: int,
    at: dt.datetime,
    kind: str,
    state: str,
    attempt: int,
    detail: str,
) -> None:
    connection.execute(
        schema.events.insert().values(
            delivery_id=delivery_id, at=at, kind=kind, state=state, attempt=attempt, detail=detail
        )
    )


def _restored(entry: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A delivery's fields from a journal line: published, where and when it says."""
    try:
        published = dt.datetime.fromisoformat(str(entry.get("published_at")))
    except ValueError:
        published = now
    if published.tzinfo is None:
        published = published.replace(tzinfo=dt.UTC)
    return {
        "state": "published",
        "remote_id": entry.get("remote_id"),
        "url": entry.get("url"),
        "published_at": published,
    }


def detail_json(**values: Any) -> str:
    return json.dumps(values, ensure_ascii=False, default=str)


def _lookup_pending(table: Any) -> Any:
    return and_(table.c.state == "unknown", table.c.error_kind == LOOKUP_PENDING)
