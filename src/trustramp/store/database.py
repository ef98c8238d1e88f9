"""Database URLs and engines: SQLite under ``.trustramp/`` by default, PostgreSQL to scale.

SQLite runs in WAL mode (readers never block the writer thread) with a busy
timeout, and trustramp issues ``BEGIN`` itself so that a transaction which must
be serialized (an admission under a cap, a state change) can start with
``BEGIN IMMEDIATE`` and hold the write lock from its first read.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, func, make_url, select
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
    StatementError,
)
from sqlalchemy.pool import StaticPool

from trustramp.store.records import StoreError

DEFAULT_DATABASE_URL = "sqlite:///.trustramp/trustramp.db"
SQLITE_BUSY_TIMEOUT_MS = 5000
IMMEDIATE = "trustramp_immediate"
"""Execution option: on SQLite, begin the transaction with ``BEGIN IMMEDIATE``."""

_SUPPORTED = ("sqlite", "postgresql")
# The database (or the driver binding a parameter) refused the statement's data;
# OperationalError, InterfaceError and InternalError are about the connection or
# the server, not the rows sent.
_REJECTIONS = (DataError, IntegrityError, ProgrammingError, NotSupportedError)


def default_database_url() -> str:
    """The SQLite file under ``.trustramp/`` in the current directory.

    Example:
        >>> default_database_url()
        'sqlite:///.trustramp/trustramp.db'
    """
    return DEFAULT_DATABASE_URL


def parse_database_url(url: str) -> URL:
    """Parse and check a database URL; ValueError says what is wrong and what works.

    Example:
        >>> parse_database_url("postgresql+psycopg://app@db:5432/trustramp").get_backend_name()
        'postgresql'
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            f"database URL {url!r} is not a URL; expected e.g. "
            "'sqlite:///.trustramp/trustramp.db' or 'postgresql+psycopg://user@host:5432/db'"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in _SUPPORTED:
        raise ValueError(
            f"database URL {safe_url(parsed)!r} uses {backend!r}; trustramp supports "
            "SQLite ('sqlite:///path.db') and PostgreSQL ('postgresql+psycopg://...')"
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        # psycopg 3 is the driver we install and test; psycopg2 is not a dependency.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: URL | str) -> str:
    """The URL as text with any password hidden, for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_store_engine(url: URL) -> Engine:
    """An engine for ``url``: SQLite pragmas and explicit BEGIN, or a pre-pinged pool."""
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    options: dict[str, Any] = {}
    if is_sqlite_memory(url):
        # One shared connection, or every pooled connection would see its own empty
        # database; SqlStore serializes access to it with a lock.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        path = Path(str(url.database)).expanduser().resolve()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder {path.parent} for SQLite database {path}: {exc.strerror}"
            ) from None
        # Absolute, so a later chdir cannot make the pool open a different file.
        url = url.set(database=str(path))
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event (pysqlite's own
    # implicit BEGIN would defer the write lock and break SAVEPOINTs).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # Safe against corruption in WAL mode; a power cut may lose the last commits.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` from text parts."""
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_lock(connection: Connection, *parts: str) -> None:
    """On PostgreSQL, hold the transaction advisory lock named by ``parts`` until commit.

    SQLite needs none: its transactions that must be serialized begin with
    ``BEGIN IMMEDIATE`` (see :data:`IMMEDIATE`), which takes the database's write lock.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(lock_key(*parts))))


EVENTS_LOCK = lock_key("monitor", "events")
"""The advisory lock between event writers (shared) and the monitor's horizon (exclusive)."""


def lock_event_tables(connection: Connection, *, exclusive: bool = False) -> None:
    """On PostgreSQL, hold :data:`EVENTS_LOCK` until commit: shared for a writer, exclusive
    for the monitor reading its horizon.

    A writer's ``seq`` values are drawn before it commits, so rows can commit out of
    ``seq`` order. Every writer holds the shared lock from before it draws a value
    until it commits; once the exclusive lock is granted no writer is in flight,
    every row up to ``max(seq)`` is committed and later rows get larger values.
    SQLite serializes writers itself and needs no lock.
    """
    if connection.dialect.name == "postgresql":
        lock = func.pg_advisory_xact_lock if exclusive else func.pg_advisory_xact_lock_shared
        connection.execute(select(lock(EVENTS_LOCK)))


def store_error(exc: BaseException, url: URL | str, doing: str) -> StoreError:
    """A one-line StoreError for a database failure: what, where, and the driver's reason."""
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    if len(reason) > 300:
        reason = reason[:297] + "..."
    return StoreError(
        f"could not {doing} on database {safe_url(url)}: {reason}",
        rejected=isinstance(exc, _REJECTIONS)
        or (isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)),
    )


def on_fork_in_child(method: Callable[[], None]) -> None:
    """Call the bound ``method`` in every forked child, for as long as its object lives.

    Held weakly: registering does not keep a store or writer alive.
    """
    reference = weakref.WeakMethod(method)

    def call() -> None:
        bound = reference()
        if bound is not None:
            bound()

    os.register_at_fork(after_in_child=call)
