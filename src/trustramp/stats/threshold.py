"""Confidence threshold with a guarantee: Learn-then-Test with fixed-sequence binomial tests.

The gate shows an answer when its confidence is >= the threshold. `select_threshold`
picks, on a labelled calibration set, the lowest threshold of a grid fixed in advance
at which "accuracy among shown answers >= target" is certified.

Method (Angelopoulos, Bates, Candes, Jordan, Lei 2021, "Learn then Test"): with
alpha = 1 - target_accuracy and R(lam) the error rate among answers with
confidence >= lam, test H0(lam): R(lam) > alpha for the grid from the highest lam
down, each with the exact binomial p-value P[Binom(n_lam, alpha) <= errors_lam]
at level delta, and stop at the first hypothesis not rejected (fixed-sequence
testing spends no multiplicity budget because the order is fixed before the data).

Guarantee: if the calibration pairs are i.i.d. draws from the same distribution as
production traffic, then with probability >= 1 - delta over the calibration set,
every rejected grid point, and so the returned threshold, has true accuracy among
shown answers >= target_accuracy. Nothing else is assumed: given n_lam, the errors
above lam are exactly Binom(n_lam, R(lam)), and the testing order is fixed, so the
fixed-sequence walk controls the family-wise error at delta. Accuracy need not rise
with confidence (where it does not, the walk just stops sooner). It says
nothing once production drifts away from the calibration data; watch drift and
calibration for that.

Price of the fixed order: the walk starts at the top of the grid, so the grid top
must be a confidence the model reaches often enough. A grid point with no answers
above it cannot be rejected and ends the walk; certifying accuracy 0.90 at delta 0.1
needs at least 22 error-free answers above the top point (0.9 ** 22 < 0.1). Choose
the grid before seeing the labels, from prior knowledge or an earlier data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import binom

from trustramp.stats.calibration import as_labelled_outputs

DEFAULT_GRID: tuple[float, ...] = tuple(round(0.50 + 0.01 * k, 2) for k in range(50))
"""0.50, 0.51, ..., 0.99: the thresholds tried when no grid is given."""


@dataclass(frozen=True)
class ThresholdSelection:
    """What `select_threshold` certified, and the evidence behind it.

    threshold: lowest certified grid point, or None when even the highest failed.
    coverage: fraction of the calibration set with confidence >= threshold (the share
        of answers that would be shown); 0.0 when threshold is None.
    accuracy_bound: the accuracy certified among shown answers (= target_accuracy),
        holding with probability >= 1 - delta; None when threshold is None.
    n: calibration set size; n_shown / errors_shown: answers at or above the threshold
        and the wrong ones among them (0 when threshold is None).
    empirical_accuracy: accuracy among the shown calibration answers (None if none).
    tested_thresholds / p_values: the hypotheses tested, highest threshold first, with
        their exact binomial p-values; the walk stops after the first p-value > delta.
    reason: why nothing could be certified, in words; None when threshold is set.
    """

    threshold: float | None
    coverage: float
    accuracy_bound: float | None
    n: int
    n_shown: int
    errors_shown: int
    empirical_accuracy: float | None
    target_accuracy: float
    delta: float
    tested_thresholds: tuple[float, ...]
    p_values: tuple[float, ...]
    reason: str | None


def _checked_grid(grid: ArrayLike | None) -> NDArray[np.float64]:
    values = np.asarray(DEFAULT_GRID if grid is None else grid, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"grid: expected a non-empty 1-d sequence, got shape {values.shape}")
    outside = ~((values >= 0.0) & (values <= 1.0))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise ValueError(f"grid: thresholds must lie in [0, 1], got {values[i]!r} at index {i}")
    if np.unique(values).size != values.size:
        raise ValueError("grid: contains duplicate thresholds")
    # testing order is by value, highest (most conservative) first, whatever order given
    return np.sort(values)[::-1]


def _checked_probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, float | int | np.floating | np.integer):
        raise ValueError(f"{name}: expected a number in (0, 1), got {value!r}")
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name}: must lie strictly between 0 and 1, got {value!r}")
    return float(value)


def _failure_reason(
    top: float, shown: int, errors: int, p_value: float, target: float, delta: float
) -> str:
    if shown == 0:
        return (
            f"no calibration answer has confidence >= {top:g}, the highest grid threshold, "
            "where the fixed-sequence walk must start; pass a grid whose top the model "
            "reaches (chosen before looking at the labels)"
        )
    return (
        f"not even the highest grid threshold {top:g} is certified: {errors} errors among "
        f"{shown} answers with confidence >= {top:g} give p = {p_value:.3g} > delta = "
        f"{delta:g} for accuracy >= {target:g}; more labelled data, a lower grid top or "
        "a lower target is needed"
    )


def select_threshold(
    confidence: ArrayLike,
    correct: ArrayLike,
    target_accuracy: float,
    delta: float,
    grid: ArrayLike | None = None,
) -> ThresholdSelection:
    """Lowest grid threshold certified to give accuracy >= target among shown answers.

    `confidence` and `correct` are a labelled calibration set drawn like production
    traffic and not used to choose `grid` (default `DEFAULT_GRID`). See the module
    docstring for the guarantee: with probability >= 1 - delta, accuracy among answers
    with confidence >= the returned threshold is >= target_accuracy.

    Zero errors in 22 answers certify 90% at delta 0.1 (0.9 ** 22 < 0.1); 21 do not:

    >>> sel = select_threshold([0.995] * 22, [True] * 22, target_accuracy=0.9, delta=0.1)
    >>> sel.threshold, sel.coverage, sel.accuracy_bound
    (0.5, 1.0, 0.9)
    >>> select_threshold([0.995] * 21, [True] * 21, 0.9, 0.1).threshold is None
    True
    """
    conf, corr = as_labelled_outputs(confidence, correct)
    target = _checked_probability("target_accuracy", target_accuracy)
    level = _checked_probability("delta", delta)
    lams = _checked_grid(grid)
    alpha = 1.0 - target

    order = np.argsort(conf, kind="stable")
    sorted_conf = conf[order]
    errors_below = np.concatenate(([0], np.cumsum(~corr[order])))
    first_shown = np.searchsorted(sorted_conf, lams, side="left")
    n_shown = conf.size - first_shown
    errors = errors_below[-1] - errors_below[first_shown]
    # P[Binom(n, alpha) <= e]; equals 1 when n == 0, so empty grid points are never rejected
    p_values = binom.cdf(errors, n_shown, alpha)

    failed = np.flatnonzero(p_values > level)
    n_rejected = int(failed[0]) if failed.size else lams.size
    n_tested = min(n_rejected + 1, lams.size)
    tested = tuple(float(v) for v in lams[:n_tested])
    tested_p = tuple(float(v) for v in p_values[:n_tested])

    if n_rejected == 0:
        return ThresholdSelection(
            threshold=None,
            coverage=0.0,
            accuracy_bound=None,
            n=int(conf.size),
            n_shown=0,
            errors_shown=0,
            empirical_accuracy=None,
            target_accuracy=target,
            delta=level,
            tested_thresholds=tested,
            p_values=tested_p,
            reason=_failure_reason(
                float(lams[0]), int(n_shown[0]), int(errors[0]), tested_p[0], target, level
            ),
        )
    j = n_rejected - 1
    shown = int(n_shown[j])
    return ThresholdSelection(
        threshold=float(lams[j]),
        coverage=shown / conf.size,
        accuracy_bound=target,
        n=int(conf.size),
        n_shown=shown,
        errors_shown=int(errors[j]),
        empirical_accuracy=1.0 - int(errors[j]) / shown,
        target_accuracy=target,
        delta=level,
        tested_thresholds=tested,
        p_values=tested_p,
        reason=None,
    )
