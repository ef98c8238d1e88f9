"""``Monitor``: fold new events into the store's aggregates, read evidence and health back.

A controller tick calls :meth:`Monitor.fold` and then :meth:`Monitor.evidence` per
phase; both cost in proportion to what is new (the fold) or to the number of hours in
the window (the evidence), never to the history of events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from trustramp.monitor.evidence import CONFIDENCE_BINS, FoldResult, PhaseEvidence, Rate
from trustramp.monitor.fold import (
    ACCURACY,
    ACCURACY_CORRECT,
    CALIBRATION,
    CALIBRATION_CORRECT,
    CONFIDENCE,
    CONFIDENCE_MICROS,
    CRITICAL_ERRORS,
    CRITICAL_LABELS,
    EXPOSED,
    EXPOSURES,
    HELD_REVIEWED,
    LABELS,
    LABELS_CORRECT,
    MICROS,
    OUTPUTS,
    REVIEWS,
    REVIEWS_APPROVED,
    SAMPLED,
    SAMPLED_APPROVED,
    THUMBS,
    THUMBS_UP,
    TICKETS,
    StepResult,
    bucket_of,
    fold_step,
    touched,
)
from trustramp.monitor.health import DEFAULT_WINDOWS, Health, phase_health
from trustramp.store import AggregateStore, Cursors
from trustramp.store.records import require_aware
from trustramp.vocabulary import Action

DEFAULT_BATCH = 5000


class Monitor:
    """Health of each feature and phase, folded incrementally from the store's events.

    ``batch`` bounds the rows read from each event table in one transaction.

    Example:
        >>> from datetime import UTC, datetime, timedelta
        >>> from trustramp.events import OutcomeEvent, OutcomeKind, OutputEvent
        >>> from trustramp.store import open_store
        >>> store = open_store("sqlite://")
        >>> t = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
        >>> out = OutputEvent("d1", "advice", "1", "u1", "beta", "show", "ok", 0.9, False, ts=t)
        >>> label = OutcomeEvent("d1", "advice", OutcomeKind.LABEL, True, ts=t)
        >>> store.write([label]); store.write([out])  # the label arrives first
        >>> monitor = Monitor(store)
        >>> monitor.fold().accuracy_stream
        {('advice', 'beta'): (True,)}
        >>> monitor.evidence("advice", "beta", t, t + timedelta(hours=1)).accuracy
        Rate(successes=1, n=1)
    """

    def __init__(self, store: AggregateStore, *, batch: int = DEFAULT_BATCH) -> None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValueError(f"Monitor(batch={batch!r}): must be an integer >= 1")
        self._store = store
        self._batch = batch

    def fold(self, limit: int = 1_000_000) -> FoldResult:
        """Fold the events written since the last fold into the aggregates.

        Reads only rows after the cursors, up to a horizon taken at the start (rows
        committed later wait for the next fold), ``batch`` rows per table per
        transaction; each transaction adds its counters and moves the cursors
        together. Stops when caught up or after the step that reaches ``limit``
        rows (``caught_up`` is then False).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"fold(limit={limit!r}): must be an integer >= 1")
        horizon = self._store.event_horizon()
        totals = _Totals()
        while True:
            with self._store.monitor_transaction() as transaction:
                before = transaction.cursors
                new = transaction.new_events(horizon, self._batch)
                if new.cursors == before:
                    break
                decisions = touched(new)
                outputs = transaction.outputs_of(decisions, new.cursors.outputs)
                outcomes = transaction.outcomes_of(decisions, new.cursors.outcomes)
                step = fold_step(new, before, outputs, outcomes)
                transaction.add_counts(step.counts)
                transaction.move_cursors(new.cursors)
            totals.add(new.rows, len(new.exposures), len(new.outputs), len(new.outcomes),
                       len(outputs) + len(outcomes), step)
            if _reached(new.cursors, horizon):
                break
            if totals.rows >= limit:
                return totals.result(caught_up=False)
        return totals.result(caught_up=True)

    def evidence(self, feature: str, phase: str, since: datetime, until: datetime) -> PhaseEvidence:
        """The phase's evidence over ``[since, until)`` from the aggregates.

        Counts are whole hours: every hour bucket that overlaps the window, from the
        one holding ``since`` to the one holding the last instant before ``until``.
        ``since`` and ``until`` are kept as given (``elapsed`` is their difference).
        """
        require_aware(since, "since")
        require_aware(until, "until")
        if since >= until:
            raise ValueError(f"evidence: since={since.isoformat()} must be before "
                             f"until={until.isoformat()}")
        counts = self._store.evidence_counts(feature, phase, bucket_of(since), until)
        return evidence_from_counts(feature, phase, since, until, counts)

    def health(
        self,
        feature: str,
        phase: str,
        *,
        now: datetime,
        phase_started_at: datetime,
        windows: Mapping[str, timedelta | None] = DEFAULT_WINDOWS,
        slices: bool = True,
    ) -> Health:
        """The people-facing health of one phase at ``now`` over ``windows`` (name ->
        length, None: since the phase started), each clipped to ``phase_started_at``;
        ``slices`` adds error slices over the phase (see
        :func:`trustramp.monitor.health.phase_health`). Call :meth:`fold` first."""
        return phase_health(self, self._store, feature, phase, now=now,
                            phase_started_at=phase_started_at, windows=windows, slices=slices)


def _reached(cursors: Cursors, horizon: Cursors) -> bool:
    return all(c >= h for c, h in zip(cursors, horizon, strict=True))


class _Totals:
    def __init__(self) -> None:
        self.rows = self.exposures = self.outputs = self.outcomes = self.history = 0
        self.steps = 0
        self.accuracy: dict[tuple[str, str], list[bool]] = {}
        self.thumbs: dict[tuple[str, str], list[bool]] = {}

    def add(self, rows: int, exposures: int, outputs: int, outcomes: int, history: int,
            step: StepResult) -> None:
        self.rows += rows
        self.exposures += exposures
        self.outputs += outputs
        self.outcomes += outcomes
        self.history += history
        self.steps += 1
        for key, values in step.accuracy_stream.items():
            self.accuracy.setdefault(key, []).extend(values)
        for key, values in step.thumbs_stream.items():
            self.thumbs.setdefault(key, []).extend(values)

    def result(self, *, caught_up: bool) -> FoldResult:
        return FoldResult(
            rows_read=self.rows, exposures=self.exposures, outputs=self.outputs,
            outcomes=self.outcomes,
            accuracy_stream={k: tuple(v) for k, v in self.accuracy.items()},
            thumbs_stream={k: tuple(v) for k, v in self.thumbs.items()},
            history_rows=self.history, steps=self.steps, caught_up=caught_up,
        )


def evidence_from_counts(
    feature: str, phase: str, since: datetime, until: datetime, counts: Mapping[str, int]
) -> PhaseEvidence:
    """A :class:`PhaseEvidence` from summed counters (names in :mod:`trustramp.monitor.fold`)."""

    def rate(successes: str, n: str) -> Rate:
        return Rate(counts.get(successes, 0), counts.get(n, 0))

    by_action = {name[len(OUTPUTS):]: value for name, value in counts.items()
                 if name.startswith(OUTPUTS) and value}
    held = by_action.get(Action.HOLD_FOR_REVIEW.value, 0)
    accuracy, calibration = rate(ACCURACY_CORRECT, ACCURACY), rate(CALIBRATION_CORRECT,
                                                                     CALIBRATION)
    return PhaseEvidence(
        feature=feature, phase=phase, since=since, until=until,
        outputs_by_action=by_action,
        accuracy=accuracy,
        labels=rate(LABELS_CORRECT, LABELS),
        sampled_reviews=rate(SAMPLED_APPROVED, SAMPLED),
        reviews=rate(REVIEWS_APPROVED, REVIEWS),
        thumbs=rate(THUMBS_UP, THUMBS),
        critical=rate(CRITICAL_LABELS, LABELS),
        critical_errors=counts.get(CRITICAL_ERRORS, 0),
        tickets=counts.get(TICKETS, 0),
        accuracy_confidence_sum=counts.get(CONFIDENCE_MICROS, 0) / MICROS,
        confidence_histogram=tuple(counts.get(f"{CONFIDENCE}{i}", 0)
                                   for i in range(CONFIDENCE_BINS)),
        exposed_units=counts.get(EXPOSED, 0),
        calibration=None if calibration == accuracy else calibration,
        review_backlog=held - counts.get(HELD_REVIEWED, 0),
        exposures=counts.get(EXPOSURES, 0),
    )
