"""What recording an event costs the caller: EventWriter.submit vs its bounds.

Rows (median nanoseconds per call over repeated timed loops):
- queue.Queue.put_nowait / queue.SimpleQueue.put: the bare enqueue, the floor;
- EventWriter.submit: our enqueue, with the writer thread draining into SQLite
  at the same time (so GIL contention is included);
- SqlStore.write of one event: what a synchronous recording would cost instead.
Then the sustained throughput of the writer into each backend.

Run: .venv/bin/python benchmarks/bench_writer.py
"""

from __future__ import annotations

import queue
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from trustramp.events import ExposureEvent
from trustramp.store import EventWriter, SqlStore, open_store, upgrade

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LOOP = 1_000
REPEATS = 41


def event(i: int) -> ExposureEvent:
    return ExposureEvent("bench", "1", f"u{i}", True, "beta", "in segment")


def loop_ns(
    call: Callable[[ExposureEvent], object], events: list[ExposureEvent]
) -> tuple[float, float]:
    """(median, mean) over REPEATS loops of the ns per call within a loop of LOOP calls.

    The mean includes the loops in which the writer thread held the GIL.
    """
    samples = []
    for r in range(REPEATS):
        chunk = events[r * LOOP : (r + 1) * LOOP]
        start = time.perf_counter_ns()
        for e in chunk:
            call(e)
        samples.append((time.perf_counter_ns() - start) / len(chunk))
    return statistics.median(samples), statistics.fmean(samples)


def sync_write_ns(store: SqlStore, n: int = 200) -> tuple[float, float]:
    samples = []
    for i in range(n):
        e = event(10_000_000 + i)
        start = time.perf_counter_ns()
        store.write([e])
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples), statistics.fmean(samples)


def throughput(store: SqlStore, n: int = 50_000) -> float:
    writer = EventWriter(store, max_queue=n + 1)
    events = [event(20_000_000 + i) for i in range(n)]
    start = time.perf_counter()
    for e in events:
        writer.submit(e)
    writer.close(timeout=300)
    return n / (time.perf_counter() - start)


def postgres_ready() -> bool:
    try:
        return (
            subprocess.run(["pg_isready", "-h", "127.0.0.1"], capture_output=True).returncode == 0
        )
    except OSError:
        return False


def main() -> None:
    events = [event(i) for i in range(LOOP * REPEATS)]
    with tempfile.TemporaryDirectory() as folder:
        sqlite = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        assert isinstance(sqlite, SqlStore)
        bare = queue.Queue[ExposureEvent](maxsize=len(events) + 1)
        simple = queue.SimpleQueue[ExposureEvent]()
        writer = EventWriter(sqlite, max_queue=len(events) + 1)
        rows = [
            ("queue.Queue.put_nowait (bare)", loop_ns(bare.put_nowait, events)),
            ("queue.SimpleQueue.put (bare)", loop_ns(simple.put, events)),
            ("EventWriter.submit (thread draining)", loop_ns(writer.submit, events)),
        ]
        writer.close(timeout=120)
        dropped = writer.dropped
        rows.append(("SqlStore.write([one]) SQLite file", sync_write_ns(sqlite)))
        backends = [("SQLite file", sqlite)]
        schema = f"trustramp_bench_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(POSTGRES_URL)
        if postgres_ready():
            # A throwaway schema: the shared test database is left as it was found.
            with admin.begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            url = f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
            upgrade(url)
            postgres = open_store(url)
            assert isinstance(postgres, SqlStore)
            rows.append(("SqlStore.write([one]) PostgreSQL", sync_write_ns(postgres)))
            backends.append(("PostgreSQL", postgres))

        floor = rows[0][1][0]
        submit = rows[2][1][0]
        print(
            f"{'operation':<38} {'median ns':>11} {'mean ns':>11} "
            f"{'median vs Queue.put_nowait':>27} {'vs submit':>10}"
        )
        for name, (ns, mean) in rows:
            print(
                f"{name:<38} {ns:>11,.0f} {mean:>11,.0f} {ns / floor:>26.2f}x {ns / submit:>9.1f}x"
            )
        print(f"(submit target: < 5,000 ns; events dropped during the submit loop: {dropped})")
        print()
        print(f"{'writer throughput into':<38} {'events/s':>11}")
        for name, store in backends:
            print(f"{name:<38} {throughput(store):>11,.0f}")
        for _, store in backends:
            store.close()
        if len(backends) > 1:
            with admin.begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


if __name__ == "__main__":
    main()
