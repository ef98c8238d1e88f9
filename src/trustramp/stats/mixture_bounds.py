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
(relative) of the root, so results agree with the bisection to about 1e-12. The
log-odds mixture's evaluation and warm starts live in :mod:`trustramp.stats.logit_mixture`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

# f - threshold, its first and second derivative at one point.
Curve = Callable[[float], tuple[float, float, float]]

_REL_TOL = 1e-12
_EPS = 2.3e-16
_MAX_STEPS = 200


def lower_root(curve: Curve, lo: float, hi: float, guess: float, f_err: float) -> float:
    """Conservative root of a convex curve, rejected (f >= 0) at ``lo``, kept at ``hi``.

    The curve must be convex on ``[lo, hi]`` and decreasing where it crosses 0. Returns
    a point at or below the root: the largest point evaluated as rejected or Newton
    point, less ``f_err / |f'|`` (``f_err`` bounds the rounding error of ``f``), so that
    another evaluation order of the same evidence still rejects it.
    """
    search = RootSearch(lo, hi, guess, f_err)
    while not search.step(*curve(search.x)):
        pass
    return search.result


class RootSearch:
    """:func:`lower_root` one step at a time: evaluate at ``x``, pass the values to step.

    Lets several independent solves share one vectorized evaluation per step.
    """

    __slots__ = ("best", "f_err", "hi", "lo", "result", "start", "steps", "x")

    def __init__(self, lo: float, hi: float, guess: float, f_err: float) -> None:
        self.start = self.best = self.lo = lo
        self.hi, self.f_err, self.steps = hi, f_err, 0
        self.x = guess if lo < guess < hi else 0.5 * (lo + hi)
        self.result = math.nan

    def step(self, f: float, d1: float, d2: float) -> bool:
        """Take ``(f, f', f'')`` at ``x``; True when done (the bound is ``result``)."""
        x, lo, hi = self.x, self.lo, self.hi
        if f >= 0:
            self.best = self.lo = lo = x
        else:
            self.hi = hi = x
        self.steps += 1
        if self.steps >= _MAX_STEPS:
            self.result = self.best
            return True
        if not (d1 < 0 and math.isfinite(f) and math.isfinite(d1)):
            self.x = 0.5 * (lo + hi)  # at a pole or past the minimum: halve the bracket
            if hi - lo <= _REL_TOL * abs(lo):
                self.result = self.best
                return True
            return False
        h = -f / d1
        newton = x + h
        ahead = 0.5 * max(d2, 0.0) / -d1 * h * h  # quadratic model: root - newton
        if ahead <= _REL_TOL * abs(newton) or ahead <= 1e-300:
            margin = self.f_err / -d1 + 4 * _EPS * abs(newton)
            self.result = max(self.start, max(self.best, newton) - margin)
            return True
        x = newton + ahead
        if not lo < x < hi:
            x = newton if lo < newton < hi else 0.5 * (lo + hi)
        self.x = x
        return False


def upper_root(curve: Curve, lo: float, hi: float, guess: float, f_err: float) -> float:
    """Conservative root of a convex curve kept at ``lo``, rejected at ``hi`` (increasing)."""

    def mirrored(u: float) -> tuple[float, float, float]:
        f, d1, d2 = curve(-u)
        return f, -d1, d2

    return -lower_root(mirrored, -hi, -lo, -guess, f_err)


def f_err(n: float) -> float:
    """Bound on the rounding error of a log-evidence over ``n`` outcomes."""
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
    err = f_err(n)
    # At p = 0 the evidence is +inf when s > 0 and below the threshold when s == 0
    # (the mixture's value at its minimum is <= 1 < 1/alpha); likewise at p = 1.
    if side in ("both", "lower") and s > 0:
        lower = lower_root(curve, 0.0, p_hat, p_hat - spread, err)
    if side in ("both", "upper") and fail > 0:
        upper = upper_root(curve, p_hat, 1.0, p_hat + spread, err)
    return lower, upper
