"""Health: windows of whole hours, the readiness baseline, JSON, and intervals that cover."""

from __future__ import annotations

import json
import math
import random
from datetime import timedelta

import pytest

from tests.monitor.reference import T0
from trustramp.events import ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.monitor import Monitor
from trustramp.store import ReadinessRecord, SqlStore, open_store

HOUR = timedelta(hours=1)


def output(i: int, minutes: float, action: str = "show", confidence: float = 0.9,
           **extra: object) -> OutputEvent:
    return OutputEvent(f"d{i}", "advice", "1", f"u{i}", "beta", action, "r", confidence,
                       action == "hold_for_review", ts=T0 + timedelta(minutes=minutes),
                       **extra)  # type: ignore[arg-type]


def label(i: int, minutes: float, correct: bool = True) -> OutcomeEvent:
    return OutcomeEvent(f"d{i}", "advice", OutcomeKind.LABEL, correct,
                        ts=T0 + timedelta(minutes=minutes))


def test_a_window_counts_every_hour_it_touches(store: SqlStore) -> None:
    # T0 is 08:00; outputs at 08:05, 08:55, 09:10 and 10:30.
    store.write([output(1, 5), output(2, 55), output(3, 70), output(4, 150)])
    monitor = Monitor(store)
    monitor.fold()
    assert monitor.evidence("advice", "beta", T0 + 30 * timedelta(minutes=1),
                            T0 + HOUR).outputs == 2
    assert monitor.evidence("advice", "beta", T0 + HOUR / 2, T0 + HOUR + timedelta(
        microseconds=1)).outputs == 3
    assert monitor.evidence("advice", "beta", T0 + 2 * HOUR, T0 + 3 * HOUR).outputs == 1
    evidence = monitor.evidence("advice", "beta", T0 + HOUR / 2, T0 + HOUR)
    assert evidence.since == T0 + HOUR / 2  # kept as asked; the counts are whole hours
    assert evidence.elapsed == HOUR / 2
    with pytest.raises(ValueError, match="must be before"):
        monitor.evidence("advice", "beta", T0 + HOUR, T0 + HOUR)


def test_health_windows_are_clipped_to_the_phase_start(store: SqlStore) -> None:
    store.write([output(i, 10 * i) for i in range(30)])  # 08:00 .. 12:50
    monitor = Monitor(store)
    monitor.fold()
    now = T0 + timedelta(hours=4, minutes=55)
    health = monitor.health("advice", "beta", now=now, phase_started_at=T0 + HOUR / 4)
    windows = {w.name: w for w in health.windows}
    assert list(windows) == ["last hour", "last day", "last week", "phase"]
    assert windows["last hour"].since == now - HOUR
    assert windows["last hour"].counted_since == T0 + 3 * HOUR  # 11:00
    assert windows["last hour"].evidence.outputs == 12  # 11:00 .. 12:50
    assert windows["last day"].since == windows["phase"].since == T0 + HOUR / 4
    assert windows["phase"].evidence.outputs == 30  # the first hour counts whole
    with pytest.raises(ValueError, match="is after now"):
        monitor.health("advice", "beta", now=T0, phase_started_at=T0 + HOUR)


def test_health_figures_carry_intervals_and_json_is_strict(store: SqlStore) -> None:
    rng = random.Random(3)
    events: list[object] = []
    for i in range(400):
        action = rng.choice(["show", "show", "show_flagged", "fallback", "hold_for_review",
                             "rate_limited"])
        events.append(output(i, rng.uniform(0, 600), action, round(rng.uniform(0.5, 1), 2),
                             input_attributes={"task": "table" if i % 4 == 0 else "text"}))
        if rng.random() < 0.6:
            events.append(label(i, 540, correct=not (i % 4 == 0 and i % 8 == 0)))
        if action == "hold_for_review" and rng.random() < 0.5:
            events.append(OutcomeEvent(f"d{i}", "advice", OutcomeKind.REVIEW, True,
                                       ts=T0 + timedelta(minutes=541)))
        if rng.random() < 0.05:
            events.append(OutcomeEvent(f"d{i}", "advice", OutcomeKind.TICKET, None,
                                       ts=T0 + timedelta(minutes=542)))
    events.append(ExposureEvent("advice", "1", "u1", True, "beta", "in", ts=T0))
    store.write(events)  # type: ignore[arg-type]
    with store.state_transaction("advice") as transaction:
        transaction.add_readiness(ReadinessRecord(
            "advice", "1", "f", True,
            {"baseline": {"confidence": [0.6 + 0.004 * k for k in range(100)],
                          "correct": [k % 10 != 0 for k in range(100)]}}))
    monitor = Monitor(store)
    monitor.fold()
    health = monitor.health("advice", "beta", now=T0 + timedelta(hours=11), phase_started_at=T0)
    accuracy = health.figure("accuracy", "phase")
    assert accuracy.lower is not None
    assert accuracy.upper is not None
    assert accuracy.lower < accuracy.estimate < accuracy.upper
    assert accuracy.n == health.windows[-1].evidence.accuracy.n > 200
    assert health.figure("review backlog", "phase").estimate == (
        health.windows[-1].evidence.review_backlog)
    assert health.figure("support tickets per week", "phase").lower is not None
    assert health.figure("coverage", "phase").n == 400
    drift = health.windows[-1].drift
    assert drift is not None
    assert drift.n == 100
    assert drift.m == 400
    over = health.windows[-1].overconfidence
    assert over is not None
    assert over.baseline_n == 100
    assert health.slices is not None
    assert health.slices.slices[0].description == "task = table"
    text = json.dumps(health.to_json(), allow_nan=False)
    assert '"last hour"' in text
    assert '"task = table"' in text
    empty = health.figure("accuracy", "last hour")  # no label after 17:00
    assert (empty.n, empty.lower, math.isnan(empty.estimate)) == (0, None, True)


@pytest.mark.slow
def test_health_intervals_cover_the_true_rates_at_every_look(tmp_path: object) -> None:
    """Anytime-valid: over a phase looked at every two hours, each 95% interval misses its
    true rate at some look in at most about 5% of phases."""
    store = open_store(f"sqlite:///{tmp_path}/cover.db")
    rng = random.Random(12)
    truth: dict[str, tuple[float, float, float]] = {}
    events: list[object] = []
    for f in range(100):
        feature = f"f{f}"
        accuracy, thumbs, shown = rng.uniform(0.5, 0.98), rng.uniform(0.3, 0.9), rng.random()
        truth[feature] = (accuracy, thumbs, shown)
        for i in range(120):
            ts = T0 + timedelta(minutes=rng.uniform(0, 12 * 60))
            decision = f"{feature}-{i}"
            action = "show" if rng.random() < shown else "fallback"
            events.append(OutputEvent(decision, feature, "1", "u", "beta", action, "r", 0.8,
                                      False, ts=ts))
            if rng.random() < 0.6:
                events.append(OutcomeEvent(decision, feature, OutcomeKind.LABEL,
                                           rng.random() < accuracy, ts=ts))
            if rng.random() < 0.5:
                events.append(OutcomeEvent(decision, feature, OutcomeKind.FEEDBACK,
                                           rng.random() < thumbs, ts=ts))
    store.write(events)  # type: ignore[arg-type]
    monitor = Monitor(store)
    monitor.fold()
    missed = {"accuracy": 0, "thumbs-up rate": 0, "coverage": 0}
    for feature, rates in truth.items():
        ever = dict.fromkeys(missed, False)
        for hours in range(2, 13, 2):
            health = monitor.health(feature, "beta", now=T0 + hours * HOUR,
                                    phase_started_at=T0, windows={"phase": None},
                                    slices=False)
            for metric, rate in zip(missed, rates, strict=True):
                figure = health.figure(metric, "phase")
                if figure.n and not (figure.lower or 0) <= rate <= (figure.upper or 1):
                    ever[metric] = True
        for metric in missed:
            missed[metric] += ever[metric]
    store.close()
    bound = 0.05 + 3.5 * math.sqrt(0.05 * 0.95 / len(truth))
    assert all(count / len(truth) <= bound for count in missed.values()), missed


def test_labelled_outputs_is_a_bounded_read_of_the_newest_labels(store: SqlStore) -> None:
    events: list[object] = []
    for i in range(30):
        events.append(output(i, i, input_attributes={"n": i}))
        events.append(label(i, 100 + i, correct=True))
    events.append(label(29, 200, correct=False))  # a correction: the latest label counts
    other = OutputEvent("x", "advice", "1", "u", "early", "show", "r", 0.9, False, ts=T0)
    events += [other, OutcomeEvent("x", "advice", OutcomeKind.LABEL, True,
                                   ts=T0 + timedelta(minutes=300))]
    store.write(events)  # type: ignore[arg-type]
    found = store.labelled_outputs("advice", "beta", limit=10)
    assert [row.decision_id for row in found] == [f"d{i}" for i in range(29, 19, -1)]
    assert found[0].correct is False
    assert found[0].input_attributes == {"n": 29}
    assert all(row.correct for row in found[1:])
    with pytest.raises(ValueError, match="limit=0 must be an integer >= 1"):
        store.labelled_outputs("advice", "beta", limit=0)
