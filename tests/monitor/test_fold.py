"""The incremental fold equals a count from scratch, however the events arrive and are folded."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from tests.monitor.reference import (
    PHASES,
    T0,
    batches,
    expected_counts,
    expected_streams,
    history,
    stored_counts,
)
from trustramp.events import OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.monitor import Monitor
from trustramp.store import SqlStore, open_store

EVERYTHING = (T0 - timedelta(days=2), T0 + timedelta(days=10))


def streams_of(results: list[object]) -> tuple[Counter[object], Counter[object]]:
    accuracy: Counter[object] = Counter()
    thumbs: Counter[object] = Counter()
    for result in results:
        for key, values in result.accuracy_stream.items():  # type: ignore[attr-defined]
            accuracy.update((key, v) for v in values)
        for key, values in result.thumbs_stream.items():  # type: ignore[attr-defined]
            thumbs.update((key, v) for v in values)
    return accuracy, thumbs


def as_counter(streams: dict[tuple[str, str], list[bool]]) -> Counter[object]:
    return Counter((key, v) for key, values in streams.items() for v in values)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_folding_between_writes_equals_a_count_from_scratch(store: SqlStore, seed: int) -> None:
    monitor = Monitor(store, batch=random.Random(seed).randint(2, 15))
    results = []
    for i, batch in enumerate(batches(history(seed), seed)):
        store.write(batch)
        if i % 3 == 0:
            results.append(monitor.fold())
    results.append(monitor.fold())
    assert stored_counts(store) == expected_counts(store)
    accuracy, thumbs = expected_streams(store)
    assert streams_of(results) == (as_counter(accuracy), as_counter(thumbs))
    assert sum(r.rows_read for r in results) == sum(
        len(store.outputs(f)) + len(store.outcomes(f)) + len(store.exposures(f))
        for f in ("advice", "summary", "other"))
    assert monitor.fold().rows_read == 0  # caught up: nothing is read twice


def test_small_steps_equal_one_big_fold(store_url: str, tmp_path: object) -> None:
    events = history(7)
    small = open_store(store_url)
    assert isinstance(small, SqlStore)
    big = open_store(f"sqlite:///{tmp_path}/big.db")
    assert isinstance(big, SqlStore)
    for batch in batches(events, 7):
        small.write(batch)
        big.write(batch)
    stepped = []
    monitor = Monitor(small, batch=3)
    while not stepped or not stepped[-1].caught_up:
        stepped.append(monitor.fold(limit=random.Random(len(stepped)).randint(1, 30)))
    assert len(stepped) > 10
    assert sum(r.steps for r in stepped) > 50
    whole = Monitor(big, batch=100_000).fold()
    assert whole.steps == 1
    assert stored_counts(small) == stored_counts(big) == expected_counts(big)
    assert streams_of(stepped) == streams_of([whole])
    small.close()
    big.close()


@pytest.mark.parametrize("seed", [4, 5])
def test_outcome_counts_over_the_whole_history_agree(store: SqlStore, seed: int) -> None:
    for batch in batches(history(seed, twin_outputs=False), seed):
        store.write(batch)
    monitor = Monitor(store, batch=50)
    monitor.fold()
    for feature in ("advice", "summary"):
        for phase in PHASES:
            counts = store.outcome_counts(feature, phase=phase)
            evidence = monitor.evidence(feature, phase, *EVERYTHING)
            assert (evidence.labels.successes, evidence.labels.n) == (
                counts.labels_correct, counts.labels_total)
            assert (evidence.thumbs.successes, evidence.thumbs.n) == (
                counts.feedback_helpful, counts.feedback_total)
            assert (evidence.reviews.successes, evidence.reviews.n) == (
                counts.reviews_approved, counts.reviews_total)
            assert evidence.tickets == counts.tickets
            assert evidence.critical_errors == counts.critical_errors
            assert dict(evidence.outputs_by_action) == counts.outputs_by_action
            assert evidence.labels.n > 0
            assert evidence.thumbs.n > 0


def test_a_changed_thumbs_moves_between_buckets(store: SqlStore) -> None:
    out = OutputEvent("d1", "advice", "1", "u1", "beta", "show", "r", 0.9, False, ts=T0)
    up = OutcomeEvent("d1", "advice", OutcomeKind.FEEDBACK, True, ts=T0)
    down = OutcomeEvent("d1", "advice", OutcomeKind.FEEDBACK, False, ts=T0 + timedelta(hours=3))
    store.write([out, up])
    monitor = Monitor(store)
    assert monitor.fold().thumbs_stream == {("advice", "beta"): (True,)}
    first_hour = (T0, T0 + timedelta(hours=1))
    assert monitor.evidence("advice", "beta", *first_hour).thumbs.n == 1
    store.write([down])
    assert monitor.fold().thumbs_stream == {("advice", "beta"): (False,)}
    assert monitor.evidence("advice", "beta", *first_hour).thumbs.n == 0
    assert monitor.evidence("advice", "beta", *EVERYTHING).thumbs.estimate == 0.0
    # An older thumbs arriving late does not replace the newer one.
    store.write([OutcomeEvent("d1", "advice", OutcomeKind.FEEDBACK, True,
                              ts=T0 + timedelta(hours=1))])
    monitor.fold()
    assert monitor.evidence("advice", "beta", *EVERYTHING).thumbs.estimate == 0.0


def test_a_label_replaces_a_sampled_review_as_the_accuracy_observation(store: SqlStore) -> None:
    held = OutputEvent("d1", "advice", "1", "u1", "beta", "hold_for_review", "r", 0.8, True,
                       ts=T0)
    store.write([held])
    monitor = Monitor(store)
    monitor.fold()
    assert monitor.evidence("advice", "beta", *EVERYTHING).review_backlog == 1
    store.write([OutcomeEvent("d1", "advice", OutcomeKind.REVIEW, True, ts=T0)])
    monitor.fold()
    evidence = monitor.evidence("advice", "beta", *EVERYTHING)
    assert (evidence.accuracy, evidence.sampled_reviews, evidence.review_backlog) == (
        evidence.sampled_reviews, type(evidence.accuracy)(1, 1), 0)
    store.write([OutcomeEvent("d1", "advice", OutcomeKind.LABEL, False,
                              ts=T0 + timedelta(hours=2))])
    result = monitor.fold()
    evidence = monitor.evidence("advice", "beta", *EVERYTHING)
    assert (evidence.accuracy.successes, evidence.accuracy.n) == (0, 1)
    assert (evidence.sampled_reviews.successes, evidence.sampled_reviews.n) == (1, 1)
    assert evidence.mean_confidence_labelled == pytest.approx(0.8)
    assert result.accuracy_stream == {("advice", "beta"): (False,)}


def test_outcomes_wait_for_their_output_and_unknown_ones_count_nothing(store: SqlStore) -> None:
    label = OutcomeEvent("d1", "advice", OutcomeKind.LABEL, True, ts=T0)
    stray = OutcomeEvent("nobody", "advice", OutcomeKind.LABEL, True, ts=T0)
    store.write([label, stray])
    monitor = Monitor(store)
    first = monitor.fold()
    assert (first.rows_read, first.accuracy_stream) == (2, {})
    assert monitor.evidence("advice", "beta", *EVERYTHING).labels.n == 0
    store.write([OutputEvent("d1", "advice", "1", "u1", "beta", "show", "r", 0.7, False, ts=T0)])
    second = monitor.fold()
    assert second.rows_read == 1
    assert second.accuracy_stream == {("advice", "beta"): (True,)}
    assert monitor.evidence("advice", "beta", *EVERYTHING).labels.n == 1


def test_the_first_output_of_a_decision_counts(store: SqlStore) -> None:
    out = OutputEvent("d1", "advice", "1", "u1", "beta", "show", "r", 0.7, False, ts=T0)
    store.write([out])
    store.write([OutputEvent("d1", "advice", "1", "u1", "early", "fallback", "r", 0.7, False,
                             ts=T0)])
    monitor = Monitor(store)
    monitor.fold()
    assert dict(monitor.evidence("advice", "beta", *EVERYTHING).outputs_by_action) == {"show": 1}
    assert monitor.evidence("advice", "early", *EVERYTHING).outputs == 0


@pytest.mark.parametrize("latest_first", [True, False])
def test_the_event_id_breaks_a_tie_in_time_as_outcome_counts_does(
    store: SqlStore, latest_first: bool
) -> None:
    out = OutputEvent("d1", "advice", "1", "u1", "beta", "show", "r", 0.7, False, ts=T0)
    latest = OutcomeEvent("d1", "advice", OutcomeKind.LABEL, False, event_id="e-2", ts=T0)
    older = OutcomeEvent("d1", "advice", OutcomeKind.LABEL, True, event_id="e-1", ts=T0)
    monitor = Monitor(store)
    store.write([out])
    for label in (latest, older) if latest_first else (older, latest):
        store.write([label])
        monitor.fold()
    evidence = monitor.evidence("advice", "beta", *EVERYTHING)
    counts = store.outcome_counts("advice", phase="beta")
    assert (evidence.labels.successes, evidence.labels.n) == (0, 1)
    assert (counts.labels_correct, counts.labels_total) == (0, 1)
