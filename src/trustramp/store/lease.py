"""The controller's lease: one process at a time runs the controller, another takes over.

SQLite: a row in ``leases`` with an expiry, taken under the database's write lock;
the holder renews it on every tick, and a process that dies stops renewing, so the
row expires and the next process to ask takes it.

PostgreSQL: a session-level advisory lock held on a connection of its own. The
server releases it the moment that connection dies (process killed, network cut),
so failover does not wait for an expiry. The ``leases`` row is still written, for
``trustramp status`` to show who holds it.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from trustramp.events import utc_now
from trustramp.store.database import IMMEDIATE, lock_key, store_error
from trustramp.store.models import LeaseRow

logger = logging.getLogger("trustramp")


def _upsert(connection: Connection, name: str, holder: str, now: datetime,
            expires: datetime, acquired_at: datetime) -> None:
    insert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
    statement = insert(LeaseRow).values(name=name, holder=holder, acquired_at=acquired_at,
                                        expires_at=expires)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "acquired_at": acquired_at, "expires_at": expires},
    ))


class RowLease:
    """A lease row with an expiry (SQLite)."""

    def __init__(self, engine: Engine, url: str, name: str, holder: str,
                 ttl: timedelta) -> None:
        self._engine, self._url = engine, url
        self.name, self.holder, self.ttl = name, holder, ttl
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        table = LeaseRow.__table__
        now = utc_now()
        try:
            with self._engine.connect() as connection:
                connection = connection.execution_options(**{IMMEDIATE: True})
                with connection.begin():
                    row = connection.execute(
                        select(table).where(table.c.name == self.name)).first()
                    mine = row is not None and row.holder == self.holder
                    if row is not None and not mine and row.expires_at > now:
                        self._held = False
                        return False
                    acquired = row.acquired_at if mine and row is not None else now
                    _upsert(connection, self.name, self.holder, now, now + self.ttl, acquired)
        except SQLAlchemyError as exc:
            self._held = False
            raise store_error(exc, self._url, "take the controller lease") from None
        self._held = True
        return True

    def release(self) -> None:
        table = LeaseRow.__table__
        self._held = False
        try:
            with self._engine.begin() as connection:
                connection.execute(delete(LeaseRow).where(table.c.name == self.name,
                                                       table.c.holder == self.holder))
        except SQLAlchemyError as exc:
            logger.warning("trustramp could not release the lease %r: %s", self.name, exc)


class AdvisoryLease:
    """A session advisory lock on a connection of its own (PostgreSQL)."""

    def __init__(self, engine: Engine, url: str, name: str, holder: str,
                 ttl: timedelta) -> None:
        self._engine, self._url = engine, url
        self.name, self.holder, self.ttl = name, holder, ttl
        self._connection: Connection | None = None
        self._key = lock_key("lease", name)

    @property
    def held(self) -> bool:
        return self._connection is not None

    def acquire(self) -> bool:
        now = utc_now()
        try:
            if self._connection is None:
                connection = self._engine.connect()
                got = connection.scalar(select(func.pg_try_advisory_lock(self._key)))
                connection.commit()
                if not got:
                    connection.close()
                    return False
                self._connection = connection
                self._acquired_at = now
            # Renewing proves the connection (and so the lock) is still alive.
            _upsert(self._connection, self.name, self.holder, now, now + self.ttl,
                    self._acquired_at)
            self._connection.commit()
        except SQLAlchemyError as exc:
            self._drop()
            raise store_error(exc, self._url, "take the controller lease") from None
        return True

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                connection.invalidate()  # a broken connection's lock is already gone

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            table = LeaseRow.__table__
            connection.execute(delete(LeaseRow).where(table.c.name == self.name,
                                                   table.c.holder == self.holder))
            connection.scalar(select(func.pg_advisory_unlock(self._key)))
            connection.commit()
            connection.close()
        except SQLAlchemyError as exc:
            logger.warning("trustramp could not release the lease %r: %s", self.name, exc)
            connection.invalidate()
