"""The controller's tables: plan versions, sign-offs, readiness reports, the lease; richer
states (draft ... complete, a change counter, phase start) and audit entries with evidence.

Revision ID: r0002
Revises: r0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "r0002"
down_revision: str | None = "r0001"
branch_labels: str | None = None
depends_on: str | None = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("feature_states") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("phase_started_at", _ts, nullable=True))
        batch.add_column(sa.Column("resume_to", sa.Text(), nullable=True))
        batch.add_column(sa.Column("changed_by", sa.Text(), nullable=False, server_default=""))
    # r0001 knew three statuses; 'active' meant serving the current phase: running now.
    op.execute(
        "UPDATE feature_states SET status = 'running', phase_started_at = updated_at, "
        "version = 1 WHERE status = 'active'"
    )
    op.execute(
        "UPDATE feature_states SET resume_to = 'running', phase_started_at = updated_at, "
        "version = 1 WHERE status IN ('paused', 'killed')"
    )
    with op.batch_alter_table("feature_states") as batch:
        batch.alter_column("version", server_default=None)
        batch.alter_column("changed_by", server_default=None)

    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("plan_version", sa.Text(), nullable=True))
        batch.add_column(sa.Column("evidence", _json, nullable=True))

    op.create_table(
        "plans",
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.PrimaryKeyConstraint("feature", "version", name="pk_plans"),
    )
    op.create_table(
        "signatures",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Text(), nullable=False),
        sa.Column("ts", _ts, nullable=False),
        sa.Column("voided_at", _ts, nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signatures"),
    )
    op.create_index("ix_signatures_feature_ts", "signatures", ["feature", "ts"])
    op.create_table(
        "readiness_reports",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("report", _json, nullable=False),
        sa.Column("ts", _ts, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_readiness_reports"),
    )
    op.create_index("ix_readiness_reports_feature_ts", "readiness_reports", ["feature", "ts"])
    op.create_table(
        "leases",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("acquired_at", _ts, nullable=False),
        sa.Column("expires_at", _ts, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_readiness_reports_feature_ts", table_name="readiness_reports")
    op.drop_table("readiness_reports")
    op.drop_index("ix_signatures_feature_ts", table_name="signatures")
    op.drop_table("signatures")
    op.drop_table("plans")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("evidence")
        batch.drop_column("plan_version")
    op.execute("UPDATE feature_states SET status = 'active' WHERE status = 'running'")
    with op.batch_alter_table("feature_states") as batch:
        batch.drop_column("changed_by")
        batch.drop_column("resume_to")
        batch.drop_column("phase_started_at")
        batch.drop_column("version")
