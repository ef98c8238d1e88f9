"""Time-uniform coverage and mechanics of the Poisson-rate confidence sequence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import gammaln
from scipy.stats import binom, chi2

from trustramp.stats import CriterionResult, poisson_bounds
from trustramp.stats.poisson import (
    poisson_breach_test,
    poisson_log_evidence,
    poisson_promotion_test,
)

PATHS, ALPHA = 2000, 0.05


def mc_limit(alpha: float, trials: int) -> float:
    """Largest miss fraction a procedure with true miss rate alpha shows 99.9% of the time."""
    return float(binom.ppf(0.999, trials, alpha)) / trials


def looks(rate: float, horizon: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts at every look: after each event and at each whole unit of exposure.

    Returns (path index, events, exposure) per look, for PATHS Poisson processes.
    """
    rng = np.random.default_rng(seed)
    expected = rate * horizon
    width = int(expected + 8 * math.sqrt(expected) + 20)
    times = np.cumsum(rng.exponential(1 / rate, size=(PATHS, width)), axis=1)
    assert (times[:, -1] > horizon).all()  # enough arrivals drawn to pass the horizon
    hit = times <= horizon
    path_e, k = np.nonzero(hit)
    units = np.arange(1, int(horizon) + 1, dtype=np.float64)
    counts = np.stack([np.searchsorted(row, units, side="right") for row in times])
    path_u = np.repeat(np.arange(PATHS), units.size)
    return (np.concatenate([path_e, path_u]),
            np.concatenate([k + 1, counts.ravel()]),
            np.concatenate([times[hit], np.tile(units, PATHS)]))


def evidence(x: np.ndarray, t: np.ndarray, rate: float, prior: tuple[float, float]) -> np.ndarray:
    """Vectorized log M_t(rate), the same formula as poisson_log_evidence."""
    a, b = prior
    return (a * math.log(b) - gammaln(a) + gammaln(a + x) - (a + x) * np.log(b + t)
            - x * math.log(rate) + rate * t)


@pytest.mark.parametrize(
    ("rate", "horizon", "prior"),
    [(0.05, 2000.0, (1.0, 1.0)), (2.0, 500.0, (1.0, 1.0)), (2.0, 500.0, (1.0, 0.5)),
     (30.0, 40.0, (0.5, 0.01))],
)
def test_time_uniform_coverage(rate: float, horizon: float, prior: tuple[float, float]) -> None:
    path, x, t = looks(rate, horizon, seed=int(rate * 100) + int(horizon))
    rejected = evidence(x, t, rate, prior) >= math.log(1 / ALPHA)
    miss = np.bincount(path[rejected], minlength=PATHS).astype(bool).mean()
    assert miss <= mc_limit(ALPHA, PATHS), (rate, miss)
    # The evidence is what poisson_bounds inverts: spot-check a few looks.
    for i in np.random.default_rng(0).integers(0, x.size, size=20):
        lo, hi = poisson_bounds(int(x[i]), float(t[i]), prior=prior)
        assert (lo < rate < hi) == (not rejected[i])


def test_coverage_check_catches_a_peeked_fixed_sample_interval() -> None:
    # The exact (Garwood) 95% interval is valid at one fixed exposure; looked at after
    # every event and every unit it misses far more often than 5%.
    rate = 2.0
    path, x, t = looks(rate, 100.0, seed=7)
    lo = np.where(x > 0, chi2.ppf(ALPHA / 2, 2 * x) / (2 * t), 0.0)
    hi = chi2.ppf(1 - ALPHA / 2, 2 * x + 2) / (2 * t)
    after = t >= 10  # a fair start: ignore the first ten units
    missed = after & ((rate < lo) | (rate > hi))
    miss = np.bincount(path[missed], minlength=PATHS).astype(bool).mean()
    assert miss > mc_limit(ALPHA, PATHS)


@pytest.mark.parametrize(("x", "t"), [(0, 3.0), (1, 0.5), (12, 4.0), (400, 80.0), (10**6, 2e5)])
@pytest.mark.parametrize("prior", [(1.0, 1.0), (2.0, 0.4)])
def test_bounds_are_the_edges_of_the_unrejected_set(
    x: int, t: float, prior: tuple[float, float]
) -> None:
    lo, hi = poisson_bounds(x, t, prior=prior)
    thr = math.log(1 / ALPHA)

    def ev(rate: float) -> float:
        return poisson_log_evidence(x, t, rate, prior)

    assert (math.isfinite(hi) and lo < x / t < hi) or x == 0
    assert ev(hi) >= thr
    assert ev(hi * (1 - 1e-9)) < thr
    if x == 0:
        assert lo == 0
    else:
        assert ev(lo) >= thr
        assert ev(lo * (1 + 1e-9)) < thr
    assert poisson_bounds(x, t, prior=prior, side="lower") == (lo, math.inf)
    assert poisson_bounds(x, t, prior=prior, side="upper") == (0.0, hi)


def test_narrows_with_exposure_and_no_exposure_is_no_evidence() -> None:
    widths = [np.subtract(*poisson_bounds(2 * w, float(w))[::-1]) for w in (10, 100, 1000)]
    assert widths[0] > widths[1] > widths[2]
    assert poisson_bounds(0, 0.0) == (0.0, math.inf)


def test_breach_and_promotion_criteria() -> None:
    breach = poisson_breach_test(75, 8.0, ceiling=5.0)
    assert isinstance(breach, CriterionResult)
    assert breach.decision
    assert breach.kind == "breach"
    assert breach.bound > 5.0
    assert breach.bound == poisson_bounds(75, 8.0, side="lower", prior=(1.0, 0.2))[0]
    assert breach.estimate == 75 / 8
    assert breach.exposure == 8.0
    assert breach.n == 75
    assert "lower bound" in breach.reason
    assert "above ceiling" in breach.reason
    calm = poisson_breach_test(48, 8.0, ceiling=5.0)
    assert not calm.decision
    assert calm.missing[0].startswith("lower bound")
    assert "48 events" in calm.missing[0]
    promo = poisson_promotion_test(8, 12.0, target=2.0)
    assert promo.decision
    assert promo.kind == "promotion"
    assert promo.bound < 2.0
    assert "below target" in promo.reason
    assert not poisson_promotion_test(11, 12.0, target=2.0).decision


def test_breach_rate_at_the_ceiling_under_peeking() -> None:
    # The breach test checked after every event and unit, with the rate exactly at the
    # ceiling, must declare a breach on at most alpha of the paths.
    ceiling = 3.0
    path, x, t = looks(ceiling, 300.0, seed=11)
    prior = (1.0, 1.0 / ceiling)
    lower_above = evidence(x, t, ceiling, prior) >= math.log(1 / ALPHA)
    lower_above &= x / t > ceiling  # rejected on the low side of the estimate
    breached = np.bincount(path[lower_above], minlength=PATHS).astype(bool).mean()
    assert breached <= mc_limit(ALPHA, PATHS)
    for i in np.flatnonzero(lower_above)[:10]:
        assert poisson_breach_test(int(x[i]), float(t[i]), ceiling).decision


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [((-1, 2.0), {}, "events"), ((1.5, 2.0), {}, "events"), ((True, 2.0), {}, "events"),
     ((3, -1.0), {}, "exposure"), ((3, math.inf), {}, "exposure"), ((3, 0.0), {}, "exposure"),
     ((3, "1"), {}, "exposure in poisson_bounds"), ((3, 1.0), {"alpha": 1.0}, "alpha"),
     ((3, 1.0), {"side": "left"}, "side"), ((3, 1.0), {"prior": (0.0, 1.0)}, "prior")],
)
def test_bad_input(args: tuple[object, ...], kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        poisson_bounds(*args, **kwargs)  # type: ignore[arg-type]


def test_bad_criterion_input() -> None:
    with pytest.raises(ValueError, match="ceiling"):
        poisson_breach_test(3, 1.0, ceiling=0.0)
    with pytest.raises(ValueError, match="target"):
        poisson_promotion_test(3, 1.0, target=-2.0)
    with pytest.raises(ValueError, match="exposure in poisson_breach_test"):
        poisson_breach_test(3, -1.0, ceiling=1.0)
