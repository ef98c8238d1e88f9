"""Promotion and breach tests on a Bernoulli rate, from anytime-valid bounds.

* Promotion ("metric >= target holds"): the one-sided lower confidence bound is above
  the target, at least ``min_samples`` outcomes were labelled and at least
  ``min_duration`` has elapsed. Because the bound is a confidence sequence, the criterion may
  be evaluated after every label: the chance that it EVER promotes a feature whose true
  rate is <= target is <= alpha (i.i.d. outcomes at a fixed rate assumed).
* Breach ("metric < floor"): the one-sided upper bound is below the floor. Likewise,
  the chance of EVER declaring a breach while the true rate is >= floor is <= alpha.

Default method: a one-sided log-odds mixture centred on the target and tuned to be
tightest at ``design_samples = 1000`` labels (see
:mod:`trustramp.stats.confidence_sequence`). It depends only on the target, alpha and
that design size, never on the data. At truth 0.92 vs target 0.90 it needs a median
of about 1,200 labels, against about 2,650 for the Beta(1, 1) mixture
(``benchmarks/bench_promotion.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trustramp.stats.confidence_sequence import (
    ConfidenceSequence,
    Method,
    bounds_from_counts,
    check_alpha,
    check_counts,
    check_rate,
    checked_options,
    counts_bounds,
    lower_crossing_boundary,
)

Kind = Literal["promotion", "breach"]


@dataclass(frozen=True)
class CriterionResult:
    """Outcome of a promotion or breach test, with what it rests on.

    ``bound`` is the lower bound (promotion) or upper bound (breach); ``missing`` lists,
    in words, each condition that still keeps ``decision`` False (empty when True).
    """

    kind: Kind
    decision: bool
    bound: float
    n: int
    successes: int
    threshold: float
    alpha: float
    method: str
    missing: tuple[str, ...] = field(default=())

    @property
    def estimate(self) -> float:
        """Observed rate ``successes / n`` (NaN without outcomes)."""
        return _estimate(self.successes, self.n)

    @property
    def reason(self) -> str:
        """One sentence for people: why the criterion holds or not."""
        if self.decision:
            relation = "above target" if self.kind == "promotion" else "below floor"
            side = "lower" if self.kind == "promotion" else "upper"
            return (
                f"{side} bound {self.bound:.4f} is {relation} {self.threshold:.4f} "
                f"(estimate {self.estimate:.4f}, n={self.n}, alpha={self.alpha})"
            )
        return "; ".join(self.missing)


def _estimate(successes: int, n: int) -> float:
    return successes / n if n else math.nan


_NO_TIME = timedelta(0)


def _check_duration(value: timedelta, name: str) -> timedelta:
    if not isinstance(value, timedelta) or value < _NO_TIME:
        raise ValueError(f"{name} must be a non-negative datetime.timedelta, got {value!r}")
    return value


def _check_min_samples(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"min_samples must be a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True)
class PromotionCriterion:
    """"Rate >= target" with evidence, a minimum sample and a minimum duration.

    ``min_duration`` defaults to 7 days so that a phase sees every weekday: a rate
    certified on weekday traffic alone says little about weekends. ``min_samples``
    guards against certifying on a handful of labels with an extreme prior.

    Example:
        >>> crit = PromotionCriterion(target=0.90)
        >>> crit.check(successes=1890, n=2000, elapsed=timedelta(days=10)).decision
        True
        >>> r = crit.check(successes=460, n=500, elapsed=timedelta(days=3))
        >>> r.decision, len(r.missing)
        (False, 2)
    """

    target: float
    alpha: float = 0.05
    min_samples: int = 100
    min_duration: timedelta = timedelta(days=7)
    method: Method = "logit_mixture"
    design_samples: int = 1000
    prior: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        check_rate(self.target, "target")
        check_alpha(self.alpha)
        _check_min_samples(self.min_samples)
        _check_duration(self.min_duration, "min_duration")

    def sequence(self) -> ConfidenceSequence:
        """A fresh one-sided CS with this criterion's settings (for outcome streams)."""
        return ConfidenceSequence(
            self.alpha, self.method, side="lower", prior=self.prior,
            design_rate=self.target, design_samples=self.design_samples,
        )

    def lower_bound(self, successes: int, n: int) -> float:
        """The anytime-valid lower bound the criterion compares with the target."""
        return bounds_from_counts(
            successes, n, alpha=self.alpha, method=self.method, side="lower",
            prior=self.prior, design_rate=self.target, design_samples=self.design_samples,
        )[0]

    def crossing_boundary(self, sizes: ArrayLike) -> NDArray[np.int64]:
        """Fewest successes after each of ``sizes`` outcomes for which the bound clears.

        The counts-only counterpart of :meth:`lower_bound`, for simulating the criterion
        (``n + 1`` where no count suffices); see :func:`lower_crossing_boundary`.
        """
        return lower_crossing_boundary(
            sizes, self.target, alpha=self.alpha, method=self.method, side="lower",
            prior=self.prior, design_rate=self.target, design_samples=self.design_samples,
        )

    def check(self, successes: int, n: int, elapsed: timedelta) -> CriterionResult:
        """Decide from counts (mixture methods)."""
        successes, n = check_counts(successes, n, "PromotionCriterion.check")
        try:  # the settings are checked once per distinct criterion, not every look
            checked_options(self.alpha, self.method, "lower", self.prior, self.target,
                            self.design_samples)
        except TypeError:  # unhashable settings (a list prior): the checking path says why
            return self._result(self.lower_bound(successes, n), successes, n, elapsed)
        if self.method == "betting":  # bounds_from_counts explains why it cannot
            return self._result(self.lower_bound(successes, n), successes, n, elapsed)
        bound = counts_bounds(successes, n, self.alpha, self.method, "lower", self.prior,
                              self.target, self.design_samples)[0]
        return self._result(bound, successes, n, elapsed)

    def check_sequence(self, cs: ConfidenceSequence, elapsed: timedelta) -> CriterionResult:
        """Decide from a running CS (needed for ``"betting"``, which is order-dependent)."""
        if cs.side == "upper":
            raise ValueError("cs must report a lower bound (side 'lower' or 'both')")
        return self._result(cs.lower, cs.successes, cs.n, elapsed)

    def _result(self, bound: float, successes: int, n: int, elapsed: timedelta) -> CriterionResult:
        _check_duration(elapsed, "elapsed")
        missing = []
        if not bound > self.target:
            missing.append(
                f"lower bound {bound:.4f} has not cleared target {self.target:.4f} "
                f"(estimate {_estimate(successes, n):.4f} over {n} labels)"
            )
        if n < self.min_samples:
            missing.append(f"{n} labelled outcomes, needs >= {self.min_samples}")
        if elapsed < self.min_duration:
            day = timedelta(days=1)
            missing.append(
                f"{elapsed / day:.1f} days elapsed, needs >= {self.min_duration / day:g} days"
            )
        return CriterionResult(
            kind="promotion", decision=not missing, bound=bound, n=n, successes=successes,
            threshold=self.target, alpha=self.alpha, method=self.method,
            missing=tuple(missing),
        )


def promotion_test(
    successes: int,
    n: int,
    elapsed: timedelta,
    target: float,
    *,
    alpha: float = 0.05,
    min_samples: int = 100,
    min_duration: timedelta = timedelta(days=7),
    method: Method = "logit_mixture",
    design_samples: int = 1000,
) -> CriterionResult:
    """Counts-based promotion test; see :class:`PromotionCriterion`.

    Example:
        >>> promotion_test(1890, 2000, timedelta(days=14), target=0.90).decision
        True
    """
    criterion = PromotionCriterion(
        target=target, alpha=alpha, min_samples=min_samples, min_duration=min_duration,
        method=method, design_samples=design_samples,
    )
    return criterion.check(successes, n, elapsed)


def _check_breach(floor: float, alpha: float, method: Method, design_samples: int) -> float:
    """Check :func:`breach_test`'s settings; returns alpha as a float."""
    check_rate(floor, "floor")
    alpha = check_alpha(alpha)
    checked_options.__wrapped__(alpha, method, "upper", (1.0, 1.0), floor, design_samples)
    if method == "betting":
        raise ValueError("method 'betting' depends on the order of outcomes, not only counts")
    return alpha


# Settings that passed once are not checked again on every look.
_breach_settings = lru_cache(maxsize=1024)(_check_breach)


def breach_test(
    successes: int,
    n: int,
    floor: float,
    *,
    alpha: float = 0.05,
    method: Method = "logit_mixture",
    design_samples: int = 1000,
) -> CriterionResult:
    """Counts-based breach test: True when the upper bound is below ``floor``.

    The monitor may call this after every outcome; the chance of ever declaring a
    breach while the true rate is >= floor is <= alpha.

    Example:
        >>> breach_test(successes=330, n=400, floor=0.90).decision
        True
        >>> breach_test(successes=17, n=20, floor=0.90).decision
        False
    """
    try:  # settings are checked once per distinct combination, not on every look
        alpha = _breach_settings(floor, alpha, method, design_samples)
    except TypeError:  # unhashable: let the checking path name the argument
        alpha = _check_breach(floor, alpha, method, design_samples)
    successes, n = check_counts(successes, n, "breach_test")
    upper = counts_bounds(successes, n, alpha, method, "upper", (1.0, 1.0), floor,
                          design_samples)[1]
    missing: tuple[str, ...] = ()
    if not upper < floor:
        missing = (
            f"upper bound {upper:.4f} is not below floor {floor:.4f} "
            f"(estimate {_estimate(successes, n):.4f} over {n} labels)",
        )
    return CriterionResult(
        kind="breach", decision=not missing, bound=upper, n=n, successes=successes,
        threshold=floor, alpha=alpha, method=method, missing=missing,
    )
