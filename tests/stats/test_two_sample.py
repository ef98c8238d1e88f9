"""Mixture SPRT: type-I error under continuous monitoring, CI coverage, power."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from trustramp.stats.two_sample import MixtureSPRT, msprt_log_lambda

ALPHA = 0.05


def mc_limit(alpha: float, trials: int) -> float:
    return float(binom.ppf(0.999, trials, alpha)) / trials


def arms(p_ai: float, p_fb: float, paths: int, steps: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return rng.random((paths, steps)) < p_ai, rng.random((paths, steps)) < p_fb


@pytest.mark.parametrize(("rate", "tau"), [(0.03, 0.02), (0.3, 0.05), (0.5, 0.01)])
def test_type_one_error_under_continuous_monitoring(rate: float, tau: float) -> None:
    paths, steps = 2000, 3000
    a, f = arms(rate, rate, paths, steps, seed=int(rate * 100))
    n = np.arange(1, steps + 1)
    test = MixtureSPRT(alpha=ALPHA, tau=tau)
    log_l = msprt_log_lambda(np.cumsum(a, 1), n, np.cumsum(f, 1), n, tau)
    rejected = (log_l[:, test.min_per_arm - 1 :] >= math.log(1 / ALPHA)).any(axis=1)
    assert rejected.mean() <= mc_limit(ALPHA, paths)
    # The vectorized statistic is what the class looks at after each pair.
    for i in range(20):
        one = MixtureSPRT(alpha=ALPHA, tau=tau).update_streams(a[i], f[i])
        assert one.rejected == rejected[i]


def test_interval_covers_the_true_difference_at_every_look() -> None:
    paths, steps = 400, 3000
    a, f = arms(0.08, 0.05, paths, steps, seed=3)
    misses = 0
    for i in range(paths):
        test = MixtureSPRT(alpha=ALPHA, tau=0.02).update_streams(a[i], f[i])
        lo, hi = test.interval
        misses += not lo <= 0.03 <= hi
    assert misses / paths <= mc_limit(ALPHA, paths)


def test_power_against_a_doubled_rate() -> None:
    paths, steps = 200, 3000
    a, f = arms(0.10, 0.05, paths, steps, seed=4)
    found = [MixtureSPRT(tau=0.02).update_streams(a[i], f[i]).rejected for i in range(paths)]
    assert np.mean(found) > 0.9


def test_counts_and_streams_agree() -> None:
    a, f = arms(0.1, 0.05, 1, 4000, seed=5)
    by_stream = MixtureSPRT().update_streams(a[0], f[0])
    by_counts = MixtureSPRT()
    for start in range(0, 4000, 1):
        by_counts.update(int(a[0, start]), 1, int(f[0, start]), 1)
    assert by_counts.counts == by_stream.counts
    assert by_counts.p_value == pytest.approx(by_stream.p_value)
    assert by_counts.interval == pytest.approx(by_stream.interval)
    assert by_stream.difference == pytest.approx(a.mean() - f.mean())


def test_unequal_arms_and_running_quantities() -> None:
    test = MixtureSPRT()
    assert math.isnan(test.difference)
    test.update_streams([True] * 10, [False] * 30)
    assert test.counts == (10, 10, 0, 30)
    assert test.p_value == 1.0  # fewer than min_per_arm outcomes in the AI arm
    before = test.p_value, test.interval
    assert before[1] == (-1.0, 1.0)  # no look yet, so no interval either
    test.update(ai_successes=5, ai_n=100, fallback_successes=5, fallback_n=100)
    assert test.p_value <= before[0]
    assert before[1][0] <= test.interval[0] <= test.interval[1] <= before[1][1]
    # Both arms now have min_per_arm outcomes: the update took a look at the totals.
    look = float(np.exp(-msprt_log_lambda(15, 110, 5, 130, test.tau)[()]))
    assert test.p_value == pytest.approx(look)
    assert test.p_value < 1.0
    assert before[1][0] < test.interval[0] < test.difference < test.interval[1] < before[1][1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"alpha": 1.0}, "alpha"), ({"tau": 0}, "tau"), ({"theta0": 2.0}, "theta0"),
     ({"min_per_arm": 0}, "min_per_arm")],
)
def test_bad_settings(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MixtureSPRT(**kwargs)  # type: ignore[arg-type]


def test_bad_updates() -> None:
    with pytest.raises(ValueError, match=r"ai arm"):
        MixtureSPRT().update(ai_successes=3, ai_n=2)
    with pytest.raises(ValueError, match=r"fallback arm"):
        MixtureSPRT().update(fallback_successes=-1, fallback_n=2)
    with pytest.raises(ValueError, match=r"fallback\[0\]"):
        MixtureSPRT().update_streams([True], [1])
