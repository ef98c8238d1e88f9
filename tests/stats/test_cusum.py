"""Bernoulli CUSUM: exact Markov-chain calibration checked against simulation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import binom

from trustramp.stats.cusum import (
    CusumDetector,
    CusumLattice,
    calibrate_cusum,
    cusum_average_run_length,
)
from trustramp.stats.cusum_estimated import EstimatedBaselineCusum, design_from_burn_in


def simulate_run_lengths(
    lattice: CusumLattice, wrong_rate: float, runs: int, rng: np.random.Generator, start: int = 0
) -> np.ndarray:
    """Run lengths (events up to and including the alarm) of independent streams."""
    lengths = np.zeros(runs, dtype=np.int64)
    state = np.full(runs, start, dtype=np.int64)
    live = np.arange(runs)
    elapsed = 0
    while live.size:
        first, final = lattice.first_alarm(rng.random((live.size, 1000)) < wrong_rate, state[live])
        done = first >= 0
        lengths[live[done]] = elapsed + first[done] + 1
        state[live[~done]] = final[~done]
        live = live[~done]
        elapsed += 1000
    return lengths


def assert_mean_matches(sample: np.ndarray, expected: float) -> None:
    stderr = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - expected) < 3.5 * stderr, (sample.mean(), expected, stderr)


@pytest.mark.parametrize(("interval", "reference"), [(10_000, 268.5), (1_000_000, 582.6)])
def test_exact_delay_reproduces_reference_optimal_delays(interval: float, reference: float) -> None:
    # The references are the real-valued CUSUM at exactly the requested interval; ours
    # runs on a lattice with threshold steps of ~0.0035 log-likelihood units, so its
    # achieved interval overshoots by < 0.4% and its delay by about 0.1%.
    design = calibrate_cusum(0.92, 0.87, interval)
    assert interval <= design.false_alarm_interval < 1.005 * interval
    assert design.worst_case_delay == pytest.approx(reference, rel=3e-3)


def test_threshold_grows_with_the_false_alarm_interval() -> None:
    hs = [calibrate_cusum(0.92, 0.87, interval).h for interval in (20, 200, 2_000, 20_000, 2e6)]
    assert all(a < b for a, b in itertools.pairwise(hs))


@pytest.mark.parametrize(("p0", "p1"), [(0.99, 0.94), (0.999, 0.99), (0.92, 0.87)])
@pytest.mark.parametrize("interval", [50, 10_000, 1_000_000])
def test_threshold_is_the_smallest_meeting_the_interval(
    p0: float, p1: float, interval: float
) -> None:
    # At high p0 one wrong answer moves the lattice by more than the first thresholds
    # the search probes (their ARLs are all equal); the search must still end at the
    # smallest threshold whose ARL reaches the interval, not run away.
    lattice = calibrate_cusum(p0, p1, interval).lattice
    assert lattice.run_lengths(p0)[0] >= interval
    if lattice.threshold > 1:
        assert lattice.with_threshold(lattice.threshold - 1).run_lengths(p0)[0] < interval


def test_in_control_interval_matches_simulation() -> None:
    design = calibrate_cusum(0.92, 0.87, 300)
    lengths = simulate_run_lengths(design.lattice, 0.08, 6_000, np.random.default_rng(11))
    assert_mean_matches(lengths, design.false_alarm_interval)
    assert design.false_alarm_interval >= 300


def test_delay_matches_chain_from_zero_and_from_a_raised_statistic() -> None:
    design = calibrate_cusum(0.92, 0.87, 300)
    rng = np.random.default_rng(12)
    assert_mean_matches(
        simulate_run_lengths(design.lattice, 0.13, 6_000, rng), design.worst_case_delay
    )
    # "wherever the drop falls": the delay from any state is at most the delay from 0.
    assert np.all(np.diff(design.lattice.run_lengths(0.87)) <= 1e-9)
    start = design.lattice.threshold // 2
    exact = cusum_average_run_length(0.92, 0.87, design.h, 0.87, start=start * design.lattice.unit)
    assert exact < design.worst_case_delay  # a raised statistic can only shorten the delay
    assert_mean_matches(simulate_run_lengths(design.lattice, 0.13, 6_000, rng, start), exact)


def test_update_and_batch_agree_and_latch_after_alarm() -> None:
    outcomes = np.random.default_rng(3).random(3_000) > 0.2
    one, batch = CusumDetector(0.92, 0.87, 500), CusumDetector(0.92, 0.87, 500)
    for x in outcomes:
        one.update(bool(x))
    assert batch.update_many(outcomes[:1_000]) == batch.update_many(outcomes[1_000:]) is True
    assert one.alarmed
    assert one.n == batch.n == one.alarm_at == batch.alarm_at
    assert one.statistic == batch.statistic >= one.h
    assert one.update(True)  # latched: ignored until reset
    assert one.n == batch.n
    one.reset()
    assert (one.n, one.statistic, one.alarmed) == (0, 0.0, False)


def test_run_length_rises_with_the_success_rate() -> None:
    # The estimated-baseline guarantee rests on this: a chart that holds its interval at
    # p0_lower holds it at every higher true success rate.
    lattice = calibrate_cusum(0.9, 0.85, 1_000).lattice
    arls = [lattice.run_lengths(p)[0] for p in (0.8, 0.85, 0.88, 0.9, 0.92, 0.95)]
    assert all(a < b for a, b in itertools.pairwise(arls))


def test_estimated_baseline_keeps_false_alarm_guarantee_over_burn_ins() -> None:
    # Documented: with probability >= confidence over the burn-in, the exact in-control
    # ARL at the true p0 is >= the requested interval. A plug-in design (p0 = estimate)
    # meets it only about half the time, so this fails if the bound is dropped.
    rng = np.random.default_rng(5)
    for p0, burn_in in ((0.92, 400), (0.7, 150)):
        met = []
        for correct in rng.binomial(burn_in, p0, size=300):
            base = design_from_burn_in(int(correct), burn_in, 0.05, 300.0, confidence=0.9)
            met.append(base.design.lattice.run_lengths(p0)[0] >= 300.0)
        assert np.mean(met) >= 0.9 - 2.5 * math.sqrt(0.9 * 0.1 / len(met)), (p0, np.mean(met))


def test_plug_in_estimate_would_break_the_guarantee() -> None:
    # The control experiment for the test above: same draws, p0 taken at face value.
    rng = np.random.default_rng(5)
    met = [
        calibrate_cusum(k / 400, k / 400 - 0.05, 300.0).lattice.run_lengths(0.92)[0] >= 300.0
        for k in rng.binomial(400, 0.92, size=300)
    ]
    assert np.mean(met) < 0.8


@pytest.mark.parametrize(("p0", "burn_in", "interval"), [(0.92, 400, 3_000.0), (0.75, 150, 300.0)])
def test_reference_at_the_bound_beats_reference_at_the_estimate(
    p0: float, burn_in: int, interval: float
) -> None:
    # The module explains why the chart is the CUSUM for p0_lower -> p1 rather than
    # Gandy & Kvaloy's chart referenced at the estimate with its threshold raised until
    # it holds the interval at p0_lower (same guarantee). Exact mean delay at the true
    # p1 over the burn-in distribution: this fails if the reference choice is the worse one.
    def lowest_threshold(lattice: CusumLattice, p: float) -> CusumLattice:
        lo, hi = 0, 1
        while lattice.with_threshold(hi).run_lengths(p)[0] < interval:
            lo, hi = hi, 2 * hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            meets = lattice.with_threshold(mid).run_lengths(p)[0] >= interval
            lo, hi = (lo, mid) if meets else (mid, hi)
        return lattice.with_threshold(hi)

    ks = np.arange(binom.ppf(1e-4, burn_in, p0), binom.isf(1e-4, burn_in, p0) + 1, dtype=int)
    weights = binom.pmf(ks, burn_in, p0) / binom.pmf(ks, burn_in, p0).sum()
    ours, at_estimate = [], []
    for k in ks:
        base = design_from_burn_in(int(k), burn_in, 0.05, interval)
        ours.append(base.design.lattice.run_lengths(p0 - 0.05)[0])
        rival = CusumLattice.for_rates(base.p0_estimate, base.p0_estimate - 0.05)
        at_estimate.append(lowest_threshold(rival, base.p0_lower).run_lengths(p0 - 0.05)[0])
    assert weights @ np.array(ours) < weights @ np.array(at_estimate)


def test_estimated_detector_streams_burn_in_then_monitors() -> None:
    wrong_rate = np.r_[np.full(2_500, 0.08), np.full(3_500, 0.2)]  # drop at event 2,500
    outcomes = np.random.default_rng(8).random(6_000) > wrong_rate
    det = EstimatedBaselineCusum(drop=0.05, false_alarm_interval=100_000, burn_in=2_000)
    assert not det.update_many(outcomes[:1_500])
    assert det.baseline is None
    assert det.update_many(outcomes[1_500:])
    ref = design_from_burn_in(int(outcomes[:2_000].sum()), 2_000, 0.05, 100_000)
    assert det.baseline == ref
    assert det.h == ref.design.h
    assert 500 < det.n < 1_500  # alarms after the drop, 500 monitored events in
    same = EstimatedBaselineCusum.from_counts(int(outcomes[:2_000].sum()), 2_000, 0.05, 1e5)
    for x in outcomes[2_000:]:
        if same.update(bool(x)):
            break
    assert same.n == det.n
    same.reset()  # a resume restarts the CUSUM against the same baseline
    assert (same.n, same.alarmed, same.baseline) == (0, False, ref)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"p0": 0.87, "p1": 0.92, "false_alarm_interval": 100}, "p1 must be below p0"),
        ({"p0": 1.0, "p1": 0.5, "false_alarm_interval": 100}, "p0 must be"),
        ({"p0": 0.9, "p1": 0.0, "false_alarm_interval": 100}, "p1 must be"),
        ({"p0": 0.9, "p1": 0.8, "false_alarm_interval": 1.5}, "false_alarm_interval"),
        ({"p0": 0.9, "p1": 0.8, "false_alarm_interval": math.inf}, "false_alarm_interval"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CusumDetector(**kwargs)


def test_bad_outcomes_and_burn_ins_are_rejected() -> None:
    det = CusumDetector(0.9, 0.8, 100)
    with pytest.raises(ValueError, match="correct must be a bool"):
        det.update(1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outcomes must be a 1-D sequence of bools"):
        det.update_many([1, 0])
    with pytest.raises(ValueError, match="burn_in must be"):
        EstimatedBaselineCusum(0.05, 100, burn_in=0)
    with pytest.raises(ValueError, match="drop must be"):
        EstimatedBaselineCusum(1.5, 100, burn_in=10)
    with pytest.raises(ValueError, match="correct <= n"):
        design_from_burn_in(11, 10, 0.05, 100)
    with pytest.raises(ValueError, match="0 correct answers"):
        design_from_burn_in(0, 10, 0.05, 100)
    h = calibrate_cusum(0.9, 0.8, 100).h
    with pytest.raises(ValueError, match="start must be in"):
        cusum_average_run_length(0.9, 0.8, h, 0.9, start=h)
    with pytest.raises(ValueError, match="p must be a success rate"):
        cusum_average_run_length(0.9, 0.8, h, 1.2)


def test_estimated_detector_rejects_what_the_known_one_rejects() -> None:
    det = EstimatedBaselineCusum(0.05, 100, burn_in=10)
    with pytest.raises(ValueError, match="correct must be a bool"):
        det.update(1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outcomes must be a 1-D sequence of bools"):
        det.update_many([1, 0])
    with pytest.raises(ValueError, match="confidence must be"):
        EstimatedBaselineCusum(0.05, 100, burn_in=10, confidence=1.0)
    assert det.n == 0
    assert det.baseline is None
    # numpy scalars are numbers too (settings often come out of numpy arrays)
    assert EstimatedBaselineCusum(0.05, 100, burn_in=10, confidence=np.float32(0.9)).burn_in == 10
