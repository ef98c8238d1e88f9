"""Lint on generated plans: it never fails, and its findings are consistent with RULES."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trustramp.plan import RULES, Plan, lint
from trustramp.plan.audience import estimate_audience

SEGMENTS = ["a", "b", "staff"]

segment = st.fixed_dictionaries(
    {"condition": st.sampled_from([{}, {"x": 1}, {"tier": {"$in": ["pro"]}}]),
     "external": st.booleans()},
    optional={"share": st.floats(0.001, 1.0), "users": st.lists(st.sampled_from("uvw"),
                                                                 max_size=3),
              "why_forgiving": st.just("because")},
)

criterion = st.fixed_dictionaries(
    {"metric": st.sampled_from(["accuracy", "error_rate", "critical_errors"]),
     "op": st.sampled_from([">=", "<="]), "target": st.floats(0, 1)},
    optional={"min_samples": st.integers(1, 500), "min_duration": st.just("7d")},
)
stop = st.fixed_dictionaries(
    {"metric": st.sampled_from(["accuracy", "error_rate"]), "floor": st.floats(0, 1),
     "action": st.sampled_from(["warn", "pause", "kill"])},
    optional={"min_samples": st.integers(1, 500), "window": st.just("7d")},
)
guardrails = st.fixed_dictionaries(
    {},
    optional={"confidence": st.builds(lambda t: {"threshold": t}, st.floats(0, 1)),
              "review": st.builds(lambda r: {"rate": r}, st.sampled_from([0.0, 0.05, 1.0])),
              "label": st.sampled_from(["ai", "verfy", "Some literal text"])},
)
audience = st.fixed_dictionaries(
    {"segments": st.lists(st.sampled_from(SEGMENTS), unique=True, max_size=2),
     "percent": st.sampled_from([0, 0.5, 5, 20, 50, 100])},
    optional={"max_users": st.integers(1, 5000)},
)


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 5))
    phases = [
        {"name": f"p{i}", "audience": draw(audience), "guardrails": draw(guardrails),
         "success": draw(st.lists(criterion, max_size=2)), "stop": draw(st.lists(stop, max_size=2))}
        for i in range(count)
    ]
    feature: dict[str, Any] = {"key": "f", "stakes": draw(st.sampled_from(["low", "high"])),
                               "fallback": "x", "labels": {"ai": "AI"}}
    if draw(st.booleans()):
        feature["population"] = draw(st.integers(1, 100000))
    exclusions = [{"name": "vip", "condition": {"vip": True}, "high_visibility": True,
                   "until_phase": draw(st.sampled_from([p["name"] for p in phases]))}]
    return {"feature": feature, "segments": {n: draw(segment) for n in SEGMENTS},
            "phases": phases, "exclusions": exclusions}


@settings(max_examples=150, deadline=None)
@given(plans())
def test_lint_findings_are_well_formed(data: dict[str, Any]) -> None:
    plan = Plan.model_validate(data)
    for finding in lint(plan):
        rule = RULES[finding.rule]
        assert finding.severity == rule.severity
        assert finding.why == rule.why
        assert finding.message
    for phase in plan.phases:
        estimate = estimate_audience(plan, phase)
        assert estimate.fraction is None or 0.0 <= estimate.fraction <= 1.0
        assert estimate.users is None or estimate.users >= 0.0


@settings(max_examples=150, deadline=None)
@given(plans())
def test_first_phase_over_five_percent_is_always_an_error(data: dict[str, Any]) -> None:
    plan = Plan.model_validate(data)
    fraction = estimate_audience(plan, plan.phases[0]).fraction
    rules = {finding.rule for finding in lint(plan)}
    assert ("TR001" in rules) == (fraction is not None and fraction > 0.05 * (1 + 1e-9))
    assert ("TR016" in rules) or fraction is not None
