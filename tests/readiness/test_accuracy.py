"""The held-out accuracy item: its rule, its near misses, and the promise it keeps.

The promise (README, "Readiness"): a model whose true accuracy is below
``min_accuracy`` passes in at most 1 - level of held-out sets. A point-estimate rule
("accuracy >= the bar") passes such a model far more often.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta, binom

from trustramp.plan.schema import HeldOutSet
from trustramp.readiness import ItemStatus
from trustramp.readiness.accuracy import (
    accuracy_item,
    accuracy_passes,
    examples_needed,
    lower_bound,
)

BAR = HeldOutSet(path="h.jsonl", min_accuracy=0.90, min_examples=200)


def flags(right: int, n: int) -> np.ndarray:
    return np.array([True] * right + [False] * (n - right))


def smallest_passing(n: int, bar: float, level: float = 0.95) -> int:
    """The fewest right answers out of n whose exact lower bound reaches the bar (scipy)."""
    return next(k for k in range(n + 1) if beta.ppf(1 - level, k, n - k + 1) >= bar)


def test_the_lower_bound_is_the_exact_one_sided_clopper_pearson_bound() -> None:
    for right, n in ((180, 200), (0, 10), (10, 10), (950, 1000)):
        expected = 0.0 if right == 0 else beta.ppf(0.05, right, n - right + 1)
        assert lower_bound(right, n, 0.95) == pytest.approx(expected, abs=1e-12)


def test_passes_at_the_smallest_count_whose_bound_clears_the_bar_and_not_one_below() -> None:
    k = smallest_passing(1000, 0.90)
    bar = HeldOutSet(path="h", min_accuracy=0.90, min_examples=1000)
    passing, failing = accuracy_item(flags(k, 1000), bar, 0.95), accuracy_item(
        flags(k - 1, 1000), bar, 0.95)
    assert passing.status is ItemStatus.PASS
    assert failing.status is ItemStatus.FAIL
    assert failing.estimate == (k - 1) / 1000 > 0.90  # the point estimate would have passed
    assert failing.bound is not None
    assert failing.bound < 0.90 <= (passing.bound or 0)
    assert "lower bound is below the required 0.9" in failing.summary
    assert "label about" in failing.summary  # the estimate is above the bar: more data helps


def test_too_few_examples_fail_even_when_every_answer_is_right() -> None:
    bar = HeldOutSet(path="h", min_accuracy=0.90, min_examples=1000)
    short, enough = accuracy_item(flags(999, 999), bar, 0.95), accuracy_item(
        flags(1000, 1000), bar, 0.95)
    assert (short.status, enough.status) == (ItemStatus.FAIL, ItemStatus.PASS)
    assert "only 999 of the 1,000 examples required" in short.summary
    assert "label at least 1 more held-out answers" in short.summary


def test_an_estimate_at_or_below_the_bar_asks_for_a_better_model() -> None:
    item = accuracy_item(flags(180, 200), BAR, 0.95)
    assert item.status is ItemStatus.FAIL
    assert "more examples will not lift the bound" in item.summary
    assert "improve the model" in item.summary


def test_the_item_carries_its_numbers() -> None:
    item = accuracy_item(flags(190, 200), BAR, 0.95)
    assert item.id == "heldout_accuracy"
    assert (item.estimate, item.n, item.target) == (0.95, 200, 0.90)
    low, high = item.interval or (0, 0)
    assert low == pytest.approx(beta.ppf(0.025, 190, 11))
    assert high == pytest.approx(beta.ppf(0.975, 191, 10))
    assert "accuracy 0.950 [" in item.summary
    assert "on 200 held-out answers" in item.summary


def test_examples_needed_is_where_the_bound_first_clears() -> None:
    needed = examples_needed(0.95, 0.90, 0.95)
    assert needed is not None
    clears = [n for n in range(1, 400) if lower_bound(int(0.95 * n + 1e-9), n, 0.95) >= 0.90]
    assert needed == clears[0]
    assert examples_needed(0.90, 0.90, 0.95) is None
    assert examples_needed(0.900001, 0.90, 0.95) is None  # beyond ten million


@pytest.mark.parametrize("n", [200, 500, 1000])
@pytest.mark.parametrize("accuracy", [0.89, 0.899, 0.90])
def test_exact_pass_probability_below_the_bar_is_at_most_one_minus_level(
    n: int, accuracy: float
) -> None:
    # Every possible held-out count, weighted by its binomial probability: exact, no noise.
    bar = HeldOutSet(path="h", min_accuracy=0.90, min_examples=n)
    counts = np.arange(n + 1)
    passing = np.array([accuracy_passes(int(k), n, bar, 0.95) for k in counts])
    ours = float(binom.pmf(counts, n, accuracy)[passing].sum())
    point_estimate = float(binom.sf(np.ceil(0.90 * n) - 1, n, accuracy))
    assert ours <= 0.05
    # The control: "the estimate clears the bar" passes 17% to 56% of these models.
    assert point_estimate > 0.15
    assert point_estimate > 3 * ours


def simulate(accuracy: float, runs: int, seed: int) -> tuple[float, float]:
    """Share of simulated held-out sets the item passes, and the point-estimate rule does."""
    rng = np.random.default_rng(seed)
    ours = estimate = 0
    for _ in range(runs):
        correct = rng.random(BAR.min_examples) < accuracy
        ours += accuracy_item(correct, BAR, 0.95).status is ItemStatus.PASS
        estimate += correct.mean() >= BAR.min_accuracy
    return ours / runs, estimate / runs


@pytest.mark.slow
@pytest.mark.parametrize(("accuracy", "seed"), [(0.89, 11), (0.90, 12)])
def test_simulated_models_just_below_the_bar_rarely_pass(accuracy: float, seed: int) -> None:
    runs = 1500
    margin = 3 * np.sqrt(0.05 * 0.95 / runs)  # Monte-Carlo noise of a rate of 0.05
    ours, estimate = simulate(accuracy, runs, seed)
    assert ours <= 0.05 + margin
    # The control: at 200 examples "the estimate clears the bar" passes 38% (0.89) and
    # 56% (0.90) of these models.
    assert estimate > 0.30
    assert estimate > 5 * ours
