"""Calibration of a model's confidence: ECE, MCE, Brier score, reliability table, isotonic map.

A confidence is calibrated when, among answers given with confidence c, a fraction c is
right. `calibration_report` measures how far from that a labelled set is;
`fit_isotonic` learns a monotone map that makes it so on data like the fitting set.

Assumption behind every number here: the labelled (confidence, correct) pairs are an
i.i.d. sample of the traffic the numbers are meant to describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import isotonic_regression

from trustramp.stats.slices import clopper_pearson

Binning = Literal["equal_width", "equal_mass"]


def as_labelled_outputs(
    confidence: ArrayLike, correct: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validate (confidence, correct) pairs and return them as numpy arrays.

    `correct` must hold booleans (or the integers 0 and 1); floats are refused so that a
    column of probabilities passed by mistake is caught. Raises ValueError naming the
    argument, the first offending index and the reason.
    """
    conf = np.asarray(confidence)
    corr = np.asarray(correct)
    if conf.ndim != 1:
        raise ValueError(f"confidence: expected a 1-d sequence, got shape {conf.shape}")
    if corr.ndim != 1:
        raise ValueError(f"correct: expected a 1-d sequence, got shape {corr.shape}")
    if conf.size == 0:
        raise ValueError("confidence: empty; need at least one labelled output")
    if conf.size != corr.size:
        raise ValueError(
            f"correct: has {corr.size} values but confidence has {conf.size}; "
            "pass one outcome per confidence"
        )
    if conf.dtype == np.bool_ or not np.issubdtype(conf.dtype, np.number):
        raise ValueError(f"confidence: expected numbers in [0, 1], got dtype {conf.dtype}")
    conf = conf.astype(np.float64)
    bad = ~((conf >= 0.0) & (conf <= 1.0))  # also catches NaN
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"confidence: {int(bad.sum())} value(s) outside [0, 1], "
            f"first at index {i}: {float(conf[i])!r}"
        )
    if corr.dtype != np.bool_:
        if not np.issubdtype(corr.dtype, np.integer):
            raise ValueError(
                f"correct: expected booleans (or 0/1 integers), got dtype {corr.dtype}"
            )
        bad = (corr != 0) & (corr != 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"correct: expected 0 or 1, got {corr[i]!r} at index {i}")
    return conf, corr.astype(np.bool_)


@dataclass(frozen=True)
class ReliabilityBin:
    """One row of a reliability table: answers whose confidence fell in [lower, upper].

    `mean_confidence` and `accuracy` are None for an empty bin; the interval is then
    (0, 1). The interval is Clopper-Pearson at the report's `level`, per bin (not
    simultaneous over bins).
    """

    lower: float
    upper: float
    count: int
    correct: int
    mean_confidence: float | None
    accuracy: float | None
    accuracy_low: float
    accuracy_high: float

    @property
    def gap(self) -> float | None:
        """accuracy - mean_confidence; negative means overconfident."""
        if self.accuracy is None or self.mean_confidence is None:
            return None
        return self.accuracy - self.mean_confidence


@dataclass(frozen=True)
class CalibrationReport:
    """ECE, MCE and Brier score of a labelled set, with the reliability table behind them.

    ece = sum over bins of (count / n) * |accuracy - mean_confidence|;
    mce = the largest |accuracy - mean_confidence| over non-empty bins;
    brier = mean of (confidence - correct)^2 over all n answers (no binning).
    Both ECE and MCE are biased upwards by sampling noise: with n_b answers in a bin
    the noise alone adds about sqrt(2 / pi) * sqrt(p (1 - p) / n_b) to that bin's gap.
    """

    n: int
    binning: Binning
    level: float
    ece: float
    mce: float
    brier: float
    bins: tuple[ReliabilityBin, ...]

    @property
    def bin_counts(self) -> tuple[int, ...]:
        """Number of answers in each bin, in bin order."""
        return tuple(b.count for b in self.bins)


def brier_score(confidence: ArrayLike, correct: ArrayLike) -> float:
    """Mean squared difference between confidence and outcome (0 is perfect).

    >>> round(brier_score([0.8, 0.8, 0.8, 0.8, 0.8], [True, True, True, False, False]), 6)
    0.28
    """
    return _brier(*as_labelled_outputs(confidence, correct))


def _brier(conf: NDArray[np.float64], corr: NDArray[np.bool_]) -> float:
    return float(np.mean((conf - corr) ** 2))


def _bin_members(
    conf: NDArray[np.float64], n_bins: int, binning: Binning
) -> list[NDArray[np.intp]]:
    if binning == "equal_width":
        # k / n_bins, not linspace: a confidence written as 0.7 must land in the 0.7 bin
        edges = np.arange(n_bins + 1) / n_bins
        # right-closed last bin so that confidence 1.0 lands in it
        index = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
        order = np.argsort(index, kind="stable")
        splits = np.searchsorted(index[order], np.arange(1, n_bins))
        return list(np.split(order, splits))
    # equal mass: consecutive runs of the sorted confidences; ties may straddle two bins
    order = np.argsort(conf, kind="stable")
    return list(np.array_split(order, min(n_bins, conf.size)))


def calibration_report(
    confidence: ArrayLike,
    correct: ArrayLike,
    n_bins: int = 10,
    binning: Binning = "equal_width",
    level: float = 0.95,
) -> CalibrationReport:
    """Measure calibration of labelled outputs with a reliability table.

    `binning="equal_width"` cuts [0, 1] into `n_bins` intervals [k/n_bins, (k+1)/n_bins)
    (the last one closed), empty bins included; `"equal_mass"` sorts the answers by
    confidence and cuts them into min(n_bins, n) runs of nearly equal size, each bin's
    range being the smallest and largest confidence in it.

    >>> r = calibration_report([0.9, 0.9, 0.9, 0.9], [True, True, True, False], n_bins=5)
    >>> round(r.ece, 3), r.bin_counts
    (0.15, (0, 0, 0, 0, 4))
    """
    conf, corr = as_labelled_outputs(confidence, correct)
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins: expected a positive integer, got {n_bins!r}")
    if binning not in ("equal_width", "equal_mass"):
        raise ValueError(f"binning: expected 'equal_width' or 'equal_mass', got {binning!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: expected a confidence level in (0, 1), got {level!r}")
    n = conf.size
    bins: list[ReliabilityBin] = []
    ece = 0.0
    mce = 0.0
    members_of = _bin_members(conf, int(n_bins), binning)
    counts = np.array([m.size for m in members_of], dtype=np.int64)
    hit_counts = np.array([corr[m].sum() for m in members_of], dtype=np.int64)
    lows, highs = clopper_pearson(hit_counts, counts, level)
    for k, members in enumerate(members_of):
        count, hits = int(counts[k]), int(hit_counts[k])
        low, high = float(lows[k]), float(highs[k])
        if binning == "equal_width":
            lower, upper = k / n_bins, (k + 1) / n_bins
        else:
            lower, upper = float(conf[members].min()), float(conf[members].max())
        if count == 0:
            bins.append(ReliabilityBin(lower, upper, 0, 0, None, None, low, high))
            continue
        mean_conf = float(conf[members].mean())
        acc = hits / count
        gap = abs(acc - mean_conf)
        ece += count / n * gap
        mce = max(mce, gap)
        bins.append(ReliabilityBin(lower, upper, count, hits, mean_conf, acc, low, high))
    return CalibrationReport(
        n=n,
        binning=binning,
        level=level,
        ece=ece,
        mce=mce,
        brier=_brier(conf, corr),
        bins=tuple(bins),
    )


@dataclass(frozen=True)
class IsotonicMap:
    """A monotone map from raw confidence to calibrated probability.

    Piecewise linear through (`breakpoints`, `values`), flat outside the breakpoints,
    always in [0, 1] and non-decreasing. Pure data: store it, compare it, apply it.

    >>> m = IsotonicMap(breakpoints=(0.5, 0.9), values=(0.4, 0.8), n=100)
    >>> m(0.7), m(0.99)
    (0.6, 0.8)
    """

    breakpoints: tuple[float, ...]
    values: tuple[float, ...]
    n: int

    def __post_init__(self) -> None:
        x = np.asarray(self.breakpoints, dtype=np.float64)
        y = np.asarray(self.values, dtype=np.float64)
        if x.size == 0 or x.size != y.size:
            raise ValueError(
                f"values: need one value per breakpoint and at least one, got "
                f"{y.size} values for {x.size} breakpoints"
            )
        if np.any(np.diff(x) < 0):
            raise ValueError("breakpoints: must be non-decreasing")
        if np.any(np.diff(y) < 0):
            raise ValueError("values: must be non-decreasing (the map is monotone)")
        if not (np.all((y >= 0) & (y <= 1)) and np.all((x >= 0) & (x <= 1))):
            raise ValueError("breakpoints, values: must lie in [0, 1]")

    @overload
    def __call__(self, confidence: float) -> float: ...
    @overload
    def __call__(self, confidence: ArrayLike) -> NDArray[np.float64]: ...
    def __call__(self, confidence: ArrayLike) -> float | NDArray[np.float64]:
        """Calibrated probability for one confidence or an array of them."""
        x = np.asarray(confidence, dtype=np.float64)
        if np.isnan(x).any():
            raise ValueError("confidence: NaN cannot be recalibrated")
        out = np.clip(np.interp(x, self.breakpoints, self.values), 0.0, 1.0)
        if out.ndim == 0:
            return float(out)
        return out


def fit_isotonic(confidence: ArrayLike, correct: ArrayLike) -> IsotonicMap:
    """Fit the isotonic (pool-adjacent-violators) recalibration map on labelled outputs.

    The fitted value at each distinct confidence is the least-squares non-decreasing
    fit of the outcomes; only the ends of each constant block are kept as breakpoints.
    Fit on data held out from what you evaluate on: on its own fitting set the map is
    optimistic.

    >>> m = fit_isotonic([0.6, 0.7, 0.8, 0.9], [False, True, False, True])
    >>> m(0.75), m(0.95)
    (0.5, 1.0)
    """
    conf, corr = as_labelled_outputs(confidence, correct)
    xs, inverse, counts = np.unique(conf, return_inverse=True, return_counts=True)
    hits = np.bincount(inverse, weights=corr.astype(np.float64))
    fitted = np.asarray(isotonic_regression(hits / counts, weights=counts).x, dtype=np.float64)
    # keep a point only where the block changes, on either side, plus the two ends
    keep = np.ones(xs.size, dtype=bool)
    if xs.size > 2:
        same_prev = fitted[1:-1] == fitted[:-2]
        same_next = fitted[1:-1] == fitted[2:]
        keep[1:-1] = ~(same_prev & same_next)
    return IsotonicMap(
        breakpoints=tuple(float(v) for v in xs[keep]),
        values=tuple(float(np.clip(v, 0.0, 1.0)) for v in fitted[keep]),
        n=int(conf.size),
    )
