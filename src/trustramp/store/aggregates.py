"""The SQL behind the monitor: ingestion positions, a safe horizon, counters and cursors.

Reading "the rows after position P" is only safe up to a horizon below which no row
can still appear. On SQLite writers are serialized and a writer numbers its rows
``max(seq) + 1, ...`` under the write lock, so every committed row precedes every
row still being written. On PostgreSQL a ``seq`` is drawn before commit, so rows
can commit out of order; writers hold a shared advisory lock while they write and
:func:`read_horizon` takes it exclusively, when no writer is in flight (see
:func:`trustramp.store.database.lock_event_tables`). A fold reads
``cursor < seq <= horizon``, adds its counters and moves its cursors in one
transaction, so a crash leaves both as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Table, func, select

from trustramp.events import OutcomeKind
from trustramp.store.models import (
    EvidenceCountRow,
    ExposureRow,
    MonitorCursorRow,
    OutcomeRow,
    OutputRow,
)
from trustramp.store.sequenced import (
    CounterKey,
    Cursors,
    ExposureFact,
    LabelledOutput,
    NewEvents,
    OutcomeFact,
    OutputFact,
)
from trustramp.store.state import window

_SOURCES = ("exposures", "outputs", "outcomes")
_TABLES: dict[str, Table] = {
    "exposures": ExposureRow.__table__,  # type: ignore[dict-item]
    "outputs": OutputRow.__table__,  # type: ignore[dict-item]
    "outcomes": OutcomeRow.__table__,  # type: ignore[dict-item]
}
_CHUNK = 900  # bound parameters per IN list, well under SQLite's limit
InsertFactory = Callable[[Any], Insert]


def numbered(
    connection: Connection, model: type[Any], values: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """SQLite: give each row the next ``seq`` (the caller holds the write lock).

    The start is past the monitor's cursor too, so a deleted tail of rows can never
    hand out a position the monitor has already passed.
    """
    table = model.__table__
    cursors = MonitorCursorRow.__table__
    highest = connection.scalar(select(func.max(table.c.seq))) or 0
    folded = connection.scalar(
        select(cursors.c.seq).where(cursors.c.source == table.name)
    ) or 0
    start = max(int(highest), int(folded)) + 1
    return [{**row, "seq": start + i} for i, row in enumerate(values)]


def read_horizon(connection: Connection) -> Cursors:
    """``max(seq)`` of each event table; call it with the event tables locked."""
    found = [connection.scalar(select(func.max(_TABLES[s].c.seq))) or 0 for s in _SOURCES]
    return Cursors(*(int(value) for value in found))


def _chunks(items: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class SqlMonitorTransaction:
    """One fold step inside one transaction (see :class:`MonitorTransaction`)."""

    def __init__(self, connection: Connection, insert: InsertFactory) -> None:
        self._connection = connection
        self._insert = insert
        table = MonitorCursorRow.__table__
        found = {str(s): int(v) for s, v in connection.execute(select(table.c.source, table.c.seq))}
        self.cursors = Cursors(*(int(found.get(source, 0)) for source in _SOURCES))

    def new_events(self, horizon: Cursors, limit: int) -> NewEvents:
        exposures = self._after("exposures", horizon.exposures, limit, ExposureFact)
        outputs = self._after("outputs", horizon.outputs, limit, OutputFact)
        outcomes = self._after("outcomes", horizon.outcomes, limit, OutcomeFact)
        moved = []
        for source, found, end in zip(_SOURCES, (exposures, outputs, outcomes), horizon,
                                      strict=True):
            before = getattr(self.cursors, source)
            # A full batch stops at its last row; a short one read everything up to
            # the horizon, so the cursor jumps over the gaps too.
            moved.append(found[-1].seq if len(found) >= limit else max(before, end))
        return NewEvents(exposures, outputs, outcomes, Cursors(*moved))

    def _after(self, source: str, end: int, limit: int, fact: Any) -> list[Any]:
        table = _TABLES[source]
        columns = [table.c[name] for name in fact._fields]
        statement = (
            select(*columns)
            .where(table.c.seq > getattr(self.cursors, source), table.c.seq <= end)
            .order_by(table.c.seq)
            .limit(limit)
        )
        return [fact(*row) for row in self._connection.execute(statement)]

    def outputs_of(self, decision_ids: Collection[str], upto: int) -> list[OutputFact]:
        return self._of(OutputRow.__table__, OutputFact, decision_ids, upto)  # type: ignore[arg-type]

    def outcomes_of(self, decision_ids: Collection[str], upto: int) -> list[OutcomeFact]:
        return self._of(OutcomeRow.__table__, OutcomeFact, decision_ids, upto)  # type: ignore[arg-type]

    def _of(self, table: Table, fact: Any, decision_ids: Collection[str], upto: int) -> list[Any]:
        columns = [table.c[name] for name in fact._fields]
        found: list[Any] = []
        for chunk in _chunks(decision_ids):
            # No "seq <= upto" in SQL: it matches nearly every row, and a planner
            # without statistics may then walk the seq index instead of decision_id's.
            statement = select(*columns).where(table.c.decision_id.in_(chunk))
            found.extend(fact(*row) for row in self._connection.execute(statement))
        found = [row for row in found if row.seq <= upto]
        found.sort(key=lambda row: row.seq)
        return found

    def add_counts(self, counts: Mapping[CounterKey, int]) -> None:
        # A catch-up over weeks of history adds ~10^5 counters per step: the driver's
        # executemany with each bucket rendered once, not SQLAlchemy's per-row binding.
        dialect = self._connection.dialect
        # The dialect's own processor: on SQLite the exact text the column stores.
        bucket = EvidenceCountRow.__table__.c.bucket.type.dialect_impl(dialect)
        render: Callable[[Any], Any] = bucket.bind_processor(dialect) or (lambda value: value)
        rendered: dict[datetime, Any] = {}
        values = []
        for (feature, phase, start, counter), value in counts.items():
            if value:
                if start not in rendered:
                    rendered[start] = render(start)
                values.append((feature, phase, rendered[start], counter, int(value)))
        if not values:
            return
        mark = "?" if dialect.name == "sqlite" else "%s"
        self._connection.exec_driver_sql(
            "INSERT INTO evidence_counts (feature, phase, bucket, counter, value) "
            f"VALUES ({', '.join([mark] * 5)}) ON CONFLICT (feature, phase, bucket, counter) "
            "DO UPDATE SET value = evidence_counts.value + excluded.value",
            values,
        )

    def move_cursors(self, cursors: Cursors) -> None:
        statement = self._insert(MonitorCursorRow)
        statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["source"], set_={"seq": statement.excluded.seq},  # type: ignore[attr-defined]
        )
        self._connection.execute(
            statement, [{"source": s, "seq": int(v)} for s, v in zip(_SOURCES, cursors,
                                                                     strict=True)]
        )
        self.cursors = cursors


def read_counts(
    connection: Connection, feature: str, phase: str, first_bucket: datetime, until: datetime
) -> dict[str, int]:
    """Each counter of one phase summed over the buckets starting in ``[first_bucket, until)``."""
    table = EvidenceCountRow.__table__
    statement = (
        select(table.c.counter, func.sum(table.c.value))
        .where(table.c.feature == feature, table.c.phase == phase,
               table.c.bucket >= first_bucket, table.c.bucket < until)
        .group_by(table.c.counter)
    )
    return {str(counter): int(total) for counter, total in connection.execute(statement)}


def read_labelled_outputs(
    connection: Connection,
    feature: str,
    phase: str,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[LabelledOutput]:
    """The outputs of one phase with the newest labels in the window, newest first.

    Labels are read newest first in pages of ``limit`` (at most ten pages, so the
    read stays bounded when most labels belong to other phases); the first label
    seen of an output is its latest in the window.
    """
    outcomes, outputs = OutcomeRow.__table__, OutputRow.__table__
    base = select(outcomes.c.decision_id, outcomes.c.value, outcomes.c.ts,
                  outcomes.c.event_id).where(
        outcomes.c.feature == feature, outcomes.c.kind == OutcomeKind.LABEL.value,
        *window(outcomes, since, until),
    ).order_by(outcomes.c.ts.desc(), outcomes.c.event_id.desc()).limit(limit)
    seen: set[str] = set()
    found: list[LabelledOutput] = []
    last: tuple[datetime, str] | None = None
    for _ in range(10):
        statement = base
        if last is not None:
            statement = statement.where(
                (outcomes.c.ts < last[0])
                | ((outcomes.c.ts == last[0]) & (outcomes.c.event_id < last[1]))
            )
        page = connection.execute(statement).all()
        if not page:
            break
        last = (page[-1].ts, page[-1].event_id)
        latest = {}
        for row in page:
            if row.decision_id not in seen:
                seen.add(row.decision_id)
                latest[row.decision_id] = row
        found.extend(_with_attributes(connection, outputs, feature, phase, latest))
        if len(found) >= limit or len(page) < limit:
            break
    found.sort(key=lambda row: row.ts, reverse=True)
    return found[:limit]


def _with_attributes(
    connection: Connection, outputs: Any, feature: str, phase: str, latest: Mapping[str, Any]
) -> Sequence[LabelledOutput]:
    first: dict[str, Any] = {}
    for chunk in _chunks(latest.keys()):
        statement = (
            select(outputs.c.decision_id, outputs.c.feature, outputs.c.phase,
                   outputs.c.input_attributes)
            .where(outputs.c.decision_id.in_(chunk))
            .order_by(outputs.c.seq.desc())
        )
        # Oldest last, so the first output of a decision wins, as in the fold.
        first.update({row.decision_id: row for row in connection.execute(statement)})
    return [
        LabelledOutput(d, first[d].input_attributes, latest[d].value is True, latest[d].ts)
        for d in latest
        if d in first and first[d].feature == feature and first[d].phase == phase
    ]
