"""Backends for the store tests: a SQLite file per test, and the real PostgreSQL server.

PostgreSQL tests run in a schema of their own (created for the session, emptied
before each test, dropped at the end) reached through ``search_path`` in the
URL, the same way a user would point trustramp at a schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from trustramp.store import SqlStore, open_store, upgrade
from trustramp.store.models import metadata

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def schema_url(schema: str) -> str:
    # lock_timeout turns a regression into a failing test instead of a hung suite.
    options = f"-csearch_path={schema} -clock_timeout=20s"
    return f"{POSTGRES_URL}?options={quote(options)}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema on the real server; dropped after the session."""
    engine = sa.create_engine(POSTGRES_URL)
    schema = f"trustramp_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}")
    try:
        yield schema
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_store_url(postgres_schema: str) -> str:
    url = schema_url(postgres_schema)
    upgrade(url)
    return url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A schema of its own for tests that migrate from scratch."""
    engine = sa.create_engine(POSTGRES_URL)
    schema = f"trustramp_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield schema_url(schema)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trustramp.db'}"
    url: str = request.getfixturevalue("postgres_store_url")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        connection.exec_driver_sql(f"TRUNCATE {tables}")
    engine.dispose()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = open_store(store_url)
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()
