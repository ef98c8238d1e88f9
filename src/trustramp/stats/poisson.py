"""Anytime-valid bounds on an event rate per unit of exposure (tickets per week, ...).

Counts are ``(events, exposure)``: ``events`` occurrences over ``exposure`` units (weeks,
thousands of sessions). The confidence sequence is Robbins' conjugate mixture of Poisson
likelihood ratios over a Gamma(a, b) prior on the rate (shape ``a``, rate ``b`` in
exposure units, so the prior mean is ``a / b``)::

    M_t(rate) = int (mu / rate)^X exp(-(mu - rate) T) dGamma(mu; a, b)
              = b^a Gamma(a + X) / (Gamma(a) (b + T)^(a + X)) * rate^(-X) exp(rate T)

``M_t(rate)`` is a nonnegative martingale with mean 1 under the true rate, in continuous
time, so by Ville's inequality the set ``{rate : M_t(rate) < 1/alpha}`` contains the
true rate at every exposure simultaneously with probability >= 1 - alpha: look after
every event or every hour and stop whenever you like. One martingale covers both sides,
so (as for the Beta-Binomial mixture) alpha is not split and a one-sided request only
reports one edge of the same set.

Assumptions: events arrive as a Poisson process with a constant rate per unit of
exposure (independent, no drift, no bursts: a ticket storm from one outage is one
event in spirit but many here). The prior only affects width, never validity; the
bounds are tightest when the prior mean is near the rate, which is why the criteria
below centre it on their threshold. ``log M`` is convex in the rate, so the edges come
from the conservative Newton iteration of :mod:`trustramp.stats.mixture_bounds`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from trustramp.stats.confidence_sequence import Side, check_alpha
from trustramp.stats.criteria import CriterionResult
from trustramp.stats.mixture_bounds import lower_root, upper_root

_SIDES = ("both", "lower", "upper")


def _check_events(events: int, exposure: float, where: str) -> tuple[int, float]:
    at = f" in {where}" if where else ""
    if isinstance(events, bool) or not isinstance(events, int) or events < 0:
        raise ValueError(f"events{at} must be a non-negative integer count, got {events!r}")
    if isinstance(exposure, bool) or not isinstance(exposure, Real) or not (
        math.isfinite(exposure) and exposure >= 0
    ):
        raise ValueError(f"exposure{at} must be a finite number >= 0, got {exposure!r}")
    if events > 0 and exposure == 0:
        raise ValueError(f"exposure{at} is 0 but events is {events}: events need exposure")
    return int(events), float(exposure)


def _check_prior(prior: tuple[float, float]) -> tuple[float, float]:
    if not (isinstance(prior, tuple) and len(prior) == 2 and all(
        isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) and v > 0
        for v in prior
    )):
        raise ValueError(f"prior must be two positive Gamma parameters (a, b), got {prior!r}")
    return float(prior[0]), float(prior[1])


def poisson_log_evidence(
    events: int, exposure: float, rate: float, prior: tuple[float, float] = (1.0, 1.0)
) -> float:
    """``log M_t(rate)``; the CS excludes ``rate`` when this is ``>= log(1/alpha)``."""
    a, b = prior
    x, t = events, exposure
    const = a * math.log(b) - math.lgamma(a) + math.lgamma(a + x) - (a + x) * math.log(b + t)
    if rate <= 0:
        return math.inf if x > 0 else const
    return const - x * math.log(rate) + rate * t


def poisson_bounds(
    events: int,
    exposure: float,
    *,
    alpha: float = 0.05,
    side: Side = "both",
    prior: tuple[float, float] = (1.0, 1.0),
) -> tuple[float, float]:
    """Anytime-valid ``(lower, upper)`` bounds on the rate per unit of exposure.

    A one-sided request returns the trivial bound (0 or ``math.inf``) on the other side.
    Choose ``prior`` so that its mean ``a / b`` is a plausible rate in your units.

    Example (12 support tickets over 4 weeks, prior mean 2 tickets a week):
        >>> lo, hi = poisson_bounds(12, 4.0, prior=(1.0, 0.5))
        >>> round(lo, 2), round(hi, 2)
        (1.1, 6.37)
    """
    x, t = _check_events(events, exposure, "poisson_bounds")
    alpha = check_alpha(alpha)
    if side not in _SIDES:
        raise ValueError(f"side must be one of {', '.join(_SIDES)}; got {side!r}")
    a, b = _check_prior(prior)
    threshold = math.log(1 / alpha)
    const = a * math.log(b) - math.lgamma(a) + math.lgamma(a + x) - (a + x) * math.log(b + t)
    const -= threshold
    if t == 0:
        return 0.0, math.inf  # no exposure, no evidence: M = 1

    def curve(rate: float) -> tuple[float, float, float]:
        if rate <= 0:
            return (math.inf, -math.inf, math.inf) if x else (const, t, 0.0)
        return const - x * math.log(rate) + rate * t, t - x / rate, x / (rate * rate)

    rate_hat = x / t
    f_err = 1e-13 * (abs(const) + 2 * x * (1 + abs(math.log(rate_hat or 1))) + 10)
    spread = math.sqrt(2 * (threshold + 1 + 0.5 * math.log1p(x)) * max(x, 1)) / t
    lower, upper = 0.0, math.inf
    # At the estimate the mixture is below 1 (a marginal likelihood over its maximum), so
    # the estimate is always kept; rate 0 is rejected exactly when events were seen.
    if side in ("both", "lower") and x > 0:
        lower = lower_root(curve, 0.0, rate_hat, rate_hat - spread, f_err)
    if side in ("both", "upper"):
        hi = rate_hat + spread
        while curve(hi)[0] < 0:
            hi *= 2
        upper = upper_root(curve, rate_hat, hi, rate_hat + 0.5 * spread, f_err)
    return lower, upper


@dataclass(frozen=True)
class RateCriterionResult(CriterionResult):
    """A :class:`CriterionResult` for an event rate: ``n`` and ``successes`` hold the
    event count, ``exposure`` the exposure, and ``estimate`` is events per unit."""

    exposure: float = 0.0

    @property
    def estimate(self) -> float:
        """Observed rate ``events / exposure`` (NaN without exposure)."""
        return self.n / self.exposure if self.exposure else math.nan

    @property
    def reason(self) -> str:
        """One sentence for people: why the criterion holds or not."""
        if not self.decision:
            return "; ".join(self.missing)
        relation = "below target" if self.kind == "promotion" else "above ceiling"
        edge = "upper" if self.kind == "promotion" else "lower"
        return (f"{edge} bound {self.bound:.4g} is {relation} {self.threshold:.4g} per unit "
                f"({_counts(self.n, self.exposure)}, alpha={self.alpha})")


def _counts(events: int, exposure: float) -> str:
    rate = events / exposure if exposure else math.nan
    return f"estimate {rate:.4g}: {events} events over {exposure:g} units"


def _centred_prior(prior: tuple[float, float] | None, threshold: float, name: str) -> tuple[
    float, float
]:
    if isinstance(threshold, bool) or not isinstance(threshold, Real) or not (
        math.isfinite(threshold) and threshold > 0
    ):
        raise ValueError(f"{name} must be a rate > 0 per unit of exposure, got {threshold!r}")
    # An exponential prior with its mean at the threshold costs about half the log of
    # the expected event count near the threshold, whatever the unit of exposure.
    return _check_prior(prior) if prior is not None else (1.0, 1.0 / float(threshold))


def poisson_breach_test(
    events: int,
    exposure: float,
    ceiling: float,
    alpha: float = 0.05,
    *,
    prior: tuple[float, float] | None = None,
) -> RateCriterionResult:
    """"Rate > ceiling" with evidence: True when the lower bound is above ``ceiling``.

    May be evaluated after every event: the chance of ever declaring a breach while the
    true rate is <= ceiling is <= alpha. ``prior`` defaults to an exponential prior with
    mean ``ceiling``.

    Example (5 tickets a week allowed; 61 in 8 weeks):
        >>> poisson_breach_test(75, 8.0, ceiling=5.0).decision
        True
        >>> poisson_breach_test(48, 8.0, ceiling=5.0).decision
        False
    """
    x, t = _check_events(events, exposure, "poisson_breach_test")
    alpha = check_alpha(alpha)
    lower = poisson_bounds(x, t, alpha=alpha, side="lower",
                           prior=_centred_prior(prior, ceiling, "ceiling"))[0]
    missing: tuple[str, ...] = ()
    if not lower > ceiling:
        missing = (f"lower bound {lower:.4g} is not above ceiling {ceiling:.4g} per unit "
                   f"({_counts(x, t)})",)
    return RateCriterionResult(
        kind="breach", decision=not missing, bound=lower, n=x, successes=x,
        threshold=float(ceiling), alpha=alpha, method="poisson_gamma", missing=missing,
        exposure=t,
    )


def poisson_promotion_test(
    events: int,
    exposure: float,
    target: float,
    alpha: float = 0.05,
    *,
    prior: tuple[float, float] | None = None,
) -> RateCriterionResult:
    """"Rate <= target holds" with evidence: True when the upper bound is below ``target``.

    The chance of ever promoting while the true rate is >= target is <= alpha, however
    often it is evaluated. ``prior`` defaults to an exponential prior with mean ``target``.

    Example (at most 2 tickets a week; 8 over 12 weeks):
        >>> r = poisson_promotion_test(8, 12.0, target=2.0)
        >>> r.decision, round(r.bound, 2), round(r.estimate, 3)
        (True, 1.65, 0.667)
    """
    x, t = _check_events(events, exposure, "poisson_promotion_test")
    alpha = check_alpha(alpha)
    upper = poisson_bounds(x, t, alpha=alpha, side="upper",
                           prior=_centred_prior(prior, target, "target"))[1]
    missing: tuple[str, ...] = ()
    if not upper < target:
        missing = (f"upper bound {upper:.4g} is not below target {target:.4g} per unit "
                   f"({_counts(x, t)})",)
    return RateCriterionResult(
        kind="promotion", decision=not missing, bound=upper, n=x, successes=x,
        threshold=float(target), alpha=alpha, method="poisson_gamma", missing=missing,
        exposure=t,
    )
