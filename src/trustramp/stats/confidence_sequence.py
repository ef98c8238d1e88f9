"""Anytime-valid confidence sequences for a Bernoulli rate (accuracy, thumbs-up rate).

A confidence sequence (CS) is a sequence of intervals that contains the true rate at
*every* sample size simultaneously with probability >= 1 - alpha, so a team may look
after every label and stop whenever it likes (Ville's inequality). Each method here is
the set of rates ``p`` that a nonnegative (super)martingale ``M_n(p)`` has not yet
rejected: ``CS_n = {p : M_n(p) < 1/alpha}``.

Methods (all assume i.i.d. Bernoulli outcomes; the true rate must not drift):

* ``"beta_binomial"``: Robbins' conjugate mixture, ``M_n(p) = B(a+S, b+n-S) / B(a, b)
  / (p^S (1-p)^(n-S))`` (Howard et al. 2021). One martingale covers both sides, so
  ``side="lower"`` or ``"upper"`` reports that bound of the same set (alpha is not
  split and nothing is gained by asking for one side). ``log M_n`` is convex in ``p``
  with its minimum near ``S/n``.
* ``"logit_mixture"``: a one-sided mixture of Bernoulli likelihood ratios over
  log-odds shifts ``lambda >= 0`` (``lambda <= 0`` for the upper side). The mixing law
  is a half-normal of scale ``sigma`` discretized exactly at 48 equal-weight quantiles,
  so the martingale is exact (no numerical integration) and monotone in ``p``. ``sigma``
  is chosen from ``design_rate`` and ``design_samples`` (the sample size where the
  bound should be tightest, Howard et al. 2021 sec. 3.5); it never depends on data.
  5% of the mass sits on a wide half-normal (scale 3) so that rates far from the
  design rate are still bounded quickly.
  A two-sided request splits alpha: each side uses ``alpha / 2``.
* ``"betting"``: hedged capital with predictable plug-in bets (Waudby-Smith & Ramdas
  2023, PrPl-H). The capital is monotone in ``p`` (the bets do not depend on ``p``
  apart from the truncation ``c/p``) and is kept exactly at every ``p`` in O(1) memory
  for all but the early large bets (:mod:`trustramp.stats.betting_capital`), so a look
  costs the same at any n. A two-sided request splits alpha (``theta = 1/2``). The bets
  depend on the order of the outcomes, so this method needs the stream, not counts.

Both mixtures depend on the data only through ``(successes, n)``; use
:func:`bounds_from_counts` or :meth:`ConfidenceSequence.from_counts` for them.

Speed: the edges come from a Newton iteration on the convex log-evidence (see
:mod:`trustramp.stats.mixture_bounds` and :mod:`trustramp.stats.logit_mixture`), results
are cached on the counts (LRU, 4,096 entries) and the log-odds mixture starts from a
second-order prediction off the previous solve with the same settings and a sample size
of the same binary order, so a look after one more label costs one evaluation of the
mixture. Bounds agree with a 64-step bisection to about 1e-11 and are only ever rounded
outwards; the last digits can depend on which solve a call was started from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from numbers import Real
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, logsumexp, xlog1py, xlogy

from trustramp.stats.betting_capital import BET_CAP, CapitalSide
from trustramp.stats.logit_mixture import LogitGrid, Warm, logit_grid, logit_lower, logit_lowers
from trustramp.stats.mixture_bounds import beta_binomial_bounds

Method = Literal["beta_binomial", "logit_mixture", "betting"]
Side = Literal["both", "lower", "upper"]
FloatArray = NDArray[np.float64]

_METHODS = ("beta_binomial", "logit_mixture", "betting")
_SIDES = ("both", "lower", "upper")
_BET_CAP = BET_CAP
_CACHE_SIZE = 4096
# Last lower-side solve per (design_rate, design_samples, alpha_side, side): the next
# solve with those settings starts from it.
WarmKey = tuple[float, int, float, str]
_WARM: dict[tuple[WarmKey, int], Warm] = {}


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """Return ``alpha`` as a float, or raise ValueError unless 0 < alpha < 1."""
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def check_counts(successes: int, n: int, where: str = "") -> tuple[int, int]:
    """Return ``(successes, n)`` as ints, or raise ValueError naming the bad argument."""
    at = f" in {where}" if where else ""
    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name}{at} must be an integer count, got {value!r}")
        if value < 0:
            raise ValueError(f"{name}{at} must be >= 0, got {value}")
    if successes > n:
        raise ValueError(f"successes{at} ({successes}) cannot exceed n ({n})")
    return int(successes), int(n)


def check_rate(value: float, name: str) -> float:
    """Return ``value`` as a float, or raise ValueError unless 0 <= value <= 1."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a rate in [0, 1], got {value!r}")
    return float(value)


def _check_choice(value: str, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _check_options(
    alpha: float,
    method: Method,
    side: Side,
    prior: tuple[float, float],
    design_rate: float,
    design_samples: int,
) -> float:
    """Validate the options every confidence-sequence entry point takes; return alpha."""
    alpha = check_alpha(alpha)
    _check_choice(method, "method", _METHODS)
    _check_choice(side, "side", _SIDES)
    _check_prior(prior)
    check_rate(design_rate, "design_rate")
    _check_design(design_samples)
    return alpha


@lru_cache(maxsize=1024)
def checked_options(
    alpha: float, method: Method, side: Side, prior: tuple[float, float], design_rate: float,
    design_samples: int,
) -> float:
    """:func:`_check_options`, cached: settings that passed once are not checked again."""
    return _check_options(alpha, method, side, prior, design_rate, design_samples)


@lru_cache(maxsize=1024)
def logit_scale(design_rate: float, design_samples: int, alpha_side: float) -> float:
    """Half-normal scale (log-odds) whose mixture bound is tightest at ``design_samples``.

    For a normal mixture with prior precision ``m`` (in samples) the boundary at ``n*``
    is smallest when ``x = n*/m`` solves ``x = 2 log(1/(2 alpha)) + log(1 + x)``; the
    half-normal carries the factor 2. A log-odds shift ``lambda`` moves the rate by
    about ``lambda * v`` with ``v = r(1-r)``, hence ``sigma = sqrt(x / (n* v))``.
    """
    v = max(design_rate * (1 - design_rate), 1e-4)
    level = max(2 * math.log(1 / (2 * alpha_side)), 0.5)
    x = level
    for _ in range(50):
        x = level + math.log1p(x)
    return math.sqrt(x / (design_samples * v))


def _logit_grid(sigma: float) -> tuple[FloatArray, FloatArray]:
    """Mixing points and weights: equal-weight half-normal quantiles, two scales."""
    grid = logit_grid(sigma)
    return grid.lam, np.exp(grid.log_weights)


def log_evidence(
    successes: ArrayLike,
    n: ArrayLike,
    p: ArrayLike,
    *,
    method: Method = "beta_binomial",
    side: Literal["lower", "upper"] = "lower",
    prior: tuple[float, float] = (1.0, 1.0),
    sigma: float = 0.2,
) -> FloatArray:
    """Log of the mixture martingale ``M_n(p)``, vectorized over counts and ``p``.

    ``side`` only matters for ``"logit_mixture"``: ``"lower"`` mixes over rates above
    ``p`` (evidence that the rate exceeds ``p``), ``"upper"`` over rates below.
    The CS excludes ``p`` exactly when this is ``>= log(1/alpha_side)``.
    """
    s = np.asarray(successes, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    pp = np.asarray(p, dtype=np.float64)
    if method == "beta_binomial":
        a, b = prior
        with np.errstate(divide="ignore", invalid="ignore"):
            loglik = xlogy(s, pp) + xlog1py(nn - s, -pp)
        return np.asarray(betaln(a + s, b + nn - s) - betaln(a, b) - loglik, dtype=np.float64)
    if method == "logit_mixture":
        lam, weights = _logit_grid(sigma)
        if side == "upper":
            # Mirror: evidence that the rate is below p is evidence that 1-rate is above 1-p.
            s, pp = nn - s, 1 - pp
        terms = s[..., None] * lam - nn[..., None] * np.log1p(pp[..., None] * np.expm1(lam))
        return np.asarray(logsumexp(terms, axis=-1, b=weights), dtype=np.float64)
    raise ValueError(f"method {method!r} has no counts-only evidence; use ConfidenceSequence")


def _side_alpha(alpha: float, side: Side, method: Method) -> float:
    if method == "beta_binomial" or side != "both":
        return alpha
    return alpha / 2


def bounds_from_counts(
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
    """Anytime-valid ``(lower, upper)`` bounds from counts for the two mixture methods.

    A one-sided request returns the trivial bound (0 or 1) on the other side.

    Example:
        >>> lo, hi = bounds_from_counts(930, 1000, alpha=0.05)
        >>> round(lo, 3), round(hi, 3)
        (0.896, 0.956)
    """
    s, nn = check_counts(successes, n)
    alpha = _check_options(alpha, method, side, prior, design_rate, design_samples)
    if method == "betting":
        raise ValueError("method 'betting' depends on the order of outcomes, not only counts")
    return counts_bounds(s, nn, alpha, method, side, prior, design_rate, design_samples)


def counts_bounds(
    s: int, n: int, alpha: float, method: Method, side: Side, prior: tuple[float, float],
    design_rate: float, design_samples: int,
) -> tuple[float, float]:
    """:func:`bounds_from_counts` for arguments already checked (no validation)."""
    return _bounds(s, n, alpha, method, side, (float(prior[0]), float(prior[1])),
                   float(design_rate), design_samples)


@lru_cache(maxsize=_CACHE_SIZE)
def _bounds(
    s: int, n: int, alpha: float, method: Method, side: Side, prior: tuple[float, float],
    design_rate: float, design_samples: int,
) -> tuple[float, float]:
    if method == "beta_binomial":
        return beta_binomial_bounds(s, n, prior, math.log(1 / alpha), side)
    grid, threshold, low_key, up_key = _logit_settings(design_rate, design_samples, alpha, side)
    # The upper edge is the lower edge of the mirrored counts: evidence that the rate is
    # below p is evidence that 1 - rate is above 1 - p.
    if side == "lower":
        lower, state = logit_lower(grid, s, n, threshold, _warm(low_key, n))
        _keep(low_key, state)
        return lower, 1.0
    if side == "upper":
        mirrored, state = logit_lower(grid, n - s, n, threshold, _warm(up_key, n))
        _keep(up_key, state)
        return 0.0, _mirror(mirrored)
    (lower, low_state), (mirrored, up_state) = logit_lowers(
        grid, [s, n - s], n, threshold, [_warm(low_key, n), _warm(up_key, n)])
    _keep(low_key, low_state)
    _keep(up_key, up_state)
    return lower, _mirror(mirrored)


@lru_cache(maxsize=1024)
def _logit_settings(
    design_rate: float, design_samples: int, alpha: float, side: Side
) -> tuple[LogitGrid, float, WarmKey, WarmKey]:
    """Grid, threshold and the keys of the warm starts of the log-odds mixture's sides."""
    a_side = _side_alpha(alpha, side, "logit_mixture")
    grid = logit_grid(logit_scale(design_rate, design_samples, a_side))
    settings = (design_rate, design_samples, a_side)
    return grid, math.log(1 / a_side), (*settings, "lower"), (*settings, "upper")


def _warm(key: WarmKey, n: int) -> Warm | None:
    """The last solve with these settings at a sample size of the same binary order."""
    # Kept per order of n, so that criteria with the same settings at different sample
    # sizes (several features, one controller) each find a start near their own counts.
    order = n.bit_length()
    warm = _WARM.get((key, order))
    if warm is None:
        warm = _WARM.get((key, order - 1)) or _WARM.get((key, order + 1))
    return warm


def _keep(key: WarmKey, state: Warm | None) -> None:
    if state is not None:
        if len(_WARM) > 1024:
            _WARM.clear()
        _WARM[(key, state.n.bit_length())] = state


def _mirror(mirrored: float) -> float:
    """Upper edge from the lower edge of the mirrored problem, rounded outwards."""
    return min(1.0, math.nextafter(1.0 - mirrored, 2.0)) if mirrored > 0 else 1.0


def _check_prior(prior: tuple[float, float]) -> None:
    if len(prior) != 2 or not all(isinstance(v, int | float) and v > 0 for v in prior):
        raise ValueError(f"prior must be two positive Beta parameters (a, b), got {prior!r}")


def _check_design(design_samples: int) -> int:
    if isinstance(design_samples, bool) or not isinstance(design_samples, int) or (
        design_samples < 1
    ):
        raise ValueError(f"design_samples must be a positive integer, got {design_samples!r}")
    return design_samples


def prpl_bets(
    x: NDArray[np.bool_], alpha_side: float, state: tuple[int, float, float] = (0, 0.0, 0.0)
) -> tuple[FloatArray, tuple[int, float, float]]:
    """Predictable plug-in bets for outcomes ``x`` (last axis is time).

    ``state = (t, sum_x, sum_sq)`` carries the past so a stream can be fed in batches;
    the returned state is only meaningful for 1-d input. The bet for step ``t`` uses the
    regularized variance of steps ``< t`` only, which is what keeps the capital a
    martingale.
    """
    t0, sum_x, sum_sq = state
    xf = x.astype(np.float64)
    t = t0 + np.arange(1, x.shape[-1] + 1, dtype=np.float64)
    mean = (0.5 + sum_x + np.cumsum(xf, axis=-1)) / (t + 1)
    sq = sum_sq + np.cumsum((xf - mean) ** 2, axis=-1)
    var = (0.25 + sq) / (t + 1)
    first = np.full((*x.shape[:-1], 1), (0.25 + sum_sq) / (t0 + 1))
    prev_var = np.concatenate([first, var[..., :-1]], axis=-1)
    bets = np.sqrt(2 * math.log(1 / alpha_side) / (prev_var * t * np.log1p(t)))
    new_state = (int(t0 + x.shape[-1]), float(np.sum(xf) + sum_x), float(sq[..., -1].max()))
    return bets, new_state


def betting_log_capital(
    x: NDArray[np.bool_], bets: FloatArray, p: float, side: Literal["lower", "upper"]
) -> FloatArray:
    """Per-step log capital increments of the bettor against rate ``p``.

    ``"lower"`` bets that the rate is above ``p`` (its capital rejects small ``p``).
    """
    if side == "lower":
        lam = np.minimum(bets, _BET_CAP / p) if p > 0 else bets
        return np.asarray(np.log1p(lam * (x - p)), dtype=np.float64)
    lam = np.minimum(bets, _BET_CAP / (1 - p)) if p < 1 else bets
    return np.asarray(np.log1p(-lam * (x - p)), dtype=np.float64)


def as_outcomes(x: object, name: str = "x") -> NDArray[np.bool_]:
    """Coerce one bool, an iterable of bools or a bool array to a 1-d bool array.

    Integers (even 0 and 1) are refused: a label stream that arrives as ints is more
    often a bug (counts passed where outcomes were meant) than a convenience.
    """
    if isinstance(x, bool | np.bool_):
        return np.array([bool(x)])
    if isinstance(x, np.ndarray):
        if x.dtype != np.bool_:
            raise ValueError(f"{name} must be a bool array, got dtype {x.dtype}")
        return x.ravel()
    if isinstance(x, str | bytes) or not isinstance(x, Iterable):
        raise ValueError(f"{name} must be a bool or an iterable of bools, got {x!r}")
    items = list(x)
    for i, v in enumerate(items):
        if not isinstance(v, bool | np.bool_):
            raise ValueError(f"{name}[{i}] must be a bool, got {v!r}")
    return np.array(items, dtype=np.bool_)


class ConfidenceSequence:
    """Running anytime-valid confidence sequence for a Bernoulli rate.

    The interval ``[lower, upper]`` after any number of updates contains the true rate
    at every step simultaneously with probability >= 1 - alpha (see the module
    docstring for the methods and their assumptions).

    Example:
        >>> cs = ConfidenceSequence(alpha=0.05, method="beta_binomial")
        >>> cs.update([True] * 93 + [False] * 7).n
        100
        >>> round(cs.lower, 3), round(cs.upper, 3), cs.estimate
        (0.811, 0.986, 0.93)
        >>> promo = ConfidenceSequence(method="logit_mixture", side="lower", design_rate=0.9)
        >>> promo.update(np.ones(50, dtype=bool)).upper
        1.0
    """

    def __init__(
        self,
        alpha: float = 0.05,
        method: Method = "beta_binomial",
        *,
        side: Side = "both",
        prior: tuple[float, float] = (1.0, 1.0),
        design_rate: float = 0.5,
        design_samples: int = 1000,
    ) -> None:
        self.alpha = _check_options(alpha, method, side, prior, design_rate, design_samples)
        self.method: Method = method
        self.side: Side = side
        self.prior = (float(prior[0]), float(prior[1]))
        self.design_rate = float(design_rate)
        self.design_samples = design_samples
        self._successes = 0
        self._n = 0
        self._bet_state: tuple[int, float, float] = (0, 0.0, 0.0)
        # Bettors against rates below (lower) and above (upper, on the mirrored stream).
        self._capital = (CapitalSide(), CapitalSide())
        self._bounds: tuple[float, float] | None = None

    @classmethod
    def from_counts(
        cls,
        successes: int,
        n: int,
        alpha: float = 0.05,
        method: Method = "beta_binomial",
        *,
        side: Side = "both",
        prior: tuple[float, float] = (1.0, 1.0),
        design_rate: float = 0.5,
        design_samples: int = 1000,
    ) -> ConfidenceSequence:
        """Start from counts; only for the mixtures, which depend on nothing else.

        Example:
            >>> ConfidenceSequence.from_counts(930, 1000).lower > 0.89
            True
        """
        cs = cls(alpha, method, side=side, prior=prior, design_rate=design_rate,
                 design_samples=design_samples)
        if cs.method == "betting":
            raise ValueError("method 'betting' needs the outcome stream, not counts")
        cs._successes, cs._n = check_counts(successes, n)
        return cs

    @property
    def alpha_side(self) -> float:
        """The error probability spent on each reported side."""
        return _side_alpha(self.alpha, self.side, self.method)

    def update(self, x: bool | Iterable[bool] | NDArray[np.bool_]) -> ConfidenceSequence:
        """Add one outcome or a batch (True = success); returns ``self`` for chaining."""
        if isinstance(x, bool):
            self._successes += x
            self._n += 1
            if self.method == "betting":
                self._add_bet(x)
            self._bounds = None
            return self
        outcomes = as_outcomes(x)
        if outcomes.size == 0:
            return self
        self._successes += int(outcomes.sum())
        self._n += int(outcomes.size)
        if self.method == "betting":
            self._add_bets(outcomes)
        self._bounds = None
        return self

    def _add_bets(self, outcomes: NDArray[np.bool_]) -> None:
        lower, upper = self._capital
        if outcomes.size == 1:
            self._add_bet(bool(outcomes[0]))
            return
        bets, self._bet_state = prpl_bets(outcomes, self.alpha_side, self._bet_state)
        lower.add(outcomes, bets)
        upper.add(~outcomes, bets)

    def _add_bet(self, x: bool) -> None:
        """One outcome: the same bet as :func:`prpl_bets`, in scalar arithmetic."""
        t0, sum_x, sum_sq = self._bet_state
        t = t0 + 1
        prev_var = (0.25 + sum_sq) / (t0 + 1)
        bet = math.sqrt(2 * math.log(1 / self.alpha_side) / (prev_var * t * math.log1p(t)))
        sum_x += x
        sum_sq += (x - (0.5 + sum_x) / (t + 1)) ** 2
        self._bet_state = (t, sum_x, sum_sq)
        self._capital[0].add_one(x, bet)
        self._capital[1].add_one(not x, bet)

    @property
    def n(self) -> int:
        """Number of outcomes seen."""
        return self._n

    @property
    def successes(self) -> int:
        """Number of successes seen."""
        return self._successes

    @property
    def estimate(self) -> float:
        """Observed rate ``successes / n`` (NaN before the first outcome)."""
        return self._successes / self._n if self._n else math.nan

    @property
    def lower(self) -> float:
        """Anytime-valid lower bound (0 when the side is ``"upper"``)."""
        return self.bounds[0]

    @property
    def upper(self) -> float:
        """Anytime-valid upper bound (1 when the side is ``"lower"``)."""
        return self.bounds[1]

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lower, upper)``, computed lazily and cached until the next update."""
        if self._bounds is None:
            self._bounds = self._compute_bounds()
        return self._bounds

    def _compute_bounds(self) -> tuple[float, float]:
        if self.method != "betting":  # options were checked by __init__
            return counts_bounds(self._successes, self._n, self.alpha, self.method, self.side,
                                 self.prior, self.design_rate, self.design_samples)
        if self._n == 0:
            return 0.0, 1.0
        threshold = math.log(1 / self.alpha_side)
        lower, upper = 0.0, 1.0
        if self.side in ("both", "lower"):
            lower = self._capital[0].bound(threshold)
        if self.side in ("both", "upper"):
            mirrored = self._capital[1].bound(threshold)
            upper = min(1.0, math.nextafter(1.0 - mirrored, 2.0)) if mirrored > 0 else 1.0
        return lower, upper

    def __repr__(self) -> str:
        lo, hi = self.bounds
        return (
            f"ConfidenceSequence(method={self.method!r}, side={self.side!r}, n={self._n}, "
            f"estimate={self.estimate:.4f}, lower={lo:.4f}, upper={hi:.4f})"
        )


def lower_crossing_boundary(
    n: ArrayLike,
    p: float,
    *,
    alpha: float = 0.05,
    method: Method = "logit_mixture",
    side: Side = "lower",
    prior: tuple[float, float] = (1.0, 1.0),
    design_rate: float = 0.5,
    design_samples: int = 1000,
) -> NDArray[np.int64]:
    """Fewest successes after ``n`` outcomes (an array of sizes) for which ``lower > p``.

    An entry is ``n + 1`` when no count of successes suffices. The evidence is
    increasing in the successes count above ``n p`` (exactly for ``"logit_mixture"``;
    for ``"beta_binomial"`` beyond the mixture's minimum, which sits within a prior
    count of ``n p``), so a vectorized binary search over all ``n`` finds it.
    """
    alpha = _check_options(alpha, method, side, prior, design_rate, design_samples)
    p = check_rate(p, "p")
    if method == "betting" or side == "upper":
        raise ValueError("the crossing boundary needs a counts-only lower side")
    a_side = _side_alpha(alpha, side, method)
    sigma = logit_scale(design_rate, design_samples, a_side)
    n = np.asarray(n, dtype=np.int64)
    if n.size and n.min() < 1:
        raise ValueError("n must hold sample sizes >= 1")
    lo = np.floor(n * p).astype(np.int64)  # never enough: the estimate is not above p
    hi = n + 1  # sentinel: not reachable
    threshold = math.log(1 / a_side)

    def enough(s: NDArray[np.int64]) -> NDArray[np.bool_]:
        ev = log_evidence(s, n, p, method=method, side="lower", prior=prior, sigma=sigma)
        return np.asarray((ev >= threshold) & (s > n * p) & (s <= n))

    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        ok = enough(mid)
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return np.asarray(hi, dtype=np.int64)
