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
from collections.abc import Callable, Generator
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
    steps = root_steps(lo, hi, guess, f_err)
    x = next(steps)
    while True:
        try:
            x = steps.send(curve(x))
        except StopIteration as done:
            return float(done.value)


def root_steps(
    lo: float, hi: float, guess: float, f_err: float
) -> Generator[float, tuple[float, float, float], float]:
    """:func:`lower_root` as a generator: yields points, is sent ``(f, f', f'')`` there.

    Lets several independent solves share one vectorized evaluation per step.
    """
    start = best = lo
    x = guess if lo < guess < hi else 0.5 * (lo + hi)
    for _ in range(_MAX_STEPS):
        f, d1, d2 = yield x
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
    top_terms: tuple[float, float, float, float]  # log w and lam of each part's last point
    # Layouts of 1 and 2 problems laid end to end: lam, growth, log w, and the block
    # matrices whose product with the terms gives each problem's total and lam moment
    # (``blocks``), or each problem's plain sum (``sums``).
    flat: tuple[tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], ...]


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
    growth, log_w = np.expm1(lam), np.log(weights)
    flat = []
    for k in (1, 2):
        eye = np.kron(np.eye(k), np.ones((lam.size, 1)))  # (64 k, k): which problem
        blocks = np.empty((lam.size * k, 2 * k))
        blocks[:, 0::2] = eye
        blocks[:, 1::2] = eye * np.tile(lam, k)[:, None]
        layout = (np.tile(lam, k), np.tile(growth, k), np.tile(log_w, k), blocks, eye)
        flat.append(tuple(_frozen(np.asarray(v, dtype=np.float64)) for v in layout))
    top = _GRID_SIZE - 1
    tops = (float(log_w[top]), float(lam[top]), float(log_w[-1]), float(lam[-1]))
    return LogitGrid(_frozen(lam), _frozen(growth), _frozen(log_w), tops,
                     tuple(flat))  # type: ignore[arg-type]


def _frozen(arr: FloatArray) -> FloatArray:
    out = np.ascontiguousarray(arr, dtype=np.float64)
    out.flags.writeable = False
    return out


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
    rejected point (a log-sum-exp is at least its largest term). The terms are kept
    less the threshold: near the root their log-sum-exp is near 0, so exp() needs no
    shift unless the point is far away (then a capped term makes the total huge, or
    every term underflows, and the shifted form is used).
    """
    if s == 0 or not _rejects_zero(grid, s, threshold):
        return 0.0, None
    a = grid.lam * float(s)
    a += grid.log_weights
    a -= threshold
    c, blocks = grid.growth, grid.flat[0][3]
    last: list[tuple[float, float, float, FloatArray, float, float, FloatArray]] = []

    def curve(p: float) -> tuple[float, float, float]:
        y = c * p
        y += 1.0
        log_y = np.log(y)
        e = log_y * -n
        e += a
        np.minimum(e, 700.0, out=e)
        np.exp(e, out=e)
        total, lam_sum = np.dot(e, blocks).tolist()
        shift = 0.0
        if not 1e-280 < total < 1e280:
            e = log_y * -n + a
            shift = float(e.max())
            e -= shift
            np.exp(e, out=e)
            total, lam_sum = np.dot(e, blocks).tolist()
        r = c / y
        er = e * r
        mean_r = float(er.sum()) / total
        er *= r
        mean_r2 = float(er.sum()) / total
        f = shift + math.log(total)
        d1 = -n * mean_r
        last[:] = [(p, f, d1, e, total, lam_sum / total, log_y)]
        return f, d1, n * mean_r2 * (1 + n) - n * n * mean_r * mean_r

    if warm is not None:
        guess = warm.predict(s, n)
    else:
        # Root of each single term (a_k - n log(1 + p c_k) = threshold), largest wins.
        guess = float(np.max(np.expm1(np.minimum(a / n, 700.0)) / c))
    x = lower_root(curve, 0.0, 1.0, min(max(guess, 1e-300), 1.0 - 1e-16), _f_err(n))
    if not last:
        return x, None
    p, f, dp, e, total, ds, log_y = last[0]
    if not (dp < 0 and math.isfinite(f)):
        return x, None
    return x, Warm(s, n, p, f, dp, ds, -float(np.dot(e, log_y)) / total)


def logit_lowers(
    grid: LogitGrid, successes: list[int], n: int, threshold: float,
    warms: list[Warm | None],
) -> list[tuple[float, Warm | None]]:
    """:func:`logit_lower` for one or two success counts at one ``n``, in lockstep.

    A two-sided bound is two lower edges (the upper one on the mirrored counts); each
    step evaluates both in one pass over the two problems laid end to end, as numpy's
    cost is per call rather than per element here.
    """
    out: list[tuple[float, Warm | None]] = [(0.0, None)] * len(successes)
    live = [i for i, s in enumerate(successes) if s and _rejects_zero(grid, s, threshold)]
    if len(live) == 1:  # one problem: the inline solve has less to carry
        out[live[0]] = logit_lower(grid, successes[live[0]], n, threshold, warms[live[0]])
        return out
    steps, points = [], []
    for i in live:
        warm = warms[i]
        if warm is not None:
            guess = warm.predict(successes[i], n)
        else:
            # Root of each single term (a_k - n log(1 + p c_k) = threshold), largest wins.
            a = grid.log_weights + successes[i] * grid.lam
            guess = float(np.max(np.expm1(np.minimum((a - threshold) / n, 700.0))
                                 / grid.growth))
        steps.append(root_steps(0.0, 1.0, min(max(guess, 1e-300), 1.0 - 1e-16), _f_err(n)))
        points.append(next(steps[-1]))
    active = list(range(len(live)))
    curves: dict[int, _LogitCurves] = {}
    while active:
        key = sum(1 << r for r in active)
        if key not in curves:
            curves[key] = _LogitCurves(grid, [successes[live[r]] for r in active], n,
                                       threshold)
        values = curves[key]([points[r] for r in active])
        still = []
        for k, (r, value) in enumerate(zip(active, values, strict=True)):
            try:
                points[r] = steps[r].send(value)
                still.append(r)
            except StopIteration as done:
                out[live[r]] = (float(done.value), curves[key].warm(k, successes[live[r]]))
        active = still
    return out


class _LogitCurves:
    """Log-evidence of one or two problems at one point each, with derivatives.

    The terms are kept less the threshold: near the root their log-sum-exp is near 0, so
    exp() needs no shift unless the point is far away (then a capped term makes the
    total huge, or every term underflows, and the shifted form is used).
    """

    def __init__(self, grid: LogitGrid, successes: list[int], n: int, threshold: float) -> None:
        k = len(successes)
        self.k, self.n, self.size = k, n, grid.lam.size
        self.lam, self.growth, log_w, self.blocks, self.sums = grid.flat[k - 1]
        if k == 1:
            self.terms = self.lam * float(successes[0])
        else:
            self.terms = np.repeat(np.array(successes, dtype=np.float64), self.size) * self.lam
        self.terms += log_w
        self.terms -= threshold
        self.p = np.empty(self.size * k)
        self.last: tuple[list[float], list[float], list[float], list[float], list[float],
                         FloatArray, FloatArray] = ([], [], [], [], [], self.p, self.p)

    def __call__(self, points: list[float]) -> list[tuple[float, float, float]]:
        c, n, size = self.growth, self.n, self.size
        if self.k == 1:
            y = c * points[0]
        else:
            for k, p in enumerate(points):
                self.p[k * size : (k + 1) * size] = p
            y = c * self.p
        y += 1.0
        log_y = np.log(y)
        e = log_y * -n
        e += self.terms
        np.minimum(e, 700.0, out=e)
        np.exp(e, out=e)
        moments = np.dot(e, self.blocks).tolist()  # total, lam moment per problem
        totals = moments[0::2]
        shifts = [0.0] * self.k
        if not all(1e-280 < t < 1e280 for t in totals):
            e = log_y * -n + self.terms
            shifts = e.reshape(self.k, size).max(axis=1).tolist()
            e -= np.repeat(shifts, size)
            np.exp(e, out=e)
            moments = np.dot(e, self.blocks).tolist()
            totals = moments[0::2]
        r = c / y
        er = e * r
        m1s = np.dot(er, self.sums).tolist()
        er *= r
        m2s = np.dot(er, self.sums).tolist()
        out, fs, d1s = [], [], []
        for k in range(self.k):
            m1, m2 = m1s[k] / totals[k], m2s[k] / totals[k]
            f = shifts[k] + math.log(totals[k])
            fs.append(f)
            d1s.append(-n * m1)
            out.append((f, -n * m1, n * m2 * (1 + n) - n * n * m1 * m1))
        lam_means = [moments[2 * k + 1] / totals[k] for k in range(self.k)]
        self.last = (list(points), fs, d1s, lam_means, totals, e, log_y)
        return out

    def warm(self, k: int, s: int) -> Warm | None:
        """State at problem ``k``'s last evaluation, to start the next solve from."""
        points, fs, d1s, lam_means, totals, e, log_y = self.last
        p, f, dp = points[k], fs[k], d1s[k]
        if not (dp < 0 and math.isfinite(f)):
            return None
        part = slice(k * self.size, (k + 1) * self.size)
        dn = -float(np.dot(e[part], log_y[part])) / totals[k]
        return Warm(s, self.n, p, f, dp, lam_means[k], dn)


def _rejects_zero(grid: LogitGrid, s: int, threshold: float) -> bool:
    """Whether the evidence at p = 0, ``logsumexp(log w + s lam)``, reaches the threshold."""
    # Each part of the grid is sorted, so its largest term is its last point.
    if max(grid.top_terms[0] + s * grid.top_terms[1],
           grid.top_terms[2] + s * grid.top_terms[3]) >= threshold:
        return True
    a = grid.log_weights + s * grid.lam
    top = float(a.max())
    return top + math.log(float(np.exp(a - top).sum())) >= threshold
