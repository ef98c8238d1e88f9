"""Anytime-valid bounds for the rate of events that have no denominator (tickets per week).

Robbins' gamma mixture: after exposure ``t`` (e.g. weeks) with ``N`` events of a
Poisson process of rate ``lam``, mixing the likelihood ratio of every other rate
``mu`` under a Gamma(a, b) law (shape ``a``, rate ``b``, in units of the exposure)
gives

    M_t(lam) = exp(lam t) lam^-N b^a Gamma(a + N) / (Gamma(a) (b + t)^(a + N)),

a nonnegative martingale with ``M_0 = 1`` under ``lam``. One gamma law is tight only
near its own scale, so the evidence averages :data:`MIXTURE` laws with means from
0.01 to 10,000 events per unit (an average of martingales is one). By Ville's
inequality the set ``{lam : M_t(lam) < 1/alpha}`` contains the true rate at every
``t`` simultaneously with probability at least ``1 - alpha``, so a team may look
after every ticket. ``log M_t`` is convex in ``lam`` (``lam t - N log lam`` plus a
constant) with its minimum at ``N / t``, where it is at most 0 (a mixture never beats
the best rate), so the set is one interval, found by root finding. Assumes events
arrive as a Poisson process with a constant rate.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln, logsumexp

from trustramp.stats.confidence_sequence import check_alpha

_SHAPE = 2.0
MIXTURE = tuple((_SHAPE, _SHAPE / 10 ** (k / 2)) for k in range(-4, 9))
"""The gamma laws (shape, rate) averaged: shape 2, means 10^-2, 10^-1.5, ..., 10^4."""


def poisson_log_evidence(
    count: int, exposure: float, rate: float,
    mixture: tuple[tuple[float, float], ...] = MIXTURE,
) -> float:
    """``log M_t(rate)`` of the module docstring: the evidence against ``rate``."""
    a, b = np.array(mixture).T
    laws = a * np.log(b) + gammaln(a + count) - gammaln(a) - (a + count) * np.log(b + exposure)
    average = float(logsumexp(laws) - math.log(len(mixture)))
    return rate * exposure - (count * math.log(rate) if count else 0.0) + average


def poisson_rate_bounds(
    count: int,
    exposure: float,
    *,
    alpha: float = 0.05,
    mixture: tuple[tuple[float, float], ...] = MIXTURE,
) -> tuple[float, float]:
    """Anytime-valid two-sided ``(lower, upper)`` bounds on a rate per unit of exposure.

    ``count`` events over ``exposure`` units (weeks, say); ``mixture`` the gamma laws
    (shape, rate, in those units) averaged, fixed before seeing data. No exposure yet
    gives ``(0, inf)``.

    Example:
        >>> lo, hi = poisson_rate_bounds(30, 10.0)
        >>> round(lo, 2), round(hi, 2)
        (1.43, 5.43)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count = {count!r}: must be an integer >= 0")
    if not math.isfinite(exposure) or exposure < 0:
        raise ValueError(f"exposure = {exposure!r}: must be a finite number >= 0")
    if not mixture or not all(
        len(law) == 2 and all(math.isfinite(v) and v > 0 for v in law) for law in mixture
    ):
        raise ValueError(f"mixture = {mixture!r}: must be positive gamma (shape, rate) pairs")
    alpha = check_alpha(alpha, "alpha")
    if exposure == 0:
        return 0.0, math.inf
    threshold = math.log(1 / alpha)

    def excess(rate: float) -> float:
        return poisson_log_evidence(count, exposure, rate, mixture) - threshold

    best = count / exposure
    lower = 0.0
    if count:
        low = best / 2
        while excess(low) < 0:
            low /= 2
        lower = float(brentq(excess, low, best))
    high = max(best, 1.0 / exposure) * 2
    while excess(high) < 0:
        high *= 2
    upper = float(brentq(excess, best, high))
    return lower, upper
