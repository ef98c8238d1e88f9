"""EventWriter: drains on close, never blocks on a slow store, counts what it drops."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path

import pytest

from trustramp.events import ExposureEvent
from trustramp.store import EventWriter, SqlStore, open_store

from .gated import CountingStore, GatedStore, exposure


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    open_store(url).close()  # create the schema
    return url


def test_close_drains_every_queued_event(store: SqlStore) -> None:
    writer = EventWriter(store, batch_size=64, flush_interval=0.01)
    assert all(writer.submit(exposure(i)) for i in range(1000))
    assert writer.close(timeout=30)
    assert writer.close()  # idempotent
    assert (writer.written, writer.dropped, writer.failed) == (1000, 0, 0)
    assert len(store.exposures("advice")) == 1000
    assert not writer.submit(exposure(1001))  # closed: refused and counted
    assert writer.dropped == 1


def test_submit_never_blocks_on_a_slow_store_and_counts_drops(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = GatedStore(sqlite_url)
    writer = EventWriter(store, max_queue=50, batch_size=10, flush_interval=0)
    assert writer.submit(exposure(0))
    assert store.entered.wait(10)  # the writer thread is now stuck inside write()
    results: list[bool] = []

    def producer() -> None:
        results.extend(writer.submit(exposure(i)) for i in range(1, 81))

    with caplog.at_level(logging.WARNING, logger="trustramp.store.writer"):
        thread = threading.Thread(target=producer)
        thread.start()
        thread.join(timeout=10)  # generous: a blocking submit would never return
        assert not thread.is_alive(), "submit blocked while the store was slow"
    assert results == [True] * 50 + [False] * 30
    assert writer.dropped == 30
    warnings = [r for r in caplog.records if "queue is full" in r.getMessage()]
    assert len(warnings) == 1  # said once, not 30 times
    store.gate.set()
    assert writer.close(timeout=30)
    assert (writer.written, writer.failed) == (51, 0)
    assert len(store.exposures("advice")) == 51


def test_transient_failures_are_retried_then_given_up_without_raising(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = CountingStore(sqlite_url, failures=2)
    writer = EventWriter(flaky, max_retries=3, retry_delay=0.001, flush_interval=0)
    writer.submit(exposure(0))
    assert writer.flush(timeout=10)
    assert (writer.written, writer.failed, flaky.calls) == (1, 0, 3)

    down = CountingStore(sqlite_url, failures=10**6)
    writer2 = EventWriter(down, max_retries=2, retry_delay=0.001, flush_interval=0)
    with caplog.at_level(logging.ERROR, logger="trustramp.store.writer"):
        writer2.submit(exposure(1))
        assert writer2.flush(timeout=10)
    assert (writer2.written, writer2.failed, down.calls) == (0, 1, 3)
    assert any("after 3 attempts" in r.getMessage() for r in caplog.records)
    writer.close()
    writer2.close()


def test_an_invalid_event_fails_alone_not_with_its_batch(sqlite_url: str) -> None:
    store = GatedStore(sqlite_url)
    writer = EventWriter(store, batch_size=100, flush_interval=0)
    writer.submit(exposure(0))
    assert store.entered.wait(10)
    bad = ExposureEvent("advice", "1", "naive", True, "beta", "r", ts=datetime(2026, 1, 1))
    for event in [exposure(1), bad, exposure(2)]:
        writer.submit(event)
    store.gate.set()
    assert writer.close(timeout=30)
    assert (writer.written, writer.failed) == (3, 1)
    assert sorted(e.unit_id for e in store.exposures("advice")) == ["u0", "u1", "u2"]


def test_flush_waits_for_events_submitted_before_it(store: SqlStore) -> None:
    writer = EventWriter(store, flush_interval=5.0)  # long batching window
    for i in range(20):
        writer.submit(exposure(i))
    assert writer.flush(timeout=10)  # does not wait out the 5 s window
    assert len(store.exposures("advice")) == 20
    writer.close()


def test_flush_reports_a_timeout_and_keeps_the_events(sqlite_url: str) -> None:
    store = GatedStore(sqlite_url)
    writer = EventWriter(store, flush_interval=0)
    writer.submit(exposure(0))
    assert store.entered.wait(10)
    writer.submit(exposure(1))
    assert writer.flush(timeout=0.05) is False  # the store is stuck: not flushed yet
    store.gate.set()
    assert writer.flush(timeout=30)
    assert writer.written == 2
    writer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_records_through_its_own_writer_thread(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    writer = EventWriter(store, flush_interval=0)
    writer.submit(exposure(0))
    assert writer.flush(timeout=10)  # the parent now holds a pooled connection
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery, report through the exit code
        ok = False
        try:
            results = [writer.submit(exposure(i)) for i in range(1, 11)]
            ok = all(results) and writer.close(timeout=5) and writer.written == 10
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(store.exposures("advice")) == 11
    assert writer.written == 1  # the parent's own count is untouched
    writer.close()


def test_events_are_written_at_interpreter_exit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'exit.db'}"
    program = textwrap.dedent(
        f"""
        from trustramp.events import ExposureEvent
        from trustramp.store import EventWriter, open_store
        writer = EventWriter(open_store({url!r}), flush_interval=1.0)
        for i in range(500):
            writer.submit(ExposureEvent("advice", "1", f"u{{i}}", True, "beta", "r"))
        # no flush, no close: atexit must drain the queue
        """
    )
    subprocess.run([sys.executable, "-c", program], check=True, timeout=60)
    assert len(open_store(url).exposures("advice")) == 500


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_queue": 0}, "max_queue=0 must be an integer >= 1"),
        ({"batch_size": 2.5}, "batch_size=2.5 must be an integer >= 1"),
        ({"flush_interval": -1}, "flush_interval=-1 must be a number of seconds >= 0"),
        ({"max_retries": -1}, "max_retries=-1 must be an integer >= 0"),
    ],
)
def test_bad_settings_are_refused(sqlite_url: str, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EventWriter(open_store(sqlite_url), **kwargs)  # type: ignore[arg-type]
