"""EventWriter under failure: refused events fail alone, outages fail their batch, nothing hangs."""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any

import pytest

from trustramp.events import Event, ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store import EventWriter, SqlStore, open_store
from trustramp.store.rows import event_rows

from .gated import CountingStore, GatedStore, exposure


@pytest.fixture
def migrated_url(store_url: str) -> str:
    open_store(store_url).close()  # SQLite: create the schema; PostgreSQL: already there
    return store_url


def test_nul_characters_fail_alone_on_both_backends(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    writer = EventWriter(store, flush_interval=5.0)  # one batch: all seven arrive first
    good = [exposure(i) for i in range(5)]
    bad_comment = OutcomeEvent("d1", "advice", OutcomeKind.FEEDBACK, False, comment="bad\x00")
    bad_attributes = OutputEvent(
        "d2", "advice", "1", "u1", "beta", "show", "r", 0.9, False, None, {"q": "a\u0000b"}
    )
    batch: list[Event] = [*good[:3], bad_comment, *good[3:], bad_attributes]
    with caplog.at_level(logging.ERROR, logger="trustramp.store.writer"):
        for event in batch:
            assert writer.submit(event)
        assert writer.flush(timeout=30)
    assert (writer.written, writer.failed) == (5, 2)
    assert sorted(e.unit_id for e in store.exposures("advice")) == ["u0", "u1", "u2", "u3", "u4"]
    assert store.outputs("advice") == []
    assert store.outcomes("advice") == []
    messages = "\n".join(r.getMessage() for r in caplog.records)
    assert "comment contains a NUL character" in messages
    assert "input_attributes['q'] contains a NUL character" in messages
    writer.close()


@pytest.mark.parametrize(
    ("attributes", "path"),
    [
        ({"task": "ok", "deep": [1, {"x": "a\x00"}]}, "input_attributes['deep'][1]['x']"),
        ({"ok": {"k\x00": 1}}, "input_attributes['ok'] key 'k\\x00'"),
    ],
)
def test_a_nul_is_named_by_its_path_in_the_attributes(
    attributes: dict[str, Any], path: str
) -> None:
    event = OutputEvent("d", "advice", "1", "u", None, "show", "r", 0.5, False, None, attributes)
    with pytest.raises(ValueError, match=re.escape(f"): {path} contains a NUL character")):
        event_rows([event])


def test_a_literal_backslash_u0000_is_not_a_nul() -> None:
    # The JSON pre-check looks for the escape \u0000; six ordinary characters must pass.
    event = OutputEvent(
        "d", "advice", "1", "u", None, "show", "r", 0.5, False, None, {"q": "\\u0000"}
    )
    assert len(event_rows([event])[OutputEvent]) == 1


def test_an_event_the_database_refuses_fails_alone_by_bisection(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # unit_id=None passes the checks before SQL and is refused by the NOT NULL
    # constraint on both dialects: a per-event failure surfacing as a StoreError.
    refused = ExposureEvent("advice", "1", None, True, "beta", "r")  # type: ignore[arg-type]
    assert len(event_rows([refused])[ExposureEvent]) == 1
    store = CountingStore(migrated_url)
    writer = EventWriter(store, batch_size=100, flush_interval=5.0, retry_delay=0.001)
    events: list[ExposureEvent] = [exposure(i) for i in range(64)]
    events[10] = refused
    events[50] = ExposureEvent("advice", "1", None, True, "beta", "r")  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="trustramp.store.writer"):
        for event in events:
            writer.submit(event)
        assert writer.flush(timeout=30)
    assert (writer.written, writer.failed) == (62, 2)
    assert len(store.exposures("advice")) == 62
    # Bisection, not one write per event and not retries of the same data:
    # two refused events in 64 cost at most 1 + 2 * 2 * log2(64) writes.
    assert store.calls <= 1 + 2 * 2 * 6
    refusals = sorted(r.getMessage() for r in caplog.records if "store rejected" in r.getMessage())
    assert len(refusals) == 2
    assert all("could not write events" in message for message in refusals)
    # Each log line names the refused event, which the database's message does not.
    for refused_event in (events[10], events[50]):
        name = f"dropped ExposureEvent {refused_event.event_id!r}, which"
        assert sum(name in message for message in refusals) == 1
    writer.close()
    store.close()


def test_an_outage_fails_the_whole_batch_after_retries_without_bisecting() -> None:
    # Nothing listens on port 1: a real connection failure, not the data's fault.
    down = CountingStore("postgresql+psycopg://u@127.0.0.1:1/db")
    writer = EventWriter(down, batch_size=100, flush_interval=5.0, max_retries=1, retry_delay=0)
    for i in range(10):
        writer.submit(exposure(i))
    assert writer.flush(timeout=60)
    assert (writer.written, writer.failed, down.calls) == (0, 10, 2)
    writer.close()
    down.close()


def test_flush_after_a_timed_out_close_returns_instead_of_hanging(migrated_url: str) -> None:
    store = GatedStore(migrated_url)
    writer = EventWriter(store, flush_interval=0)
    writer.submit(exposure(0))
    assert store.entered.wait(10)  # the writer thread is stuck inside write()
    assert writer.close(timeout=0.5) is False
    assert writer.close(timeout=0.1) is False  # again: waits its timeout, then says so
    results: list[tuple[bool, float]] = []

    def flush(timeout: float | None) -> None:
        start = time.monotonic()
        results.append((writer.flush(timeout), time.monotonic() - start))

    bounded = threading.Thread(target=flush, args=(1.0,), daemon=True)
    bounded.start()
    bounded.join(10)
    assert not bounded.is_alive(), "flush(timeout=1) hung after a timed-out close"
    flushed, waited = results.pop()
    assert flushed is False  # the event is still being written
    assert waited >= 1.0  # it did wait for the thread, up to its timeout
    unbounded = threading.Thread(target=flush, args=(None,), daemon=True)
    unbounded.start()
    store.gate.set()
    unbounded.join(10)
    assert not unbounded.is_alive(), "flush() hung although the writer thread finished"
    assert results.pop()[0] is True
    assert (writer.written, writer.failed) == (1, 0)
    assert writer.close() is True
    assert len(store.exposures("advice")) == 1
    store.close()


def test_flushes_and_closes_racing_each_other_all_return_once_the_store_recovers(
    migrated_url: str,
) -> None:
    store = GatedStore(migrated_url)
    writer = EventWriter(store, flush_interval=0)
    writer.submit(exposure(0))
    assert store.entered.wait(10)
    writer.submit(exposure(1))
    results: list[bool] = []
    start = threading.Barrier(6)

    def run(call: str) -> None:
        start.wait()
        results.append(writer.flush(None) if call == "flush" else writer.close(None))

    threads = [
        threading.Thread(target=run, args=(call,), daemon=True)
        for call in ["flush", "close", "flush", "close", "flush", "flush"]
    ]
    for thread in threads:
        thread.start()
    store.gate.set()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads), "a flush or close hung"
    assert results == [True] * 6
    assert (writer.written, writer.failed) == (2, 0)
    store.close()
