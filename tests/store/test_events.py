"""Events go in and come back out unchanged, once, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from trustramp.events import ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store import SqlStore

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_FIVE = timezone(timedelta(hours=5, minutes=30))


def sample_events() -> list[ExposureEvent | OutputEvent | OutcomeEvent]:
    return [
        ExposureEvent("summarize", "v3", "u1", True, "beta", "in power_users", ts=T0),
        ExposureEvent("summarize", "v3", "u2", False, None, "outside every segment", ts=T0),
        OutputEvent(
            decision_id="d1",
            feature="summarize",
            plan_version="v3",
            unit_id="u1",
            phase="beta",
            action="show_flagged",
            reason="confidence 0.83 < 0.9",
            confidence=0.83,
            review=True,
            label="AI-generated - verify thoroughly",
            input_attributes={"task": "email", "length": 420, "tags": ["a", "b"], "x": None},
            # a non-UTC offset: the store must keep the instant and return it as UTC
            ts=(T0 + timedelta(seconds=1)).astimezone(PLUS_FIVE),
        ),
        OutputEvent("d2", "summarize", "v3", "u2", None, "fallback", "killed", None, False),
        OutcomeEvent("d1", "summarize", OutcomeKind.FEEDBACK, True, comment="nice", ts=T0),
        OutcomeEvent("d1", "summarize", OutcomeKind.LABEL, False, critical=True, source="qa"),
        OutcomeEvent("d1", "summarize", OutcomeKind.REVIEW, True, source="rev-7"),
        OutcomeEvent("d1", "summarize", OutcomeKind.TICKET, None, comment="wrong total"),
    ]


def test_every_event_kind_round_trips_with_aware_utc_timestamps(store: SqlStore) -> None:
    events = sample_events()
    store.write(events)

    read: list[ExposureEvent | OutputEvent | OutcomeEvent] = [
        *store.exposures("summarize"),
        *store.outputs("summarize"),
        *store.outcomes("summarize"),
    ]
    by_id = {event.event_id: event for event in read}
    assert set(by_id) == {event.event_id for event in events}
    for original in events:
        back = by_id[original.event_id]
        assert back == original  # dataclass equality: every field, the instant included
        assert back.ts.utcoffset() == timedelta(0)
        assert back.ts.tzinfo is not None
    outcome = by_id[events[4].event_id]
    assert isinstance(outcome, OutcomeEvent)
    assert type(outcome.kind) is OutcomeKind


def test_retried_batch_adds_nothing(store: SqlStore) -> None:
    events = sample_events()
    store.write(events[:3])
    store.write(events)  # the writer retries a batch after a partial failure
    store.write(events)
    store.write([events[0], events[0], events[5], events[5]])  # repeats inside one batch
    assert len(store.exposures("summarize")) == 2
    assert len(store.outputs("summarize")) == 2
    assert len(store.outcomes("summarize")) == 4


def test_filters_by_phase_kind_and_half_open_window(store: SqlStore) -> None:
    exposures = [
        ExposureEvent(
            "f", "1", f"u{i}", True, "beta" if i % 2 else "ga", "r", ts=T0 + timedelta(minutes=i)
        )
        for i in range(6)
    ]
    store.write(exposures)
    store.write([ExposureEvent("other", "1", "u9", True, "beta", "r", ts=T0)])
    assert [e.unit_id for e in store.exposures("f", phase="beta")] == ["u1", "u3", "u5"]
    window = store.exposures("f", since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert [e.unit_id for e in window] == ["u2", "u3"]  # until is exclusive
    store.write(sample_events())
    assert [o.kind for o in store.outcomes("summarize", kind=OutcomeKind.LABEL)] == [
        OutcomeKind.LABEL
    ]
    assert store.outputs("summarize", phase="beta")[0].decision_id == "d1"


def test_windows_compare_instants_not_wall_clocks(store: SqlStore) -> None:
    # 12:00 at +05:30 is 06:30 UTC: earlier than 07:00 UTC despite the larger wall clock.
    early = ExposureEvent(
        "f", "1", "early", True, "beta", "r", ts=datetime(2026, 3, 1, 12, 0, tzinfo=PLUS_FIVE)
    )
    late = ExposureEvent(
        "f", "1", "late", True, "beta", "r", ts=datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    )
    store.write([late, early])
    assert [e.unit_id for e in store.exposures("f")] == ["early", "late"]
    since = datetime(2026, 3, 1, 12, 15, tzinfo=PLUS_FIVE)  # 06:45 UTC
    assert [e.unit_id for e in store.exposures("f", since=since)] == ["late"]
    until = datetime(2026, 3, 1, 6, 45, tzinfo=UTC)
    assert [e.unit_id for e in store.exposures("f", until=until)] == ["early"]


def test_invalid_events_are_refused_before_anything_is_written(store: SqlStore) -> None:
    good = ExposureEvent("f", "1", "u1", True, "beta", "r", ts=T0)
    naive = ExposureEvent("f", "1", "u2", True, "beta", "r", ts=datetime(2026, 3, 1, 12))
    with pytest.raises(ValueError, match=r"events\[1\].*ts.*naive"):
        store.write([good, naive])
    not_json = OutputEvent(
        "d", "f", "1", "u", "beta", "show", "r", 0.9, False, input_attributes={"when": object()}
    )
    with pytest.raises(ValueError, match=r"events\[0\].*input_attributes must be JSON"):
        store.write([not_json])
    nan = OutputEvent("d", "f", "1", "u", "beta", "show", "r", float("nan"), False)
    with pytest.raises(ValueError, match="confidence=nan must be finite"):
        store.write([nan])
    with pytest.raises(ValueError, match="expected ExposureEvent"):
        store.write(["not an event"])  # type: ignore[list-item]
    assert store.exposures("f") == []
    assert store.outputs("f") == []


def test_bad_windows_are_refused(store: SqlStore) -> None:
    with pytest.raises(ValueError, match=r"since=.* must be before until"):
        store.exposures("f", since=T0, until=T0)
    with pytest.raises(ValueError, match=r"until=.*naive"):
        store.outcome_counts("f", until=datetime(2026, 1, 1))
