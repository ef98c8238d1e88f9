"""Schema migrations, run from code: no ``alembic.ini`` on the user's disk.

The Alembic scripts ship inside the package (``trustramp/store/migrations``);
:func:`upgrade` points an in-memory Alembic config at them and migrates one
database to the newest revision. Concurrent upgrades of the same database are
serialized (SQLite write lock, PostgreSQL advisory lock), so two processes
starting at once do not both create the tables; upgrades in threads of one
process are serialized too, because Alembic's context is process-global.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from trustramp.store.database import (
    IMMEDIATE,
    SQLITE_BUSY_TIMEOUT_MS,
    advisory_lock,
    create_store_engine,
    parse_database_url,
    safe_url,
    store_error,
)
from trustramp.store.models import VERSION_TABLE
from trustramp.store.records import StoreError

MIGRATION_BUSY_TIMEOUT_MS = 60_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Alembic's ``context`` is a module-level proxy: two upgrades running in threads at
# once, even of different databases, would run each other's scripts. Taken before
# any database lock so no thread holds a database lock while waiting for it.
_ALEMBIC = threading.Lock()


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    """What :func:`upgrade` did: the revision before (None: empty database) and after."""

    url: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code, pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision the packaged migrations know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_known_revision(revision: str | None, url: str) -> None:
    """StoreError when a database is at a revision the packaged migrations do not know.

    Such a database was migrated by a newer trustramp; this one can neither
    migrate it nor trust its tables.

    Example:
        >>> check_known_revision(head_revision(), "sqlite://")
        >>> check_known_revision("r0099", "sqlite://")
        Traceback (most recent call last):
        ...
        trustramp.store.records.StoreError: the database sqlite:// is at schema revision r0099, ...
    """
    script = ScriptDirectory.from_config(alembic_config())
    if revision is None or revision in {known.revision for known in script.walk_revisions()}:
        return
    raise StoreError(
        f"the database {url} is at schema revision {revision}, newer than this trustramp "
        f"knows (head {script.get_current_head()}): upgrade trustramp"
    )


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (None: never migrated)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


@contextmanager
def _patient(connection: Connection) -> Iterator[None]:
    """On SQLite, wait up to a minute for another process's migration to finish.

    A migration holds the write lock for its whole transaction; on a busy machine a
    second process starting at the same moment can wait longer than the store's usual
    busy timeout. Set on the driver connection directly, outside any transaction.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA busy_timeout = {MIGRATION_BUSY_TIMEOUT_MS}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def upgrade_engine(engine: Engine) -> UpgradeResult:
    """Migrate the database behind ``engine`` to the head revision, in one transaction."""
    url = safe_url(engine.url)
    try:
        with _ALEMBIC, engine.connect() as connection, _patient(connection):
            connection = connection.execution_options(**{IMMEDIATE: True})
            with connection.begin():
                advisory_lock(connection, "migrate")
                before = current_revision(connection)
                check_known_revision(before, url)
                command.upgrade(alembic_config(connection), "head")
                after = current_revision(connection)
    except SQLAlchemyError as exc:
        raise store_error(exc, url, "upgrade the schema") from None
    except CommandError as exc:  # Alembic's own complaint, e.g. a broken revision chain
        raise StoreError(f"could not upgrade the schema on database {url}: {exc}") from None
    return UpgradeResult(url=url, before=before, after=after)


def upgrade(url: str) -> UpgradeResult:
    """Migrate the database at ``url`` to the newest schema; a no-op when it is there.

    Raises ValueError for a malformed or unsupported URL and StoreError when the
    database cannot be reached, refuses the migration, or is at a revision newer
    than this trustramp knows.

    Example:
        >>> upgrade("sqlite://").after == head_revision()
        True
    """
    engine = create_store_engine(parse_database_url(url))
    try:
        return upgrade_engine(engine)
    finally:
        engine.dispose()
