"""Opening the state store: SQLite in `.publisher/` by default, any SQLAlchemy URL otherwise.

SQLite runs in WAL mode with `synchronous=FULL`: a committed intent or receipt survives a
power cut, which is the point of writing it before and after every platform call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from publisher.errors import StoreError
from publisher.store import schema
from publisher.store.damage import RESTORE, reading, translate_errors, where
from publisher.store.deliveries import DeliveryStore, journal_entry
from publisher.store.journal import JOURNAL_FILE, Journal
from publisher.store.sealing import SECRET_KEY_VARIABLE, Sealer
from publisher.store.tokens import TokenStore
from publisher.workspace import Workspace, private_state_dir

DATABASE_URL_VARIABLE = "PUBLISHER_DATABASE_URL"
STATE_FILE = "state.db"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Store:
    engine: Engine
    lock_dir: Path
    sealer: Sealer = field(default_factory=lambda: Sealer(None))
    store_id: str = ""  # this store's identity (its meta row), part of every delivery marker
    clock: Callable[[], dt.datetime] = utcnow  # when steps and attempts are noted
    journal: Journal | None = None

    @property
    def deliveries(self) -> DeliveryStore:
        return DeliveryStore(self.engine, self.journal, self.store_id)

    def tokens(self, channel: str) -> TokenStore:
        return TokenStore(self.engine, channel, self.lock_dir, self.sealer)

    def steps(self, delivery: str) -> StoredStepLog:
        return StoredStepLog(self.engine, delivery, self.store_id, self.clock)

    def close(self) -> None:
        self.engine.dispose()


def open_workspace_store(workspace: Workspace, verify: bool = True) -> Store:
    """The workspace's store: PUBLISHER_DATABASE_URL (environment or .env) if set, for
    example a PostgreSQL URL, else SQLite in `.publisher/`. `verify`: check every value
    publishing relies on first (see `open_store`); a command stops on a damaged store."""
    url = workspace.env.get(DATABASE_URL_VARIABLE) or None
    key = workspace.env.get(SECRET_KEY_VARIABLE) or None
    return open_store(workspace.state_dir, url, key, verify=verify)


def open_store(
    state_dir: Path,
    url: str | None = None,
    secret_key: str | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    verify: bool = False,
) -> Store:
    """Open (and create or migrate) the store; `url` defaults to SQLite in `state_dir`.
    With `verify` (before anything is sent), every date and JSON value of the rows
    publishing reads is checked too.

    Creation and migration hold a lock in `state_dir`, so commands started together never
    race to create the tables. A SQLite store that is empty while its journal shows it
    existed, or that cannot be read, is refused with what to do (StoreError): starting
    afresh would publish everything again.
    """
    private_state_dir(state_dir)
    journal = Journal(state_dir / JOURNAL_FILE)
    database = state_dir / STATE_FILE
    sealer = Sealer(secret_key)
    with _creation_lock(state_dir):
        if url is None:
            _refuse_an_emptied_store(database, journal)
        engine = create_engine(url or f"sqlite:///{database}")
        place = where(engine)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", translate_errors(place))
        try:
            with engine.begin() as connection:
                _, store_id = schema.migrate(connection)
                if verify:
                    schema.check_values(connection)
        except (schema.NewerStoreError, schema.SchemaMismatch) as exc:
            engine.dispose()
            raise StoreError(f"the state store {place}: {exc}; {RESTORE}.") from None
        except StoreError:
            engine.dispose()
            raise
        if url is None:
            database.chmod(0o600)  # it holds tokens; SQLite gives its WAL the same mode
        store = Store(engine, state_dir / "locks", sealer, store_id, clock, journal)
        if not journal.exists():
            _start_journal(store)
    return store


def _creation_lock(state_dir: Path) -> FileLock:
    (state_dir / "locks").mkdir(mode=0o700, exist_ok=True)
    return FileLock(state_dir / "locks" / "store.lock", timeout=120, mode=0o600)


def _refuse_an_emptied_store(database: Path, journal: Journal) -> None:
    """A zero-byte state.db beside a journal: the store existed and lost its contents.
    (A folder in its place is refused too.)"""
    if database.is_dir():
        raise StoreError(
            f"the state store {database} is a folder, not the store's file: move it aside "
            "(and restore state.db from a backup, if there is one)"
        )
    if journal.exists() and database.is_file() and database.stat().st_size == 0:
        raise StoreError(
            f"the state store {database} is empty, but this workspace had one (see "
            f"{journal.path.name}): nothing is published, or every post would go out again. "
            "Restore state.db from a backup, or move the empty file aside to start a new "
            "store (posts recorded in the journal stay published)."
        )


def _start_journal(store: Store) -> None:
    """A new store (or one made before the journal existed): its header line, then every
    publication the store already holds."""
    store.journal.record({"store": store.store_id, "started": store.clock().isoformat()})
    for delivery in store.deliveries.in_state("published"):
        store.journal.record(journal_entry(delivery, store.store_id))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


ATTEMPT_PREFIX = "attempt:"  # rows of the steps table that note a request about to leave


def delivery_marker(store_id: str, delivery: str) -> str:
    """A name for one delivery of one store, unguessable from its content, stable across
    attempts and restarts: "publisher-" and 24 hex digits."""
    digest = hashlib.sha256(f"{store_id}:{delivery}".encode()).hexdigest()
    return f"publisher-{digest[:24]}"


class StoredStepLog:
    """The StepLog of one delivery, each result committed as soon as it is recorded."""

    def __init__(
        self,
        engine: Engine,
        delivery: str,
        store_id: str = "",
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.delivery = delivery
        self.marker = delivery_marker(store_id, delivery)
        self.clock = clock

    def get(self, step: str) -> dict[str, Any] | None:
        table = schema.steps
        query = select(table.c.result).where(
            table.c.delivery == self.delivery, table.c.step == step
        )
        with reading(self.engine) as connection:
            return connection.execute(query).scalar()

    def record(self, step: str, result: dict[str, Any]) -> None:
        values = {
            "delivery": self.delivery,
            "step": step,
            "result": result,
            "recorded_at": self.clock(),
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
        earlier = self.get(ATTEMPT_PREFIX + step) or {}
        first = earlier.get("first") or self.clock().isoformat()
        self.record(ATTEMPT_PREFIX + step, {"failure": failure, "first": first})

    def maybe_sent(self, step: str) -> bool:
        attempt = self.get(ATTEMPT_PREFIX + step)
        return attempt is not None and attempt["failure"] is None and self.get(step) is None

    def first_attempt(self, step: str) -> dt.datetime | None:
        first = (self.get(ATTEMPT_PREFIX + step) or {}).get("first")
        return dt.datetime.fromisoformat(first) if first else None

    def all(self) -> dict[str, dict[str, Any]]:
        """Every step's answer (attempts left out)."""
        table = schema.steps
        query = select(table.c.step, table.c.result).where(
            table.c.delivery == self.delivery, table.c.step.not_like(ATTEMPT_PREFIX + "%")
        )
        with reading(self.engine) as connection:
            return {row.step: row.result for row in connection.execute(query)}

    def clear(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                schema.steps.delete().where(schema.steps.c.delivery == self.delivery)
            )
