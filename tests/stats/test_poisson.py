"""The gamma-Poisson confidence sequence covers the true rate at every look."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import gammaln, logsumexp

from trustramp.stats.poisson import MIXTURE, poisson_log_evidence, poisson_rate_bounds


def log_evidence(counts: np.ndarray, exposure: np.ndarray, rate: float) -> np.ndarray:
    """The module's formula, vectorized over runs and looks."""
    a, b = (np.array([law[i] for law in MIXTURE])[:, None, None] for i in (0, 1))
    laws = a * np.log(b) + gammaln(a + counts) - gammaln(a) - (a + counts) * np.log(b + exposure)
    return rate * exposure - counts * math.log(rate) + logsumexp(laws, axis=0) - math.log(
        len(MIXTURE))


@pytest.mark.parametrize("rate", [0.3, 4.0, 60.0])
def test_the_interval_holds_at_every_daily_look_with_probability_95(rate: float) -> None:
    rng = np.random.default_rng(int(rate * 10))
    runs, days = 1000, 20 * 7
    counts = rng.poisson(rate / 7, (runs, days)).cumsum(axis=1)
    weeks = np.arange(1, days + 1)[None, :] / 7
    # The interval excludes the true rate exactly when the evidence against it passes 1/alpha.
    missed = (log_evidence(counts, weeks, rate) >= math.log(1 / 0.05)).any(axis=1).mean()
    assert missed <= 0.05 + 3.5 * math.sqrt(0.05 * 0.95 / runs)


def test_the_bounds_are_where_the_evidence_reaches_the_threshold() -> None:
    for count, exposure in [(30, 10.0), (1, 0.5), (400, 2.0)]:
        lower, upper = poisson_rate_bounds(count, exposure, alpha=0.05)
        assert lower < count / exposure < upper
        for edge in (lower, upper):
            assert poisson_log_evidence(count, exposure, edge) == pytest.approx(math.log(20))
        vector = log_evidence(np.array([[count]]), np.array([[exposure]]), upper)[0, 0]
        assert vector == pytest.approx(math.log(20))


def test_no_event_and_no_exposure() -> None:
    assert poisson_rate_bounds(0, 0.0) == (0.0, math.inf)
    lower, upper = poisson_rate_bounds(0, 4.0)
    assert lower == 0.0
    assert 0 < upper < 2


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match="count = -1"):
        poisson_rate_bounds(-1, 1.0)
    with pytest.raises(ValueError, match="exposure = nan"):
        poisson_rate_bounds(1, math.nan)
