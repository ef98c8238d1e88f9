"""Graduation forecast against a direct simulation of the promotion gate."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from trustramp.stats.confidence_sequence import log_evidence, logit_scale
from trustramp.stats.criteria import PromotionCriterion
from trustramp.stats.forecast import forecast_graduation


def direct_crossings(
    crit: PromotionCriterion, rate: float, s0: int, n0: int, steps: int
) -> np.ndarray:
    """Labels until the gate opens, label by label, without the forecast's shortcuts."""
    paths = 400
    x = np.random.default_rng(99).random((paths, steps)) < rate
    s = s0 + np.cumsum(x, axis=1, dtype=np.int64)
    n = n0 + np.arange(1, steps + 1)
    low = s.min(axis=0)
    width = int((s.max(axis=0) - low).max()) + 1
    sigma = logit_scale(crit.target, crit.design_samples, crit.alpha)
    table = np.concatenate([
        log_evidence(low[i : i + 500, None] + np.arange(width), n[i : i + 500, None],
                     crit.target, method="logit_mixture", side="lower", sigma=sigma)
        for i in range(0, steps, 500)
    ])
    ok = (table[np.arange(steps), s - low] >= math.log(1 / crit.alpha)) & (n >= crit.min_samples)
    assert ok[:, -1].mean() > 0.95  # the horizon is long enough for the percentiles below
    return np.where(ok.any(axis=1), ok.argmax(axis=1) + 1, np.inf)


@pytest.mark.parametrize(
    ("rate", "s0", "n0", "steps"), [(0.92, 0, 0, 6000), (0.95, 270, 300, 2000)]
)
def test_forecast_agrees_with_direct_simulation(rate: float, s0: int, n0: int, steps: int) -> None:
    crit = PromotionCriterion(target=0.9)
    f = forecast_graduation(crit, traffic_per_day=1000, label_rate=0.05, successes=s0, n=n0,
                            estimate=rate)
    direct = direct_crossings(crit, rate, s0, n0, steps)
    # 400 direct paths put the true median between their 38th and 62nd percentiles
    # with probability > 99.9%; likewise the outer percentiles in wider windows.
    q = np.percentile(direct, [4, 18, 38, 62, 82, 96], method="inverted_cdf")
    assert q[2] <= f.labels <= q[3]
    assert q[0] <= f.labels_range[0] <= q[1]
    assert q[4] <= f.labels_range[1] <= q[5]
    assert f.days == pytest.approx(max(f.labels / 50, 7))


def test_never_when_estimate_not_above_target() -> None:
    crit = PromotionCriterion(target=0.9)
    f = forecast_graduation(crit, traffic_per_day=1000, label_rate=0.1, successes=890, n=1000)
    assert not f.reachable
    assert math.isinf(f.labels)
    assert math.isinf(f.days)
    assert "not above target" in f.reason


def test_never_without_labels_and_cap() -> None:
    crit = PromotionCriterion(target=0.9)
    f = forecast_graduation(crit, traffic_per_day=1000, label_rate=0.0, estimate=0.95)
    assert not f.reachable
    assert "no labels arrive" in f.reason
    capped = forecast_graduation(crit, traffic_per_day=10, label_rate=1.0, estimate=0.9001,
                                 max_labels=20_000)
    assert not capped.reachable
    assert "more than 20000 labels" in capped.reason


def test_already_certified_waits_for_duration_only() -> None:
    crit = PromotionCriterion(target=0.9, min_duration=timedelta(days=14))
    f = forecast_graduation(crit, traffic_per_day=100, label_rate=0.5, successes=4800, n=5000,
                            elapsed=timedelta(days=4))
    assert f.labels == 0
    assert f.days == pytest.approx(10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"traffic_per_day": -1.0}, "traffic_per_day"), ({"label_rate": 1.5}, "label_rate"),
     ({"estimate": -0.1}, "estimate"), ({"successes": 5, "n": 3}, "cannot exceed"),
     ({"estimate": None}, "estimate is required")],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"traffic_per_day": 100.0, "label_rate": 0.1, "estimate": 0.95}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        forecast_graduation(PromotionCriterion(target=0.9), **args)  # type: ignore[arg-type]
