"""Alembic environment: migrate the connection handed over by ``trustramp.store.migrate``.

Run from code only; ``config.attributes["connection"]`` is an open connection
inside the caller's transaction, so the whole upgrade commits or rolls back as one.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from trustramp.store.models import VERSION_TABLE, metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "trustramp migrations run from code: call trustramp.store.upgrade(url) "
        "or `trustramp db upgrade --database URL`"
    )
run_migrations(connection)
