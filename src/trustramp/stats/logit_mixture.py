"""Lower edge of the log-odds mixture CS: evidence, its moments, and warm starts.

The log-evidence against rate ``p`` after ``s`` successes in ``n`` outcomes is
``log sum_k w_k exp(s lam_k - n log(1 + p c_k))`` with ``c_k = expm1(lam_k)``: a
log-sum-exp of convex functions of ``p``, so the conservative Newton iteration of
:mod:`trustramp.stats.mixture_bounds` applies. A two-sided bound is two such edges
(the upper one on the mirrored counts).

Why it is laid out this way: a numpy call on 64 numbers costs about as much as on
thousands, so one evaluation does a fixed handful of calls whatever the number of
problems (one or two edges, laid side by side) and yields every first and second
moment of ``(1, lam, log(1 + p c), c / (1 + p c))`` under the mixture's posterior
weights in one small matrix product. Those moments give the derivatives of the
evidence in ``p``, in ``s`` and in ``n``, so the next solve (one more label, or any
nearby counts) starts from a second-order prediction of its root; one evaluation
then usually certifies the edge. Every term is kept: at the edge 40 to 64 of the 64
terms lie within e^-35 of the largest up to n = 10,000 (only at n = 10^6 do a handful
carry it), and as the cost is per call, dropping terms would save nothing.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from trustramp.stats.mixture_bounds import RootSearch, f_err

FloatArray = NDArray[np.float64]

_GRID_SIZE = 48
# A small share of the mixing mass on large log-odds shifts: it costs log(1/0.95) in the
# threshold but lets the bound move quickly when the rate is far from the design rate.
_WIDE_SHARE, _WIDE_SIGMA, _WIDE_SIZE = 0.05, 3.0, 16


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per scale
class LogitGrid:
    """Mixing points ``lam``, ``expm1(lam)`` and log-weights of one half-normal scale."""

    lam: FloatArray
    growth: FloatArray
    log_weights: FloatArray
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
    growth, log_w = np.expm1(lam), np.log(weights)
    top = _GRID_SIZE - 1
    tops = (float(log_w[top]), float(lam[top]), float(log_w[-1]), float(lam[-1]))
    return LogitGrid(_frozen(lam), _frozen(growth), _frozen(log_w), tops)


def _frozen(arr: FloatArray) -> FloatArray:
    out = np.ascontiguousarray(arr, dtype=np.float64)
    out.flags.writeable = False
    return out


class Warm(NamedTuple):
    """One evaluation after ``(s, n)``, to predict the roots of nearby counts from.

    At rate ``x`` the evidence less the threshold was ``f``; ``m`` holds the moment
    sums of that evaluation (see :class:`_Evidence`), from which the derivatives of the
    evidence in the rate, the successes and the sample size follow.
    """

    s: int
    n: int
    x: float
    f: float
    m: list[list[float]]

    def predict(self, s: int, n: int) -> float | None:
        """Root for counts ``(s, n)`` of the second-order expansion around this point.

        None when the second-order terms are not small beside the first-order ones
        (counts too far away: then the root of the largest term is the better start).
        """
        m, n0 = self.m, self.n
        total = m[0][0]
        lam, log_y, r = m[0][1] / total, m[0][2] / total, m[0][3] / total
        # Derivatives of log sum_k e_k with d/dp log e = -n r, d/ds = lam, d/dn = -log y.
        fp = -n0 * r
        fpp = n0 * m[3][3] / total * (1 + n0) - n0 * n0 * r * r
        fps = -n0 * (m[1][3] / total - r * lam)
        fpn = -r + n0 * (m[2][3] / total - r * log_y)
        fss = m[1][1] / total - lam * lam
        fsn = log_y * lam - m[1][2] / total
        fnn = m[2][2] / total - log_y * log_y
        ds, dn = s - self.s, n - n0
        first = self.f + ds * lam - dn * log_y
        second = 0.5 * (ds * ds * fss + 2 * ds * dn * fsn + dn * dn * fnn)
        cross = ds * fps + dn * fpn
        step = -first / fp
        if abs(second) + abs(cross * step) + 0.5 * abs(fpp) * step * step > 2.0 * abs(first):
            return None
        c, b = first + second, fp + cross
        disc = b * b - 2 * fpp * c
        if b < 0 and disc >= 0:
            return self.x + 2 * c / (math.sqrt(disc) - b)  # the root nearer to x
        return self.x + step


def logit_lower(
    grid: LogitGrid, s: int, n: int, threshold: float, warm: Warm | None = None
) -> tuple[float, Warm | None]:
    """Lower edge of the one-sided log-odds mixture CS, and the state to warm-start from.

    Without ``warm`` the solve starts at the root of the largest single mixture term,
    itself a rejected point (a log-sum-exp is at least its largest term).

    Example:
        >>> grid = logit_grid(0.3)
        >>> edge, warm = logit_lower(grid, 930, 1000, math.log(20))
        >>> round(edge, 4), round(logit_lower(grid, 931, 1001, math.log(20), warm)[0], 4)
        (0.9054, 0.9055)
    """
    if s == 0 or not _rejects_zero(grid, s, threshold):
        return 0.0, None
    evidence = _evidence(grid, [s], n, threshold)
    guess = warm.predict(s, n) if warm is not None else None
    if guess is None:
        guess = evidence.cold_guesses([s], n)[0]
    search = RootSearch(0.0, 1.0, min(max(guess, 1e-300), 1.0 - 1e-16), f_err(n))
    while True:
        x = search.x
        m = evidence.one(x)
        total = m[0][0]
        r1, r2 = m[0][3] / total, m[3][3] / total
        f = evidence.shifts[0] + math.log(total)
        if search.step(f, -n * r1, n * r2 * (1 + n) - n * n * r1 * r1):
            return search.result, _warm(s, n, x, f, m)


def logit_lowers(
    grid: LogitGrid, successes: list[int], n: int, threshold: float,
    warms: list[Warm | None],
) -> list[tuple[float, Warm | None]]:
    """:func:`logit_lower` for two success counts at one ``n``, in lockstep.

    A two-sided bound is two lower edges (the upper one on the mirrored counts); each
    step evaluates both in one pass, as numpy's cost is per call rather than per
    element here.
    """
    live = [i for i, s in enumerate(successes) if s and _rejects_zero(grid, s, threshold)]
    if len(live) < 2:
        out: list[tuple[float, Warm | None]] = [(0.0, None)] * len(successes)
        for i in live:
            out[i] = logit_lower(grid, successes[i], n, threshold, warms[i])
        return out
    evidence = _evidence(grid, successes, n, threshold)
    guesses = [warm.predict(s, n) if warm is not None else None
               for s, warm in zip(successes, warms, strict=True)]
    if None in guesses:
        cold = evidence.cold_guesses(successes, n)
        guesses = [c if g is None else g for g, c in zip(guesses, cold, strict=True)]
    searches = [RootSearch(0.0, 1.0, min(max(g or 0.0, 1e-300), 1.0 - 1e-16), f_err(n))
                for g in guesses]
    out = [(0.0, None), (0.0, None)]
    active = [0, 1]
    while active:
        points = [search.x for search in searches]
        # A finished problem is evaluated again at its last point: that costs nothing.
        moments = evidence.two(points)
        still = []
        for r in active:
            m = moments[r]
            total = m[0][0]
            r1, r2 = m[0][3] / total, m[3][3] / total
            f = evidence.shifts[r] + math.log(total)
            if searches[r].step(f, -n * r1, n * r2 * (1 + n) - n * n * r1 * r1):
                out[r] = (searches[r].result, _warm(successes[r], n, points[r], f, m))
            else:
                still.append(r)
        active = still
    return out


def _warm(s: int, n: int, x: float, f: float, m: list[list[float]]) -> Warm | None:
    return Warm(s, n, x, f, m) if math.isfinite(f) and m[0][3] > 0 else None


_LOCAL = threading.local()


def _evidence(grid: LogitGrid, successes: list[int], n: int, threshold: float) -> _Evidence:
    """A work area for these problems, reused across solves (one set per thread).

    Setting up the arrays costs about half an evaluation; reusing them per grid and
    problem count keeps a one-evaluation solve at one evaluation's cost.
    """
    pool: dict[tuple[LogitGrid, int], _Evidence] | None = getattr(_LOCAL, "pool", None)
    if pool is None or len(pool) > 64:
        pool = _LOCAL.pool = {}
    key = (grid, len(successes))
    evidence = pool.get(key)
    if evidence is None:
        evidence = pool[key] = _Evidence(grid, len(successes))
    evidence.reset(successes, n, threshold)
    return evidence


class _Evidence:
    """Log-evidence less the threshold of one or two problems, each at its own point.

    An evaluation returns, per problem, the sums over the mixture's terms ``e_k`` of
    ``e_k u_k u_k^T`` with ``u = (1, lam, log(1 + p c), c / (1 + p c))``: a 4 x 4
    list. The terms are kept less the threshold: near the root their log-sum-exp is
    near 0, so exp() needs no shift unless the point is far away (then a capped term
    makes the total huge, or every term underflows, and the terms are shifted by their
    largest, kept in ``shifts``).

    The problems lie side by side in the columns of one block (numpy's cost is per
    call, not per element, at this size): row 0 is ``log w``; then per problem its
    ``lam`` and 1, zero outside its own columns, so that one product with
    ``(1, s_r, -threshold, -n)`` gives every term; then the rows ``u``, whose weighted
    products, taken per problem, give the moments.
    """

    def __init__(self, grid: LogitGrid, k: int) -> None:
        size = grid.lam.size
        self.k, self.shifts = k, [0.0] * k
        self.unshifted = self.shifts
        block = self.block = np.zeros((2 * k + 5, k * size))
        self.affine = np.zeros((k + 1, k * size))  # at @ affine = 1 + p c, per problem
        self.affine[0] = 1.0
        for r in range(k):
            part = slice(r * size, (r + 1) * size)
            block[1 + r, part] = grid.lam
            block[1 + k + r, part] = 1.0
            self.affine[1 + r, part] = grid.growth
        u = block[2 * k + 1 :]  # 1, lam, log y, r
        block[0], u[0], u[1] = np.tile(grid.log_weights, k), 1.0, np.tile(grid.lam, k)
        self.growth = np.tile(grid.growth, k)
        self.u, self.log_y, self.ratio = u, u[2], u[3]
        self.weighted = np.empty_like(u)
        # Per problem (k, 4, size) and (k, size, 4) views of the weighted rows and rows.
        self.w_parts = self.weighted.reshape(4, k, size).transpose(1, 0, 2)
        self.u_parts = u.reshape(4, k, size).transpose(1, 2, 0)
        self.at = np.zeros(k + 1)
        self.at[0] = 1.0
        self.coef = np.zeros(2 * k + 4)  # the rows up to log y make the terms
        self.coef[0] = 1.0
        # Cap on a term's log so that no moment sum can overflow (u is at most c_max).
        self.cap = 700.0 - math.log(size) - 2 * math.log(max(1.0, float(grid.growth.max())))
        self.big = math.exp(self.cap)  # a total this large may hold a capped term

    def reset(self, successes: list[int], n: int, threshold: float) -> None:
        """Set the counts and the threshold of the problems."""
        k, coef = self.k, self.coef
        for r, s in enumerate(successes):
            coef[1 + r], coef[1 + k + r] = s, -threshold
        coef[-1] = -n

    def cold_guesses(self, successes: list[int], n: int) -> list[float]:
        """Per problem, the largest root of a single term, a point the evidence rejects.

        The root of ``log w_k + s lam_k - n log(1 + p c_k) = threshold`` is
        ``expm1(b_k) / c_k`` with ``b_k = (log w_k + s lam_k - threshold) / n < lam_k``,
        so it never overflows; the evidence, a log-sum-exp, is at least each term.
        """
        coef, k = self.coef, self.k
        scaled = coef / n
        scaled[-1] = 0.0
        roots = scaled @ self.block[:-1]
        np.expm1(roots, out=roots)
        np.divide(roots, self.growth, out=roots)
        return roots.reshape(k, -1).max(axis=1).tolist()  # type: ignore[no-any-return]

    def one(self, p: float) -> list[list[float]]:
        """The moment sums of the one problem at ``p``."""
        self.at[1] = p
        m: list[list[float]] = self._moments()[0]
        if not 1e-280 < m[0][0] < self.big:
            return self._shifted()[0]
        self.shifts = self.unshifted
        return m

    def two(self, points: list[float]) -> list[list[list[float]]]:
        """The moment sums of the two problems, each at its point."""
        self.at[1], self.at[2] = points
        m = self._moments()
        if not (1e-280 < m[0][0][0] < self.big and 1e-280 < m[1][0][0] < self.big):
            return self._shifted()
        self.shifts = self.unshifted
        return m

    def _moments(self) -> list[list[list[float]]]:
        y = self.at @ self.affine
        np.log(y, out=self.log_y)
        np.divide(self.growth, y, out=self.ratio)
        terms = self.coef @ self.block[:-1]  # log w + s lam - threshold - n log y
        np.minimum(terms, self.cap, out=terms)
        np.exp(terms, out=terms)
        np.multiply(self.u, terms, out=self.weighted)
        return (self.w_parts @ self.u_parts).tolist()  # type: ignore[no-any-return]

    def _shifted(self) -> list[list[list[float]]]:
        terms = np.reshape(self.coef @ self.block[:-1], (self.k, -1))
        top = terms.max(axis=1, keepdims=True)
        self.shifts = top[:, 0].tolist()
        np.multiply(self.u, np.exp(terms - top).ravel(), out=self.weighted)
        return (self.w_parts @ self.u_parts).tolist()  # type: ignore[no-any-return]


def _rejects_zero(grid: LogitGrid, s: int, threshold: float) -> bool:
    """Whether the evidence at p = 0, ``logsumexp(log w + s lam)``, reaches the threshold."""
    # Each part of the grid is sorted, so its largest term is its last point.
    if max(grid.top_terms[0] + s * grid.top_terms[1],
           grid.top_terms[2] + s * grid.top_terms[3]) >= threshold:
        return True
    a = grid.log_weights + s * grid.lam
    top = float(a.max())
    return top + math.log(float(np.exp(a - top).sum())) >= threshold
