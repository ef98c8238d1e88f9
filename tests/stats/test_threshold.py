"""Learn-then-Test threshold selection: guarantee by simulation, exact cases, MAPIE cross-check."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.special import beta as beta_fn
from scipy.special import betainc
from scipy.stats import binom

from trustramp.stats.threshold import DEFAULT_GRID, ThresholdSelection, select_threshold

GRID = np.array(DEFAULT_GRID)

# Known score model: confidence ~ Beta(A, B), P(correct | c) = c ** K (overconfident).
A, B, K = 5.0, 1.0, 2.0


def draw(rng: np.random.Generator, n: int) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    conf = rng.beta(A, B, size=n)
    return conf, rng.random(n) < conf**K


def true_accuracy_above(lam: float) -> float:
    """E[C^K | C >= lam] for C ~ Beta(A, B), in closed form."""
    shown = 1.0 - betainc(A, B, lam)
    return float(beta_fn(A + K, B) / beta_fn(A, B) * (1.0 - betainc(A + K, B, lam)) / shown)


def naive_threshold(conf: NDArray[np.float64], correct: NDArray[np.bool_], target: float) -> float:
    """Lowest grid point whose empirical accuracy above it reaches the target."""
    ok = [lam for lam in GRID if (conf >= lam).any() and correct[conf >= lam].mean() >= target]
    return min(ok) if ok else float("inf")


def mc_upper_pvalue(violations: int, draws: int, rate: float) -> float:
    """P[Binom(draws, rate) >= violations]: small means the rate is above `rate`."""
    return float(binom.sf(violations - 1, draws, rate))


def test_violation_rate_at_most_delta_on_known_model() -> None:
    rng = np.random.default_rng(20261129)
    target, delta, draws = 0.90, 0.10, 300
    ltt_violations = naive_violations = 0
    for _ in range(draws):
        conf, correct = draw(rng, 1000)
        chosen = select_threshold(conf, correct, target, delta).threshold
        if chosen is not None and true_accuracy_above(chosen) < target:
            ltt_violations += 1
        naive = naive_threshold(conf, correct, target)
        if naive <= 1.0 and true_accuracy_above(naive) < target:
            naive_violations += 1
    assert mc_upper_pvalue(ltt_violations, draws, delta) > 1e-3, ltt_violations
    # the same check flags the uncertified rule, so it has the power to catch a bad one
    assert mc_upper_pvalue(naive_violations, draws, delta) < 1e-6, naive_violations


def test_violation_rate_at_most_delta_when_every_threshold_is_bad() -> None:
    # accuracy is 0.89 at every confidence: every null is true, any answer is a violation
    rng = np.random.default_rng(7)
    target, delta, draws, n = 0.90, 0.10, 1000, 1500
    violations = 0
    for _ in range(draws):
        conf = rng.uniform(0.9, 1.0, size=n)
        correct = rng.random(n) < 0.89
        violations += select_threshold(conf, correct, target, delta).threshold is not None
    assert mc_upper_pvalue(violations, draws, delta) > 1e-3, violations


def test_zero_errors_need_22_answers_for_90_percent_at_delta_10_percent() -> None:
    enough = select_threshold([0.995] * 22, [True] * 22, 0.9, 0.1)
    assert enough.threshold == 0.5
    assert enough.p_values[0] == pytest.approx(0.9**22)
    too_few = select_threshold([0.995] * 21, [True] * 21, 0.9, 0.1)
    assert too_few.threshold is None
    assert len(too_few.p_values) == 1
    assert too_few.p_values[0] == pytest.approx(0.9**21)


def hand_built_calibration_set() -> tuple[list[float], list[bool]]:
    """Counts above 0.9 / 0.8 / 0.7 / 0.6: 32 / 64 / 128 / 256, errors 0 / 2 / 8 / 25."""
    blocks = [(0.95, 32, 0), (0.85, 32, 2), (0.75, 64, 6), (0.65, 128, 17)]
    conf: list[float] = []
    correct: list[bool] = []
    for value, count, errors in blocks:
        conf += [value] * count
        correct += [False] * errors + [True] * (count - errors)
    return conf, correct


def test_hand_built_counts_give_exact_binomial_p_values_and_stop_at_first_failure() -> None:
    conf, correct = hand_built_calibration_set()
    sel = select_threshold(conf, correct, 0.9, 0.1, grid=[0.6, 0.9, 0.7, 0.8])
    expected_p = [binom.cdf(e, n, 0.1) for n, e in [(32, 0), (64, 2), (128, 8), (256, 25)]]
    assert sel.tested_thresholds == (0.9, 0.8, 0.7, 0.6)
    assert sel.p_values == pytest.approx(expected_p, rel=1e-12)
    assert sel.threshold == 0.7
    assert (sel.n, sel.n_shown, sel.errors_shown) == (256, 128, 8)
    assert sel.coverage == 0.5
    assert sel.empirical_accuracy == pytest.approx(120 / 128)
    assert sel.accuracy_bound == 0.9
    assert sel.reason is None


def test_returns_none_with_reason_on_hopeless_data() -> None:
    rng = np.random.default_rng(3)
    conf = rng.uniform(0.0, 1.0, size=5000)
    sel = select_threshold(conf, rng.random(5000) < 0.5, 0.9, 0.05)
    assert sel.threshold is None
    assert (sel.coverage, sel.accuracy_bound, sel.n_shown) == (0.0, None, 0)
    assert sel.reason is not None
    assert "not even the highest grid threshold 0.99" in sel.reason
    assert len(sel.p_values) == 1
    assert sel.p_values[0] > 0.05


def test_empty_top_of_grid_is_not_rejectable_and_says_so() -> None:
    # plenty of perfect answers, but none reaches the grid top 0.99
    sel = select_threshold([0.9] * 500, [True] * 500, 0.9, 0.1)
    assert sel.threshold is None
    assert sel.p_values == (1.0,)
    assert sel.reason is not None
    assert "no calibration answer has confidence >= 0.99" in sel.reason
    # with a grid whose top the model reaches, the same data certifies
    assert select_threshold([0.9] * 500, [True] * 500, 0.9, 0.1, grid=[0.8, 0.9]).threshold == 0.8


@pytest.mark.parametrize("seed", range(5))
def test_smaller_delta_or_higher_target_never_lowers_the_threshold(seed: int) -> None:
    conf, correct = draw(np.random.default_rng(seed), 800)

    def level(sel: ThresholdSelection) -> float:
        return float("inf") if sel.threshold is None else sel.threshold

    by_delta = [level(select_threshold(conf, correct, 0.9, d)) for d in (0.5, 0.2, 0.1, 0.05, 0.01)]
    assert by_delta == sorted(by_delta)
    by_target = [level(select_threshold(conf, correct, t, 0.1)) for t in (0.8, 0.85, 0.9, 0.95)]
    assert by_target == sorted(by_target)


def test_grid_order_given_does_not_matter() -> None:
    conf, correct = draw(np.random.default_rng(11), 2000)
    shuffled = np.random.default_rng(0).permutation(GRID)
    assert select_threshold(conf, correct, 0.9, 0.1, grid=shuffled) == select_threshold(
        conf, correct, 0.9, 0.1
    )


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: select_threshold([0.5, 0.6], [True], 0.9, 0.1), "correct"),
        (lambda: select_threshold([0.5, 1.2], [True, False], 0.9, 0.1), "confidence"),
        (lambda: select_threshold([0.5, float("nan")], [True, False], 0.9, 0.1), "confidence"),
        (lambda: select_threshold([], [], 0.9, 0.1), "confidence"),
        (lambda: select_threshold([0.5], [0.5], 0.9, 0.1), "correct"),
        (lambda: select_threshold([0.5], [2], 0.9, 0.1), "correct"),
        (lambda: select_threshold([0.5], ["yes"], 0.9, 0.1), "correct"),
        (lambda: select_threshold([0.5], [True], 1.0, 0.1), "target_accuracy"),
        (lambda: select_threshold([0.5], [True], 0.9, 0.0), "delta"),
        (lambda: select_threshold([0.5], [True], 0.9, 1.0), "delta"),
        (lambda: select_threshold([0.5], [True], 0.9, True), "delta"),
        (lambda: select_threshold([0.5], [True], 0.9, 0.1, grid=[]), "grid"),
        (lambda: select_threshold([0.5], [True], 0.9, 0.1, grid=[0.5, 1.5]), "grid"),
        (lambda: select_threshold([0.5], [True], 0.9, 0.1, grid=[0.5, 0.5]), "grid"),
    ],
)
def test_bad_input_names_the_argument(call: Callable[[], object], argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call()


# --- cross-check against MAPIE's Learn-then-Test controller ------------------------------
#
# BinaryClassificationController on predict_proba = [1 - c, c] with risk "precision" controls
# the accuracy among answers with c >= lambda: exactly our quantity. With
# fwer_method="fixed_sequence" it walks the grid from the highest lambda (it reverses the
# order when the empirical risk falls with lambda, as it does here) and stops at the first
# p-value > delta, like us. Its p-value is min(Hoeffding, Bentkus) with the binary Bentkus
# form binom.cdf(ceil(n * r_hat), n, alpha); the Hoeffding (Chernoff) bound is never below
# the exact binomial tail, so the minimum is our exact p-value, except that MAPIE recovers
# the error count as ceil(n * (1 - correct / n)) in floating point, which is sometimes one
# too many. That rounding can only raise its p-value, so its certified set is contained in
# ours, and every disagreement must be traced to that extra error.


def mapie_controller(grid: NDArray[np.float64], target: float, delta: float) -> object:
    from mapie.risk_control import BinaryClassificationController, precision

    def predict_proba(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack([1.0 - x, x])

    return BinaryClassificationController(
        predict_function=predict_proba,
        risk=precision,
        target_level=target,
        confidence_level=1.0 - delta,
        list_predict_params=grid,
        fwer_method="fixed_sequence",
    )


def run_mapie(
    conf: NDArray[np.float64], correct: NDArray[np.bool_], grid: NDArray[np.float64], delta: float
) -> tuple[float | None, NDArray[np.float64], NDArray[np.float64]]:
    """MAPIE's chosen threshold, its certified thresholds and its p-values (grid order)."""
    controller = mapie_controller(grid, 0.9, delta)
    with warnings.catch_warnings():
        # a warning when the empirical risk wiggles between adjacent lambdas; the
        # direction it then falls back to is still "decreasing", checked below
        warnings.simplefilter("ignore", UserWarning)
        controller.calibrate(conf, correct.astype(int))  # type: ignore[attr-defined]
    return (
        controller.best_predict_param,  # type: ignore[attr-defined]
        np.sort(np.asarray(controller.valid_predict_params, dtype=np.float64)),  # type: ignore[attr-defined]
        np.asarray(controller.p_values, dtype=np.float64)[:, 0],  # type: ignore[attr-defined]
    )


def test_mapie_agrees_exactly_when_its_counts_are_exact() -> None:
    pytest.importorskip("mapie")
    # shown counts are powers of two, so n * (1 - correct / n) is exact in floating point
    conf, correct = hand_built_calibration_set()
    grid = np.array([0.6, 0.7, 0.8, 0.9])
    ours = select_threshold(conf, correct, 0.9, 0.1, grid=grid)
    best, valid, p_mapie = run_mapie(np.array(conf), np.array(correct), grid, 0.1)
    assert best == ours.threshold == 0.7
    assert valid.tolist() == [0.7, 0.8, 0.9]
    assert p_mapie[::-1][: len(ours.p_values)] == pytest.approx(ours.p_values, rel=1e-9)


def test_mapie_certifies_a_subset_of_ours_and_only_differs_by_its_rounding() -> None:
    pytest.importorskip("mapie")
    rng = np.random.default_rng(2026)
    alpha, delta = 0.1, 0.1
    exact_agreements = 0
    for _ in range(30):
        conf, correct = draw(rng, 1500)
        ours = select_threshold(conf, correct, 0.9, delta)
        best, valid, p_mapie = run_mapie(conf, correct, GRID, delta)

        shown = np.array([(conf >= lam).sum() for lam in GRID])
        errors = np.array([(~correct[conf >= lam]).sum() for lam in GRID])
        assert shown.min() > 0  # no empty grid point: MAPIE reports NaN there
        assert np.mean(np.diff(errors / shown)) < 0  # MAPIE tests from the top, as we do
        mapie_errors = np.ceil(shown * (1.0 - (shown - errors) / shown))
        assert set(np.unique(mapie_errors - errors)) <= {0.0, 1.0}
        p_exact = binom.cdf(errors, shown, alpha)
        counts_agree = mapie_errors == errors
        assert p_mapie[counts_agree] == pytest.approx(p_exact[counts_agree], rel=1e-9)
        assert np.all(p_mapie >= p_exact * (1 - 1e-12))
        # our walk: tested points are the grid from the top, same p-values
        tested = len(ours.p_values)
        assert ours.p_values == pytest.approx(p_exact[::-1][:tested], rel=1e-12)

        our_valid = {
            t for t, p in zip(ours.tested_thresholds, ours.p_values, strict=True) if p <= delta
        }
        assert set(valid.tolist()) <= our_valid
        if best == ours.threshold:
            exact_agreements += 1
            continue
        # MAPIE stopped earlier: at its first failure it counted one error too many
        first_fail = GRID[valid.min() > GRID].max() if valid.size else GRID[-1]
        at = int(np.flatnonzero(first_fail == GRID)[0])
        assert mapie_errors[at] == errors[at] + 1
        assert p_exact[at] <= delta < p_mapie[at]
    assert exact_agreements >= 20
