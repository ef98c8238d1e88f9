"""Drift of the confidence distribution: PSI null thresholds, KS, overconfidence."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from trustramp.stats.drift import (
    ks_drift,
    overconfidence,
    overconfidence_from_counts,
    psi_drift,
    psi_from_counts,
    psi_threshold,
)


def _mc_margin(rate: float, runs: int) -> float:
    """3.5 standard errors of a Monte-Carlo estimate of `rate` from `runs` runs."""
    return 3.5 * math.sqrt(rate * (1 - rate) / runs)


@pytest.mark.parametrize(("n", "m", "runs"), [(100, 100, 4000), (1000, 500, 2000)])
def test_psi_null_thresholds_false_alarm_near_nominal(n: int, m: int, runs: int) -> None:
    rng = np.random.default_rng(20 + n + m)
    results = [
        psi_drift(rng.beta(8, 2, n), rng.beta(8, 2, m), warn=0.05, alarm=0.01) for _ in range(runs)
    ]
    warn_rate = np.mean([r.warning for r in results])
    alarm_rate = np.mean([r.drifted for r in results])
    assert 0.05 / 2 < warn_rate <= 0.05 + _mc_margin(0.05, runs)
    assert 0.01 / 3 < alarm_rate <= 0.01 + _mc_margin(0.01, runs)
    # The p-value is the same calibration seen from the other side.
    assert np.mean([r.p_value <= 0.05 for r in results]) == pytest.approx(warn_rate, abs=0.002)


def test_rule_of_thumb_false_alarms_most_of_the_time_at_n_100() -> None:
    rng = np.random.default_rng(7)
    runs = 2000
    results = [psi_drift(rng.random(100), rng.random(100)) for _ in range(runs)]
    psi = np.array([r.psi for r in results])
    ours = np.mean([r.warning for r in results])
    assert np.mean(psi > 0.1) > 0.5  # "investigate" fires on most unchanged windows
    assert np.mean(psi > 0.25) > 0.05 + _mc_margin(0.05, runs)  # "act" beats our warn level
    assert ours <= 0.05 + _mc_margin(0.05, runs)


def test_psi_detects_a_real_shift() -> None:
    rng = np.random.default_rng(3)
    # Confidence mean drops from 0.80 to 0.75: small but real at n = m = 500.
    results = [psi_drift(rng.beta(8, 2, 500), rng.beta(6, 2, 500)) for _ in range(200)]
    assert np.mean([r.warning for r in results]) > 0.95
    assert np.mean([r.drifted for r in results]) > 0.75


def test_permutation_calibration_holds_at_small_tied_samples() -> None:
    rng = np.random.default_rng(11)
    runs = 800
    # Confidences rounded to one decimal: heavy ties, 30 values each side.
    results = [
        psi_drift(
            np.round(rng.beta(6, 2, 30), 1),
            np.round(rng.beta(6, 2, 30), 1),
            calibration="permutation",
            n_resamples=199,
            seed=int(rng.integers(2**32)),
        )
        for _ in range(runs)
    ]
    assert np.mean([r.warning for r in results]) <= 0.05 + _mc_margin(0.05, runs)
    assert np.mean([r.p_value <= 0.05 for r in results]) <= 0.05 + _mc_margin(0.05, runs)


def test_permutation_thresholds_agree_with_asymptotic_at_large_samples() -> None:
    rng = np.random.default_rng(5)
    base, cur = rng.random(1000), rng.random(500)
    perm = psi_drift(base, cur, calibration="permutation", seed=1)
    assert perm.warn_threshold == pytest.approx(psi_threshold(1000, 500, 10, 0.05), rel=0.15)
    assert perm.psi == psi_drift(base, cur).psi


def test_psi_bins_come_from_the_baseline_and_ties_merge_bins() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(1000)
    result = psi_drift(base, rng.random(300))
    assert result.bins == 10
    assert np.allclose(result.baseline_share, 0.1, atol=0.001)
    assert list(result.edges) == sorted(result.edges)
    # The edges are the baseline's deciles (the order statistics 100, 200, ..., 900).
    assert result.edges == tuple(float(v) for v in np.sort(base)[100:1000:100])
    assert sum(result.current_share) == pytest.approx(1.0)
    tied = psi_drift([0.9] * 50 + [1.0] * 50, [0.9] * 40 + [1.0] * 60)
    assert tied.bins == 2
    assert tied.edges == (1.0,)
    # 99% of the baseline on its minimum: every quantile is 0.1, yet two bins remain.
    piled = psi_drift([0.1] * 99 + [0.9], [0.1] * 90 + [0.9] * 10)
    assert (piled.bins, piled.edges) == (2, (0.9,))
    assert piled.warning
    # Values below the baseline's minimum are counted in its lowest bin.
    low = psi_drift([0.5, 0.6, 0.7, 0.8], [0.1, 0.6, 0.7, 0.8], bins=4)
    assert low.current_share == low.baseline_share


def test_psi_matches_the_textbook_formula() -> None:
    base = np.linspace(0.01, 1.0, 100)
    cur = np.concatenate([np.full(50, 0.05), np.full(50, 0.95)])
    result = psi_drift(base, cur, bins=2, smoothing=0.5)
    p = np.array([50.5, 50.5]) / 101
    q = np.array([50.5, 50.5]) / 101
    assert result.psi == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    skew = psi_drift(base, np.full(100, 0.05), bins=2)
    p, q = np.array([0.5, 0.5]), np.array([100.5, 0.5]) / 101
    assert skew.psi == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert skew.p_value == pytest.approx(stats.chi2.sf(skew.psi / (2 / 100), 1))


def test_ks_result_and_false_alarm_rate() -> None:
    rng = np.random.default_rng(9)
    base, cur = rng.beta(8, 2, 400), rng.beta(5, 2, 300)
    result = ks_drift(base, cur)
    grid = np.concatenate([base, cur])
    ecdf_gap = np.abs(
        np.searchsorted(np.sort(base), grid, side="right") / 400
        - np.searchsorted(np.sort(cur), grid, side="right") / 300
    ).max()
    assert result.statistic == pytest.approx(ecdf_gap)
    assert (result.n, result.m, result.drifted) == (400, 300, True)
    runs = 1000
    null = [ks_drift(rng.random(80), rng.random(60)).drifted for _ in range(runs)]
    assert np.mean(null) <= 0.05 + _mc_margin(0.05, runs)


def _calibrated_window(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    conf = rng.beta(9, 1.5, n)
    return conf, rng.random(n) < conf


def test_overconfidence_flags_high_confidence_with_falling_accuracy() -> None:
    rng = np.random.default_rng(2)
    conf = rng.uniform(0.9, 0.97, 400)
    correct = rng.random(400) < 0.80
    result = overconfidence(conf, correct)
    assert result.overconfident
    assert result.gap_lower > 0.05
    assert result.gap_lower <= result.gap <= result.gap_upper
    assert result.gap == pytest.approx(conf.mean() - correct.mean())


def test_overconfidence_false_flag_rate_on_calibrated_windows() -> None:
    rng = np.random.default_rng(4)
    runs = 2000
    results = [overconfidence(*_calibrated_window(rng, 200), margin=0.0) for _ in range(runs)]
    assert np.mean([r.overconfident for r in results]) <= 0.05 + _mc_margin(0.05, runs)
    # The true gap is 0: each one-sided bound misses it at most 5% of the time.
    assert np.mean([r.gap_lower > 0 for r in results]) <= 0.05 + _mc_margin(0.05, runs)
    assert np.mean([r.gap_upper < 0 for r in results]) <= 0.05 + _mc_margin(0.05, runs)
    assert not overconfidence(*_calibrated_window(rng, 2000)).overconfident


def test_gap_growth_against_baseline() -> None:
    rng = np.random.default_rng(6)
    base_conf, base_correct = _calibrated_window(rng, 1000)
    # Confidence unchanged, accuracy 15 points lower: the gap grew.
    conf = rng.beta(9, 1.5, 500)
    dropped = overconfidence(
        conf,
        rng.random(500) < conf - 0.15,
        baseline_confidence=base_conf,
        baseline_correct=base_correct,
        margin=0.02,
    )
    assert dropped.gap_grew
    assert dropped.accuracy_change is not None
    assert dropped.accuracy_change < -0.1
    assert dropped.confidence_change is not None
    assert abs(dropped.confidence_change) < 0.02
    # Accuracy and confidence fall together (still calibrated): the gap did not grow.
    runs = 1000
    grew = []
    for _ in range(runs):
        base_conf, base_correct = _calibrated_window(rng, 300)
        conf = rng.beta(5, 2, 200)
        result = overconfidence(
            conf,
            rng.random(200) < conf,
            baseline_confidence=base_conf,
            baseline_correct=base_correct,
            margin=0.0,
        )
        grew.append(result.gap_grew is True)
    assert np.mean(grew) <= 0.05 + _mc_margin(0.05, runs)
    assert overconfidence([0.9, 0.8], [1, 0]).gap_grew is None


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: psi_drift([], [0.5]), "baseline"),
        (lambda: psi_drift([0.5, 0.6], [0.5, float("nan")]), "current[1]"),
        (lambda: psi_drift([0.5, 1.2], [0.5]), "baseline[1]"),
        (lambda: psi_drift([0.5, 0.5], [0.5]), "baseline"),
        (lambda: psi_drift([0.5, 0.6], [0.5], bins=1), "bins"),
        (lambda: psi_drift([0.5, 0.6], [0.5], warn=1.5), "warn"),
        (lambda: psi_drift([0.5, 0.6], [0.5], alarm=0.0), "alarm"),
        (lambda: psi_drift([0.5, 0.6], [0.5], smoothing=0), "smoothing"),
        (lambda: psi_drift([0.5, 0.6], [0.5], calibration="bootstrap"), "calibration"),  # type: ignore[arg-type]
        (lambda: psi_threshold(0, 10, 10, 0.05), "n = 0"),
        (lambda: ks_drift([0.5], [-0.1]), "current[0]"),
        (lambda: ks_drift([0.5], [0.5], alpha=1.0), "alpha"),
        (lambda: overconfidence([0.9, 0.8], [1]), "correct"),
        (lambda: overconfidence([0.9, 0.8], [1, 2]), "correct[1]"),
        (lambda: overconfidence([0.9], [1], margin=-0.1), "margin"),
        (lambda: overconfidence([0.9], [1], baseline_confidence=[0.9]), "baseline_correct"),
        (
            lambda: overconfidence(
                [0.9], [1], baseline_confidence=[0.9, 0.8], baseline_correct=[1]
            ),
            "baseline_correct",
        ),
    ],
)
def test_bad_input_names_the_argument(call: object, names: str) -> None:
    with pytest.raises(ValueError, match=names.replace("[", r"\[")):
        call()  # type: ignore[operator]


# ---------------------------------------------------------------- from counts


def _on_grid(values: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in values]


@pytest.mark.parametrize("seed", range(6))
def test_psi_from_counts_equals_psi_drift_on_the_grid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(50, 2000)), int(rng.integers(20, 2000))
    shapes = [(8, 2), (2, 2), (30, 1.5)][seed % 3]  # the last piles ties on a few values
    baseline = _on_grid(np.minimum(rng.beta(*shapes, n), 0.99))
    if seed == 5:  # half the baseline on its minimum: psi_drift's edge rule
        baseline = _on_grid(np.r_[np.full(n, 0.05), rng.uniform(0.1, 0.99, n)])
    current = _on_grid(np.minimum(rng.beta(shapes[0] * 0.8, shapes[1], m), 0.99))
    histogram = np.bincount([round(c * 100) for c in current], minlength=100).tolist()
    direct = psi_drift(baseline, current, warn=0.05, alarm=0.01)
    counted = psi_from_counts(baseline, histogram, warn=0.05, alarm=0.01)
    assert counted.psi == pytest.approx(direct.psi, rel=1e-12, abs=1e-15)
    assert (counted.n, counted.m, counted.bins) == (direct.n, direct.m, direct.bins)
    assert counted.edges == pytest.approx(direct.edges)
    assert counted.warn_threshold == pytest.approx(direct.warn_threshold)
    assert counted.alarm_threshold == pytest.approx(direct.alarm_threshold)
    assert counted.p_value == pytest.approx(direct.p_value)
    assert (counted.warning, counted.drifted) == (direct.warning, direct.drifted)


@pytest.mark.parametrize("seed", range(20))
def test_psi_from_counts_off_the_grid_keeps_every_bin_filled(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    baseline = rng.beta(8, 2, int(rng.integers(10, 300)))
    histogram = np.bincount(np.minimum((rng.beta(6, 2, 500) * 100).astype(int), 99),
                            minlength=100).tolist()
    result = psi_from_counts(baseline, histogram)
    floor = 0.5 / (result.n + 0.5 * result.bins)  # the share of a bin with no baseline value
    assert result.bins >= 2
    assert all(share > floor * 1.0001 for share in result.baseline_share)
    assert sum(result.current_share) == pytest.approx(1.0)


def test_psi_from_counts_refuses_an_empty_histogram() -> None:
    with pytest.raises(ValueError, match="histogram: holds no confidences"):
        psi_from_counts([0.1, 0.9], [0] * 100)
    with pytest.raises(ValueError, match="histogram: need at least 2 non-negative integer"):
        psi_from_counts([0.1, 0.9], [1.5, 2.0])


@pytest.mark.parametrize("seed", range(5))
def test_overconfidence_from_counts_is_overconfidence(seed: int) -> None:
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.5, 1.0, int(rng.integers(5, 400)))
    hits = rng.random(conf.size) < conf - 0.1 * seed
    base_conf = rng.uniform(0.4, 1.0, 300)
    base_hits = rng.random(300) < base_conf
    for with_baseline in (False, True):
        extra = ({"baseline_confidence": base_conf, "baseline_correct": base_hits}
                 if with_baseline else {})
        direct = overconfidence(conf, hits, margin=0.03, alpha=0.1, **extra)
        counted = overconfidence_from_counts(
            conf.size, int(hits.sum()), float(conf.mean()), margin=0.03, alpha=0.1,
            **({"baseline_n": 300, "baseline_correct": int(base_hits.sum()),
                "baseline_mean_confidence": float(base_conf.mean())} if with_baseline else {}))
        assert counted == direct


def test_overconfidence_from_counts_names_bad_counts() -> None:
    with pytest.raises(ValueError, match=r"correct = 11: must be an integer in \[0, 10\]"):
        overconfidence_from_counts(10, 11, 0.9)
    with pytest.raises(ValueError, match="baseline_n, baseline_correct, baseline_mean"):
        overconfidence_from_counts(10, 9, 0.9, baseline_n=10)
