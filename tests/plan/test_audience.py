"""Audience size estimates: the numbers lint's 5% and 5x rules rest on."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustramp.decide import compile_policy
from trustramp.plan import Plan, estimate_audience
from trustramp.plan.audience import exposure_growth, growth, nested


def plan(population: int | None, segments: dict[str, Any], *audiences: dict[str, Any]) -> Plan:
    feature: dict[str, Any] = {"key": "demo", "stakes": "low", "fallback": "rules"}
    if population is not None:
        feature["population"] = population
    phases = [{"name": f"p{i}", "audience": a} for i, a in enumerate(audiences)]
    return Plan.model_validate({"feature": feature, "segments": segments, "phases": phases})


def test_share_times_percent_with_and_without_population() -> None:
    segments = {"beta": {"condition": {"beta": True}, "share": 0.2}}
    audience = {"segments": ["beta"], "percent": 10}
    with_population = estimate_audience(p := plan(5000, segments, audience), p.phases[0])
    assert with_population.fraction == pytest.approx(0.02)
    assert with_population.users == pytest.approx(100)
    without = estimate_audience(p := plan(None, segments, audience), p.phases[0])
    assert (without.fraction, without.users) == (pytest.approx(0.02), None)


def test_segments_are_summed_and_capped_at_everyone() -> None:
    segments = {"a": {"condition": {"a": 1}, "share": 0.7}, "b": {"condition": {"b": 1},
                                                              "share": 0.6}}
    p = plan(None, segments, {"segments": ["a", "b"], "percent": 50})
    assert estimate_audience(p, p.phases[0]).fraction == pytest.approx(0.5)


def test_allow_list_segment_is_counted() -> None:
    segments = {"friends": {"users": ["u1", "u2", "u3", "u4"]}}
    p = plan(400, segments, {"segments": ["friends"], "percent": 50})
    estimate = estimate_audience(p, p.phases[0])
    assert (estimate.users, estimate.fraction) == (pytest.approx(2), pytest.approx(0.005))


def test_cap_binds_with_population_and_hides_the_fraction_without() -> None:
    segments = {"power": {"condition": {"power": True}, "share": 0.1}}
    audience = {"segments": ["power"], "max_users": 100}
    capped = estimate_audience(p := plan(50000, segments, audience), p.phases[0])
    assert (capped.users, capped.fraction) == (pytest.approx(100), pytest.approx(0.002))
    unknown_population = estimate_audience(p := plan(None, segments, audience), p.phases[0])
    assert (unknown_population.users, unknown_population.fraction) == (100, None)


def test_unknown_segment_size_is_reported_as_unknown() -> None:
    p = plan(None, {"x": {"condition": {"x": 1}}}, {"segments": ["x"], "percent": 5})
    estimate = estimate_audience(p, p.phases[0])
    assert (estimate.fraction, estimate.users) == (None, None)
    assert estimate.describe() == "an unknown number of users"


def test_growth_falls_back_to_the_percent_ratio_for_the_same_segments() -> None:
    segments = {"x": {"condition": {"x": 1}}}
    p = plan(None, segments, {"segments": ["x"], "percent": 2}, {"segments": ["x"], "percent": 14})
    assert growth(p, p.phases[0], p.phases[1]) == pytest.approx(7)
    q = plan(None, segments, {"segments": ["x"], "percent": 2}, {"percent": 14})
    assert growth(q, q.phases[0], q.phases[1]) is None


def test_growth_from_nobody_is_infinite() -> None:
    p = plan(1000, {}, {"percent": 0}, {"percent": 1})
    assert math.isinf(growth(p, p.phases[0], p.phases[1]) or 0.0)


def test_exposure_growth_counts_the_earlier_audience_unless_nested() -> None:
    segments = {"beta": {"condition": {"beta": True}, "share": 0.1},
                "staff": {"condition": {"staff": True}, "share": 0.01}}
    p = plan(10000, segments,
             {"segments": ["beta"], "percent": 10},  # 100 users
             {"segments": ["beta"], "percent": 40},  # nested: 400
             {"percent": 2},  # everyone at a lower percent: not nested, 200
             {"segments": ["staff", "beta"], "percent": 40, "max_users": 50})  # capped
    one, two, three, four = p.phases
    assert exposure_growth(p, one, two) == pytest.approx(4)
    assert exposure_growth(p, two, three) == pytest.approx(1 + 0.5)
    assert not nested(p, three, four)
    assert exposure_growth(p, three, four) == pytest.approx(1 + 50 / 200)
    # 100% of everyone contains any earlier audience
    q = plan(10000, segments, {"segments": ["staff"], "percent": 100}, {"percent": 100})
    assert nested(q, *q.phases)


# nested() is what lets lint count a step's growth without the earlier audience (TR003);
# the engine itself decides who is in, so check the promise against compile_policy.
SIM_SEGMENTS = ("a", "b", "c")
SIM_UNITS: list[dict[str, Any]] = [{"id": f"u{i}", "x": i % 3} for i in range(400)]
sim_segment = st.fixed_dictionaries({
    "condition": st.sampled_from([{}, {"x": 1}, {"x": {"$in": [1, 2]}}]),
    "users": st.sampled_from([[], ["u1", "u7", "u300"]]),
})
sim_audience = st.fixed_dictionaries({
    "segments": st.lists(st.sampled_from(SIM_SEGMENTS), unique=True, max_size=2),
    "percent": st.sampled_from([0, 5, 20, 50, 100]),
})


@st.composite
def sim_steps(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = draw(sim_audience)
    if draw(st.booleans()):  # a widening step, so that nested steps are common
        extra = draw(st.lists(st.sampled_from(SIM_SEGMENTS), unique=True, max_size=1))
        segments = list(dict.fromkeys([*before["segments"], *extra]))
        percent = draw(st.sampled_from([p for p in (0, 5, 20, 50, 100) if p >= before["percent"]]))
        return before, {"segments": segments, "percent": percent}
    return before, draw(sim_audience)


def _alone(segments: dict[str, Any], audience: dict[str, Any]) -> set[str]:
    """Units the engine exposes in ``audience`` itself (a one-phase plan: no earlier
    audience kept)."""
    policy = compile_policy(plan(None, segments, audience))
    return {str(unit["id"]) for unit in SIM_UNITS if policy.exposure(unit).exposed}


@settings(max_examples=150, deadline=None)
@given(segments=st.fixed_dictionaries(dict.fromkeys(SIM_SEGMENTS, sim_segment)), step=sim_steps())
def test_nested_steps_keep_every_earlier_unit_in_the_engine(
    segments: dict[str, Any], step: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    before, after = step
    p = plan(None, segments, before, after)
    if nested(p, *p.phases):
        assert _alone(segments, before) <= _alone(segments, after)


def test_the_simulation_sees_a_step_that_is_not_nested() -> None:
    segments = {"a": {"condition": {"x": 1}}, "b": {"condition": {"x": 2}}}
    before, after = {"segments": ["a"], "percent": 50}, {"segments": ["b"], "percent": 100}
    p = plan(None, segments, before, after)
    assert not nested(p, *p.phases)
    assert not _alone(segments, before) <= _alone(segments, after)
