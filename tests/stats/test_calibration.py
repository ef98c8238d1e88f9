"""Calibration measures on cases with known answers, and the isotonic recalibration map."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from trustramp.stats.calibration import (
    CalibrationReport,
    IsotonicMap,
    brier_score,
    calibration_report,
    fit_isotonic,
)


def noise_tolerance(report: CalibrationReport, sigmas: float = 4.0) -> float:
    """Largest ECE sampling noise alone plausibly produces for a calibrated set.

    A calibrated bin's accuracy differs from its mean confidence only by binomial noise
    with sd sqrt(m (1 - m) / n_b); ECE weights |noise| by n_b / n.
    """
    total = 0.0
    for b in report.bins:
        if b.count and b.mean_confidence is not None:
            m = b.mean_confidence
            total += b.count / report.n * sigmas * np.sqrt(m * (1 - m) / b.count)
    return total


def test_constant_confidence_gives_the_hand_computed_numbers() -> None:
    report = calibration_report([0.8] * 10, [True] * 6 + [False] * 4, n_bins=10)
    assert report.ece == pytest.approx(0.2)
    assert report.mce == pytest.approx(0.2)
    assert report.brier == pytest.approx(0.6 * 0.2**2 + 0.4 * 0.8**2)
    assert report.bin_counts == (0,) * 8 + (10, 0)
    row = report.bins[8]
    assert (row.lower, row.upper, row.correct) == (0.8, 0.9, 6)
    assert row.accuracy == pytest.approx(0.6)
    assert row.gap == pytest.approx(-0.2)
    # published Clopper-Pearson 95% interval for 6 of 10
    assert (row.accuracy_low, row.accuracy_high) == pytest.approx((0.2624, 0.8784), abs=1e-4)
    empty = report.bins[0]
    assert (empty.count, empty.accuracy, empty.gap) == (0, None, None)
    assert (empty.accuracy_low, empty.accuracy_high) == (0.0, 1.0)


def test_confidence_on_a_bin_edge_goes_to_the_bin_it_starts() -> None:
    edges = [k / 100 for k in range(100)]
    report = calibration_report([*edges, 1.0], [True] * 101, n_bins=100)
    assert report.bin_counts == (1,) * 99 + (2,)


@pytest.mark.parametrize("binning", ["equal_width", "equal_mass"])
def test_calibrated_data_has_ece_within_sampling_noise(binning: str) -> None:
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.0, 1.0, size=20_000)
    report = calibration_report(conf, rng.random(conf.size) < conf, 10, binning)  # type: ignore[arg-type]
    tolerance = noise_tolerance(report)
    assert report.ece < tolerance
    # the same tolerance does flag a mildly miscalibrated model
    overconfident = rng.random(conf.size) < conf**1.3
    assert calibration_report(conf, overconfident, 10, binning).ece > tolerance  # type: ignore[arg-type]


def test_known_miscalibration_gives_known_ece_mce_and_brier() -> None:
    # every answer is right 10 points less often than its confidence says
    rng = np.random.default_rng(2)
    n = 50_000
    conf = rng.uniform(0.2, 1.0, size=n)
    correct = rng.random(n) < conf - 0.1
    report = calibration_report(conf, correct, n_bins=10)
    # ECE = 0.1 minus the overall mean noise, whose sd is sqrt(mean p(1-p) / n)
    p = conf - 0.1
    sd = np.sqrt(np.mean(p * (1 - p)) / n)
    assert report.ece == pytest.approx(0.1, abs=4 * sd)
    assert report.mce == pytest.approx(0.1, abs=4 * np.sqrt(0.25 / min(report.bin_counts[2:])))
    assert report.bin_counts[:2] == (0, 0)
    # E[(c - y)^2] = E[-c^2 + 1.2 c - 0.1] for c ~ U(0.2, 1): -0.992 / 2.4 + 0.72 - 0.1
    expected_brier = -0.992 / 2.4 + 0.72 - 0.1
    sd_brier = np.std((conf - correct) ** 2) / np.sqrt(n)
    assert report.brier == pytest.approx(expected_brier, abs=4 * sd_brier)
    assert brier_score(conf, correct) == report.brier


def test_equal_mass_bins_hold_equal_counts() -> None:
    rng = np.random.default_rng(3)
    conf = rng.beta(8, 2, size=1000)
    report = calibration_report(conf, rng.random(1000) < conf, n_bins=10, binning="equal_mass")
    assert report.bin_counts == (100,) * 10
    uppers = [b.upper for b in report.bins]
    assert uppers == sorted(uppers)
    assert all(b.lower <= b.upper for b in report.bins)
    small = calibration_report([0.2, 0.5, 0.9], [True, False, True], binning="equal_mass")
    assert small.bin_counts == (1, 1, 1)


def miscalibrated(
    rng: np.random.Generator, n: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    conf = rng.beta(5, 1, size=n)
    return conf, rng.random(n) < conf**2


def test_isotonic_map_fitted_on_one_sample_calibrates_held_out_data() -> None:
    rng = np.random.default_rng(4)
    fit_conf, fit_correct = miscalibrated(rng, 10_000)
    test_conf, test_correct = miscalibrated(rng, 10_000)
    recalibrate = fit_isotonic(fit_conf, fit_correct)
    before = calibration_report(test_conf, test_correct, binning="equal_mass")
    after = calibration_report(recalibrate(test_conf), test_correct, binning="equal_mass")
    assert after.ece < before.ece / 4
    assert after.ece < noise_tolerance(after)
    assert after.brier < before.brier
    # "98% confident" now means about 98%: the map tracks the known curve P(correct | c) = c^2
    truth = test_conf**2
    assert np.mean(np.abs(recalibrate(test_conf) - truth)) < np.mean(np.abs(test_conf - truth)) / 4


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 1.0), st.booleans()),
        min_size=1,
        max_size=60,
    )
)
def test_isotonic_map_is_monotone_and_within_unit_interval(pairs: list[tuple[float, bool]]) -> None:
    conf = [c for c, _ in pairs]
    mapped = fit_isotonic(conf, [y for _, y in pairs])
    probe = np.linspace(-0.5, 1.5, 101)
    values = mapped(probe)
    assert np.all(np.diff(values) >= 0)
    assert np.all((values >= 0) & (values <= 1))
    assert isinstance(mapped(0.5), float)
    assert mapped.n == len(pairs)
    assert len(mapped.breakpoints) == len(mapped.values) <= len(set(conf))


def test_isotonic_map_pools_violators_to_their_mean() -> None:
    mapped = fit_isotonic([0.1, 0.2, 0.3, 0.4], [True, False, False, True])
    # (1, 0, 0) pool to 1/3, then 1
    assert mapped.values == pytest.approx((1 / 3, 1 / 3, 1.0))
    assert mapped.breakpoints == (0.1, 0.3, 0.4)
    assert mapped(0.0) == pytest.approx(1 / 3)
    assert mapped(0.35) == pytest.approx((1 / 3 + 1.0) / 2)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: calibration_report([0.5], [True], n_bins=0), "n_bins"),
        (lambda: calibration_report([0.5], [True], binning="quantile"), "binning"),  # type: ignore[arg-type]
        (lambda: calibration_report([0.5], [True], level=1.0), "level"),
        (lambda: calibration_report([[0.5]], [True]), "confidence"),
        (lambda: brier_score([0.5, -0.1], [True, True]), "confidence"),
        (lambda: brier_score([True, False], [True, True]), "confidence"),
        (lambda: fit_isotonic([0.5, 0.6], [1.0, 0.0]), "correct"),
        (lambda: fit_isotonic([], []), "confidence"),
        (lambda: IsotonicMap(breakpoints=(0.2, 0.1), values=(0.1, 0.2), n=2), "breakpoints"),
        (lambda: IsotonicMap(breakpoints=(0.1, 0.2), values=(0.3, 0.2), n=2), "values"),
        (lambda: IsotonicMap(breakpoints=(0.1,), values=(0.3, 0.4), n=2), "values"),
        (lambda: fit_isotonic([0.2, 0.8], [False, True])(float("nan")), "confidence"),
    ],
)
def test_bad_input_names_the_argument(call: Callable[[], object], argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}"):
        call()
