"""Users and inputs for a plan: segment shares by the real conditions, both sides of filters."""

from __future__ import annotations

import random

import pytest

from trustramp.plan import load_plan_file, parse_plan, template_text
from trustramp.plan.templates import Scenario as Template
from trustramp.simulate import AnswerModel, InputSampler, Population, Scenario, satisfying
from trustramp.simulate.population import violating
from trustramp.targeting import compile_condition

CONDITIONS = [
    {"is_employee": True},
    {"portfolio_value": {"$lt": 5000}, "is_employee": {"$ne": True}},
    {"account_flags": {"$in": ["press", "vip"]}},
    {"$or": [{"a.b": {"$gte": 10}}, {"c": "x"}]},
    {"lines": {"$lte": 50}, "prod": {"$ne": True}},
    {"tier": {"$nin": ["free"]}, "age": {"$gt": 17.5}},
]


@pytest.mark.parametrize("condition", CONDITIONS)
def test_satisfying_and_violating_values_do_what_they_say(condition: dict) -> None:  # type: ignore[type-arg]
    test = compile_condition(condition)
    rng = random.Random(1)
    assert all(test(satisfying(condition, rng)) for _ in range(200))
    assert sum(not test(violating(condition, rng)) for _ in range(200)) >= 190


@pytest.mark.parametrize("template", list(Template))
def test_segments_get_their_declared_share(template: Template) -> None:
    plan = parse_plan(template_text(template))
    population = Population.for_plan(plan, 20_000, seed=3)
    for name, segment in plan.segments.items():
        if not segment.condition or segment.share is None:
            continue
        share = len(population.members[name]) / 20_000
        # Another segment's values can add members (is_employee for staff and customers).
        assert share >= segment.share * 0.8, (name, share, segment.share)


def test_inputs_fall_on_both_sides_of_the_task_filters() -> None:
    plan = load_plan_file("examples/plans/portfolio-advice.yaml")
    sampler = InputSampler(plan, seed=2)
    first = compile_condition(dict(plan.phases[0].task_filter or {}))
    passed = [first(sampler.sample()) for _ in range(2000)]
    assert 0.2 < sum(passed) / len(passed) < 0.9


def test_the_crash_keeps_confidence_and_loses_accuracy() -> None:
    rng = random.Random(4)
    for scenario, confidence_falls in ((Scenario.CRASH, False), (Scenario.DRIFT, True)):
        model = AnswerModel(scenario, shift_day=3)
        before = [model.answer(1.0, {}, rng) for _ in range(4000)]
        after = [model.answer(5.0, {}, rng) for _ in range(4000)]
        mean_before = sum(c for c, _ in before) / 4000
        mean_after = sum(c for c, _ in after) / 4000
        acc_before = sum(ok for _, ok in before) / 4000
        acc_after = sum(ok for _, ok in after) / 4000
        assert acc_after < acc_before - 0.08
        assert (mean_after < mean_before - 0.05) is confidence_falls
