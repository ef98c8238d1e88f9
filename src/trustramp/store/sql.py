"""The SQL implementation of :class:`~trustramp.store.protocol.Store` (SQLite, PostgreSQL).

Idempotency is ``INSERT ... ON CONFLICT DO NOTHING`` on the event id, on both
dialects. Serialized steps (admission under a cap, state changes) take the
SQLite write lock up front (``BEGIN IMMEDIATE``) or a PostgreSQL transaction
advisory lock keyed by feature, so they stay correct across processes and
replicas, not only threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from trustramp.events import (
    Event,
    ExposureEvent,
    OutcomeEvent,
    OutcomeKind,
    OutputEvent,
    utc_now,
)
from trustramp.store import rows
from trustramp.store.aggregates import (
    SqlMonitorTransaction,
    numbered,
    read_counts,
    read_horizon,
    read_labelled_outputs,
)
from trustramp.store.counts import outcome_counts
from trustramp.store.database import (
    IMMEDIATE,
    advisory_lock,
    create_store_engine,
    is_sqlite_memory,
    lock_event_tables,
    on_fork_in_child,
    parse_database_url,
    safe_url,
    store_error,
)
from trustramp.store.lease import AdvisoryLease, RowLease
from trustramp.store.models import (
    AdmissionRow,
    AuditRow,
    ExposureRow,
    FeatureStateRow,
    OutcomeRow,
    OutputRow,
    PlanRow,
    ReadinessRow,
)
from trustramp.store.protocol import Lease
from trustramp.store.records import (
    AuditRecord,
    FeatureState,
    OutcomeCounts,
    PlanRecord,
    ReadinessRecord,
    Signature,
    require_aware,
)
from trustramp.store.sequenced import Cursors, LabelledOutput
from trustramp.store.state import (
    SqlStateTransaction,
    read_plan,
    read_signatures,
    read_state,
    window,
)

_MODELS = {ExposureEvent: ExposureRow, OutputEvent: OutputRow, OutcomeEvent: OutcomeRow}


class SqlStore:
    """A :class:`Store` on SQLite or PostgreSQL (psycopg 3), through SQLAlchemy 2.

    The constructor only builds the engine; :func:`trustramp.store.open_store`
    also brings the schema to the current revision (SQLite) or checks it is
    there (PostgreSQL). Safe to share between threads.

    Example:
        >>> from trustramp.store import upgrade
        >>> url = "sqlite:///.trustramp/trustramp.db"
        >>> _ = upgrade(url)  # open_store(url) does this for SQLite
        >>> store = SqlStore(url)
        >>> store.admit("summarize", "beta", "u1", cap=100)
        True
    """

    def __init__(self, url: str) -> None:
        self._parsed = parse_database_url(url)
        self.url = safe_url(self._parsed)
        self._engine = create_store_engine(self._parsed)
        self._insert = sqlite.insert if self._engine.dialect.name == "sqlite" else postgresql.insert
        # An in-memory SQLite database is one shared connection: serialize its users.
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if is_sqlite_memory(self._parsed) else nullcontext()
        )
        # A forked child must open its own connections, never reuse the parent's.
        on_fork_in_child(self._forget_parent_connections)

    def _forget_parent_connections(self) -> None:
        if is_sqlite_memory(self._parsed):
            # The child's copy of an in-memory database lives in that one connection.
            self._lock = threading.RLock()
        else:
            self._engine.dispose(close=False)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations and inspection, not for events)."""
        return self._engine

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"

    @contextmanager
    def _begin(self, doing: str, *, immediate: bool = False) -> Iterator[Connection]:
        with self._lock:
            try:
                with self._engine.connect() as connection:
                    if immediate:
                        connection = connection.execution_options(**{IMMEDIATE: True})
                    with connection.begin():
                        yield connection
            except SQLAlchemyError as exc:
                raise store_error(exc, self.url, doing) from None

    def write(self, events: Sequence[Event]) -> None:
        grouped = rows.event_rows(events)
        if not any(grouped.values()):
            return
        sqlite_file = self._engine.dialect.name == "sqlite"
        # SQLite: the write lock from the first read, so max(seq) + 1 stays ours.
        with self._begin("write events", immediate=sqlite_file) as connection:
            lock_event_tables(connection)
            for kind, values in grouped.items():
                if not values:
                    continue
                model = _MODELS[kind]
                if sqlite_file:
                    values = numbered(connection, model, values)
                statement = self._insert(model).on_conflict_do_nothing(index_elements=["event_id"])
                connection.execute(statement, values)

    def _read(self, statement: Select[Any], doing: str) -> list[dict[str, Any]]:
        with self._begin(doing) as connection:
            return [dict(row._mapping) for row in connection.execute(statement)]

    def _read_events(
        self,
        model: type[ExposureRow | OutputRow | OutcomeRow],
        feature: str,
        since: datetime | None,
        until: datetime | None,
        **equal: str | None,
    ) -> list[dict[str, Any]]:
        """One feature's rows of an event table in a window, oldest first; a column
        in ``equal`` filters the rows when its value is not None."""
        table = model.__table__
        filters = [table.c[name] == value for name, value in equal.items() if value is not None]
        statement = (
            select(*(column for column in table.c if column.name != "seq"))
            .where(table.c.feature == feature, *window(table, since, until), *filters)
            .order_by(table.c.ts, table.c.event_id)
        )
        return self._read(statement, f"read {model.__tablename__}")

    def exposures(
        self,
        feature: str,
        *,
        phase: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ExposureEvent]:
        found = self._read_events(ExposureRow, feature, since, until, phase=phase)
        return [rows.exposure_from(row) for row in found]

    def outputs(
        self,
        feature: str,
        *,
        phase: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[OutputEvent]:
        found = self._read_events(OutputRow, feature, since, until, phase=phase)
        return [rows.output_from(row) for row in found]

    def outcomes(
        self,
        feature: str,
        *,
        kind: OutcomeKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[OutcomeEvent]:
        value = OutcomeKind(kind).value if kind is not None else None
        found = self._read_events(OutcomeRow, feature, since, until, kind=value)
        return [rows.outcome_from(row) for row in found]

    def outcome_counts(
        self,
        feature: str,
        *,
        phase: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> OutcomeCounts:
        with self._begin("count outcomes") as connection:
            return outcome_counts(connection, feature, phase, since, until)

    def admit(self, feature: str, phase: str, unit_id: str, *, cap: int) -> bool:
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ValueError(
                f"admit(feature={feature!r}, phase={phase!r}): cap={cap!r} must be an "
                "integer >= 0 (the phase's absolute audience cap)"
            )
        table = AdmissionRow.__table__
        key = (table.c.feature == feature, table.c.phase == phase)
        with self._begin("admit a unit", immediate=True) as connection:
            advisory_lock(connection, "admit", feature, phase)
            if connection.execute(select(1).where(*key, table.c.unit_id == unit_id)).first():
                return True
            admitted = connection.scalar(select(func.count()).select_from(table).where(*key))
            if (admitted or 0) >= cap:
                return False
            connection.execute(
                insert(AdmissionRow).values(
                    feature=feature, phase=phase, unit_id=unit_id, ts=utc_now()
                )
            )
            return True

    def admitted_units(self, feature: str, phase: str) -> frozenset[str]:
        table = AdmissionRow.__table__
        statement = select(table.c.unit_id).where(
            table.c.feature == feature, table.c.phase == phase
        )
        return frozenset(row["unit_id"] for row in self._read(statement, "read admissions"))

    def get_state(self, feature: str) -> FeatureState | None:
        with self._begin("read feature state") as connection:
            return read_state(connection, feature)

    @contextmanager
    def state_transaction(self, feature: str) -> Iterator[SqlStateTransaction]:
        with self._begin("change feature state", immediate=True) as connection:
            advisory_lock(connection, "state", feature)
            transaction = SqlStateTransaction(
                connection, feature, read_state(connection, feature), self._insert
            )
            try:
                yield transaction
            finally:
                transaction.closed = True

    def audit_log(self, feature: str | None = None) -> list[AuditRecord]:
        table = AuditRow.__table__
        statement = select(table).order_by(table.c.ts, table.c.id)
        if feature is not None:
            statement = statement.where(table.c.feature == feature)
        return [rows.audit_from(row) for row in self._read(statement, "read the audit log")]

    def state_version(self, feature: str) -> int | None:
        table = FeatureStateRow.__table__
        statement = select(table.c.version).where(table.c.feature == feature)
        found = self._read(statement, "read the state version")
        return int(found[0]["version"]) if found else None

    def states(self) -> list[FeatureState]:
        table = FeatureStateRow.__table__
        found = self._read(select(table).order_by(table.c.feature), "read feature states")
        return [rows.state_from(row) for row in found]

    def plan(self, feature: str, version: str) -> PlanRecord | None:
        with self._begin("read a plan") as connection:
            return read_plan(connection, feature, version)

    def plans(self, feature: str) -> list[PlanRecord]:
        table = PlanRow.__table__
        statement = (select(table).where(table.c.feature == feature)
                     .order_by(table.c.created_at, table.c.version))
        return [rows.plan_from(row) for row in self._read(statement, "read plans")]

    def signatures(self, feature: str) -> list[Signature]:
        with self._begin("read signatures") as connection:
            return read_signatures(connection, feature)

    def readiness_reports(self, feature: str, limit: int = 20) -> list[ReadinessRecord]:
        table = ReadinessRow.__table__
        statement = (select(table).where(table.c.feature == feature)
                     .order_by(table.c.ts.desc(), table.c.id.desc()).limit(limit))
        found = self._read(statement, "read readiness reports")
        return [rows.readiness_from(row) for row in found]

    def event_horizon(self) -> Cursors:
        # Its own short transaction: the exclusive lock must not outlive the read.
        with self._begin("read the event horizon") as connection:
            lock_event_tables(connection, exclusive=True)
            return read_horizon(connection)

    @contextmanager
    def monitor_transaction(self) -> Iterator[SqlMonitorTransaction]:
        with self._begin("fold events", immediate=True) as connection:
            advisory_lock(connection, "monitor", "fold")
            yield SqlMonitorTransaction(connection, self._insert)

    def evidence_counts(
        self, feature: str, phase: str, first_bucket: datetime, until: datetime
    ) -> dict[str, int]:
        require_aware(first_bucket, "first_bucket")
        require_aware(until, "until")
        with self._begin("read evidence counts") as connection:
            return read_counts(connection, feature, phase, first_bucket, until)

    def labelled_outputs(
        self,
        feature: str,
        phase: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5000,
    ) -> list[LabelledOutput]:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"labelled_outputs: limit={limit!r} must be an integer >= 1")
        with self._begin("read labelled outputs") as connection:
            return read_labelled_outputs(connection, feature, phase, since, until, limit)

    def lease(self, name: str, holder: str, ttl: timedelta) -> Lease:
        kind = AdvisoryLease if self._engine.dialect.name == "postgresql" else RowLease
        return kind(self._engine, self.url, name, holder, ttl)

    def close(self) -> None:
        self._engine.dispose()
