"""Tables of the state store, and the migrations that bring an older store up to date."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    select,
)

SCHEMA_VERSION = 1
metadata = MetaData()

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
    Column("expires_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

steps = Table(
    "steps",
    metadata,
    Column("delivery", String(512), primary_key=True),
    Column("step", String(64), primary_key=True),
    Column("result", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# MIGRATIONS[n] brings a store at version n to version n + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def migrate(connection: Connection) -> int:
    """Create missing tables, run pending migrations, and return the schema version."""
    metadata.create_all(connection)
    found = connection.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
    version = int(found.scalar() or 0)
    if version == 0:
        connection.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the state store is at schema version {version}, newer than this publisher "
            f"({SCHEMA_VERSION}); upgrade publisher"
        )
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](connection)
        version += 1
    connection.execute(
        meta.update().where(meta.c.key == "schema_version").values(value=str(version))
    )
    return version
