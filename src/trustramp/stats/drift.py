"""Drift of the confidence distribution against a baseline: PSI, KS and overconfidence.

The baseline is the readiness evaluation's confidences; the current sample is a recent
window of production confidences. PSI thresholds come from PSI's null distribution at
the actual sample sizes, not from the 0.1 / 0.25 rule of thumb, which at n = m = 100
with 10 bins false-alarms about 80% of the time when nothing changed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from trustramp.stats.confidence_sequence import check_alpha
from trustramp.stats.slices import clopper_pearson_one_sided, correct_flags

FloatArray = NDArray[np.float64]


def _confidences(name: str, values: Iterable[float]) -> FloatArray:
    try:
        array = np.asarray(list(values), dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: confidences must be numbers in [0, 1] ({error})") from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: need a non-empty 1-D sequence of confidences")
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0.0) | (array > 1.0))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] = {array[i].item()!r}: confidences must be finite numbers in [0, 1]"
        )
    return array


def _outcomes(name: str, values: Iterable[bool | int], expected: int) -> NDArray[np.bool_]:
    flags = correct_flags(name, values)
    if flags.size != expected:
        raise ValueError(
            f"{name}: has {flags.size} outcomes but the confidences have {expected}; "
            "pass one correct flag per confidence"
        )
    return flags


# ---------------------------------------------------------------- PSI


@dataclass(frozen=True, slots=True)
class PsiResult:
    """PSI of the current confidences against baseline quantile bins, with null thresholds.

    `edges` are the interior bin edges (bin i is [edges[i-1], edges[i])), `bins` the
    number of non-empty baseline bins actually used. `warning` / `drifted` say whether
    PSI exceeds the `warn_threshold` / `alarm_threshold` for the chosen false-alarm rates.
    """

    psi: float
    n: int
    m: int
    bins: int
    edges: tuple[float, ...]
    baseline_share: tuple[float, ...]
    current_share: tuple[float, ...]
    warn_threshold: float
    alarm_threshold: float
    p_value: float
    calibration: Literal["asymptotic", "permutation"]
    warning: bool
    drifted: bool


def psi_threshold(n: int, m: int, bins: int, false_alarm: float) -> float:
    """PSI value exceeded with probability `false_alarm` when nothing drifted (asymptotic).

    Under H0 (baseline of size n and current of size m from one distribution) PSI, a
    symmetrised KL divergence, behaves like (1/n + 1/m) * chi-square(bins - 1).

    >>> round(psi_threshold(100, 100, 10, 0.05), 3)
    0.338
    """
    if n < 1 or m < 1:
        raise ValueError(f"n = {n}, m = {m}: sample sizes must be at least 1")
    if bins < 2:
        raise ValueError(f"bins = {bins}: PSI needs at least 2 bins")
    alpha = check_alpha(false_alarm, "false_alarm")
    return float((1.0 / n + 1.0 / m) * stats.chi2.isf(alpha, bins - 1))


def _psi_batch(
    baseline: FloatArray, current: FloatArray, bins: int, smoothing: float
) -> tuple[FloatArray, NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    """PSI for each row pair of (R, n) baseline and (R, m) current samples."""
    n, m = baseline.shape[1], current.shape[1]
    ordered = np.sort(baseline, axis=1)
    # Edges are baseline order statistics with about n/bins values below each, so every
    # bin holds at least its own left edge; ties only produce zero-width bins.
    cut = np.floor(np.arange(1, bins) * n / bins).astype(np.int64)
    edges = ordered[:, cut]
    # When most of the baseline sits on its minimum every quantile is that minimum; the
    # top edge then moves to the next distinct value so two bins remain.
    above_min = np.where(ordered > ordered[:, :1], ordered, np.inf).min(axis=1)
    edges[:, -1] = np.where(edges[:, -1] > ordered[:, 0], edges[:, -1], above_min)
    # Values below the baseline minimum belong to the lowest bin that the baseline fills.
    lifted = np.maximum(current, ordered[:, :1])
    base_bin = (baseline[:, :, None] >= edges[:, None, :]).sum(axis=2)
    cur_bin = (lifted[:, :, None] >= edges[:, None, :]).sum(axis=2)
    offsets = (np.arange(baseline.shape[0]) * bins)[:, None]
    size = baseline.shape[0] * bins
    base_count = np.bincount((base_bin + offsets).ravel(), minlength=size).reshape(-1, bins)
    cur_count = np.bincount((cur_bin + offsets).ravel(), minlength=size).reshape(-1, bins)
    used = base_count > 0
    k = used.sum(axis=1, keepdims=True)
    p = (base_count + smoothing) / (n + smoothing * k)
    q = (cur_count + smoothing) / (m + smoothing * k)
    terms = np.where(used, (q - p) * np.log(q / p), 0.0)
    return terms.sum(axis=1), k[:, 0], edges, np.where(used, p, 0.0), np.where(used, q, 0.0)


def psi_drift(
    baseline: Iterable[float],
    current: Iterable[float],
    *,
    bins: int = 10,
    warn: float = 0.05,
    alarm: float = 0.001,
    smoothing: float = 0.5,
    calibration: Literal["asymptotic", "permutation"] = "asymptotic",
    n_resamples: int = 1999,
    seed: int | None = None,
) -> PsiResult:
    """Population stability index of `current` against quantile bins of `baseline`.

    Bins are fixed from the baseline (about n / bins baseline values each; tied
    quantiles merge bins, but two distinct baseline values always give two bins).
    Each bin's count gets `smoothing` added before shares are taken (a pseudo-count of
    0.5, Jeffreys' prior), which keeps PSI finite when a bin is empty and keeps the
    chi-square approximation honest at small n.

    Guarantee: when both samples come from one distribution, `warning` is raised with
    probability about `warn` and `drifted` with probability about `alarm`.
    `calibration="asymptotic"` uses (1/n + 1/m) * chi-square(bins - 1), exact as n and
    m grow; with 10 bins it measured 0.86x nominal at warn 5% and 1.2x at alarm 0.1%
    for n = m = 100, 0.96x and 0.9x for n = 1000, m = 500, and about half of nominal
    (conservative) at n = m = 50 (benchmarks/bench_drift.py). For small samples, heavy
    ties or an exact alarm level use `calibration="permutation"`: thresholds are
    quantiles of PSI over `n_resamples` random re-splits of the pooled data, so the
    false-alarm rate is at most nominal for any n (down to 1 / (n_resamples + 1)).
    Assumes the values within each sample are independent.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> psi_drift(rng.beta(8, 2, 500), rng.beta(4, 2, 500)).drifted
    True
    """
    base = _confidences("baseline", baseline)
    cur = _confidences("current", current)
    if bins < 2:
        raise ValueError(f"bins = {bins}: PSI needs at least 2 bins")
    if smoothing <= 0 or not np.isfinite(smoothing):
        raise ValueError(f"smoothing = {smoothing!r}: must be a positive pseudo-count")
    warn, alarm = check_alpha(warn, "warn"), check_alpha(alarm, "alarm")
    if np.ptp(base) == 0:
        raise ValueError("baseline: all confidences are equal, so there is nothing to bin")
    psi, k, edges, p, q = _psi_batch(base[None, :], cur[None, :], bins, smoothing)
    n, m, value = base.size, cur.size, float(psi[0])
    used = p[0] > 0
    if calibration == "asymptotic":
        thresholds = [psi_threshold(n, m, int(k[0]), a) for a in (warn, alarm)]
        p_value = float(stats.chi2.sf(value / (1.0 / n + 1.0 / m), int(k[0]) - 1))
    elif calibration == "permutation":
        if n_resamples < 1:
            raise ValueError(f"n_resamples = {n_resamples}: must be at least 1")
        rng, pooled = np.random.default_rng(seed), np.concatenate([base, cur])
        # Chunks keep the (rows, values, edges) comparison array to a few megabytes.
        rows = max(1, 2_000_000 // ((n + m) * (bins - 1)))
        null_parts = []
        for start in range(0, n_resamples, rows):
            size = min(rows, n_resamples - start)
            chunk = rng.permuted(np.tile(pooled, (size, 1)), axis=1)
            null_parts.append(_psi_batch(chunk[:, :n], chunk[:, n:], bins, smoothing)[0])
        null = np.sort(np.concatenate(null_parts))
        thresholds = [_rank_threshold(null, a) for a in (warn, alarm)]
        p_value = float((1 + np.count_nonzero(null >= value)) / (n_resamples + 1))
    else:
        raise ValueError(f"calibration = {calibration!r}: use 'asymptotic' or 'permutation'")
    return PsiResult(
        psi=value,
        n=n,
        m=m,
        bins=int(k[0]),
        edges=tuple(float(e) for e in np.unique(edges[0]) if e > base.min()),
        baseline_share=tuple(float(s) for s in p[0][used]),
        current_share=tuple(float(s) for s in q[0][used]),
        warn_threshold=thresholds[0],
        alarm_threshold=thresholds[1],
        p_value=p_value,
        calibration=calibration,
        warning=value > thresholds[0],
        drifted=value > thresholds[1],
    )


def _rank_threshold(null: FloatArray, alpha: float) -> float:
    # With R exchangeable null values, exceeding the k-th smallest, k = ceil((1-a)(R+1)),
    # has probability at most a; beyond the resolution of R the threshold is infinite.
    k = int(np.ceil((1.0 - alpha) * (null.size + 1)))
    return float(null[k - 1]) if k <= null.size else float("inf")


def grid_bin(value: float, grid: int) -> int:
    """The bin of ``value`` among ``grid`` equal-width bins over [0, 1], the last closed.

    Values within 1e-9 of an edge count as on it, so 0.29 (stored as 0.28999...)
    lands in bin 29 of 100, like the baseline's rounded edge 0.29.

    >>> grid_bin(0.29, 100), grid_bin(1.0, 100), grid_bin(0.999, 100)
    (29, 99, 99)
    """
    return min(grid - 1, max(0, math.floor(round(value * grid, 9))))


def _quantile_edges(ordered: FloatArray, bins: int) -> FloatArray:
    """psi_drift's interior edges for one sorted baseline (see :func:`_psi_batch`)."""
    n = ordered.size
    edges = ordered[np.floor(np.arange(1, bins) * n / bins).astype(np.int64)]
    if edges[-1] <= ordered[0]:
        edges[-1] = ordered[ordered > ordered[0]].min()
    return edges


def psi_from_counts(
    baseline: Iterable[float],
    histogram: Sequence[int],
    *,
    bins: int = 10,
    warn: float = 0.05,
    alarm: float = 0.001,
    smoothing: float = 0.5,
) -> PsiResult:
    """PSI of a histogram of current confidences against the baseline's quantile bins.

    ``histogram`` counts the current confidences in ``len(histogram)`` equal-width
    bins over [0, 1] (the last closed), as the monitor keeps them. The baseline's
    quantile edges (as in :func:`psi_drift`) are rounded to that grid, both sides are
    re-binned there, a bin the baseline leaves empty merges into its neighbour, and
    PSI and its null thresholds are taken as in :func:`psi_drift` (asymptotic, at the
    baseline's n and the histogram's m). On confidences already on the grid (e.g.
    multiples of 0.01 with 100 bins, no edge at 1.0) it equals :func:`psi_drift`.

    >>> hist = [0] * 100
    >>> hist[90] = hist[95] = 50
    >>> result = psi_from_counts([0.5 + 0.005 * k for k in range(100)], hist)
    >>> result.m, result.drifted
    (100, True)
    """
    base = _confidences("baseline", baseline)
    counts = _histogram("histogram", histogram)
    grid, m = counts.size, int(counts.sum())
    if bins < 2:
        raise ValueError(f"bins = {bins}: PSI needs at least 2 bins")
    if smoothing <= 0 or not np.isfinite(smoothing):
        raise ValueError(f"smoothing = {smoothing!r}: must be a positive pseudo-count")
    warn, alarm = check_alpha(warn, "warn"), check_alpha(alarm, "alarm")
    if np.ptp(base) == 0:
        raise ValueError("baseline: all confidences are equal, so there is nothing to bin")
    on_grid = np.bincount([grid_bin(float(v), grid) for v in base], minlength=grid)
    cuts = [int(c) for c in np.unique(np.round(_quantile_edges(np.sort(base), bins) * grid))]
    cuts = _merge_empty(on_grid, [c for c in cuts if 0 < c < grid])
    of_grid = np.searchsorted(np.asarray(cuts, dtype=np.int64), np.arange(grid), side="right")
    k = len(cuts) + 1
    base_count = np.bincount(of_grid, weights=on_grid, minlength=k)
    cur_count = np.bincount(of_grid, weights=counts, minlength=k)
    n = base.size
    p = (base_count + smoothing) / (n + smoothing * k)
    q = (cur_count + smoothing) / (m + smoothing * k)
    value = float(np.sum((q - p) * np.log(q / p)))
    warn_at, alarm_at = (psi_threshold(n, m, k, a) for a in (warn, alarm))
    return PsiResult(
        psi=value, n=n, m=m, bins=k, edges=tuple(c / grid for c in cuts),
        baseline_share=tuple(float(s) for s in p), current_share=tuple(float(s) for s in q),
        warn_threshold=warn_at, alarm_threshold=alarm_at,
        p_value=float(stats.chi2.sf(value / (1.0 / n + 1.0 / m), k - 1)),
        calibration="asymptotic", warning=value > warn_at, drifted=value > alarm_at,
    )


def _histogram(name: str, values: Sequence[int]) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.ndim != 1 or array.size < 2 or array.dtype.kind not in "iu" or (array < 0).any():
        raise ValueError(f"{name}: need at least 2 non-negative integer counts, got {values!r}")
    if array.sum() == 0:
        raise ValueError(f"{name}: holds no confidences (all counts are 0)")
    return array.astype(np.int64)


def _merge_empty(on_grid: NDArray[np.int64], cuts: list[int]) -> list[int]:
    """The cuts left once every bin holds a baseline value (rounding can empty one).

    An empty bin joins the bin on its left; an empty first bin the one on its right,
    as psi_drift lifts current values below the baseline's minimum into its first bin.
    """
    bounds = [0, *cuts, on_grid.size]
    segments: list[list[int]] = []
    for left, right in pairwise(bounds):
        if segments and on_grid[left:right].sum() == 0:
            segments[-1][1] = right
        else:
            segments.append([left, right])
    if len(segments) > 1 and on_grid[segments[0][0] : segments[0][1]].sum() == 0:
        segments[1][0] = segments[0][0]
        del segments[0]
    return [left for left, _ in segments[1:]]


# ---------------------------------------------------------------- KS


@dataclass(frozen=True, slots=True)
class KsResult:
    """Two-sample Kolmogorov-Smirnov test of current against baseline confidences."""

    statistic: float
    p_value: float
    n: int
    m: int
    alpha: float
    drifted: bool


def ks_drift(
    baseline: Iterable[float], current: Iterable[float], *, alpha: float = 0.05
) -> KsResult:
    """KS two-sample test (scipy.stats.ks_2samp, two-sided); `drifted` when p <= alpha.

    Guarantee: false-alarm probability at most `alpha` for continuous confidences from
    one distribution (conservative when confidences are tied, e.g. rounded).

    >>> ks_drift([0.9, 0.8, 0.95, 0.7], [0.9, 0.85, 0.6, 0.75]).drifted
    False
    """
    base = _confidences("baseline", baseline)
    cur = _confidences("current", current)
    alpha = check_alpha(alpha, "alpha")
    result = stats.ks_2samp(base, cur)
    p_value = float(result.pvalue)
    return KsResult(
        statistic=float(result.statistic),
        p_value=p_value,
        n=base.size,
        m=cur.size,
        alpha=alpha,
        drifted=p_value <= alpha,
    )


# ---------------------------------------------------------------- overconfidence


@dataclass(frozen=True, slots=True)
class OverconfidenceResult:
    """How far accuracy sits below the stated confidence, alone and against a baseline.

    `gap` = mean confidence - accuracy over the recent window; `gap_lower` and
    `gap_upper` are each one-sided (1 - alpha) Clopper-Pearson bounds on it.
    `overconfident` is True when the gap exceeds `margin` at level alpha. With a
    baseline, `gap_change` = recent gap - baseline gap, `gap_change_lower` its one-sided
    (1 - alpha) lower bound, and `gap_grew` is True when that bound exceeds `margin`:
    accuracy fell by more than confidence did. Baseline fields are None without one.
    """

    n: int
    mean_confidence: float
    accuracy: float
    gap: float
    gap_lower: float
    gap_upper: float
    margin: float
    alpha: float
    p_value: float
    overconfident: bool
    baseline_n: int | None = None
    confidence_change: float | None = None
    accuracy_change: float | None = None
    gap_change: float | None = None
    gap_change_lower: float | None = None
    gap_grew: bool | None = None


def _accuracy_bounds(correct: int, n: int, alpha: float) -> tuple[float, float]:
    """One-sided (1 - alpha) Clopper-Pearson lower and upper bounds."""
    lower, upper = clopper_pearson_one_sided(correct, n, alpha)
    return float(lower), float(upper)


def overconfidence(
    confidence: Iterable[float],
    correct: Iterable[bool | int],
    *,
    margin: float = 0.05,
    alpha: float = 0.05,
    baseline_confidence: Iterable[float] | None = None,
    baseline_correct: Iterable[bool | int] | None = None,
) -> OverconfidenceResult:
    """Test whether accuracy fell below the stated confidence by more than `margin`.

    The recent window's correct count is tested with an exact binomial test against
    mean confidence - margin (H1: accuracy is lower). Given a baseline (the readiness
    evaluation's confidences and outcomes), the gap's growth is bounded by combining
    Clopper-Pearson bounds at alpha / 2 on each side (Bonferroni).

    Guarantee: outcomes independent given the confidences shown. If the window is
    calibrated up to `margin` (its expected accuracy is at least mean confidence -
    margin), `overconfident` is raised with probability at most `alpha`; the count is
    Poisson-binomial, whose lower tail the binomial bounds (Hoeffding 1956). If the gap
    did not grow by more than `margin`, `gap_grew` is raised with probability at most
    `alpha`.

    >>> result = overconfidence([0.95] * 200, [True] * 150 + [False] * 50)
    >>> result.overconfident, round(result.gap, 2)
    (True, 0.2)
    """
    conf = _confidences("confidence", confidence)
    hits = _outcomes("correct", correct, conf.size)
    if baseline_confidence is None and baseline_correct is None:
        return overconfidence_from_counts(conf.size, int(hits.sum()), float(conf.mean()),
                                          margin=margin, alpha=alpha)
    if baseline_confidence is None or baseline_correct is None:
        raise ValueError(
            "baseline_confidence, baseline_correct: pass both (or neither) to compare "
            "against the baseline"
        )
    base_conf = _confidences("baseline_confidence", baseline_confidence)
    base_hits = _outcomes("baseline_correct", baseline_correct, base_conf.size)
    return overconfidence_from_counts(
        conf.size, int(hits.sum()), float(conf.mean()), margin=margin, alpha=alpha,
        baseline_n=base_conf.size, baseline_correct=int(base_hits.sum()),
        baseline_mean_confidence=float(base_conf.mean()),
    )


def _check_summary(prefix: str, n: int, correct: int, mean_confidence: float) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{prefix}n = {n!r}: need at least one outcome")
    if isinstance(correct, bool) or not isinstance(correct, int | np.integer) or not (
        0 <= correct <= n
    ):
        raise ValueError(f"{prefix}correct = {correct!r}: must be an integer in [0, {n}]")
    if not (isinstance(mean_confidence, int | float | np.floating)
            and 0.0 <= mean_confidence <= 1.0):
        raise ValueError(f"{prefix}mean_confidence = {mean_confidence!r}: must be in [0, 1]")


def overconfidence_from_counts(
    n: int,
    correct: int,
    mean_confidence: float,
    *,
    margin: float = 0.05,
    alpha: float = 0.05,
    baseline_n: int | None = None,
    baseline_correct: int | None = None,
    baseline_mean_confidence: float | None = None,
) -> OverconfidenceResult:
    """:func:`overconfidence` from counts: ``correct`` of ``n`` at mean confidence
    ``mean_confidence`` (and the baseline's three, all or none); the same test and
    the same result, since it depends on the outcomes only through these.

    >>> overconfidence_from_counts(200, 150, 0.95).overconfident
    True
    """
    _check_summary("", n, correct, mean_confidence)
    alpha = check_alpha(alpha, "alpha")
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"margin = {margin!r}: must be in [0, 1)")
    k, mean_conf = int(correct), float(mean_confidence)
    acc_lower, acc_upper = _accuracy_bounds(k, n, alpha)
    null_accuracy = mean_conf - margin
    p_value = float(stats.binom.cdf(k, n, null_accuracy)) if null_accuracy > 0 else 1.0
    result = OverconfidenceResult(
        n=int(n),
        mean_confidence=mean_conf,
        accuracy=k / n,
        gap=mean_conf - k / n,
        gap_lower=mean_conf - acc_upper,
        gap_upper=mean_conf - acc_lower,
        margin=float(margin),
        alpha=alpha,
        p_value=p_value,
        overconfident=p_value <= alpha,
    )
    given = (baseline_n, baseline_correct, baseline_mean_confidence)
    if all(value is None for value in given):
        return result
    if baseline_n is None or baseline_correct is None or baseline_mean_confidence is None:
        raise ValueError("baseline_n, baseline_correct, baseline_mean_confidence: pass all "
                         "three (or none) to compare against the baseline")
    _check_summary("baseline_", baseline_n, baseline_correct, baseline_mean_confidence)
    n0, k0, mean_conf0 = int(baseline_n), int(baseline_correct), float(baseline_mean_confidence)
    base_lower = _accuracy_bounds(k0, n0, alpha / 2)[0]
    recent_upper = _accuracy_bounds(k, n, alpha / 2)[1]
    change_lower = (mean_conf - recent_upper) - (mean_conf0 - base_lower)
    return replace(
        result,
        baseline_n=n0,
        confidence_change=mean_conf - mean_conf0,
        accuracy_change=k / n - k0 / n0,
        gap_change=result.gap - (mean_conf0 - k0 / n0),
        gap_change_lower=change_lower,
        gap_grew=change_lower > margin,
    )
