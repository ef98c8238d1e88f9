"""CUSUM against a baseline estimated from the phase's own burn-in.

When p0 is not known it is estimated from the first ``burn_in`` labelled outcomes of
the phase. Plugging the estimate into an exactly calibrated CUSUM would leave the
false-alarm interval short whenever the estimate is too high (about half the time).
Instead the chart is designed for the least favourable in-control rate that the
burn-in cannot exclude: the one-sided Clopper-Pearson lower bound ``p0_lower`` at
level ``confidence``, with the threshold calibrated exactly (Markov chain) at
``p0_lower``.

Guarantee: if the burn-in and the monitored outcomes are independent with the same
success rate p0 (whatever it is), then with probability >= ``confidence`` over the
burn-in, the in-control mean number of events between false alarms is >=
``false_alarm_interval``. Reason: the Clopper-Pearson bound is exact-conservative, so
``p0_lower <= p0`` with probability >= ``confidence``, and a CUSUM's run length only
gets longer when the success rate rises (couple both streams on the same uniforms: every
answer right at the lower rate is right at the higher one, and the statistic is monotone
in each outcome). This is the "guaranteed conditional performance" of Gandy & Kvaloy
(2013), obtained from an exact bound instead of a bootstrap.

Why the chart's in-control reference is ``p0_lower`` and not the estimate (Gandy &
Kvaloy keep the estimate and only raise the threshold): whatever its reference, the chart
must hold its interval at ``p0_lower``, and among all rules that do, the CUSUM for
``p0_lower -> p1`` has the smallest worst-case delay at p1 (Moustakides 1986). Only p1
has to be guessed. Computed exactly over the burn-in distribution (p0 = 0.92, drop
0.05, burn-ins of 2,000 to 10,000, intervals 10^4 and 10^6), a chart referenced at the
estimate is slower in every case, e.g. 1.609x against 1.590x the known-p0 optimum at a
burn-in of 2,000 and an interval of 10^6. The remaining cost is the guarantee's: the
one-sided Clopper-Pearson bound is the non-randomized form of the uniformly most
accurate lower bound, so short of randomizing the chart only a longer burn-in (or a
lower ``confidence``) shortens the delay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike

from trustramp.stats.confidence_sequence import check_alpha
from trustramp.stats.cusum import (
    CusumDesign,
    CusumDetector,
    as_outcome_batch,
    calibrate_cusum,
    check_interval,
    check_outcome,
)
from trustramp.stats.slices import clopper_pearson_one_sided


@dataclass(frozen=True)
class EstimatedBaseline:
    """What the burn-in gave: the estimate, its lower bound and the chart built on them.

    The chart's rates are its design's (``p0_lower`` is ``design.p0``, ``p1_design``
    is ``design.p1``), so they cannot disagree with the chart that runs.
    """

    burn_in_correct: int
    burn_in_n: int
    confidence: float
    design: CusumDesign

    @property
    def p0_estimate(self) -> float:
        """Burn-in accuracy ``burn_in_correct / burn_in_n``."""
        return self.burn_in_correct / self.burn_in_n

    @property
    def p0_lower(self) -> float:
        """One-sided Clopper-Pearson lower bound on p0 at ``confidence``: the chart's p0."""
        return self.design.p0

    @property
    def p1_design(self) -> float:
        """The post-drop accuracy the chart is designed for."""
        return self.design.p1


def design_from_burn_in(
    correct: int, n: int, drop: float, false_alarm_interval: float, confidence: float = 0.9
) -> EstimatedBaseline:
    """Design the CUSUM from a burn-in of ``correct`` right answers out of ``n``.

    The chart watches for a drop from ``p0_lower`` to ``p1_design = p0_estimate - drop``
    (the estimated post-drop rate), kept at least ``drop / 2`` below ``p0_lower`` so the
    chart still has a direction when the burn-in is too short to pin p0 down.

    Example:
        >>> b = design_from_burn_in(4600, 5000, drop=0.05, false_alarm_interval=10_000)
        >>> round(b.p0_lower, 3), round(b.p1_design, 2)
        (0.915, 0.87)
    """
    _check_burn_in(correct, n)
    _check_settings(drop, false_alarm_interval, confidence)
    if correct == 0:
        raise ValueError(
            f"burn-in has 0 correct answers out of {n}: accuracy cannot drop, nothing to watch"
        )
    estimate = correct / n
    lower = float(clopper_pearson_one_sided(correct, n, 1 - confidence)[0])
    p1 = min(estimate, lower + drop / 2) - drop
    if p1 <= 0:
        raise ValueError(
            f"drop={drop} is not below the burn-in accuracy {estimate:.4f} (lower bound"
            f" {lower:.4f}): the post-drop accuracy would be <= 0"
        )
    return EstimatedBaseline(
        burn_in_correct=correct,
        burn_in_n=n,
        confidence=confidence,
        design=calibrate_cusum(lower, p1, float(false_alarm_interval)),
    )


def _check_settings(drop: float, false_alarm_interval: float, confidence: float) -> None:
    if not (isinstance(drop, Real) and 0 < drop < 1):
        raise ValueError(f"drop must be an accuracy drop strictly between 0 and 1, got {drop!r}")
    check_alpha(confidence, "confidence")
    check_interval(false_alarm_interval)


def _check_burn_in(correct: int, n: int) -> None:
    for name, value in (("burn_in correct", correct), ("burn_in n", n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer count, got {value!r}")
    if n < 1 or correct > n:
        raise ValueError(
            f"burn-in needs 0 <= correct <= n and n >= 1, got correct={correct}, n={n}"
        )


class EstimatedBaselineCusum:
    """Drop detector whose baseline is the phase's own first ``burn_in`` outcomes.

    The first ``burn_in`` outcomes only estimate the baseline (``update`` returns False);
    from then on it is a :class:`CusumDetector` built by :func:`design_from_burn_in`.
    After an alarm it stays alarmed until ``reset()``, which restarts the CUSUM with the
    same baseline (a new phase should build a new detector).

    Example:
        >>> det = EstimatedBaselineCusum(drop=0.05, false_alarm_interval=10_000, burn_in=3)
        >>> det.update_many(np.array([True, True, False]))
        False
        >>> round(det.baseline.p0_estimate, 3) if det.baseline else None
        0.667
    """

    def __init__(
        self, drop: float, false_alarm_interval: float, burn_in: int, confidence: float = 0.9
    ) -> None:
        if isinstance(burn_in, bool) or not isinstance(burn_in, int) or burn_in < 1:
            raise ValueError(
                f"burn_in must be a positive number of labelled events, got {burn_in!r}"
            )
        _check_settings(drop, false_alarm_interval, confidence)
        self.drop, self.false_alarm_interval = drop, false_alarm_interval
        self.burn_in, self.confidence = burn_in, confidence
        self._seen = self._right = 0
        self.baseline: EstimatedBaseline | None = None
        self._cusum: CusumDetector | None = None

    @classmethod
    def from_counts(
        cls,
        correct: int,
        n: int,
        drop: float,
        false_alarm_interval: float,
        confidence: float = 0.9,
    ) -> EstimatedBaselineCusum:
        """A detector whose burn-in (``correct`` right out of ``n``) has already been seen."""
        _check_burn_in(correct, n)
        det = cls(drop, false_alarm_interval, n, confidence)
        det._seen, det._right = n, correct
        det._start_monitoring()
        return det

    def _start_monitoring(self) -> None:
        base = design_from_burn_in(
            self._right, self._seen, self.drop, self.false_alarm_interval, self.confidence
        )
        self.baseline = base
        self._cusum = CusumDetector(base.p0_lower, base.p1_design, base.design.requested_interval)

    @property
    def h(self) -> float:
        """Threshold in log-likelihood units (NaN during the burn-in)."""
        return self._cusum.h if self._cusum else math.nan

    @property
    def statistic(self) -> float:
        """CUSUM statistic (0 during the burn-in)."""
        return self._cusum.statistic if self._cusum else 0.0

    @property
    def n(self) -> int:
        """Outcomes monitored since the burn-in ended or the last reset."""
        return self._cusum.n if self._cusum else 0

    @property
    def alarmed(self) -> bool:
        """Whether the CUSUM has alarmed since the last reset."""
        return self._cusum.alarmed if self._cusum else False

    def reset(self) -> None:
        """Restart the CUSUM at 0, keeping the estimated baseline."""
        if self._cusum:
            self._cusum.reset()

    def update(self, correct: bool) -> bool:
        """Add one labelled outcome; True once the detector has alarmed."""
        check_outcome(correct)
        if self._cusum:
            return self._cusum.update(correct)
        self._seen += 1
        self._right += int(correct)
        if self._seen == self.burn_in:
            self._start_monitoring()
        return False

    def update_many(self, outcomes: ArrayLike) -> bool:
        """Add a batch of outcomes (1-D bools, in order); True once alarmed."""
        batch = as_outcome_batch(outcomes)
        if not self._cusum:
            take = min(self.burn_in - self._seen, batch.size)
            self._seen += take
            self._right += int(batch[:take].sum())
            batch = batch[take:]
            if self._seen == self.burn_in:
                self._start_monitoring()
        return self._cusum.update_many(batch) if self._cusum else False
