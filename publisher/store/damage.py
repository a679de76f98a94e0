"""A store that cannot be used as it is: what went wrong, in words that say what to do.

Every way a state store can be damaged (cut short, overwritten, edited by hand, locked by
another program, a folder where the file should be) must stop the command with a message
naming the store, never with a traceback, and nothing may be published meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DatabaseError, IntegrityError

from publisher.errors import StoreError, StoreLocked

RESTORE = (
    "nothing is published. Restore it from a backup, or move it aside to start a new store "
    "(posts recorded in the journal stay published)"
)


def where(engine: Engine) -> str:
    """The store named for a person: its file, or its database URL without the password."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        return str(engine.url.database)
    return engine.url.render_as_string(hide_password=True)


def damaged(place: str, what: str) -> StoreError:
    return StoreError(f"the state store {place} {what}: {RESTORE}.")


def locked(place: str, reason: str) -> StoreLocked:
    return StoreLocked(
        f"the state store {place} is locked by another program ({reason}): close the "
        "program that holds it (a database browser, a backup or sync tool), then try again; "
        "nothing was published meanwhile."
    )


def translate_errors(place: str) -> Callable[[ExceptionContext], None]:
    """An engine `handle_error` hook: a damaged or locked store becomes a StoreError (our
    own constraint violations stay what they are)."""

    def handle(context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception
        if not isinstance(error, DatabaseError) or isinstance(error, IntegrityError):
            return
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        if "locked" in reason or "busy" in reason:
            raise locked(place, reason)
        raise damaged(place, f"cannot be read ({reason})")

    return handle


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads; a value the store holds but this code cannot read (a date
    that is no date, JSON that is no JSON) is a StoreError naming the store."""
    try:
        with engine.connect() as connection:
            yield connection
    except (ValueError, TypeError, OverflowError) as exc:
        raise damaged(where(engine), f"holds a value it cannot read ({exc})") from None
