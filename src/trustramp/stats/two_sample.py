"""Always-valid comparison of two Bernoulli rates: the mixture SPRT.

For features that keep a control group (AI vs the non-AI fallback), the mSPRT of
Johari, Pekelis and Walsh ("Always valid inference", 2017/2022) compares a rate such as
thumbs-down in the two arms. With the difference ``theta = p_ai - p_fallback``, its
estimate ``d`` and its plug-in variance ``V = p_a(1-p_a)/n_a + p_f(1-p_f)/n_f``, the
normal mixture over ``theta ~ N(theta0, tau^2)`` gives

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 (d - theta0)^2 / (2 V (V + tau^2)))

The always-valid p-value is the running minimum of ``1 / Lambda`` and the always-valid
confidence interval the running intersection of ``{theta0 : Lambda(theta0) < 1/alpha}``.

Assumptions: outcomes i.i.d. within each arm at fixed rates; the normal approximation
to the difference, which is why looks only start once each arm has ``min_per_arm``
outcomes and the rates are regularized (``(s + 1/2) / (n + 1)``) before the variance is
computed. The type-I error under continuous monitoring is checked by simulation in
``tests/stats/test_two_sample.py``. ``tau`` should be about the smallest difference
worth acting on; the test is most powerful for effects near it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from trustramp.stats.confidence_sequence import as_outcomes, check_alpha, check_counts

FloatArray = NDArray[np.float64]


def msprt_log_lambda(
    s_a: NDArray[np.int64] | int,
    n_a: NDArray[np.int64] | int,
    s_f: NDArray[np.int64] | int,
    n_f: NDArray[np.int64] | int,
    tau: float,
    theta0: float = 0.0,
) -> FloatArray:
    """Log mixture likelihood ratio, vectorized over counts (arm a minus arm f)."""
    return _log_lambda(*_difference_and_variance(s_a, n_a, s_f, n_f), tau, theta0)


def _difference_and_variance(
    s_a: NDArray[np.int64] | int,
    n_a: NDArray[np.int64] | int,
    s_f: NDArray[np.int64] | int,
    n_f: NDArray[np.int64] | int,
) -> tuple[FloatArray, FloatArray]:
    """Observed ``d = p_a - p_f`` and its plug-in variance ``V`` from regularized rates."""
    ra = (np.asarray(s_a) + 0.5) / (np.asarray(n_a) + 1.0)
    rf = (np.asarray(s_f) + 0.5) / (np.asarray(n_f) + 1.0)
    d = np.asarray(s_a) / np.maximum(n_a, 1) - np.asarray(s_f) / np.maximum(n_f, 1)
    v = ra * (1 - ra) / np.maximum(n_a, 1) + rf * (1 - rf) / np.maximum(n_f, 1)
    return np.asarray(d, dtype=np.float64), np.asarray(v, dtype=np.float64)


def _log_lambda(d: FloatArray, v: FloatArray, tau: float, theta0: float) -> FloatArray:
    t2 = tau * tau
    out = 0.5 * np.log(v / (v + t2)) + t2 * (d - theta0) ** 2 / (2 * v * (v + t2))
    return np.asarray(out, dtype=np.float64)


class MixtureSPRT:
    """Sequential AI-vs-fallback comparison of a rate, valid under continuous peeking.

    ``p_value`` is always valid: P(p_value ever <= alpha) <= alpha when the two rates
    differ by exactly ``theta0``. ``interval`` covers the true difference at every look
    simultaneously with probability >= 1 - alpha.

    Example:
        >>> rng = np.random.default_rng(7)
        >>> test = MixtureSPRT(alpha=0.05, tau=0.02)
        >>> _ = test.update_streams(rng.random(3000) < 0.10, rng.random(3000) < 0.05)
        >>> test.rejected, test.interval[0] > 0
        (True, True)
    """

    def __init__(
        self, alpha: float = 0.05, tau: float = 0.02, theta0: float = 0.0, min_per_arm: int = 20
    ) -> None:
        self.alpha = check_alpha(alpha)
        if isinstance(tau, bool) or not isinstance(tau, int | float) or not tau > 0:
            raise ValueError(f"tau must be a positive number (mixing sd), got {tau!r}")
        if not isinstance(theta0, int | float) or not -1 <= theta0 <= 1:
            raise ValueError(f"theta0 must be a rate difference in [-1, 1], got {theta0!r}")
        if isinstance(min_per_arm, bool) or not isinstance(min_per_arm, int) or min_per_arm < 1:
            raise ValueError(f"min_per_arm must be a positive integer, got {min_per_arm!r}")
        self.tau, self.theta0, self.min_per_arm = float(tau), float(theta0), min_per_arm
        self._counts = [0, 0, 0, 0]  # s_ai, n_ai, s_fallback, n_fallback
        self._p_value = 1.0
        self._interval = (-1.0, 1.0)

    def update(
        self, ai_successes: int = 0, ai_n: int = 0, fallback_successes: int = 0,
        fallback_n: int = 0,
    ) -> MixtureSPRT:
        """Add new counts from both arms (increments, not totals) and take one look."""
        check_counts(ai_successes, ai_n, "MixtureSPRT.update (ai arm)")
        check_counts(fallback_successes, fallback_n, "MixtureSPRT.update (fallback arm)")
        for i, v in enumerate((ai_successes, ai_n, fallback_successes, fallback_n)):
            self._counts[i] += int(v)
        self._look(*(np.array([c]) for c in self._counts))
        return self

    def update_streams(
        self, ai: Iterable[bool] | NDArray[np.bool_], fallback: Iterable[bool] | NDArray[np.bool_]
    ) -> MixtureSPRT:
        """Add outcome streams from both arms, looking after each position.

        Position ``i`` adds the ``i``-th outcome of each arm that still has one, so arms
        of different lengths are fine.
        """
        a, f = as_outcomes(ai, "ai"), as_outcomes(fallback, "fallback")
        steps = max(a.size, f.size)
        if steps == 0:
            return self
        sa, na, sf, nf = self._counts

        def cumulate(x: NDArray[np.bool_], s0: int, n0: int) -> tuple[NDArray[np.int64], ...]:
            idx = np.minimum(np.arange(steps), x.size - 1)
            cs = np.concatenate([[0], np.cumsum(x, dtype=np.int64)])
            return s0 + cs[idx + 1], n0 + np.minimum(np.arange(1, steps + 1), x.size)

        self._look(*cumulate(a, sa, na), *cumulate(f, sf, nf))
        self._counts = [sa + int(a.sum()), na + a.size, sf + int(f.sum()), nf + f.size]
        return self

    def _look(
        self, s_a: NDArray[np.int64], n_a: NDArray[np.int64], s_f: NDArray[np.int64],
        n_f: NDArray[np.int64],
    ) -> None:
        ready = (n_a >= self.min_per_arm) & (n_f >= self.min_per_arm)
        if not ready.any():
            return
        s_a, n_a, s_f, n_f = s_a[ready], n_a[ready], s_f[ready], n_f[ready]
        d, v = _difference_and_variance(s_a, n_a, s_f, n_f)
        log_l = _log_lambda(d, v, self.tau, self.theta0)
        self._p_value = min(self._p_value, float(np.exp(-log_l.max())))
        t2 = self.tau**2
        half = np.sqrt(v * (v + t2) / t2 * (2 * math.log(1 / self.alpha) + np.log((v + t2) / v)))
        lo, hi = self._interval
        self._interval = (max(lo, float((d - half).max())), min(hi, float((d + half).min())))

    @property
    def p_value(self) -> float:
        """Always-valid p-value for ``theta == theta0`` (running minimum)."""
        return self._p_value

    @property
    def rejected(self) -> bool:
        """True once the p-value has reached alpha (stays True)."""
        return self._p_value <= self.alpha

    @property
    def interval(self) -> tuple[float, float]:
        """Always-valid CI for ``p_ai - p_fallback`` (running intersection)."""
        return self._interval

    @property
    def difference(self) -> float:
        """Observed ``p_ai - p_fallback`` (NaN until both arms have an outcome)."""
        sa, na, sf, nf = self._counts
        return sa / na - sf / nf if na and nf else math.nan

    @property
    def counts(self) -> tuple[int, int, int, int]:
        """``(ai_successes, ai_n, fallback_successes, fallback_n)`` so far."""
        sa, na, sf, nf = self._counts
        return sa, na, sf, nf
