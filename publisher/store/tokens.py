"""Tokens that platforms hand out at run time (access tokens, rotating refresh tokens).

Zalo's refresh token is single use: every refresh returns a new one and kills the old.
So the new token is committed before anything uses it, and refreshes of one channel are
serialised across threads and processes (`exclusive()`): twenty callers that all find an
expired token cause one refresh, and the others read its result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from sqlalchemy import Engine, select

from publisher.store import schema
from publisher.store.damage import reading
from publisher.store.sealing import Sealer


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: dt.datetime | None
    updated_at: dt.datetime

    def valid_for(self, margin: dt.timedelta, now: dt.datetime) -> bool:
        return self.expires_at is None or self.expires_at - margin > now


class TokenStore:
    def __init__(
        self, engine: Engine, channel: str, lock_dir: Path, sealer: Sealer | None = None
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.lock_dir = lock_dir
        self.sealer = sealer or Sealer(None)

    def get(self, name: str) -> Token | None:
        table = schema.tokens
        query = select(table.c.value, table.c.expires_at, table.c.updated_at).where(
            table.c.channel == self.channel, table.c.name == name
        )
        with reading(self.engine) as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return Token(self.sealer.open(row.value), row.expires_at, row.updated_at)

    def put(self, name: str, value: str, expires_at: dt.datetime | None = None) -> None:
        """Store a token, committed before this returns."""
        self.put_many({name: (value, expires_at)})

    def put_many(self, values: dict[str, tuple[str, dt.datetime | None]]) -> None:
        """Store several tokens in one transaction (an access and its rotated refresh token)."""
        table = schema.tokens
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as connection:
            for name, (value, expires_at) in values.items():
                key = (table.c.channel == self.channel) & (table.c.name == name)
                connection.execute(table.delete().where(key))
                connection.execute(
                    table.insert().values(
                        channel=self.channel,
                        name=name,
                        value=self.sealer.seal(value),
                        expires_at=expires_at,
                        updated_at=now,
                    )
                )

    def forget(self) -> None:
        """Remove every token stored for this channel (before connecting it anew)."""
        table = schema.tokens
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.channel == self.channel))

    @contextmanager
    def exclusive(self, timeout: float = 120.0) -> Iterator[None]:
        """Hold this channel's token lock (threads and processes alike) for a refresh."""
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.lock_dir / f"{self.channel}-tokens.lock", timeout=timeout, mode=0o600)
        with lock:
            yield
