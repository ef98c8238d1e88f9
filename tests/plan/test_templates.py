"""Scenario templates: each loads, lints clean, and encodes its scenario as the seed says."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from trustramp.plan import (
    Plan,
    Scenario,
    lint,
    parse_plan_document,
    template_text,
    write_template,
)
from trustramp.plan.schema import Comparison, Metric, Stakes, WhilePending
from trustramp.targeting import compile_condition


def load(scenario: Scenario) -> Plan:
    document = parse_plan_document(template_text(scenario), f"{scenario.value}.yaml")
    assert lint(document.plan, positions=document.positions) == []
    return document.plan


@pytest.mark.parametrize("scenario", list(Scenario))
def test_every_template_loads_and_lints_clean(scenario: Scenario) -> None:
    plan = load(scenario)
    assert template_text(scenario).startswith("# trustramp plan:")  # commented for people
    assert plan.readiness is not None


def test_summarization_is_low_stakes_power_users_who_asked() -> None:
    plan = load(Scenario.SUMMARIZATION)
    first = plan.phases[0]
    assert plan.feature.stakes is Stakes.LOW
    [segment] = first.audience.segments
    assert plan.segments[segment].condition == {"power_user": True, "requested_early_access": True}
    assert first.audience.percent == 5
    assert first.guardrails.confidence is not None
    assert first.guardrails.confidence.threshold == 0.80
    [success] = first.success
    assert (success.metric, success.op, success.target) == (
        Metric.THUMBS_UP_RATE, Comparison.GE, 0.90
    )
    assert success.min_duration == timedelta(weeks=2)


def test_financial_advisor_is_staff_first_then_small_portfolios() -> None:
    plan = load(Scenario.FINANCIAL_ADVISOR)
    assert plan.feature.stakes is Stakes.HIGH
    first = plan.phases[0]
    assert all(not plan.segments[name].external for name in first.audience.segments)
    assert first.guardrails.review is not None
    assert first.guardrails.review.rate == 1.0
    for phase in plan.phases:
        assert phase.guardrails.confidence is not None
        assert phase.guardrails.confidence.threshold >= 0.95
        assert phase.guardrails.rate_limit is not None
        label = plan.label_text(phase.guardrails.label)
        assert label is not None
        assert label.startswith("Educational only")
    assert plan.readiness is not None
    assert {"legal", "compliance"} <= set(plan.readiness.sign_off)
    external = [
        plan.segments[name] for phase in plan.phases[1:] for name in phase.audience.segments
    ]
    assert external
    for segment in external:
        test = compile_condition(segment.condition)
        assert test({"portfolio_value": 4999})
        assert not test({"portfolio_value": 5000})


def test_code_generation_is_ten_percent_of_experienced_beta_users() -> None:
    plan = load(Scenario.CODE_GENERATION)
    assert plan.feature.stakes is Stakes.MEDIUM
    first = plan.phases[0]
    [segment] = first.audience.segments
    test = compile_condition(plan.segments[segment].condition)
    assert test({"beta_opt_in": True, "coding_experience": "expert"})
    assert not test({"beta_opt_in": True, "coding_experience": "none"})
    assert not test({"beta_opt_in": False, "coding_experience": "expert"})
    assert first.audience.percent == 10
    assert first.guardrails.confidence is not None
    assert first.guardrails.confidence.threshold == 0.85
    review = first.guardrails.review
    assert review is not None
    assert review.rate == 1.0
    assert review.while_pending is WhilePending.HOLD
    label = plan.label_text(first.guardrails.label)
    assert label is not None
    assert "generated - verify thoroughly" in label
    critical = [s for s in first.success if s.metric is Metric.CRITICAL_ERROR_RATE]
    assert [(s.op, s.target, s.min_duration) for s in critical] == [
        (Comparison.LT, 0.05, timedelta(weeks=4))
    ]


def test_write_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("mine\n")
    with pytest.raises(FileExistsError):
        write_template(Scenario.SUMMARIZATION, path)
    assert path.read_text() == "mine\n"
    write_template(Scenario.SUMMARIZATION, path, force=True)
    assert path.read_text() == template_text(Scenario.SUMMARIZATION)


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of summarization, financial-advisor"):
        template_text("chatbot")
