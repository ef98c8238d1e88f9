"""Initial schema: event tables, admissions, feature states and the audit log.

Revision ID: r0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "r0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "exposures",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("exposed", sa.Boolean(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_exposures"),
    )
    op.create_index("ix_exposures_feature_ts", "exposures", ["feature", "ts"])

    op.create_table(
        "outputs",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_id", sa.Text(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("review", sa.Boolean(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("input_attributes", _json, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_outputs"),
    )
    op.create_index("ix_outputs_feature_ts", "outputs", ["feature", "ts"])
    op.create_index("ix_outputs_decision_id", "outputs", ["decision_id"])

    op.create_table(
        "outcomes",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_id", sa.Text(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=True),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name="pk_outcomes"),
    )
    op.create_index("ix_outcomes_feature_ts", "outcomes", ["feature", "ts"])
    op.create_index("ix_outcomes_decision_id", "outcomes", ["decision_id"])

    op.create_table(
        "admissions",
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feature", "phase", "unit_id", name="pk_admissions"),
    )

    op.create_table(
        "feature_states",
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("plan_version", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feature", name="pk_feature_states"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", _json, nullable=True),
        sa.Column("after", _json, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_feature_ts", "audit_log", ["feature", "ts"])


def downgrade() -> None:
    for index, table in (
        ("ix_audit_log_feature_ts", "audit_log"),
        ("ix_outcomes_decision_id", "outcomes"),
        ("ix_outcomes_feature_ts", "outcomes"),
        ("ix_outputs_decision_id", "outputs"),
        ("ix_outputs_feature_ts", "outputs"),
        ("ix_exposures_feature_ts", "exposures"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("audit_log", "feature_states", "admissions", "outcomes", "outputs", "exposures"):
        op.drop_table(table)
