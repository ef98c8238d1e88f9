"""Error slices: planted slice recovery, FDR on noise, exact tests, intervals, input errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

from trustramp.stats.slices import ErrorSlice, clopper_pearson, find_error_slices

TASKS = ["table", "text", "code", "chart"]


def _margin(rate: float, runs: int) -> float:
    # A [0, 1] variable with mean `rate` has variance at most rate * (1 - rate).
    return 3.5 * math.sqrt(rate * (1 - rate) / runs)


def _inputs(
    rng: np.random.Generator, n: int, planted: bool
) -> tuple[dict[str, list[object]], np.ndarray, np.ndarray]:
    """Rows with task, length and region; 30% errors in table AND long if planted, else 5%."""
    task = rng.choice(TASKS, n)
    length = np.round(rng.lognormal(5, 1, n))
    region = rng.choice(["eu", "us", "apac"], n)
    long = length >= np.quantile(length, 0.75)
    error_prob = np.where(planted & (task == "table") & long, 0.30, 0.05)
    columns: dict[str, list[object]] = {
        "task": list(task),
        "length": [float(x) for x in length],
        "region": list(region),
    }
    return columns, rng.random(n) >= error_prob, error_prob


def _rows(columns: dict[str, list[object]]) -> list[dict[str, object]]:
    return [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]


def _mask(found: ErrorSlice, columns: dict[str, list[object]]) -> np.ndarray:
    """Rows of the slice, from the conditions' fields (ErrorSlice.matches is tested apart)."""
    inside = np.ones(len(columns["task"]), dtype=bool)
    for condition in found.conditions:
        values = np.array(columns[condition.attribute])
        if condition.low is not None and condition.high is not None:
            upper = values <= condition.high if condition.closed else values < condition.high
            inside &= (values >= condition.low) & upper
        else:
            inside &= values.astype(str) == condition.value
    return inside


def test_recovers_a_planted_slice() -> None:
    rng = np.random.default_rng(42)
    columns, correct, error_prob = _inputs(rng, 4000, planted=True)
    report = find_error_slices(columns, correct)
    top = report.slices[0]
    assert [c.attribute for c in top.conditions] == ["task", "length"]
    assert top.description.startswith("task = table AND length in [")
    planted = error_prob > 0.1
    assert np.array_equal(_mask(top, columns), planted)
    assert [top.matches(row) for row in _rows(columns)] == list(planted)
    assert top.error_interval[0] < 0.30 < top.error_interval[1]
    assert top.rest_error_rate == pytest.approx(0.05, abs=0.015)
    assert top.excess_errors == pytest.approx(top.errors - top.support * top.rest_error_rate)
    assert top.explained_by is None
    # Its parents are discovered too, but explained by the planted slice.
    parents = [
        s for s in report.slices if s.description in ("task = table", str(top.conditions[1]))
    ]
    assert len(parents) == 2
    assert all(s.explained_by == top.description for s in parents)
    # The summary covers the slices standing on their own; the planted slice's 25 extra
    # points are its true share of the errors.
    standing = [s for s in report.slices if s.explained_by is None]
    assert standing[0] is top
    assert top.support <= report.rows_in_slices <= sum(s.support for s in standing)
    true_share = 0.25 * planted.sum() / error_prob.sum()
    assert report.share_explained == pytest.approx(true_share, abs=0.07)
    assert report.verdict == "partly concentrated"
    assert report.errors == int((~correct).sum())
    # Rows as a list of dicts give the same answer as columns.
    same = find_error_slices(_rows(columns), correct)
    assert [s.description for s in same.slices] == [s.description for s in report.slices]


def test_planted_slice_ranks_first_and_false_discovery_share_below_q() -> None:
    rng = np.random.default_rng(8)
    runs, first, shares, share_errors = 60, 0, [], []
    for _ in range(runs):
        columns, correct, error_prob = _inputs(rng, 2000, planted=True)
        report = find_error_slices(columns, correct)
        planted = error_prob > 0.1
        false = 0
        for found in report.slices:
            inside = _mask(found, columns)
            false += error_prob[inside].mean() <= error_prob[~inside].mean()
        shares.append(false / max(1, len(report.slices)))
        share_errors.append(report.share_explained - 0.25 * planted.sum() / error_prob.sum())
        first += bool(report.slices) and np.array_equal(_mask(report.slices[0], columns), planted)
    assert first / runs > 0.8
    # "Share of errors explained" is unbiased for the planted slice's true share (~0.24).
    assert abs(np.mean(share_errors)) < 0.02
    assert np.mean(shares) <= 0.05 + _margin(0.05, runs)


def test_uniform_noise_reports_a_slice_at_most_q_of_the_time() -> None:
    # Under the global null every discovery is false, so FDR = P(any discovery).
    rng = np.random.default_rng(13)
    runs = 300
    reports = [find_error_slices(*_inputs(rng, 1000, planted=False)[:2]) for _ in range(runs)]
    assert np.mean([bool(r.slices) for r in reports]) <= 0.05 + _margin(0.05, runs)
    assert sum(r.verdict == "scattered" for r in reports) >= runs * 0.9
    # Without correction, the best of ~50 slices looks "significant" most of the time.
    assert np.mean([r.tested[0].p_value <= 0.05 for r in reports]) > 0.5


def test_p_values_are_fisher_exact_and_q_values_are_bh() -> None:
    rng = np.random.default_rng(3)
    columns, correct, _ = _inputs(rng, 1500, planted=True)
    report = find_error_slices(columns, correct, min_support=40)
    errors_total = int((~correct).sum())
    for found in report.tested[:: max(1, len(report.tested) // 8)]:
        rest = 1500 - found.support
        rest_errors = errors_total - found.errors
        table = [[found.errors, found.support - found.errors], [rest_errors, rest - rest_errors]]
        expected = stats.fisher_exact(table, alternative="greater").pvalue
        assert found.p_value == pytest.approx(expected, rel=1e-9)
        assert found.rest_error_rate == pytest.approx(rest_errors / rest)
        assert found.support >= 40
    p_values = np.array([s.p_value for s in report.tested])
    q_values = np.array([s.q_value for s in report.tested])
    assert np.allclose(q_values, stats.false_discovery_control(p_values, method="bh"))
    by = find_error_slices(columns, correct, min_support=40, fdr="by")
    assert np.allclose(
        [s.q_value for s in by.tested], stats.false_discovery_control(p_values, method="by")
    )
    assert all(s.q_value <= report.q for s in report.slices)
    assert {s.description for s in report.slices} == {
        s.description for s in report.tested if s.q_value <= report.q
    }


def test_clopper_pearson_covers_at_least_its_level() -> None:
    # Exact coverage: sum the binomial probabilities of the counts whose interval covers p.
    for n in (5, 30, 200):
        k = np.arange(n + 1)
        lower, upper = clopper_pearson(k, np.full(n + 1, n), 0.95)
        for p in np.linspace(0.005, 0.995, 199):
            covered = (lower <= p) & (p <= upper)
            assert stats.binom.pmf(k, n, p)[covered].sum() >= 0.95 - 1e-9
    rng = np.random.default_rng(1)
    columns, correct, _ = _inputs(rng, 800, planted=True)
    for found in find_error_slices(columns, correct).tested:
        assert found.error_interval[0] <= found.error_rate <= found.error_interval[1]


@pytest.mark.parametrize(
    ("successes", "trials", "level", "message"),
    [
        ([3, -1], [10, 10], 0.95, "successes must be finite counts >= 0, got -1 at index 1"),
        ([3, 1], [10, -4], 0.95, "trials must be finite counts >= 0, got -4 at index 1"),
        ([3.0, math.nan], [10, 10], 0.95, "successes must be finite counts >= 0, got nan"),
        ([3, 1], [10, math.inf], 0.95, "trials must be finite counts >= 0, got inf"),
        ([3, 11], [10, 10], 0.95, "successes must be <= trials, got 11 successes of 10"),
        ([3], [10], 1.0, "level must be in (0, 1), got 1.0"),
        ([3], [10], math.nan, "level must be in (0, 1), got nan"),
        (["3"], [10], 0.95, "successes must be numeric counts"),
    ],
)
def test_clopper_pearson_refuses_counts_it_would_turn_into_nan(
    successes: list[object], trials: list[object], level: float, message: str,
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        clopper_pearson(np.array(successes), np.array(trials), level)


def test_clopper_pearson_accepts_the_edges() -> None:
    lower, upper = clopper_pearson(np.array([0, 10, 0]), np.array([10, 10, 0]), 0.95)
    assert lower[0] == 0.0
    assert upper[1] == 1.0
    assert (lower[2], upper[2]) == (0.0, 1.0)  # no trials: the whole interval
    assert not np.isnan(upper[:2]).any()
    assert not np.isnan(lower[:2]).any()


def test_missing_values_are_their_own_slice() -> None:
    rng = np.random.default_rng(4)
    n = 1200
    index = np.arange(n)
    # None, NaN and an absent key are all "<missing>"; missing locales err 25% vs 4%.
    missing = (index % 5 == 0) | (index % 7 == 0)
    wrong = rng.random(n) < np.where(missing, 0.25, 0.04)
    rows: list[dict[str, object]] = []
    for i in range(n):
        row: dict[str, object] = {"task": TASKS[i % 4]}
        if i % 5 == 0:
            row["locale"] = None if i % 2 else float("nan")
        elif i % 7 != 0:
            row["locale"] = "en" if i % 3 else "de"
        rows.append(row)
    report = find_error_slices(rows, ~wrong, max_attributes=1)
    top = report.slices[0]
    assert top.description == "locale = <missing>"
    assert top.support == int(missing.sum())
    assert [top.matches(row) for row in rows] == list(missing)
    assert report.verdict == "concentrated"


def test_numeric_binning_and_small_integer_categories() -> None:
    rng = np.random.default_rng(6)
    n = 600
    columns: dict[str, list[object]] = {
        "length": [float(x) for x in rng.uniform(0, 1000, n)],
        "tables": [int(x) for x in rng.integers(0, 3, n)],
    }
    report = find_error_slices(columns, rng.random(n) > 0.05, numeric_bins=3, min_support=1)
    singles = {s.description for s in report.tested if len(s.conditions) == 1}
    assert {"tables = 0", "tables = 1", "tables = 2"} <= singles
    length_bins = sorted(
        (
            s
            for s in report.tested
            if s.description.startswith("length in") and " AND " not in s.description
        ),
        key=lambda s: s.conditions[0].low or 0.0,
    )
    assert len(length_bins) == 3
    assert length_bins[0].description.endswith(")")
    assert length_bins[-1].description.endswith("]")
    assert sum(s.support for s in length_bins) == n
    only_singles = find_error_slices(columns, rng.random(n) > 0.05, max_attributes=1)
    assert all(len(s.conditions) == 1 for s in only_singles.tested)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"rows": {"a": [1, 2]}, "correct": [True]}, "rows\\['a'\\]"),
        ({"rows": [{"a": 1}], "correct": [True, False]}, "rows"),
        ({"rows": [{"a": 1}, 3], "correct": [True, False]}, "rows\\[1\\]"),
        ({"rows": {}, "correct": [True]}, "rows"),
        ({"rows": [], "correct": []}, "correct"),
        ({"rows": [{"a": 1}], "correct": [2]}, "correct\\[0\\]"),
        ({"rows": [{"a": 1}], "correct": [True], "min_support": 0}, "min_support"),
        ({"rows": [{"a": 1}], "correct": [True], "q": 0.0}, "q = "),
        ({"rows": [{"a": 1}], "correct": [True], "q": 1.5}, "q = "),
        ({"rows": [{"a": 1}], "correct": [True], "level": 1.0}, "level"),
        ({"rows": [{"a": 1}], "correct": [True], "numeric_bins": 1}, "numeric_bins"),
        ({"rows": [{"a": 1}], "correct": [True], "max_attributes": 3}, "max_attributes"),
        ({"rows": [{"a": 1}], "correct": [True], "fdr": "holm"}, "fdr"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], names: str) -> None:
    with pytest.raises(ValueError, match=names):
        find_error_slices(**kwargs)  # type: ignore[arg-type]
