"""The report's JSON form: what the controller stores, rebuilt exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.readiness.heldout import as_eval_set, heldout_rows, make_plan, plan_dict
from trustramp.readiness import EvalSet, ItemStatus, ReadinessReport, evaluate_readiness

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def failing_report() -> ReadinessReport:
    """A report with every optional part exercised: slices, no threshold, None values."""
    data = plan_dict()
    del data["phases"][1]["guardrails"]["confidence"]
    data["phases"][1]["stop"][0]["floor"] = 0.999  # nothing can be certified
    rows = heldout_rows(1500, seed=3, weak_task="tax_lots", weak_penalty=0.3)
    return evaluate_readiness(make_plan(data), as_eval_set(rows), now=NOW)


def test_from_json_of_to_json_is_the_same_report() -> None:
    report = failing_report()
    assert report.slices.top
    assert report.thresholds[1].certified is None
    assert any(b.accuracy is None for b in report.calibration.bins)  # empty bins
    stored = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert ReadinessReport.from_json(stored) == report


def test_a_report_with_nothing_shown_round_trips() -> None:
    report = evaluate_readiness(make_plan(), EvalSet.from_rows([0.3] * 40, [False] * 40), now=NOW)
    assert report.worst_case.error_rate is None
    assert report.slices.attributes == ()
    assert ReadinessReport.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_the_json_carries_the_verdict_for_readers() -> None:
    report = failing_report()
    data = report.to_json()
    assert data["format"] == 1
    assert data["passed"] is False
    assert data["missing"] == list(report.missing)
    assert data["items"][2] == {**data["items"][2], "id": "error_slices", "status": "fail"}
    assert data["created_at"] == "2025-03-01T12:00:00+00:00"
    assert len(data["baseline"]["confidence"]) == 1500
    assert set(data) >= {"feature", "plan_version", "fingerprint", "eval_path", "eval_sha256",
                         "n", "thresholds", "calibration", "slices", "worst_case", "guardrails",
                         "sign_off", "baseline"}


def broken(change: Any) -> dict[str, Any]:
    data = failing_report().to_json()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format=2), r"^report.format: expected 1, got 2$"),
        (lambda d: d["items"][1].update(status="maybe"),
         r"^report.items\[1\].status: expected one of 'pass', 'fail', 'warn', 'info', got"),
        (lambda d: d["worst_case"].pop("amount"), r"^report.worst_case.amount: missing$"),
        (lambda d: d["guardrails"].update(extra=1), r"^report.guardrails.extra: unknown field$"),
        (lambda d: d.update(n="many"), r"^report.n: expected int, got 'many'$"),
        (lambda d: d["items"][0].update(interval=[0.1]),
         r"^report.items\[0\].interval: expected 2 values, got 1$"),
        (lambda d: d.update(created_at="yesterday"),
         r"^report.created_at: expected an ISO 8601 time"),
        (lambda d: d["baseline"].update(correct=[1]),
         r"^report.baseline.correct\[0\]: expected bool, got 1$"),
    ],
)
def test_a_damaged_report_names_the_field(change: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReadinessReport.from_json(broken(change))


def test_items_and_properties() -> None:
    report = failing_report()
    assert report.item("error_slices").status is ItemStatus.FAIL
    with pytest.raises(KeyError):
        report.item("nope")
    assert not report.passed
