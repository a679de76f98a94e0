"""Tables of the state store, and the migrations that bring an older store up to date."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    inspect,
    select,
)

SCHEMA_VERSION = 2
STORE_ID = "store_id"
metadata = MetaData()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored as UTC and read back aware.

    SQLite keeps no time zone: a 08:00+07:00 written as is would read back as 08:00 UTC.
    Naive values are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; give it a time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
)

steps = Table(
    "steps",
    metadata,
    Column("delivery", String(512), primary_key=True),
    Column("step", String(64), primary_key=True),
    Column("result", JSON, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(400), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("campaign", String(64), nullable=False),
    Column("planned_at", UTCDateTime(), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("attempt_id", String(36)),
    Column("content_hash", String(64)),
    Column("remote_id", String(200)),
    Column("url", Text),
    Column("error_kind", String(16)),
    Column("error", Text),
    Column("published_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("item_id", "channel"),
    Index("ix_deliveries_state_due", "state", "due_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_events_delivery", "delivery_id"),
)

channel_pauses = Table(
    "channel_pauses",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("paused_at", UTCDateTime(), nullable=False),
)

# A channel whose platform asked for a wait (a rate limit): nothing is sent to it before.
channel_holds = Table(
    "channel_holds",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("until", UTCDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
)


def _version_2(connection: Connection) -> None:
    """Version 2: channel holds (a new table, made by create_all) and the store's id."""
    del connection  # both are added by `migrate` itself


# MIGRATIONS[n] brings a store at version n to version n + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _version_2}


class NewerStoreError(RuntimeError):
    """The store was written by a newer publisher."""


class SchemaMismatch(RuntimeError):
    """The store's tables are not the ones this publisher made (not ours, or damaged)."""


def migrate(connection: Connection) -> tuple[int, str]:
    """Create missing tables, run pending migrations; the schema version and the store's id.

    The caller holds the store's creation lock, so two commands starting together never
    both create the tables.
    """
    if connection.dialect.name == "postgresql":  # one migrating process per database
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
    metadata.create_all(connection)
    found = connection.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
    version = int(found.scalar() or 0)
    if version == 0:
        connection.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        version = SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise NewerStoreError(
            f"the state store is at schema version {version}, newer than this publisher "
            f"({SCHEMA_VERSION}); upgrade publisher"
        )
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](connection)
        version += 1
        connection.execute(
            meta.update().where(meta.c.key == "schema_version").values(value=str(version))
        )
    _check_tables(connection)
    return version, _store_id(connection)


def _check_tables(connection: Connection) -> None:
    """Every table with every column this version reads (a table made by something else
    under one of our names would fail later, in the middle of publishing)."""
    found = inspect(connection)
    for table in metadata.sorted_tables:
        columns = {column["name"] for column in found.get_columns(table.name)}
        missing = sorted({column.name for column in table.columns} - columns)
        if missing:
            raise SchemaMismatch(
                f"its table '{table.name}' lacks the column(s) {', '.join(missing)}: it was not "
                "made by this publisher, or it was edited"
            )


def _store_id(connection: Connection) -> str:
    """This store's identity, made once when it is first opened by this version."""
    found = connection.execute(select(meta.c.value).where(meta.c.key == STORE_ID)).scalar()
    if found:
        return str(found)
    new = uuid.uuid4().hex
    connection.execute(meta.insert().values(key=STORE_ID, value=new))
    return new


# Tables whose every row the runner reads before it sends anything (events are history).
CHECKED_TABLES = ("deliveries", "steps", "tokens", "channel_pauses", "channel_holds")


def check_values(connection: Connection) -> None:
    """Every date a date and every JSON value JSON, in the rows publishing relies on: a store
    edited by hand must stop the runner before it sends, not halfway through. (SQLite keeps
    any text in any column; a database server checks types itself.)"""
    if connection.dialect.name != "sqlite":
        return
    for name in CHECKED_TABLES:
        table = metadata.tables[name]
        for column in table.columns:
            if isinstance(column.type, UTCDateTime):
                wrong, what = f"datetime({column.name}) IS NULL", "dates"
            elif isinstance(column.type, JSON):
                wrong, what = f"NOT json_valid({column.name})", "JSON"
            else:
                continue
            count = connection.exec_driver_sql(
                f"SELECT COUNT(*) FROM {name} WHERE {column.name} IS NOT NULL AND {wrong}"
            ).scalar()
            if count:
                raise SchemaMismatch(
                    f"its table '{name}' holds {count} value(s) in '{column.name}' that are not "
                    f"{what}: it was edited or damaged"
                )
