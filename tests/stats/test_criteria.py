"""Promotion and breach gates: error rates under continuous monitoring, and messages."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from scipy.stats import binom

from trustramp.stats.confidence_sequence import ConfidenceSequence, lower_crossing_boundary
from trustramp.stats.criteria import PromotionCriterion, breach_test, promotion_test

PATHS, STEPS, ALPHA = 2000, 4000, 0.05
LONG_AGO = timedelta(days=365)


def mc_limit(alpha: float, trials: int) -> float:
    return float(binom.ppf(0.999, trials, alpha)) / trials


def successes(p: float, seed: int, paths: int = PATHS, steps: int = STEPS) -> np.ndarray:
    x = np.random.default_rng(seed).random((paths, steps)) < p
    return np.cumsum(x, axis=1, dtype=np.int64)


def promotion_need(crit: PromotionCriterion, steps: int = STEPS) -> np.ndarray:
    return crit.crossing_boundary(np.arange(1, steps + 1))


def first_crossing(s: np.ndarray, need: np.ndarray) -> np.ndarray:
    crossed = s >= need[None, :]
    return np.where(crossed.any(axis=1), crossed.argmax(axis=1) + 1, np.inf)


@pytest.mark.parametrize("method", ["logit_mixture", "beta_binomial"])
def test_boundary_is_the_gate_decision(method: str) -> None:
    crit = PromotionCriterion(target=0.9, min_samples=0, min_duration=timedelta(0),
                              method=method)  # type: ignore[arg-type]
    need = promotion_need(crit)
    rng = np.random.default_rng(2)
    for n in rng.integers(1, STEPS + 1, size=40):
        for s in (need[n - 1] - 1, need[n - 1]):
            if 0 <= s <= n:
                assert crit.check(int(s), int(n), LONG_AGO).decision == (s >= need[n - 1])


@pytest.mark.parametrize("truth", [0.90, 0.89])
@pytest.mark.parametrize("method", ["logit_mixture", "beta_binomial"])
def test_false_promotion_rate_under_peeking(truth: float, method: str) -> None:
    # Checked after every label with no minimum sample: the least protected use.
    crit = PromotionCriterion(target=0.9, min_samples=0, min_duration=timedelta(0),
                              method=method)  # type: ignore[arg-type]
    s = successes(truth, seed=int(truth * 100) + len(method))
    promoted = np.isfinite(first_crossing(s, promotion_need(crit))).mean()
    assert promoted <= mc_limit(ALPHA, PATHS)


def test_default_needs_fewer_labels_than_flat_mixture() -> None:
    s = successes(0.92, seed=9, paths=1000, steps=8000)
    default = PromotionCriterion(target=0.9, min_samples=0)
    flat = PromotionCriterion(target=0.9, min_samples=0, method="beta_binomial")
    med_default = np.median(first_crossing(s, promotion_need(default, 8000)))
    med_flat = np.median(first_crossing(s, promotion_need(flat, 8000)))
    # The module docstring claims about 1,200 vs 2,650 labels.
    assert med_default < 0.6 * med_flat


def test_false_breach_rate_under_peeking_and_detection() -> None:
    floor = 0.9
    # Upper-side evidence mirrors the lower side on failures, which gives the boundary.
    need_failures = lower_crossing_boundary(np.arange(1, STEPS + 1), 1 - floor,
                                            design_rate=1 - floor)
    n = np.arange(1, STEPS + 1)
    for s, f in ((170, 200), (1100, 1250), (2600, 3000)):
        assert breach_test(s, n[f - 1], floor).decision == (f - s >= need_failures[f - 1])
    at_floor = first_crossing(n - successes(floor, seed=21), need_failures)
    assert np.isfinite(at_floor).mean() <= mc_limit(ALPHA, PATHS)
    below = first_crossing(n - successes(0.85, seed=22, paths=500), need_failures)
    assert np.isfinite(below).mean() > 0.95


def test_missing_conditions_are_named() -> None:
    crit = PromotionCriterion(target=0.9, min_samples=500, min_duration=timedelta(days=14))
    r = crit.check(95, 100, timedelta(days=2))
    assert not r.decision
    assert len(r.missing) == 3
    assert "lower bound" in r.missing[0]
    assert "needs >= 500" in r.missing[1]
    assert r.missing[2] == "2.0 days elapsed, needs >= 14 days"
    assert r.reason == "; ".join(r.missing)
    ok = crit.check(2900, 3000, timedelta(days=20))
    assert ok.decision
    assert ok.missing == ()
    assert ok.bound > 0.9
    assert "above target" in ok.reason
    assert (ok.n, ok.successes, ok.estimate) == (3000, 2900, 2900 / 3000)


def test_sequence_and_counts_agree_and_betting_works() -> None:
    crit = PromotionCriterion(target=0.9, min_samples=0, min_duration=timedelta(0))
    x = np.random.default_rng(4).random(3000) < 0.95
    cs = crit.sequence().update(x)
    assert crit.check_sequence(cs, LONG_AGO) == crit.check(int(x.sum()), 3000, LONG_AGO)
    betting = PromotionCriterion(target=0.9, min_samples=0, method="betting")
    r = betting.check_sequence(betting.sequence().update(x), LONG_AGO)
    assert r.decision
    assert r.method == "betting"
    with pytest.raises(ValueError, match="cs must report a lower bound"):
        crit.check_sequence(ConfidenceSequence(side="upper"), LONG_AGO)


def test_promotion_function_matches_criterion() -> None:
    r = promotion_test(1890, 2000, timedelta(days=14), target=0.9)
    assert r == PromotionCriterion(target=0.9).check(1890, 2000, timedelta(days=14))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"target": 1.2}, "target"), ({"target": 0.9, "alpha": 0.0}, "alpha"),
     ({"target": 0.9, "min_samples": -1}, "min_samples"),
     ({"target": 0.9, "min_duration": 3}, "min_duration")],
)
def test_bad_criterion(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PromotionCriterion(**kwargs)  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    crit = PromotionCriterion(target=0.9)
    with pytest.raises(ValueError, match=r"successes in PromotionCriterion\.check"):
        crit.check(-1, 10, LONG_AGO)
    with pytest.raises(ValueError, match="cannot exceed"):
        crit.check(11, 10, LONG_AGO)
    with pytest.raises(ValueError, match="elapsed"):
        crit.check(5, 10, timedelta(days=-1))
    with pytest.raises(ValueError, match="floor"):
        breach_test(5, 10, floor=-0.1)
    with pytest.raises(ValueError, match="n in breach_test"):
        breach_test(5, -10, floor=0.9)
