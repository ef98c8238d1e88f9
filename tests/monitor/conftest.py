"""The store backends of tests/store (a SQLite file per test, the real PostgreSQL)."""

from tests.store.conftest import (
    fresh_postgres_url,
    postgres_schema,
    postgres_store_url,
    store,
    store_url,
)

__all__ = ["fresh_postgres_url", "postgres_schema", "postgres_store_url", "store", "store_url"]
