"""Opening the state store: SQLite in `.publisher/` by default, any SQLAlchemy URL otherwise.

SQLite runs in WAL mode with `synchronous=FULL`: a committed intent or receipt survives a
power cut, which is the point of writing it before and after every platform call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from publisher.store import schema
from publisher.store.deliveries import DeliveryStore
from publisher.store.sealing import SECRET_KEY_VARIABLE, Sealer
from publisher.store.tokens import TokenStore
from publisher.workspace import Workspace

DATABASE_URL_VARIABLE = "PUBLISHER_DATABASE_URL"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Store:
    engine: Engine
    lock_dir: Path
    sealer: Sealer = field(default_factory=lambda: Sealer(None))

    @property
    def deliveries(self) -> DeliveryStore:
        return DeliveryStore(self.engine)

    def tokens(self, channel: str) -> TokenStore:
        return TokenStore(self.engine, channel, self.lock_dir, self.sealer)

    def steps(self, delivery: str) -> StoredStepLog:
        return StoredStepLog(self.engine, delivery)

    def close(self) -> None:
        self.engine.dispose()


def open_workspace_store(workspace: Workspace) -> Store:
    """The workspace's store: PUBLISHER_DATABASE_URL (environment or .env) if set, for
    example a PostgreSQL URL, else SQLite in `.publisher/`."""
    url = workspace.env.get(DATABASE_URL_VARIABLE) or None
    return open_store(workspace.state_dir, url, workspace.env.get(SECRET_KEY_VARIABLE) or None)


def open_store(state_dir: Path, url: str | None = None, secret_key: str | None = None) -> Store:
    """Open (and create or migrate) the store; `url` defaults to SQLite in `state_dir`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url or f"sqlite:///{state_dir / 'state.db'}")
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    with engine.begin() as connection:
        schema.migrate(connection)
    return Store(engine, state_dir / "locks", Sealer(secret_key))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


ATTEMPT_PREFIX = "attempt:"  # rows of the steps table that note a request about to leave


class StoredStepLog:
    """The StepLog of one delivery, each result committed as soon as it is recorded."""

    def __init__(self, engine: Engine, delivery: str) -> None:
        self.engine = engine
        self.delivery = delivery

    def get(self, step: str) -> dict[str, Any] | None:
        table = schema.steps
        query = select(table.c.result).where(
            table.c.delivery == self.delivery, table.c.step == step
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar()

    def record(self, step: str, result: dict[str, Any]) -> None:
        values = {
            "delivery": self.delivery,
            "step": step,
            "result": result,
            "recorded_at": utcnow(),
        }
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "sqlite":
                statement = sqlite_insert(schema.steps).values(**values)
                connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=["delivery", "step"],
                        set_={"result": result, "recorded_at": values["recorded_at"]},
                    )
                )
            else:
                connection.execute(
                    schema.steps.delete().where(
                        schema.steps.c.delivery == self.delivery, schema.steps.c.step == step
                    )
                )
                connection.execute(schema.steps.insert().values(**values))

    def attempt(self, step: str, failure: str | None = None) -> None:
        self.record(ATTEMPT_PREFIX + step, {"failure": failure})

    def maybe_sent(self, step: str) -> bool:
        attempt = self.get(ATTEMPT_PREFIX + step)
        return attempt is not None and attempt["failure"] is None and self.get(step) is None

    def all(self) -> dict[str, dict[str, Any]]:
        """Every step's answer (attempts left out)."""
        table = schema.steps
        query = select(table.c.step, table.c.result).where(
            table.c.delivery == self.delivery, table.c.step.not_like(ATTEMPT_PREFIX + "%")
        )
        with self.engine.connect() as connection:
            return {row.step: row.result for row in connection.execute(query)}

    def clear(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                schema.steps.delete().where(schema.steps.c.delivery == self.delivery)
            )
