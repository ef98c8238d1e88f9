"""SQLAlchemy models: one table per event kind, plus admissions, state and audit log.

Event tables have no foreign keys: outcomes may arrive before their output (the
writer batches independently) and a later move of events to a partitioned table
or a column store must not depend on cross-table constraints. ``event_id`` is the
primary key so a retried batch inserts nothing twice. ``seq`` is the ingestion
order (an identity on PostgreSQL, ``max + 1`` under the write lock on SQLite): the
monitor reads "rows after position P" by it (see :mod:`trustramp.store.aggregates`).
The migration in ``migrations/versions`` must create exactly these tables; a test
compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    Identity,
    Index,
    Integer,
    MetaData,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

VERSION_TABLE = "trustramp_alembic_version"
"""Alembic's bookkeeping table, named so it cannot collide with an app's own Alembic."""


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every dialect.

    SQLite has no time zone type: values are stored as naive UTC text, which also
    keeps string comparison equal to time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class ExposureRow(Base):
    __tablename__ = "exposures"
    __table_args__ = (Index(None, "feature", "ts"), Index(None, "seq", unique=True))

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    feature: Mapped[str] = mapped_column(Text)
    plan_version: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str] = mapped_column(Text)
    exposed: Mapped[bool] = mapped_column(Boolean)
    phase: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(BigInteger, Identity())


class OutputRow(Base):
    __tablename__ = "outputs"
    __table_args__ = (
        Index(None, "feature", "ts"),
        Index(None, "decision_id"),
        Index(None, "seq", unique=True),
    )

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    decision_id: Mapped[str] = mapped_column(Text)
    feature: Mapped[str] = mapped_column(Text)
    plan_version: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str] = mapped_column(Text)
    phase: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    review: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str | None] = mapped_column(Text)
    input_attributes: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    seq: Mapped[int] = mapped_column(BigInteger, Identity())


class OutcomeRow(Base):
    __tablename__ = "outcomes"
    __table_args__ = (
        Index(None, "feature", "ts"),
        Index(None, "decision_id"),
        Index(None, "seq", unique=True),
    )

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    decision_id: Mapped[str] = mapped_column(Text)
    feature: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    value: Mapped[bool | None] = mapped_column(Boolean)
    critical: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(BigInteger, Identity())


class AdmissionRow(Base):
    """A unit admitted into a capped phase; the primary key makes admission sticky."""

    __tablename__ = "admissions"

    feature: Mapped[str] = mapped_column(Text, primary_key=True)
    phase: Mapped[str] = mapped_column(Text, primary_key=True)
    unit_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())


class FeatureStateRow(Base):
    __tablename__ = "feature_states"

    feature: Mapped[str] = mapped_column(Text, primary_key=True)
    plan_version: Mapped[str] = mapped_column(Text)
    phase: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer)
    phase_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resume_to: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(Text)


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "feature", "ts"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    feature: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    plan_version: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)


class PlanRow(Base):
    """One version of a feature's plan, as uploaded: the controller reads the running one."""

    __tablename__ = "plans"

    feature: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[str] = mapped_column(Text, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SignatureRow(Base):
    __tablename__ = "signatures"
    __table_args__ = (Index(None, "feature", "ts"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    feature: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    plan_version: Mapped[str] = mapped_column(Text)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    void_reason: Mapped[str] = mapped_column(Text)


class ReadinessRow(Base):
    __tablename__ = "readiness_reports"
    __table_args__ = (Index(None, "feature", "ts"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    feature: Mapped[str] = mapped_column(Text)
    plan_version: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    passed: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())


class LeaseRow(Base):
    """Who runs the controller (SQLite; PostgreSQL holds an advisory lock instead)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EvidenceCountRow(Base):
    """One counter of one phase in one time bucket (the monitor's aggregates).

    ``counter`` names what is counted (``labels``, ``outputs:show``,
    ``confidence:37``, ...; see :mod:`trustramp.monitor.fold`); the monitor adds
    signed increments, so a changed thumbs moves from one bucket to another.
    """

    __tablename__ = "evidence_counts"

    feature: Mapped[str] = mapped_column(Text, primary_key=True)
    phase: Mapped[str] = mapped_column(Text, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    counter: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class MonitorCursorRow(Base):
    """How far the monitor has folded one event table: every row with ``seq <= seq``."""

    __tablename__ = "monitor_cursors"

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


metadata = Base.metadata
