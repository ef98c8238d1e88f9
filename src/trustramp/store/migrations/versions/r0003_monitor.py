"""The monitor's tables: an ingestion sequence on each event table, counters per phase and
hour, and the monitor's cursors.

``seq`` orders the rows of one event table by when they were written, so the monitor
can read only the rows after its cursor. PostgreSQL fills it from an identity; on
SQLite the store assigns ``max(seq) + 1, ...`` under the write lock. Rows written
before this revision are numbered here: on SQLite in ``rowid`` (insertion) order, on
PostgreSQL in the order the table rewrite reads them; they all precede every later row.

Revision ID: r0003
Revises: r0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision: str | None = "r0002"
branch_labels: str | None = None
depends_on: str | None = None

_EVENT_TABLES = ("exposures", "outputs", "outcomes")
_ts = sa.DateTime(timezone=True)


def _add_seq(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Adding an identity column rewrites the table and numbers every row.
        op.add_column(table, sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False))
    else:
        op.add_column(table, sa.Column("seq", sa.BigInteger(), nullable=True))
        op.execute(f"UPDATE {table} SET seq = rowid")
        with op.batch_alter_table(table) as batch:
            batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
    op.create_index(f"ix_{table}_seq", table, ["seq"], unique=True)


def upgrade() -> None:
    for table in _EVENT_TABLES:
        _add_seq(table)
    op.create_table(
        "evidence_counts",
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("bucket", _ts, nullable=False),
        sa.Column("counter", sa.Text(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("feature", "phase", "bucket", "counter",
                                name="pk_evidence_counts"),
    )
    op.create_table(
        "monitor_cursors",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_monitor_cursors"),
    )


def downgrade() -> None:
    op.drop_table("monitor_cursors")
    op.drop_table("evidence_counts")
    for table in reversed(_EVENT_TABLES):
        op.drop_index(f"ix_{table}_seq", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("seq")
