"""A fold step is one transaction: a crash loses nothing and counts nothing twice; on
PostgreSQL the fold never moves its cursor past a row still being written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql

from tests.monitor.reference import T0, batches, expected_counts, history, stored_counts
from trustramp.events import OutputEvent
from trustramp.monitor import FoldResult, Monitor
from trustramp.store import SqlStore, open_store, rows
from trustramp.store.aggregates import SqlMonitorTransaction
from trustramp.store.database import lock_event_tables
from trustramp.store.models import MonitorCursorRow, OutcomeRow, OutputRow, metadata


class CrashError(RuntimeError):
    pass


@pytest.mark.parametrize("where", ["add_counts", "move_cursors"])
def test_a_crash_inside_a_step_neither_loses_nor_double_counts(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    for batch in batches(history(11), 11):
        store.write(batch)
    original = getattr(SqlMonitorTransaction, where)
    calls = {"n": 0}

    def crash_on_third(self: SqlMonitorTransaction, *args: Any) -> None:
        calls["n"] += 1
        original(self, *args)  # the statement ran: only the rollback can undo it
        if calls["n"] == 3:
            raise CrashError("killed between two statements of a fold step")

    monkeypatch.setattr(SqlMonitorTransaction, where, crash_on_third)
    monitor = Monitor(store, batch=40)
    with pytest.raises(CrashError):
        monitor.fold()
    assert _rows_below_cursor(store) == 2 * 40  # two steps committed, the third did not
    partial = stored_counts(store)
    monkeypatch.setattr(SqlMonitorTransaction, where, original)
    monitor.fold()
    assert stored_counts(store) == expected_counts(store)
    assert partial != stored_counts(store)


def _rows_below_cursor(store: SqlStore) -> int:
    """Outcome rows at or below the monitor's outcome cursor."""
    cursors, outcomes = MonitorCursorRow.__table__, OutcomeRow.__table__
    with store.engine.connect() as connection:
        cursor = connection.scalar(
            sa.select(cursors.c.seq).where(cursors.c.source == "outcomes")) or 0
        return int(connection.scalar(
            sa.select(sa.func.count()).where(outcomes.c.seq <= cursor)) or 0)


@pytest.fixture
def pg_store(postgres_store_url: str) -> Iterator[SqlStore]:
    engine = sa.create_engine(postgres_store_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in metadata.sorted_tables)}")
    engine.dispose()
    opened = open_store(postgres_store_url)
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()


def output(decision: str) -> OutputEvent:
    return OutputEvent(decision, "advice", "1", "u1", "beta", "show", "r", 0.9, False, ts=T0)


@contextmanager
def writer_in_flight(store: SqlStore, decision: str) -> Iterator[tuple[Connection, int]]:
    """A write transaction that drew its seq and has not committed (rolled back unless the
    test commits it), released whatever the test asserts."""
    connection = store.engine.connect()
    try:
        connection.begin()
        lock_event_tables(connection)  # as SqlStore.write does, before drawing a seq
        row = rows.event_rows([output(decision)])[OutputEvent][0]
        seq = connection.execute(
            postgresql.insert(OutputRow).values(row).returning(OutputRow.seq)).scalar_one()
        yield connection, seq
    finally:
        connection.close()


@pytest.mark.postgres
def test_a_writer_still_in_flight_is_not_skipped(pg_store: SqlStore) -> None:
    results: list[FoldResult] = []
    folding = threading.Thread(target=lambda: results.append(Monitor(pg_store).fold()))
    with writer_in_flight(pg_store, "slow") as (slow, early_seq):
        pg_store.write([output("fast")])  # draws a later seq and commits first
        with pg_store.engine.connect() as look:
            visible = look.execute(sa.select(OutputRow.seq, OutputRow.decision_id)).all()
        # The hazard is real: a reader that took max(seq) now would pass the slow row by.
        assert [d for _, d in visible] == ["fast"]
        assert visible[0][0] > early_seq
        folding.start()
        time.sleep(0.5)
        waited = folding.is_alive()
        slow.commit()
    folding.join(timeout=20)
    assert waited, "the fold took its horizon while a writer was in flight"
    assert not folding.is_alive()
    assert results[0].outputs == 2
    evidence = Monitor(pg_store).evidence("advice", "beta", T0, T0 + timedelta(hours=1))
    assert evidence.outputs == 2


@pytest.mark.postgres
def test_writers_are_not_held_up_by_each_other(pg_store: SqlStore) -> None:
    done = threading.Event()

    def write() -> None:
        pg_store.write([output("other")])
        done.set()

    writer = threading.Thread(target=write)
    with writer_in_flight(pg_store, "slow"):
        writer.start()
        finished = done.wait(10)
    writer.join(timeout=20)
    assert finished, "a writer waited for another writer's shared lock"
