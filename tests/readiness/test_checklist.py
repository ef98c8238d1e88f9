"""Each checklist item passing, and failing (or warning) on a near miss."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from scipy.stats import beta

from tests.readiness.heldout import as_eval_set, heldout_rows, make_plan, plan_dict
from trustramp.decide import plan_version
from trustramp.readiness import (
    EvalSet,
    ItemStatus,
    ReadinessReport,
    checklist_fingerprint,
    enabled_guardrails,
    evaluate_readiness,
)
from trustramp.readiness.checklist import baseline
from trustramp.stats import clopper_pearson, select_threshold

ROWS = heldout_rows(2000, seed=7)
GOOD = as_eval_set(ROWS)
# Accuracy rising steeply with confidence: thresholds are certified mid-grid.
SPREAD = as_eval_set(heldout_rows(3000, seed=8, a=6.0, sharpness=1.5))
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def evaluate(data: dict[str, Any] | None = None, eval_set: EvalSet = GOOD,
             **options: Any) -> ReadinessReport:
    return evaluate_readiness(make_plan(data), eval_set, now=NOW, **options)


def test_a_good_model_on_a_good_plan_passes_every_item() -> None:
    report = evaluate()
    statuses = {item.id: item.status for item in report.items}
    assert statuses == {
        "heldout_accuracy": ItemStatus.PASS, "input_patterns": ItemStatus.PASS,
        "error_slices": ItemStatus.PASS, "worst_case": ItemStatus.PASS,
        "guardrails": ItemStatus.PASS,
        "thresholds": ItemStatus.PASS, "calibration": ItemStatus.INFO, "sign_off": ItemStatus.INFO,
    }
    assert report.passed
    assert report.missing == ()
    assert report.feature == "advice"
    assert report.n == 2000
    assert report.plan_version == plan_version(make_plan())
    assert report.fingerprint == checklist_fingerprint(make_plan())
    assert report.created_at == NOW


def test_a_plan_without_readiness_is_a_clear_error() -> None:
    data = plan_dict()
    del data["readiness"]
    with pytest.raises(ValueError, match="no readiness section; add one"):
        evaluate(data)


@pytest.mark.parametrize(("name", "value"), [("delta", 0.0), ("delta", 1.5), ("level", 1.0)])
def test_out_of_range_options_are_refused(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"^{name}: expected a number strictly between 0 and 1"):
        evaluate(**{name: value})


# -- input patterns -------------------------------------------------------------------------


def with_patterns(count: int, n: int = 600) -> EvalSet:
    return EvalSet.from_rows([0.99] * n, [True] * n, patterns=[f"p{i % count}" for i in range(n)])


def test_patterns_pass_at_the_required_count_and_fail_one_below() -> None:
    at, below = evaluate(eval_set=with_patterns(30)), evaluate(eval_set=with_patterns(29))
    assert at.item("input_patterns").status is ItemStatus.PASS
    item = below.item("input_patterns")
    assert item.status is ItemStatus.FAIL
    assert (item.estimate, item.target) == (29, 30)
    assert item.summary == ("29 input patterns (named in the pattern column) of the 30 required: "
                            "add held-out answers for at least 1 more kinds of input.")
    assert item.summary in below.missing


def test_without_a_pattern_column_combinations_of_attributes_count() -> None:
    rows = [{"task": f"t{i % 6}", "risk": f"r{i % 5}"} for i in range(600)]  # 30 combinations
    s = EvalSet.from_rows([0.99] * 600, [True] * 600, attributes=rows)
    item = evaluate(eval_set=s).item("input_patterns")
    assert (item.status, item.estimate) == (ItemStatus.PASS, 30)
    assert "distinct combinations of the input attributes" in item.summary
    bare = evaluate(eval_set=EvalSet.from_rows([0.99] * 600, [True] * 600)).item("input_patterns")
    assert bare.status is ItemStatus.FAIL
    assert "add a pattern column" in bare.summary


# -- error slices ---------------------------------------------------------------------------


def planted(errors: int, support: int = 200, n: int = 2000) -> EvalSet:
    """``errors`` wrong answers among the ``support`` rows of task 'tax', none elsewhere."""
    correct = [i >= errors for i in range(support)] + [True] * (n - support)
    tasks = ["tax"] * support + ["other"] * (n - support)
    return EvalSet.from_rows([0.99] * n, correct, attributes=[{"task": t} for t in tasks])


def test_a_slice_certainly_above_the_bar_fails_and_one_just_inside_warns() -> None:
    bar = 0.10  # 1 - min_accuracy
    # the fewest errors among 200 whose two-sided 95% interval starts above the bar
    k = next(k for k in range(201)
             if clopper_pearson(np.array([k]), np.array([200]), 0.95)[0][0] > bar)
    failing = evaluate(eval_set=planted(k)).item("error_slices")
    warning = evaluate(eval_set=planted(k - 1)).item("error_slices")
    assert failing.status is ItemStatus.FAIL
    assert warning.status is ItemStatus.WARN
    assert failing.bound is not None
    assert failing.bound > bar
    assert warning.bound is not None
    assert warning.bound <= bar
    assert failing.summary.startswith("1 of 1 discovered slices err certainly more than the "
                                      "10.0% the bar allows, worst task = tax: ")
    assert f"{k} of 200 wrong" in failing.summary
    assert warning.summary.startswith("1 slices err more than the rest, none certainly above")


def test_scattered_errors_pass_and_the_report_lists_the_slices() -> None:
    report = evaluate()
    assert report.item("error_slices").status is ItemStatus.PASS
    assert report.slices.attributes == ("task", "risk", "portfolio_value", "pattern")
    assert report.slices.discovered == 0
    assert report.slices.tested > 20
    weak = as_eval_set(heldout_rows(2000, seed=7, weak_task="tax_lots", weak_penalty=0.3))
    found = evaluate(eval_set=weak)
    assert found.item("error_slices").status is ItemStatus.FAIL
    top = found.slices.top[0]
    assert "task = tax_lots" in top.description
    assert top.error_interval[0] > 0.10
    assert top.support >= 30


def test_nothing_to_slice_on_is_information() -> None:
    item = evaluate(eval_set=EvalSet.from_rows([0.99] * 600, [True] * 600)).item("error_slices")
    assert item.status is ItemStatus.INFO


# -- worst case -----------------------------------------------------------------------------


def test_worst_case_counts_the_answers_the_first_phase_would_show() -> None:
    report = evaluate()
    w = report.worst_case
    shown = GOOD.confidence >= 0.95
    errors = int((~GOOD.correct[shown]).sum())
    upper = beta.ppf(0.95, errors + 1, int(shown.sum()) - errors)
    assert (w.phase, w.threshold, w.n_shown, w.errors) == ("pilot", 0.95, int(shown.sum()),
                                                           errors)
    assert w.upper_bound == pytest.approx(upper)
    assert w.cost_per_1000 == pytest.approx(2000 * upper * 1000)
    item = report.item("worst_case")
    assert item.status is ItemStatus.PASS
    assert '"A user acts on a wrong allocation." costs up to 2,000 USD' in item.summary
    assert f"expected cost per 1,000 shown answers <= 2,000 x {upper:.4g} x 1,000" in item.summary


def test_worst_case_without_a_threshold_or_with_nothing_shown() -> None:
    data = plan_dict()
    del data["phases"][0]["guardrails"]["confidence"]
    w = evaluate(data).worst_case
    assert (w.threshold, w.n_shown) == (None, 2000)
    nothing = evaluate(eval_set=EvalSet.from_rows([0.5] * 600, [True] * 600)).worst_case
    assert (nothing.n_shown, nothing.error_rate, nothing.upper_bound) == (0, None, 1.0)


# -- guardrails -----------------------------------------------------------------------------


def test_guardrails_fail_naming_exactly_what_is_missing() -> None:
    data = plan_dict()
    del data["phases"][0]["guardrails"]["rate_limit"]
    report = evaluate(data)
    item = report.item("guardrails")
    assert item.status is ItemStatus.FAIL
    assert report.guardrails.missing == ("rate_limit",)
    assert item.summary.endswith(": missing rate_limit.")
    assert (item.estimate, item.target) == (5, 5)


def test_guardrails_count_near_miss() -> None:
    data = plan_dict()
    del data["phases"][0]["task_filter"]
    data["readiness"]["required_guardrails"] = {"min_count": 5, "must_include": []}
    item = evaluate(data).item("guardrails")
    assert item.status is ItemStatus.PASS  # 5 of 5
    del data["phases"][0]["guardrails"]["label"]
    item = evaluate(data).item("guardrails")
    assert item.status is ItemStatus.FAIL
    assert item.summary.endswith(": 1 more kind among task_filter, label.")


def test_what_counts_as_a_guardrail() -> None:
    data = plan_dict()
    pilot = data["phases"][0]
    pilot["guardrails"]["review"]["rate"] = 0.0
    pilot["guardrails"]["confidence"]["threshold"] = 0.0
    pilot["task_filter"] = {}
    assert [g.value for g in enabled_guardrails(make_plan(data).phases[0])] == [
        "targeting", "rate_limit", "label"]
    assert [g.value for g in enabled_guardrails(make_plan().phases[1])] == ["confidence",
                                                                            "label"]


# -- thresholds -----------------------------------------------------------------------------


def certified(target: float, delta: float = 0.10) -> float:
    selection = select_threshold(SPREAD.confidence, SPREAD.correct, target, delta)
    assert selection.threshold is not None
    return selection.threshold


def test_thresholds_warn_when_a_phase_is_below_the_certified_one() -> None:
    wide = certified(0.85)  # the 'wide' phase's target is its accuracy stop floor
    data = plan_dict()
    data["phases"][1]["guardrails"]["confidence"]["threshold"] = wide
    report = evaluate(data, SPREAD)
    assert report.item("thresholds").status is ItemStatus.PASS
    row = report.thresholds[1]
    assert (row.phase, row.target, row.target_from, row.certified) == ("wide", 0.85, "stop",
                                                                        wide)
    assert row.ok
    lower = round(wide - 0.01, 2)
    data["phases"][1]["guardrails"]["confidence"]["threshold"] = lower
    report = evaluate(data, SPREAD)
    item = report.item("thresholds")
    assert item.status is ItemStatus.WARN
    assert not report.thresholds[1].ok
    assert report.thresholds[0].ok
    assert item.summary.startswith(f"phase 'wide': the plan's threshold {lower:g} is below the "
                                   f"{wide:g} certified for accuracy >= 0.85 at delta 0.1")
    assert item.summary not in report.missing  # a warning does not block


def test_thresholds_numbers_at_the_plan_threshold() -> None:
    row = evaluate().thresholds[0]
    shown = GOOD.confidence >= 0.95
    assert row.target_from == "success"
    assert row.target == 0.9
    assert row.plan_n_shown == int(shown.sum())
    assert row.plan_coverage == pytest.approx(shown.mean())
    assert row.plan_accuracy == pytest.approx(GOOD.correct[shown].mean())
    assert row.certified_coverage == pytest.approx((GOOD.confidence >= row.certified).mean())


def test_no_threshold_or_nothing_certifiable_warns() -> None:
    data = plan_dict()
    del data["phases"][1]["guardrails"]["confidence"]
    data["phases"][1]["stop"][0]["floor"] = 0.999
    report = evaluate(data)
    row = report.thresholds[1]
    assert row.certified is None
    assert row.plan_threshold is None
    assert not row.ok
    assert row.reason is not None
    assert "not even the highest grid threshold" in row.reason
    del data["phases"][1]["stop"][0]
    data["phases"][1]["stop"] = [{"metric": "error_rate", "floor": 0.2, "action": "pause",
                                  "min_samples": 50}]
    row = evaluate(data).thresholds[1]
    assert (row.target, row.target_from) == (0.9, "readiness")
    assert row.note.startswith("no confidence threshold, where ")


# -- calibration, sign-off, baseline ---------------------------------------------------------


def test_calibration_is_information_with_its_table() -> None:
    report = evaluate()
    item = report.item("calibration")
    assert item.status is ItemStatus.INFO
    assert len(report.calibration.bins) == 10
    assert sum(b.count for b in report.calibration.bins) == 2000
    assert item.summary.startswith(f"ECE {report.calibration.ece:.3f}, Brier ")


def test_sign_off_lists_the_roles() -> None:
    report = evaluate()
    assert report.sign_off == ("product", "legal")
    assert report.item("sign_off").summary.startswith("to be signed by product and legal")


def test_baseline_keeps_everything_up_to_its_size_then_an_even_subsample() -> None:
    b = evaluate().baseline
    assert b.confidence == tuple(GOOD.confidence.tolist())
    assert b.total == 2000
    big = EvalSet.from_rows(list(np.linspace(0, 1, 25_001)), [True] * 25_001)
    kept = baseline(big)
    assert len(kept.confidence) == 10_000
    assert kept.total == 25_001
    assert kept.confidence[0] == 0.0
    assert kept.confidence[-1] == 1.0
    assert np.allclose(np.diff(kept.confidence), 1 / 9_999, atol=1e-4)
    assert baseline(big) == kept
