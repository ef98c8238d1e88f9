"""Edges of the mixture confidence sequences by a Newton iteration on convex evidence.

Every mixture here has a log-evidence that is convex in the rate: Beta-Binomial is a
constant minus ``S log p + (n - S) log(1 - p)``; the log-odds mixture is a log-sum-exp of
the convex ``s lam - n log(1 + p (e^lam - 1))``; the Poisson-Gamma mixture is a constant
minus ``X log rate`` plus ``rate T``. For a convex function the Newton point from *any*
point lies on the rejected side of the root (the tangent lies below the function, so
where the tangent reaches the threshold the evidence has already reached it). Each
bound reported here is such a Newton point, or a point evaluated as rejected, moved
outwards by a margin that covers floating-point rounding of the evidence: a bound can
only err on the conservative side, as with the 64-step bisection this replaces (kept in
:mod:`trustramp.stats.reference` to test and benchmark against).

The iteration stops when the quadratic model says the Newton point is within 1e-12
(relative) of the root, so results agree with the bisection to about 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

FloatArray = NDArray[np.float64]
# f - threshold, its first and second derivative at one point.
Curve = Callable[[float], tuple[float, float, float]]

_REL_TOL = 1e-12
_EPS = 2.3e-16
_MAX_STEPS = 200
_GRID_SIZE = 48
# A small share of the mixing mass on large log-odds shifts: it costs log(1/0.95) in the
# threshold but lets the bound move quickly when the rate is far from the design rate.
_WIDE_SHARE, _WIDE_SIGMA, _WIDE_SIZE = 0.05, 3.0, 16


def lower_root(curve: Curve, lo: float, hi: float, guess: float, f_err: float) -> float:
    """Conservative root of a convex curve, rejected (f >= 0) at ``lo``, kept at ``hi``.

    The curve must be convex on ``[lo, hi]`` and decreasing where it crosses 0. Returns
    a point at or below the root: the largest point evaluated as rejected or Newton
    point, less ``f_err / |f'|`` (``f_err`` bounds the rounding error of ``f``), so that
    another evaluation order of the same evidence still rejects it.
    """
    start = best = lo
    x = guess if lo < guess < hi else 0.5 * (lo + hi)
    for _ in range(_MAX_STEPS):
        f, d1, d2 = curve(x)
        if f >= 0:
            best = lo = x
        else:
            hi = x
        if not (d1 < 0 and math.isfinite(f) and math.isfinite(d1)):
            x = 0.5 * (lo + hi)  # at a pole or past the minimum: halve the bracket
            if hi - lo <= _REL_TOL * abs(lo):
                return best
            continue
        h = -f / d1
        newton = x + h
        ahead = 0.5 * max(d2, 0.0) / -d1 * h * h  # quadratic model: root - newton
        if ahead <= _REL_TOL * abs(newton) or ahead <= 1e-300:
            margin = f_err / -d1 + 4 * _EPS * abs(newton)
            return max(start, max(best, newton) - margin)
        x = newton + ahead
        if not lo < x < hi:
            x = newton if lo < newton < hi else 0.5 * (lo + hi)
    return best


def upper_root(curve: Curve, lo: float, hi: float, guess: float, f_err: float) -> float:
    """Conservative root of a convex curve kept at ``lo``, rejected at ``hi`` (increasing)."""

    def mirrored(u: float) -> tuple[float, float, float]:
        f, d1, d2 = curve(-u)
        return f, -d1, d2

    return -lower_root(mirrored, -hi, -lo, -guess, f_err)


def _f_err(n: float) -> float:
    # The evidence sums O(n) terms of size O(log n); rounding stays far below this.
    return 1e-13 * (n + 10.0)


# --- Beta-Binomial -----------------------------------------------------------------


def beta_binomial_bounds(
    s: int, n: int, prior: tuple[float, float], threshold: float, side: str
) -> tuple[float, float]:
    """Edges of ``{p : log M_n(p) < threshold}`` for Robbins' Beta(a, b) mixture."""
    a, b = prior
    const = (math.lgamma(a + s) + math.lgamma(b + n - s) - math.lgamma(a + b + n)
             - math.lgamma(a) - math.lgamma(b) + math.lgamma(a + b) - threshold)
    fail = n - s

    def curve(p: float) -> tuple[float, float, float]:
        if not 0 < p < 1:
            return math.inf, -math.inf if p <= 0 else math.inf, math.inf
        q = 1.0 - p
        f = const - (s * math.log(p) if s else 0.0) - (fail * math.log1p(-p) if fail else 0.0)
        return f, -s / p + fail / q, s / (p * p) + fail / (q * q)

    p_hat = s / n if n else 0.5
    spread = math.sqrt(2 * (threshold + 1 + 0.5 * math.log1p(n)) * p_hat * (1 - p_hat) / (n + 1))
    lower, upper = 0.0, 1.0
    err = _f_err(n)
    # At p = 0 the evidence is +inf when s > 0 and below the threshold when s == 0
    # (the mixture's value at its minimum is <= 1 < 1/alpha); likewise at p = 1.
    if side in ("both", "lower") and s > 0:
        lower = lower_root(curve, 0.0, p_hat, p_hat - spread, err)
    if side in ("both", "upper") and fail > 0:
        upper = upper_root(curve, p_hat, 1.0, p_hat + spread, err)
    return lower, upper


# --- Log-odds mixture --------------------------------------------------------------


@dataclass(frozen=True)
class LogitGrid:
    """Mixing points ``lam``, ``expm1(lam)`` and log-weights of one half-normal scale."""

    lam: FloatArray
    growth: FloatArray
    log_weights: FloatArray
    ones: FloatArray
    top_terms: tuple[float, float, float, float]  # log w and lam of each part's last point


@lru_cache(maxsize=256)
def logit_grid(sigma: float) -> LogitGrid:
    """Equal-weight half-normal quantiles at two scales (read-only, cached per sigma)."""
    narrow = (np.arange(_GRID_SIZE) + 0.5) / _GRID_SIZE
    wide = (np.arange(_WIDE_SIZE) + 0.5) / _WIDE_SIZE
    lam = np.concatenate(
        [sigma * ndtri(0.5 + 0.5 * narrow), _WIDE_SIGMA * ndtri(0.5 + 0.5 * wide)]
    ).astype(np.float64)
    weights = np.concatenate(
        [np.full(_GRID_SIZE, (1 - _WIDE_SHARE) / _GRID_SIZE),
         np.full(_WIDE_SIZE, _WIDE_SHARE / _WIDE_SIZE)]
    )
    arrays = (lam, np.expm1(lam), np.log(weights), np.ones(lam.size))
    for arr in arrays:
        arr.flags.writeable = False
    top = _GRID_SIZE - 1
    tops = (float(arrays[2][top]), float(lam[top]), float(arrays[2][-1]), float(lam[-1]))
    return LogitGrid(*arrays, top_terms=tops)


class Warm(NamedTuple):
    """Where the last lower-side solve ended, to predict the next root from new counts.

    ``f`` is the evidence less the threshold at ``x``; ``dp``, ``ds``, ``dn`` are its
    partial derivatives in the rate, the successes and the sample size.
    """

    s: int
    n: int
    x: float
    f: float
    dp: float
    ds: float
    dn: float

    def predict(self, s: int, n: int) -> float:
        """First-order guess of the root for counts ``(s, n)``."""
        return self.x - (self.f + (s - self.s) * self.ds + (n - self.n) * self.dn) / self.dp


def logit_lower(
    grid: LogitGrid, s: int, n: int, threshold: float, warm: Warm | None = None
) -> tuple[float, Warm | None]:
    """Lower edge of the one-sided log-odds mixture CS, and the state to warm-start from.

    Without ``warm`` the start is the root of the largest single mixture term, itself a
    rejected point (a log-sum-exp is at least its largest term).
    """
    if s == 0 or not _rejects_zero(grid, s, threshold):
        return 0.0, None
    a = grid.log_weights + s * grid.lam
    c, ones = grid.growth, grid.ones
    neg_n = np.array(-float(n))
    last: list[tuple[float, float, float, FloatArray, float, FloatArray]] = []

    def curve(p: float) -> tuple[float, float, float]:
        y = c * np.array(p)
        y += 1.0
        log_y = np.log(y)
        t = log_y * neg_n
        t += a
        m = float(t.max())
        t -= m
        e = np.exp(t)
        r = c / y
        total = float(np.dot(e, ones))
        mean_r = float(np.dot(e, r)) / total
        mean_r2 = float(np.dot(e * r, r)) / total
        f = m + math.log(total) - threshold
        d1 = -n * mean_r
        last[:] = [(p, f, d1, e, total, log_y)]
        return f, d1, n * mean_r2 * (1 + n) - n * n * mean_r * mean_r

    if warm is not None:
        guess = warm.predict(s, n)
    else:
        # Root of each single term (a_k - n log(1 + p c_k) = threshold), largest wins.
        guess = float(np.max(np.expm1(np.minimum((a - threshold) / n, 700.0)) / c))
    x = lower_root(curve, 0.0, 1.0, min(max(guess, 1e-300), 1.0 - 1e-16), _f_err(n))
    if not last:
        return x, None
    p, f, dp, e, total, log_y = last[0]
    if not (dp < 0 and math.isfinite(f)):
        return x, None
    return x, Warm(s, n, p, f, dp, float(np.dot(e, grid.lam)) / total,
                   -float(np.dot(e, log_y)) / total)


def _rejects_zero(grid: LogitGrid, s: int, threshold: float) -> bool:
    """Whether the evidence at p = 0, ``logsumexp(log w + s lam)``, reaches the threshold."""
    # Each part of the grid is sorted, so its largest term is its last point.
    if max(grid.top_terms[0] + s * grid.top_terms[1],
           grid.top_terms[2] + s * grid.top_terms[3]) >= threshold:
        return True
    a = grid.log_weights + s * grid.lam
    top = float(a.max())
    return top + math.log(float(np.exp(a - top).sum())) >= threshold
