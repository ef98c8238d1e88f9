"""Feature state, audit, plans, sign-offs and readiness inside one locked transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, insert, select, update

from trustramp.store import rows
from trustramp.store.models import (
    AuditRow,
    FeatureStateRow,
    PlanRow,
    ReadinessRow,
    SignatureRow,
)
from trustramp.store.records import (
    AuditRecord,
    FeatureState,
    PlanRecord,
    ReadinessRecord,
    Signature,
    StoreError,
    require_aware,
)


def window(
    table: FromClause, since: datetime | None, until: datetime | None
) -> list[ColumnElement[bool]]:
    """Half-open time window conditions ``since <= ts < until`` on ``table.c.ts``."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        require_aware(since, "since")
        conditions.append(table.c.ts >= since)
    if until is not None:
        require_aware(until, "until")
        conditions.append(table.c.ts < until)
    if since is not None and until is not None and since >= until:
        raise ValueError(
            f"since={since.isoformat()} must be before until={until.isoformat()} "
            "(the window is since <= ts < until)"
        )
    return conditions


def read_state(connection: Connection, feature: str) -> FeatureState | None:
    table = FeatureStateRow.__table__
    row = connection.execute(select(table).where(table.c.feature == feature)).first()
    return rows.state_from(row._mapping) if row is not None else None


class SqlStateTransaction:
    """The SQL :class:`~trustramp.store.protocol.StateTransaction`; valid inside its block."""

    def __init__(
        self,
        connection: Connection,
        feature: str,
        before: FeatureState | None,
        insert: Callable[[Any], Any],
    ) -> None:
        self._connection = connection
        self._feature = feature
        self._before = before
        self._insert = insert
        self.closed = False

    @property
    def before(self) -> FeatureState | None:
        return self._before

    def _check(self, feature: str, what: str) -> None:
        if self.closed:
            raise StoreError(
                f"{what}: the state transaction of feature {self._feature!r} has ended; "
                "write inside its `with` block"
            )
        if feature != self._feature:
            raise ValueError(
                f"{what}: feature {feature!r} differs from the transaction's feature "
                f"{self._feature!r}; open a state_transaction per feature"
            )

    def set_state(self, state: FeatureState) -> None:
        self._check(state.feature, "set_state")
        values = rows.state_row(state)
        statement = self._insert(FeatureStateRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["feature"],
            set_={name: statement.excluded[name] for name in values if name != "feature"},
        )
        self._connection.execute(statement)

    def append_audit(self, record: AuditRecord) -> None:
        self._check(record.feature, "append_audit")
        self._connection.execute(insert(AuditRow).values(rows.audit_row(record)))

    def add_plan(self, record: PlanRecord) -> bool:
        self._check(record.feature, "add_plan")
        if self.plan(record.version) is not None:
            return False
        self._connection.execute(insert(PlanRow).values(rows.record_row(record)))
        return True

    def add_signature(self, signature: Signature) -> None:
        self._check(signature.feature, "add_signature")
        self._connection.execute(insert(SignatureRow).values(rows.record_row(signature)))

    def void_signatures(self, keep_fingerprint: str, reason: str, at: datetime) -> int:
        self._check(self._feature, "void_signatures")
        table = SignatureRow.__table__
        result = self._connection.execute(
            update(SignatureRow)
            .where(table.c.feature == self._feature, table.c.voided_at.is_(None),
                   table.c.fingerprint != keep_fingerprint)
            .values(voided_at=at, void_reason=reason)
        )
        return int(result.rowcount or 0)

    def add_readiness(self, record: ReadinessRecord) -> None:
        self._check(record.feature, "add_readiness")
        self._connection.execute(insert(ReadinessRow).values(rows.record_row(record)))

    def signatures(self) -> list[Signature]:
        return read_signatures(self._connection, self._feature)

    def latest_readiness(self, fingerprint: str) -> ReadinessRecord | None:
        table = ReadinessRow.__table__
        row = self._connection.execute(
            select(table)
            .where(table.c.feature == self._feature, table.c.fingerprint == fingerprint)
            .order_by(table.c.ts.desc(), table.c.id.desc())
            .limit(1)
        ).first()
        return rows.readiness_from(row._mapping) if row is not None else None

    def plan(self, version: str) -> PlanRecord | None:
        return read_plan(self._connection, self._feature, version)


def read_plan(connection: Connection, feature: str, version: str) -> PlanRecord | None:
    table = PlanRow.__table__
    row = connection.execute(
        select(table).where(table.c.feature == feature, table.c.version == version)
    ).first()
    return rows.plan_from(row._mapping) if row is not None else None


def read_signatures(connection: Connection, feature: str) -> list[Signature]:
    table = SignatureRow.__table__
    found = connection.execute(
        select(table).where(table.c.feature == feature).order_by(table.c.ts, table.c.id)
    )
    return [rows.signature_from(row._mapping) for row in found]
