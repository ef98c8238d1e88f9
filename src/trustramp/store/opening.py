"""``open_store``: a ready-to-use store, with the schema checked (and, for SQLite, created)."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from trustramp.store.database import default_database_url, store_error
from trustramp.store.migrate import (
    check_known_revision,
    current_revision,
    head_revision,
    upgrade_engine,
)
from trustramp.store.protocol import Store
from trustramp.store.records import StoreError
from trustramp.store.sql import SqlStore


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (default: ``sqlite:///.trustramp/trustramp.db``).

    A SQLite database is created and migrated to the current schema on the spot.
    A PostgreSQL database must already be at the current schema: it is shared by
    several processes, so migrating it is an explicit step
    (``trustramp db upgrade --database URL``) and a StoreError says so. A
    database migrated by a newer trustramp is refused (StoreError) on both.

    Example:
        >>> store = open_store("sqlite://")
        >>> store.get_state("summarize") is None
        True
    """
    store = SqlStore(url if url is not None else default_database_url())
    try:
        _bring_to_head(store)
    except BaseException:
        store.close()
        raise
    return store


def _bring_to_head(store: SqlStore) -> None:
    """Migrate a SQLite store to the head revision; refuse any other store not there."""
    try:
        with store.engine.connect() as connection:
            current = current_revision(connection)
    except SQLAlchemyError as exc:
        raise store_error(exc, store.url, "connect") from None
    head = head_revision()
    if current == head:
        return
    check_known_revision(current, store.url)
    if store.engine.dialect.name == "sqlite":
        upgrade_engine(store.engine)
        return
    raise StoreError(
        f"database {store.url} is at schema revision {current or 'none (empty)'} but this "
        f"trustramp needs {head}; run: trustramp db upgrade --database '{store.url}'"
    )
