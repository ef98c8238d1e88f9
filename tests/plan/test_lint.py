"""Each lint rule: a plan that trips it (positive) and a near miss that does not (negative)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.plan.plans import clean_plan
from trustramp.plan import RULES, Finding, Plan, has_errors, lint, parse_plan_document

Edit = Callable[[dict[str, Any]], None]


def findings(edit: Edit | None = None) -> list[Finding]:
    data = clean_plan()
    if edit is not None:
        edit(data)
    return lint(Plan.model_validate(data))


def rules(edit: Edit | None = None) -> list[str]:
    return [finding.rule for finding in findings(edit)]


def test_the_clean_plan_has_no_findings() -> None:
    assert findings() == []


def _set(path: str, value: Any) -> Edit:
    """An edit setting a dotted path ('phases.0.audience.percent') in the plan dict."""
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            del node[last]
        else:
            node[last] = value
    return edit


def _all(*edits: Edit) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        for one in edits:
            one(data)
    return edit


def _high_stakes_staff_first(data: dict[str, Any]) -> None:
    data["feature"]["stakes"] = "high"
    data["segments"]["beta"]["external"] = False
    data["phases"][0]["guardrails"]["review"] = {"rate": 1.0}
    data["phases"][1]["guardrails"]["review"] = {"rate": 0.5}


HIGH_VISIBILITY = {"name": "press", "condition": {"press": True}, "high_visibility": True}

# (rule, edit that trips it, near-miss edit that must not)
CASES: list[tuple[str, Edit, Edit]] = [
    # first phase: 10% of a 10% segment is 1%; 60% of it is 6% > 5%, 50% is exactly 5%
    ("TR001", _all(_set("phases.0.audience.percent", 60), _set("phases.1.audience.percent", 100)),
     _all(_set("phases.0.audience.percent", 50), _set("phases.1.audience.percent", 100))),
    ("TR002", _set("phases.0.audience.segments", []),
     _set("segments.beta.condition", {"tier": "pro"})),
    ("TR002", _set("segments.beta.condition", {}),  # a segment that matches everyone
     _all(_set("segments.beta.condition", {}), _set("segments.beta.users", ["u1", "u2"]))),
    # nested (same segment, higher percent): 1% -> 5% is 5x (allowed), 1% -> 5.1% is 5.1x
    ("TR003", _set("phases.1.audience.percent", 51), _set("phases.1.audience.percent", 50)),
    # not nested (20% of everyone need not contain 50% of beta): 5% kept + 20% is at most
    # 5x; 5% kept + 21% is 5.2x
    ("TR003", _set("phases.2.audience.percent", 21), _set("phases.2.audience.percent", 20)),
    ("TR003", _set("phases.0.audience.percent", 0), _set("phases.0.audience.percent", 10)),
    ("TR004", _set("phases.2.guardrails.confidence", None),
     _set("phases.2.guardrails.confidence", {"threshold": 0.5})),
    ("TR005", _all(_high_stakes_staff_first, _set("phases.0.guardrails.review", {"rate": 0.99})),
     _high_stakes_staff_first),
    ("TR005", _all(_high_stakes_staff_first, _set("phases.0.guardrails.review", None)),
     _high_stakes_staff_first),
    ("TR006", _all(_high_stakes_staff_first, _set("segments.beta.external", True)),
     _high_stakes_staff_first),
    ("TR007", _set("phases.3.stop", []), _set("phases.3.success", [])),
    ("TR008", _all(_set("phases.0.success.0.min_samples", None),
                   _set("phases.0.success.0.min_duration", None)),
     _set("phases.0.success.0.min_samples", 1)),
    ("TR008", _set("phases.0.stop.0.min_samples", None),
     _all(_set("phases.0.stop.0.min_samples", None), _set("phases.0.stop.0.window", "7d"))),
    ("TR009", _set("phases.0.success.0.min_duration", None),
     _set("phases.0.success.0.min_duration", "1d")),
    # review 1.0 -> 0 while the threshold falls to the plan's lowest (0.8): both nets at once
    ("TR010", _all(_set("phases.0.guardrails.review", {"rate": 1.0}),
                   _set("phases.1.guardrails.confidence.threshold", 0.8)),
     _all(_set("phases.0.guardrails.review", {"rate": 1.0}),
          _set("phases.1.guardrails.confidence.threshold", 0.85),
          _set("phases.3.guardrails.confidence.threshold", 0.8))),
    ("TR010", _all(_set("phases.0.guardrails.review", {"rate": 0.05}),
                   _set("phases.1.guardrails.confidence", None)),
     _all(_set("phases.0.guardrails.review", {"rate": 0.05}),
          _set("phases.1.guardrails.review", {"rate": 0.01}),
          _set("phases.1.guardrails.confidence.threshold", 0.5))),
    ("TR011", _set("exclusions", [{**HIGH_VISIBILITY, "until_phase": "general"}]),
     _set("exclusions", [{**HIGH_VISIBILITY, "until_phase": "full"}])),
    ("TR011", _set("exclusions", [{**HIGH_VISIBILITY, "until_phase": "pilot"}]),
     _set("exclusions", [{**HIGH_VISIBILITY, "high_visibility": False, "until_phase": "pilot"}])),
    ("TR012", _set("segments.beta.why_forgiving", None),
     _all(_set("segments.other", {"condition": {"x": 1}, "share": 0.1}))),
    ("TR013", _set("phases.0.stop.0.floor", 0.95), _set("phases.0.stop.0.floor", 0.9)),
    ("TR013", _all(_set("phases.0.success.0", {"metric": "error_rate", "op": "<=", "target": 0.1,
                                               "min_samples": 100, "min_duration": "7d"}),
                   _set("phases.0.stop.0", {"metric": "error_rate", "floor": 0.05,
                                            "action": "pause", "min_samples": 50})),
     _all(_set("phases.0.success.0", {"metric": "error_rate", "op": "<=", "target": 0.1,
                                      "min_samples": 100, "min_duration": "7d"}),
          _set("phases.0.stop.0", {"metric": "error_rate", "floor": 0.2,
                                   "action": "pause", "min_samples": 50}))),
    ("TR014", _set("phases.1.audience.percent", 9), _set("phases.1.audience.percent", 10)),
    ("TR015", _set("phases.1.guardrails.label", "verfy"),
     _set("phases.1.guardrails.label", "AI-generated, check it")),
    ("TR016", _all(_set("segments.beta.share", None)),
     _all(_set("segments.beta.share", None), _set("segments.beta.users", ["u1"]),
          _set("segments.beta.condition", {}))),
    ("TR017", _set("phases.1.success", []), _set("phases.3.success", [])),
]


@pytest.mark.parametrize(("rule", "trips", "near_miss"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_positive_and_negative(rule: str, trips: Edit, near_miss: Edit) -> None:
    assert rule in rules(trips)
    assert rule not in rules(near_miss)


def test_every_rule_has_a_case_and_a_reason() -> None:
    assert {case[0] for case in CASES} == set(RULES)
    assert all(rule.why.endswith(".") and len(rule.why) > 40 for rule in RULES.values())


def test_severity_decides_has_errors() -> None:
    warning_only = findings(_set("segments.beta.why_forgiving", None))
    assert [f.severity for f in warning_only] == ["warning"]
    assert not has_errors(warning_only)
    assert has_errors(findings(_set("phases.3.stop", [])))


def test_jump_message_names_the_sizes() -> None:
    [finding] = findings(_set("phases.2.audience.percent", 30))
    assert finding.message.startswith("exposure grows 7x from 'beta' to 'general'")
    assert "about 5% of users / about 500 users to about 30% of users" in finding.message
    assert "counting the earlier audience" in finding.message


def test_findings_carry_positions_from_the_file() -> None:
    text = """\
feature: {key: demo, stakes: high, fallback: rules, population: 1000}
segments:
  staff: {condition: {staff: true}, external: false, share: 0.01, why_forgiving: staff}
exclusions:
  - name: press
    condition: {press: true}
    high_visibility: true
    until_phase: two
phases:
  - name: one
    audience: {segments: [staff]}
    guardrails: {confidence: {threshold: 0.9}, review: {rate: 0.5}}
    success: [{metric: accuracy, op: ">=", target: 0.9, min_samples: 10, min_duration: 7d}]
    stop: [{metric: accuracy, floor: 0.8, action: pause, min_samples: 10}]
  - name: two
    audience: {segments: [staff]}
    guardrails: {confidence: {threshold: 0.9}}
    success: [{metric: accuracy, op: ">=", target: 0.9, min_samples: 10, min_duration: 7d}]
    stop: [{metric: accuracy, floor: 0.8, action: pause, min_samples: 10}]
  - name: three
    audience: {segments: [staff]}
    guardrails: {confidence: {threshold: 0.9}}
    stop: [{metric: accuracy, floor: 0.8, action: pause, min_samples: 10}]
"""
    document = parse_plan_document(text, "p.yaml")
    found = lint(document.plan, positions=document.positions)
    assert [(f.rule, f.line, f.column, f.field_path) for f in found] == [
        ("TR011", 8, 18, "exclusions[0].until_phase"),
        ("TR005", 12, 63, "phases[0].guardrails.review.rate"),
    ]
    assert found[0].to_dict()["why"] == RULES["TR011"].why
