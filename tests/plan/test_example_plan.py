"""The example plan encodes the seed rollout table and lints clean."""

from __future__ import annotations

from pathlib import Path

from trustramp.plan import estimate_audience, lint, load_plan_document

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plans" / "portfolio-advice.yaml"


def test_example_plan_loads_and_lints_clean() -> None:
    document = load_plan_document(EXAMPLE)
    assert lint(document.plan, positions=document.positions) == []


def test_example_plan_is_the_seed_table() -> None:
    plan = load_plan_document(EXAMPLE).plan
    assert [p.name for p in plan.phases] == ["beta", "early-access", "gradual", "full"]
    beta, early, gradual, full = plan.phases
    # (review rate, confidence threshold) per phase, as in the table
    guards = [
        (p.guardrails.review.rate if p.guardrails.review else 0.0,
         p.guardrails.confidence.threshold if p.guardrails.confidence else None)
        for p in plan.phases
    ]
    assert guards == [(1.0, 0.95), (0.05, 0.90), (0.0, 0.85), (0.0, 0.80)]
    assert (beta.audience.min_users, beta.audience.max_users) == (50, 100)
    assert beta.audience.segments
    assert beta.guardrails.rate_limit is not None
    assert 1 <= early.audience.percent <= 5
    assert 5 <= gradual.audience.percent <= 25
    assert full.audience.percent == 100
    assert all(phase.stop for phase in plan.phases)
    assert all(phase.success for phase in plan.phases[:-1])
    [exclusion] = plan.exclusions
    assert exclusion.high_visibility
    assert exclusion.until_phase == "full"
    assert plan.readiness is not None
    assert plan.readiness.sign_off


def test_example_first_phase_is_50_to_100_users() -> None:
    plan = load_plan_document(EXAMPLE).plan
    estimate = estimate_audience(plan, plan.phases[0])
    assert estimate.users is not None
    assert 50 <= estimate.users <= 100
