"""explain: every rule checked, in order, and the same decision as the fast path."""

from __future__ import annotations

from trustramp.decide import Action, Usage
from trustramp.targeting import bucket

from .plans import make_policy, plan_dict

FEATURE = plan_dict()["feature"]["key"]
EARLY_THRESHOLD = next(p for p in plan_dict()["phases"]
                       if p["name"] == "early-access")["guardrails"]["confidence"]["threshold"]
GRADUAL_USER = {"id": "g1", "beta_opt_in": True, "portfolio_usd": 900, "followers": 3}


def decisive(rules: tuple, stage: str) -> list:  # type: ignore[type-arg]
    return [r for r in rules if r.stage == stage and r.decisive]


def test_explain_lists_every_rule_in_order() -> None:
    policy = make_policy("gradual")
    explanation = policy.explain(GRADUAL_USER, 0.9, decision_id="fixed-1")
    names = [r.name for r in explanation.rules if r.stage == "exposure"]
    assert names[:4] == ["status", "exclusion 'vip'", "exclusion 'banned'", "bucket"]
    # The audiences as the fast path walks them: the uncapped segments at their widest
    # percent so far (beta and small at 25% in 'gradual'), then the capped phases.
    walk = ["segment 'beta'", "segment 'small'", "cap of phase 'beta'"]
    checked = names[4:]
    if explanation.exposure.exposed:
        assert checked == walk[: len(checked)]
    else:
        assert checked == [*walk, "audience"]
    gate = [r.name for r in explanation.rules if r.stage == "gate"]
    if explanation.exposure.exposed:
        assert gate == ["status", "exposure", "task filter", "rate limit per user per hour",
                        "rate limit per feature per minute", "confidence", "human review",
                        "label", "result"]
    assert len(decisive(explanation.rules, "exposure")) == 1
    assert len(decisive(explanation.rules, "gate")) == 1


def test_explain_names_the_segment_and_bucket_that_let_a_unit_in() -> None:
    policy = make_policy("gradual")
    inside = next(f"u{i}" for i in range(10_000) if bucket(FEATURE, f"u{i}") < 0.25)
    explanation = policy.explain({**GRADUAL_USER, "id": inside}, 0.9)
    (rule,) = decisive(explanation.rules, "exposure")
    assert rule.name == "segment 'beta'"
    assert f"bucket {bucket(FEATURE, inside):.6f} < segment 'beta' at 25%" in rule.detail
    outside = next(f"u{i}" for i in range(10_000) if bucket(FEATURE, f"u{i}") >= 0.25)
    missed = policy.explain({**GRADUAL_USER, "id": outside}, 0.9)
    assert not missed.exposure.exposed
    first = next(r for r in missed.rules if r.name == "segment 'beta'")
    assert first.result == "fail"
    assert first.detail.startswith(f"member, but bucket {bucket(FEATURE, outside):.6f} >= 25%")


def test_explain_agrees_with_the_fast_path_on_many_users() -> None:
    policy = make_policy("early-access")
    for i in range(400):
        user = {"id": f"e{i}", "beta_opt_in": i % 2 == 0, "staff": i % 7 == 0,
                "followers": 10 if i % 5 else 10**6}
        confidence = (i % 10) / 9
        admitted = frozenset({f"e{i}"}) if i % 3 == 0 else frozenset()
        explanation = policy.explain(user, confidence, admitted=admitted,
                                     decision_id=f"d{i}", usage=Usage(0, i % 60))
        exposure = policy.exposure(user, admitted=admitted)
        assert explanation.exposure == exposure
        assert explanation.decision == policy.gate(exposure, confidence, decision_id=f"d{i}",
                                                   usage=Usage(0, i % 60))
        (exposure_rule,) = decisive(explanation.rules, "exposure")
        assert (exposure_rule.result == "pass") == exposure.exposed
        # The trace against facts computed here, not by the engine: the documented
        # bucket hash and the plan's threshold (0.90 in early access).
        rules = {r.name: r for r in explanation.rules}
        if exposure.bucket is None:  # an exclusion decided before the bucket
            assert "bucket" not in rules
        else:
            assert f"= {bucket(FEATURE, user['id']):.6f}" in rules["bucket"].detail
        if exposure.exposed:
            assert (rules["confidence"].result == "fail") == (confidence < EARLY_THRESHOLD)
        (gate_rule,) = decisive(explanation.rules, "gate")
        action = explanation.decision.action
        assert (gate_rule.name == "result") == (action in (Action.SHOW, Action.SHOW_FLAGGED))
        if action is Action.HOLD_FOR_REVIEW:
            assert gate_rule.name == "human review"
        if action is Action.ASK_USER:
            assert gate_rule.name == "confidence"


def test_explain_of_a_killed_rollout_stops_at_the_state() -> None:
    explanation = make_policy("full").with_status("killed", "tickets").explain({"id": "x"}, None)
    assert explanation.decision.action is Action.KILLED
    assert [(r.stage, r.name, r.result) for r in explanation.rules] == [
        ("exposure", "status", "fail"), ("gate", "status", "fail")]
    assert explanation.as_dict()["decision"]["action"] == "killed"
