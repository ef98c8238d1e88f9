"""How long until a promotion criterion can graduate: the "3 months, not 3 days" answer.

Given the traffic (outputs per day), the fraction of outputs that receive an outcome
label, the current counts or estimate and a :class:`PromotionCriterion`, the forecast
simulates the future label stream at the current estimate and records when the
criterion's lower bound first clears the target (and the minimum sample and duration
are met). It reports the median and the 10th-90th percentile range of the labels and
days still needed.

Assumptions: the rate stays at the estimate (no drift and no uncertainty about the
estimate itself; a rate just above the target makes the forecast long and uncertain,
which is the honest answer) and labels arrive at a steady ``traffic * label_rate`` per
day. Paths are simulated exactly (binomial increments) but the bound is checked at
about 4,000 evenly spaced points of the horizon, so label counts are rounded up to
that resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from trustramp.stats.confidence_sequence import check_counts, check_rate
from trustramp.stats.criteria import PromotionCriterion

_CHECKPOINTS = 4000


@dataclass(frozen=True)
class GraduationForecast:
    """Labels and days still needed before the criterion can graduate.

    ``labels`` and ``days`` are medians, the ranges 10th-90th percentiles; they are
    ``math.inf`` (and ``reachable`` False) when graduation cannot be expected, with
    ``reason`` saying why.
    """

    reachable: bool
    reason: str
    labels: float
    labels_range: tuple[float, float]
    days: float
    days_range: tuple[float, float]
    labels_per_day: float
    assumed_rate: float


def _never(reason: str, labels_per_day: float, rate: float) -> GraduationForecast:
    inf = math.inf
    return GraduationForecast(False, reason, inf, (inf, inf), inf, (inf, inf), labels_per_day,
                              rate)


def forecast_graduation(
    criterion: PromotionCriterion,
    *,
    traffic_per_day: float,
    label_rate: float,
    successes: int = 0,
    n: int = 0,
    estimate: float | None = None,
    elapsed: timedelta = timedelta(0),
    paths: int = 2000,
    max_labels: int = 10_000_000,
    seed: int = 0,
) -> GraduationForecast:
    """Forecast the labels and days until ``criterion`` can graduate.

    ``estimate`` defaults to ``successes / n``; the simulation continues from the
    counts ``(successes, n)`` already collected.

    Example (1,500 outputs a day, 1% get a label, accuracy 0.92 against 0.90):
        >>> crit = PromotionCriterion(target=0.90)
        >>> f = forecast_graduation(crit, traffic_per_day=1500, label_rate=0.01, estimate=0.92)
        >>> f.reachable, 60 < f.days < 120   # about three months, not three days
        (True, True)
        >>> forecast_graduation(crit, traffic_per_day=1500, label_rate=0.01,
        ...                     estimate=0.90).reason
        'estimate 0.9000 is not above target 0.9000: the lower bound cannot clear it'
    """
    if isinstance(traffic_per_day, bool) or not isinstance(traffic_per_day, int | float) or (
        not traffic_per_day >= 0
    ):
        raise ValueError(f"traffic_per_day must be a number >= 0, got {traffic_per_day!r}")
    label_rate = check_rate(label_rate, "label_rate")
    successes, n = check_counts(successes, n, "forecast_graduation")
    if estimate is None:
        if n == 0:
            raise ValueError("estimate is required when no counts (n == 0) are given")
        estimate = successes / n
    rate = check_rate(estimate, "estimate")
    if paths < 10:
        raise ValueError(f"paths must be >= 10, got {paths}")
    per_day = float(traffic_per_day) * label_rate
    target = criterion.target
    if rate <= target:
        return _never(f"estimate {rate:.4f} is not above target {target:.4f}: "
                      "the lower bound cannot clear it", per_day, rate)
    wait_days = max((criterion.min_duration - elapsed) / timedelta(days=1), 0.0)
    extra = _simulate_labels(criterion, successes, n, rate, paths, max_labels, seed)
    extra = np.maximum(extra, criterion.min_samples - n)
    lo, mid, hi = (float(v) for v in np.percentile(extra, [10, 50, 90], method="inverted_cdf"))
    if math.isinf(mid):
        return _never(f"more than {max_labels} labels would be needed at rate {rate:.4f}",
                      per_day, rate)
    if mid > 0 and per_day == 0:
        return _never("no labels arrive (traffic_per_day * label_rate == 0)", per_day, rate)

    def days(labels: float) -> float:
        return max(labels / per_day if labels else 0.0, wait_days)

    return GraduationForecast(
        reachable=True,
        reason=f"median {mid:.0f} more labels at {per_day:g} labels/day, rate {rate:.4f}",
        labels=mid, labels_range=(lo, hi), days=days(mid), days_range=(days(lo), days(hi)),
        labels_per_day=per_day, assumed_rate=rate,
    )


def _simulate_labels(
    criterion: PromotionCriterion, successes: int, n: int, rate: float, paths: int,
    max_labels: int, seed: int,
) -> np.ndarray:
    """Additional labels until the lower bound clears the target, per simulated path."""
    if criterion.method == "betting":
        raise ValueError("forecasts need a counts-based method (beta_binomial, logit_mixture)")
    if n and criterion.lower_bound(successes, n) > criterion.target:
        return np.zeros(paths)
    rng = np.random.default_rng(seed)
    gap = rate - criterion.target
    v = criterion.target * (1 - criterion.target) + 1e-6
    # Rough scale of the crossing (drift against a log-iterated boundary), then doubled
    # until nearly every path crosses: a first guess only, the simulation decides.
    horizon = int(min(max(8 * v * (math.log(1 / criterion.alpha) + 3) / gap**2, 1000), max_labels))
    while True:
        step = max(1, math.ceil(horizon / _CHECKPOINTS))
        k = np.arange(1, math.ceil(horizon / step) + 1)
        sizes = n + step * k
        need = criterion.crossing_boundary(sizes)
        gains = successes + np.cumsum(rng.binomial(step, rate, size=(paths, k.size)), axis=1)
        crossed = gains >= need
        hit = crossed.any(axis=1)
        labels = np.where(hit, (crossed.argmax(axis=1) + 1) * step, np.inf)
        if hit.mean() >= 0.95 or horizon >= max_labels:
            return labels
        horizon = min(horizon * 4, max_labels)
