"""Folding events into counters per (feature, phase, hour): pure functions over rows.

The counters of one output are a function of that output and every outcome about it
(:func:`decision_counts`). A fold step reads the rows after the cursors, finds the
decisions they touch, and adds, for each, its counters after the step minus its
counters before (:func:`fold_step`). So an outcome that arrives before its output
counts nothing until the output arrives, a thumbs changed from up to down leaves the
bucket of the first and enters the bucket of the second, and a label that arrives
after a sampled review replaces the review as the output's accuracy observation;
the aggregates always equal a count from scratch over the rows below the cursors.

What counts once per output: its action and confidence (in the bucket of the output);
its latest label, thumbs and review verdict, "latest" by (ts, event_id) as in
:meth:`trustramp.store.EventReader.outcome_counts` (each in the bucket of that
outcome); one accuracy observation (the label, else the review when the gate sampled
the output at random, ``review=True``); one critical error when any outcome about it
is marked critical (in the bucket of the earliest). Every ticket counts. An output is
its decision's first output row; outcomes whose feature differs from the output's are
ignored, and so are outputs outside any phase.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from trustramp.events import OutcomeKind
from trustramp.monitor.evidence import CONFIDENCE_BINS
from trustramp.store import CounterKey, Cursors, NewEvents, OutcomeFact, OutputFact
from trustramp.vocabulary import Action

BUCKET = timedelta(hours=1)
"""The aggregates' time resolution: a window counts the whole hours it touches."""

OUTPUTS = "outputs:"  # + the gate action
CONFIDENCE = "confidence:"  # + the histogram bin, 0 .. CONFIDENCE_BINS - 1
EXPOSURES, EXPOSED = "exposures", "exposed_units"
LABELS, LABELS_CORRECT, CRITICAL_LABELS = "labels", "labels_correct", "critical_labels"
THUMBS, THUMBS_UP = "thumbs", "thumbs_up"
REVIEWS, REVIEWS_APPROVED = "reviews", "reviews_approved"
SAMPLED, SAMPLED_APPROVED = "sampled_reviews", "sampled_reviews_approved"
ACCURACY, ACCURACY_CORRECT = "accuracy", "accuracy_correct"
CALIBRATION, CALIBRATION_CORRECT = "calibration", "calibration_correct"
CONFIDENCE_MICROS = "accuracy_confidence_micros"  # integer, so add and subtract are exact
CRITICAL_ERRORS, TICKETS = "critical_errors", "tickets"
HELD_REVIEWED = "held_reviewed"  # held outputs with a verdict: backlog = held - this
MICROS = 1_000_000

_LABEL, _FEEDBACK, _REVIEW = OutcomeKind.LABEL.value, OutcomeKind.FEEDBACK.value, \
    OutcomeKind.REVIEW.value
_TICKET = OutcomeKind.TICKET.value
_LATEST_KINDS = frozenset({_LABEL, _FEEDBACK, _REVIEW})
_HELD = Action.HOLD_FOR_REVIEW.value
Counts = dict[tuple[str, str, int, str], int]
"""Counters keyed by (feature, phase, hour number since the epoch, name) while folding:
an integer hour is much cheaper to compute than a datetime per fact."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_of(ts: datetime) -> datetime:
    """The start of the hour (UTC) that holds ``ts``.

    >>> bucket_of(datetime(2026, 3, 1, 10, 37, tzinfo=UTC)).isoformat()
    '2026-03-01T10:00:00+00:00'
    """
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_number(ts: datetime) -> int:
    """Whole hours from the epoch to ``ts``: its bucket, as a number.

    >>> bucket_of(_EPOCH + hour_number(datetime(2026, 3, 1, 10, 37, tzinfo=UTC)) * BUCKET).hour
    10
    """
    return int(ts.timestamp()) // 3600


def counter_keys(counts: Counts) -> dict[CounterKey, int]:
    """The counters keyed by bucket start (zeros dropped), as the store keeps them."""
    starts: dict[int, datetime] = {}
    out: dict[CounterKey, int] = {}
    for (feature, phase, hour, name), value in counts.items():
        if value:
            start = starts.get(hour)
            if start is None:
                start = starts[hour] = _EPOCH + hour * BUCKET
            out[(feature, phase, start, name)] = value
    return out


def confidence_bin(confidence: float) -> int:
    """The histogram bin of a confidence: ``floor(100 c)``, the last bin closed.

    Values within 1e-9 of a bin edge count as on it, so 0.29 (stored as
    0.28999...) lands in bin 29 like every other reader of the 0.01 grid.

    >>> confidence_bin(0.29), confidence_bin(1.0), confidence_bin(0.0)
    (29, 99, 0)
    """
    index = math.floor(round(confidence * CONFIDENCE_BINS, 9))
    return min(CONFIDENCE_BINS - 1, max(0, index))


class _Add(Protocol):
    def __call__(self, ts: datetime, name: str, value: int = 1) -> None: ...


def _order(outcome: OutcomeFact) -> tuple[datetime, str]:
    return outcome.ts, outcome.event_id


def decision_counts(
    output: OutputFact | None, outcomes: Iterable[OutcomeFact], into: Counts, sign: int = 1
) -> None:
    """Add ``sign`` x the counters of one output and the outcomes about it to ``into``."""
    if output is None or output.phase is None:
        return
    feature, phase = output.feature, output.phase

    def add(ts: datetime, name: str, value: int = 1) -> None:
        if value:
            key = (feature, phase, hour_number(ts), name)
            into[key] = into.get(key, 0) + sign * value

    add(output.ts, OUTPUTS + output.action)
    if output.confidence is not None:
        add(output.ts, f"{CONFIDENCE}{confidence_bin(output.confidence)}")
    latest: dict[str, OutcomeFact] = {}
    critical: OutcomeFact | None = None
    for outcome in outcomes:
        if outcome.feature != feature:
            continue
        if outcome.kind == _TICKET:
            add(outcome.ts, TICKETS)
        elif outcome.kind in _LATEST_KINDS:
            held = latest.get(outcome.kind)
            if held is None or _order(outcome) > _order(held):
                latest[outcome.kind] = outcome
        if outcome.critical and (critical is None or _order(outcome) < _order(critical)):
            critical = outcome
    if critical is not None:
        add(critical.ts, CRITICAL_ERRORS)
    _observation_counts(output, latest, add)


def _observation_counts(output: OutputFact, latest: Mapping[str, OutcomeFact], add: _Add) -> None:
    label, thumbs, review = latest.get(_LABEL), latest.get(_FEEDBACK), latest.get(_REVIEW)
    if label is not None:
        add(label.ts, LABELS)
        add(label.ts, LABELS_CORRECT, label.value is True)
        add(label.ts, CRITICAL_LABELS, label.critical)
    if thumbs is not None:
        add(thumbs.ts, THUMBS)
        add(thumbs.ts, THUMBS_UP, thumbs.value is True)
    if review is not None:
        add(review.ts, REVIEWS)
        add(review.ts, REVIEWS_APPROVED, review.value is True)
        if output.review:
            add(review.ts, SAMPLED)
            add(review.ts, SAMPLED_APPROVED, review.value is True)
        if output.action == _HELD:
            add(output.ts, HELD_REVIEWED)
    source = label if label is not None else review if output.review else None
    if source is None:
        return
    correct = source.value is True
    add(source.ts, ACCURACY)
    add(source.ts, ACCURACY_CORRECT, correct)
    if output.confidence is not None:
        add(source.ts, CALIBRATION)
        add(source.ts, CALIBRATION_CORRECT, correct)
        add(source.ts, CONFIDENCE_MICROS, round(output.confidence * MICROS))


Stream = dict[tuple[str, str], list[bool]]


@dataclass
class StepResult:
    """What one fold step adds: counter increments and the new observations, oldest first."""

    counts: dict[CounterKey, int] = field(default_factory=dict)
    accuracy_stream: Stream = field(default_factory=dict)
    thumbs_stream: Stream = field(default_factory=dict)


def touched(new: NewEvents) -> set[str]:
    """The decisions whose counters a step may change."""
    return {row.decision_id for row in new.outputs} | {row.decision_id for row in new.outcomes}


def fold_step(
    new: NewEvents,
    before: Cursors,
    outputs: Sequence[OutputFact],
    outcomes: Sequence[OutcomeFact],
) -> StepResult:
    """The counters a step adds, given the rows of the touched decisions up to ``new.cursors``.

    ``outputs`` and ``outcomes`` are every row about the decisions in
    :func:`touched` with ``seq`` up to the new cursors, oldest first; ``before``
    are the cursors before the step. Exposures count on their own.
    """
    result = StepResult()
    counts: Counts = {}
    for exposure in new.exposures:
        if exposure.phase is not None:
            bucket = hour_number(exposure.ts)
            key = (exposure.feature, exposure.phase, bucket, EXPOSURES)
            counts[key] = counts.get(key, 0) + 1
            if exposure.exposed:
                key = (exposure.feature, exposure.phase, bucket, EXPOSED)
                counts[key] = counts.get(key, 0) + 1
    first: dict[str, OutputFact] = {}
    for output in outputs:
        first.setdefault(output.decision_id, output)
    about: dict[str, list[OutcomeFact]] = {}
    for outcome in outcomes:
        about.setdefault(outcome.decision_id, []).append(outcome)
    arrived: list[tuple[OutcomeFact, OutputFact, list[OutcomeFact]]] = []
    for decision in touched(new):
        found = first.get(decision)
        if found is None:
            continue  # its outcomes wait, below the cursor, for the output to arrive
        output, history = found, about.get(decision, [])
        known_before = output.seq <= before.outputs
        fresh = [row for row in history if not known_before or row.seq > before.outcomes]
        if known_before:
            if not fresh:
                continue  # only a second output row of a known decision: nothing changes
            old = [row for row in history if row.seq <= before.outcomes]
            decision_counts(output, old, counts, -1)
        decision_counts(output, history, counts, +1)
        arrived.extend((row, output, history) for row in fresh)
    _streams(arrived, result)
    result.counts = counter_keys(counts)
    return result


def _streams(
    arrived: list[tuple[OutcomeFact, OutputFact, list[OutcomeFact]]], result: StepResult
) -> None:
    """Each newly counted label, sampled review and thumbs, in order of arrival (seq)."""
    arrived.sort(key=lambda item: item[0].seq)
    for outcome, output, history in arrived:
        if output.phase is None or outcome.feature != output.feature:
            continue
        key = (output.feature, output.phase)
        value = outcome.value is True
        if outcome.kind == _FEEDBACK:
            result.thumbs_stream.setdefault(key, []).append(value)
        elif outcome.kind == _LABEL or (
            outcome.kind == _REVIEW
            and output.review
            and not any(
                row.kind == _LABEL and row.feature == output.feature and row.seq < outcome.seq
                for row in history
            )
        ):
            result.accuracy_stream.setdefault(key, []).append(value)
