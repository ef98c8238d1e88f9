"""What the monitor hands the criteria: a phase's evidence over a window, as plain counts.

These records are the contract between the monitor (which folds events into
aggregates in the store and reads them back) and the criteria engine (which turns
evidence into promote / pause / kill / warn). They hold counts only, so the
criteria are pure functions of them and a test can write the evidence it needs.

What counts once: each output contributes at most one observation per kind of
evidence (the latest label, the latest thumbs, the latest review verdict), as in
:class:`trustramp.store.OutcomeCounts`. Production **accuracy** is the label of an
output when it has one, else the verdict of a review the gate sampled at random
(``OutputEvent.review``); thumbs are kept apart because who clicks them is not
random, and so are reviews of outputs that were not a random sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CONFIDENCE_BINS = 100
"""The production confidence histogram has this many equal-width bins over [0, 1]
(the last closed), fine enough to re-bin at any 0.01 edges, e.g. the readiness
baseline's deciles for PSI."""


@dataclass(frozen=True, slots=True)
class Rate:
    """``successes`` out of ``n`` observations (a Bernoulli rate's evidence)."""

    successes: int = 0
    n: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.n:
            raise ValueError(f"Rate needs 0 <= successes <= n, got {self.successes}/{self.n}")

    @property
    def estimate(self) -> float:
        """successes / n (NaN without observations)."""
        return self.successes / self.n if self.n else math.nan

    @property
    def failures(self) -> int:
        return self.n - self.successes

    def complement(self) -> Rate:
        """The rate of the other outcome (error rate from accuracy)."""
        return Rate(self.n - self.successes, self.n)


@dataclass(frozen=True, slots=True)
class PhaseEvidence:
    """One phase of one feature over ``[since, until)``, everything the criteria read.

    ``outputs_by_action`` counts output events by gate action; ``accuracy`` is
    production accuracy (labels, else randomly sampled reviews); ``labels`` and
    ``sampled_reviews`` are its two sources apart; ``reviews`` every review verdict
    (approval rate); ``thumbs`` helpful out of rated; ``critical`` outputs with a
    critical error out of labelled outputs; ``critical_errors`` and ``tickets`` are
    counts; ``accuracy_confidence_sum`` the sum of the model's confidences over the
    accuracy observations (mean confidence vs accuracy is the calibration gap);
    ``confidence_histogram`` the confidences of all outputs with one, in
    :data:`CONFIDENCE_BINS` bins; ``exposed_units`` exposure events that exposed a unit.

    Added by the monitor (defaults keep older callers working): ``calibration`` is
    accuracy over the accuracy observations whose output has a confidence, the set
    ``accuracy_confidence_sum`` sums over (None: all of them, so it equals
    ``accuracy``); ``review_backlog`` outputs held for review without a verdict yet;
    ``exposures`` every exposure event of the phase, exposed or not.
    """

    feature: str
    phase: str
    since: datetime
    until: datetime
    outputs_by_action: Mapping[str, int] = field(default_factory=dict)
    accuracy: Rate = Rate()
    labels: Rate = Rate()
    sampled_reviews: Rate = Rate()
    reviews: Rate = Rate()
    thumbs: Rate = Rate()
    critical: Rate = Rate()
    critical_errors: int = 0
    tickets: int = 0
    accuracy_confidence_sum: float = 0.0
    confidence_histogram: tuple[int, ...] = (0,) * CONFIDENCE_BINS
    exposed_units: int = 0
    calibration: Rate | None = None
    review_backlog: int = 0
    exposures: int = 0

    @property
    def elapsed(self) -> timedelta:
        return self.until - self.since

    @property
    def outputs(self) -> int:
        return sum(self.outputs_by_action.values())

    def outputs_of(self, *actions: str) -> int:
        return sum(self.outputs_by_action.get(action, 0) for action in actions)

    @property
    def mean_confidence_labelled(self) -> float:
        """Mean confidence over the accuracy observations with a confidence (NaN without any)."""
        n = (self.calibration or self.accuracy).n
        return self.accuracy_confidence_sum / n if n else math.nan


@dataclass(frozen=True, slots=True)
class FoldResult:
    """What one incremental fold read and the new observations it found, in arrival order.

    ``accuracy_stream`` and ``thumbs_stream`` map (feature, phase) to the accuracy
    and thumbs observations that arrived in this fold, oldest first: what the
    drop-detection charts (CUSUM) consume. A corrected observation (a label changed
    later) is in the aggregates as its latest value; the streams carry each arrival.
    ``rows_read`` counts the event rows the fold read (proportional to new events,
    not to the store's history).

    Added by the monitor: ``history_rows`` the earlier rows read back about the
    decisions the new rows touch (their output and outcomes, a handful each);
    ``steps`` the transactions the fold took; ``caught_up`` False when the row budget
    ran out before the horizon (fold again).
    """

    rows_read: int = 0
    exposures: int = 0
    outputs: int = 0
    outcomes: int = 0
    accuracy_stream: Mapping[tuple[str, str], tuple[bool, ...]] = field(default_factory=dict)
    thumbs_stream: Mapping[tuple[str, str], tuple[bool, ...]] = field(default_factory=dict)
    history_rows: int = 0
    steps: int = 0
    caught_up: bool = True
