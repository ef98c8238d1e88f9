"""``seq``: every event row has an ingestion position, later writes get larger ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from trustramp.events import ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store import SqlStore, upgrade
from trustramp.store.database import create_store_engine, parse_database_url
from trustramp.store.migrate import alembic_config
from trustramp.store.models import ExposureRow, OutcomeRow, OutputRow

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def seqs(store_or_url: SqlStore | str, table: sa.Table) -> dict[str, int]:
    engine = (store_or_url.engine if isinstance(store_or_url, SqlStore)
              else sa.create_engine(store_or_url))
    with engine.connect() as connection:
        found = {e: int(s) for e, s in connection.execute(sa.select(table.c.event_id,
                                                                    table.c.seq))}
    if not isinstance(store_or_url, SqlStore):
        engine.dispose()
    return found


def output(i: int) -> OutputEvent:
    return OutputEvent(f"d{i}", "advice", "1", "u1", "beta", "show", "r", 0.5, False,
                       event_id=f"out-{i:03d}", ts=T0)


def test_later_writes_get_larger_positions_and_a_retry_gets_none(store: SqlStore) -> None:
    store.write([output(1), output(2)])
    store.write([output(3), output(2)])  # output 2 again: a retried batch
    store.write([output(4)])
    found = seqs(store, OutputRow.__table__)  # type: ignore[arg-type]
    assert sorted(found) == ["out-001", "out-002", "out-003", "out-004"]
    assert found["out-001"] < found["out-003"] < found["out-004"]
    assert found["out-002"] < found["out-003"]
    assert len(set(found.values())) == 4


def test_each_event_table_is_numbered(store: SqlStore) -> None:
    store.write([ExposureEvent("advice", "1", "u1", True, "beta", "r", event_id="x1"),
                 OutcomeEvent("d1", "advice", OutcomeKind.LABEL, True, event_id="o1"),
                 OutcomeEvent("d1", "advice", OutcomeKind.LABEL, True, event_id="o2")])
    assert set(seqs(store, ExposureRow.__table__)) == {"x1"}  # type: ignore[arg-type]
    positions = seqs(store, OutcomeRow.__table__)  # type: ignore[arg-type]
    assert positions["o1"] < positions["o2"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


def test_the_migration_numbers_the_rows_written_before_it(empty_url: str) -> None:
    engine = create_store_engine(parse_database_url(empty_url))
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "r0002")
    with engine.begin() as connection:
        for i in range(5):
            connection.execute(sa.text(
                "INSERT INTO outputs (event_id, ts, decision_id, feature, plan_version, "
                "unit_id, phase, action, reason, confidence, review, label, input_attributes) "
                "VALUES (:e, :ts, :d, 'advice', '1', 'u', 'beta', 'show', 'r', 0.5, false, "
                "NULL, '{}')"), {"e": f"old-{4 - i}", "d": f"d{i}", "ts": T0})
    engine.dispose()
    upgrade(empty_url)
    store = SqlStore(empty_url)
    store.write([output(9)])
    found = seqs(store, OutputRow.__table__)  # type: ignore[arg-type]
    store.close()
    old = [found[f"old-{4 - i}"] for i in range(5)]
    assert len(set(found.values())) == 6
    assert old == sorted(old)  # in the order they were written
    assert max(old) < found["out-009"]


def test_concurrent_writers_get_distinct_positions(store_url: str) -> None:
    import threading

    upgrade(store_url)
    stores = [SqlStore(store_url) for _ in range(4)]
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for b in range(20):
                stores[k].write([output(1000 * k + 10 * b + i) for i in range(5)])
        except BaseException as exc:  # collected: the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = seqs(stores[0], OutputRow.__table__)  # type: ignore[arg-type]
    for opened in stores:
        opened.close()
    assert errors == []
    assert len(found) == 400
    assert len(set(found.values())) == 400
