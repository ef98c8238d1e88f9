"""Slow reference edges: the 64-step bisection the fast paths replaced.

Kept, unoptimized, so that tests can check the fast edges against an obviously correct
computation and ``benchmarks/bench_looks.py`` can show what a look used to cost. Each
side is bisected from its rejected end (0 or 1) towards a point the evidence keeps;
the rejected end of the final bracket is returned, so rounding only widens the interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from trustramp.stats.confidence_sequence import (
    Method,
    Side,
    betting_log_capital,
    log_evidence,
    logit_scale,
    prpl_bets,
)

_BISECT_STEPS = 64
Which = Literal["lower", "upper"]


def bisect(f: Callable[[float], float], rejected: float, kept: float) -> float:
    """Boundary between a rejected point (f >= 0) and a kept one (f < 0), rejected end."""
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (rejected + kept)
        if f(mid) >= 0:
            rejected = mid
        else:
            kept = mid
    return rejected


def edges(
    f: Callable[[float, Which], float], side: Side, kept_lower: float, kept_upper: float
) -> tuple[float, float]:
    """``(lower, upper)`` edges of ``{p : f(p, side) < 0}`` by bisection on each side."""
    lower, upper = 0.0, 1.0
    if side in ("both", "lower") and f(0.0, "lower") >= 0 and f(kept_lower, "lower") < 0:
        lower = bisect(lambda p: f(p, "lower"), 0.0, kept_lower)
    if side in ("both", "upper") and f(1.0, "upper") >= 0 and f(kept_upper, "upper") < 0:
        upper = bisect(lambda p: f(p, "upper"), 1.0, kept_upper)
    return lower, upper


def reference_bounds(
    successes: int,
    n: int,
    *,
    alpha: float = 0.05,
    method: Method = "beta_binomial",
    side: Side = "both",
    prior: tuple[float, float] = (1.0, 1.0),
    design_rate: float = 0.5,
    design_samples: int = 1000,
) -> tuple[float, float]:
    """What ``bounds_from_counts`` computed before: bisection on ``log_evidence``.

    Example:
        >>> lo, hi = reference_bounds(930, 1000)
        >>> round(lo, 3), round(hi, 3)
        (0.896, 0.956)
    """
    a_side = alpha if method == "beta_binomial" or side != "both" else alpha / 2
    threshold = math.log(1 / a_side)
    sigma = logit_scale(design_rate, design_samples, a_side)

    def f(p: float, which: Which) -> float:
        ev = log_evidence(successes, n, p, method=method, side=which, prior=prior, sigma=sigma)
        return float(ev) - threshold

    if method == "beta_binomial":
        p_hat = successes / n if n else 0.5
        return edges(f, side, p_hat, p_hat)
    return edges(f, side, 1.0, 0.0)


def reference_betting_bounds(
    x: NDArray[np.bool_], *, alpha: float = 0.05, side: Side = "both"
) -> tuple[float, float]:
    """Betting CS bounds by bisection over the whole stream (O(n) per step).

    Example:
        >>> lo, hi = reference_betting_bounds(np.arange(400) % 10 != 0)
        >>> 0.8 < lo < 0.9 < hi < 0.95
        True
    """
    a_side = alpha if side != "both" else alpha / 2
    if x.size == 0:
        return 0.0, 1.0
    bets, _ = prpl_bets(x, a_side)
    threshold = math.log(1 / a_side)

    def f(p: float, which: Which) -> float:
        return float(betting_log_capital(x, bets, p, which).sum()) - threshold

    return edges(f, side, 1.0, 0.0)
