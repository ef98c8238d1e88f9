"""One incremental fold costs what is new, not what is stored: 10 million events vs 10,000.

Each backend (a SQLite file, the PostgreSQL at 127.0.0.1:5432 in schemas of its own,
dropped afterwards) gets a "big" store of --events history events (default 10
million; 40% outputs, 30% exposures, 30% outcomes about earlier outputs, over 60
days) and "small" stores of only the newest 10,000 of them. Both are folded to the
end, untimed except for the big catch-up, which is reported. Then, REPEATS times, the
same 10,000 new events (35% outputs, 30% exposures, 35% outcomes: half about new
outputs, written partly before them, 45% about the recent 10,000, 5% about old
outputs, which the small store does not have) are written to the big store and to a
fresh small store, and one fold of each is timed. The goal: big / small <= 1.5.

Run: .venv/bin/python benchmarks/bench_monitor.py [--events N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import psycopg
import sqlalchemy as sa

from trustramp.events import Event, ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.monitor import FoldResult, Monitor
from trustramp.store import SqlStore, upgrade

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHUNK = 10_000  # rows per generated chunk; the small store is the last chunk
NEW = 10_000
REPEATS = 7  # the machine is shared: a median of several, interleaved
END = datetime(2026, 6, 1, tzinfo=UTC)
SPAN = timedelta(days=60)
FEATURES = ("advice", "summary", "search")
PHASES = ("beta", "early", "general")
ACTIONS = np.array(["show"] * 60 + ["show_flagged"] * 10 + ["fallback"] * 15
                   + ["hold_for_review"] * 8 + ["rate_limited"] * 4 + ["ask_user"] * 3)
KINDS = np.array(["label"] * 40 + ["feedback"] * 35 + ["review"] * 20 + ["ticket"] * 5)
PREFIXES = [f"{k:04x}a1b2c3d4e5f6" for k in range(4)]  # four writer processes
COLUMNS = {
    "exposures": ("event_id", "ts", "feature", "plan_version", "unit_id", "exposed", "phase",
                  "reason"),
    "outputs": ("event_id", "ts", "decision_id", "feature", "plan_version", "unit_id", "phase",
                "action", "reason", "confidence", "review", "label", "input_attributes"),
    "outcomes": ("event_id", "ts", "decision_id", "feature", "kind", "value", "critical",
                 "comment", "source"),
}


def ident(i: int, salt: int) -> str:
    return f"{PREFIXES[i % 4]}-{2 * i + salt:016x}"


def decision(output_number: int, total: int) -> str:
    return ident(output_number * 10 // 4, 0) if total else ""


def chunk_rows(k: int, total: int) -> dict[str, list[tuple[object, ...]]]:
    """Rows k*CHUNK .. (k+1)*CHUNK of a history of ``total`` events (4 outputs, 3
    exposures, 3 outcomes in every 10 rows), ts as UTC text."""
    rng = np.random.default_rng(k)
    index = np.arange(k * CHUNK, (k + 1) * CHUNK)
    stamps = (np.datetime64((END - SPAN).replace(tzinfo=None), "us")
              + (index * (SPAN / timedelta(microseconds=1)) // total).astype("timedelta64[us]"))
    ts = np.char.replace(np.datetime_as_string(stamps, unit="us"), "T", " ").tolist()
    slot = index % 10
    rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in COLUMNS}
    actions = rng.choice(ACTIONS, CHUNK).tolist()
    confidence = np.round(rng.beta(8, 2, CHUNK), 4).tolist()
    kinds = rng.choice(KINDS, CHUNK).tolist()
    good = (rng.random(CHUNK) < 0.85).tolist()
    lag = rng.geometric(1 / 2000, CHUNK).tolist()
    for r, (i, s) in enumerate(zip(index.tolist(), slot.tolist(), strict=True)):
        if s < 4:
            number = i // 10 * 4 + s
            feature, phase = FEATURES[number % 3], PHASES[number // 3 % 3]
            held = actions[r] == "hold_for_review"
            rows["outputs"].append((ident(i, 1), ts[r], ident(i, 0), feature, "1",
                                    f"u{i % 50_000}", phase, actions[r], "r", confidence[r],
                                    held or r % 50 == 0, None,
                                    f'{{"task": "t{i % 4}", "length": {i % 700}}}'))
        elif s < 7:
            rows["exposures"].append((ident(i, 1), ts[r], FEATURES[i % 3], "1",
                                      f"u{i % 50_000}", r % 5 != 0, PHASES[i // 3 % 3], "r"))
        else:
            target = max(0, i // 10 * 4 - lag[r])  # an earlier output, usually recent
            output_row = target // 4 * 10 + target % 4
            kind = kinds[r]
            rows["outcomes"].append((ident(i, 1), ts[r], ident(output_row, 0),
                                     FEATURES[target % 3], kind,
                                     None if kind == "ticket" else good[r], r % 400 == 0,
                                     None, "bench"))
    return rows


def history(total: int, first_chunk: int = 0) -> Iterator[dict[str, list[tuple[object, ...]]]]:
    for k in range(first_chunk, total // CHUNK):
        yield chunk_rows(k, total)


def load_sqlite(path: Path, total: int, first_chunk: int) -> None:
    upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous = OFF")
    seq = {name: first_chunk * CHUNK * share // 10
           for name, share in (("exposures", 3), ("outputs", 4), ("outcomes", 3))}
    for rows in history(total, first_chunk):
        for name, values in rows.items():
            columns = (*COLUMNS[name], "seq")
            start = seq[name]
            numbered = [(*row, start + n + 1) for n, row in enumerate(values)]
            seq[name] += len(values)
            connection.executemany(
                f"INSERT INTO {name} ({', '.join(columns)}) VALUES "
                f"({', '.join('?' * len(columns))})", numbered)
        connection.commit()
    connection.close()


def schema_url(schema: str) -> str:
    return f"{POSTGRES}?options={quote(f'-csearch_path={schema}')}"


def load_postgres(schema: str, total: int, first_chunk: int) -> str:
    url = schema_url(schema)
    with sa.create_engine(POSTGRES).begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    upgrade(url)
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres",
                         options=f"-csearch_path={schema}") as connection:
        for rows in history(total, first_chunk):
            with connection.cursor() as cursor:
                for name, values in rows.items():
                    statement = f"COPY {name} ({', '.join(COLUMNS[name])}) FROM STDIN"
                    with cursor.copy(statement) as copy:
                        for row in values:
                            copy.write_row((row[0], row[1] + "+00", *row[2:]))
            connection.commit()
        connection.autocommit = True
        for name in (*COLUMNS, "evidence_counts"):
            connection.execute(f"VACUUM ANALYZE {name}")
    return url


def new_events(r: int, total: int) -> list[Event]:
    """The 10,000 events of repeat r: the same for the big and the small store."""
    rng = random.Random(r)
    at = END + timedelta(minutes=10 * r)
    recent = [ident(i, 0) for i in range(total - CHUNK, total) if i % 10 < 4]
    old = [ident(i, 0) for i in range(0, total - CHUNK, 997) if i % 10 < 4]
    outputs = [OutputEvent(f"new{r}-{k}", FEATURES[k % 3], "1", f"u{k}", PHASES[k // 3 % 3],
                           str(rng.choice(ACTIONS)), "r", rng.betavariate(8, 2),
                           rng.random() < 0.1, input_attributes={"task": f"t{k % 4}"},
                           ts=at + timedelta(seconds=k / 10))
               for k in range(NEW * 35 // 100)]
    events: list[Event] = list(outputs)
    events += [ExposureEvent(FEATURES[k % 3], "1", f"u{k}", True, PHASES[k % 3], "r",
                             ts=at + timedelta(seconds=k / 10)) for k in range(NEW * 30 // 100)]
    for k in range(NEW - len(events)):
        pick = rng.random()
        target = (rng.choice(outputs).decision_id if pick < 0.5 else
                  rng.choice(recent) if pick < 0.95 else rng.choice(old))
        kind = OutcomeKind(str(rng.choice(KINDS)))
        events.append(OutcomeEvent(target, FEATURES[k % 3], kind,
                                   None if kind is OutcomeKind.TICKET else rng.random() < 0.85,
                                   ts=at + timedelta(seconds=k / 10)))
    rng.shuffle(events)  # outcomes before their outputs, as independent writers produce
    return events


def write(store: SqlStore, events: list[Event]) -> None:
    for start in range(0, len(events), 500):  # EventWriter's batch size
        store.write(events[start : start + 500])


def catch_up(store: SqlStore) -> tuple[float, int]:
    monitor, rows, start = Monitor(store, batch=20_000), 0, time.perf_counter()
    while True:
        result = monitor.fold(limit=10**9)
        rows += result.rows_read
        if result.caught_up:
            return time.perf_counter() - start, rows


def timed_fold(store: SqlStore) -> tuple[float, FoldResult]:
    start = time.perf_counter()
    result = Monitor(store).fold()
    return time.perf_counter() - start, result


def count(store: SqlStore) -> int:
    with store.engine.connect() as connection:
        return sum(int(connection.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() or 0)
                   for t in COLUMNS)


def run_backend(name: str, total: int, folder: Path) -> list[dict[str, object]]:
    schemas: list[str] = []

    def build(label: str, first_chunk: int) -> SqlStore:
        start = time.perf_counter()
        if name == "SQLite file":
            path = folder / f"{label}.db"
            load_sqlite(path, total, first_chunk)
            url = f"sqlite:///{path}"
        else:
            schemas.append(f"bench_monitor_{label}_{uuid.uuid4().hex[:8]}")
            url = load_postgres(schemas[-1], total, first_chunk)
        if label == "big":
            print(f"  {name}: loaded {total:,} events in {time.perf_counter() - start:.0f} s")
        return SqlStore(url)

    try:
        big = build("big", 0)
        seconds, rows = catch_up(big)
        print(f"  {name}: first fold of the history: {rows:,} rows in {seconds:.0f} s "
              f"({rows / seconds:,.0f} rows/s)")
        samples: dict[str, list[tuple[float, FoldResult, int]]] = {"big": [], "small": []}
        for r in range(REPEATS):
            small = build(f"small{r}", total // CHUNK - 1)
            catch_up(small)
            batch = new_events(r, total)
            for label, store in (("big", big), ("small", small)):
                write(store, batch)
                held = count(store)
                seconds, result = timed_fold(store)
                samples[label].append((seconds, result, held))
            small.close()
        big.close()
    finally:
        with sa.create_engine(POSTGRES).begin() as connection:
            for schema in schemas:
                connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    out = []
    for label in ("big", "small"):
        times = [s for s, _, _ in samples[label]]
        _, result, held = samples[label][-1]
        out.append({"backend": name, "store": held, "new": NEW, "rows": result.rows_read,
                    "history": result.history_rows, "seconds": statistics.median(times),
                    "low": min(times), "high": max(times)})
    return out


def print_table(rows: list[dict[str, object]]) -> None:
    print(f"{'backend':<12} {'events in store':>16} {'new events':>11} {'rows read':>10} "
          f"{'history rows':>13} {'fold ms (median)':>17} {'min-max ms':>12} {'vs small':>9}")
    for row in rows:
        small = next(r for r in rows if r["backend"] == row["backend"] and r["store"] == min(
            x["store"] for x in rows if x["backend"] == row["backend"]))
        ratio = float(row["seconds"]) / float(small["seconds"])
        spread = f"{1000 * row['low']:.0f}-{1000 * row['high']:.0f}"
        print(f"{row['backend']:<12} {row['store']:>16,} {row['new']:>11,} {row['rows']:>10,} "
              f"{row['history']:>13,} {1000 * float(row['seconds']):>17,.0f} "
              f"{spread:>12} {ratio:>8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000,
                        help="history events in the big store (a multiple of 10,000)")
    total = parser.parse_args().events // CHUNK * CHUNK
    begun = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="bench_monitor_", dir="/work"))
    rows: list[dict[str, object]] = []
    try:
        for backend in ("SQLite file", "PostgreSQL"):
            rows += run_backend(backend, total, folder)
            print(subprocess.run(["df", "-h", "/work"], capture_output=True, text=True)
                  .stdout.splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print_table(rows)
    print(f"(goal: big / small <= 1.5; {REPEATS} repeats; whole run "
          f"{time.perf_counter() - begun:.0f} s)")


if __name__ == "__main__":
    main()
