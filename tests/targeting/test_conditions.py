"""Compiled conditions: compile-once behaviour, the API around them, and the leaf rules."""

from __future__ import annotations

import doctest
import math
import pickle
import re
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest
from growthbook import core as gb
from hypothesis import given, settings
from hypothesis import strategies as st

import trustramp.targeting as targeting
from trustramp.targeting import ConditionError, compile_condition, conditions, matches
from trustramp.targeting import comparison as cmp
from trustramp.targeting import operators as ops

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False)
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                max_size=3),
    max_leaves=6,
)


@pytest.mark.parametrize("module", [conditions, ops, cmp, targeting.bucketing, targeting])
def test_docstring_examples(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.failed == 0


def test_evaluation_never_recompiles(monkeypatch: pytest.MonkeyPatch) -> None:
    condition = {"$or": [{"email": {"$regex": "@acme\\.com$"}},
                         {"tags": {"$elemMatch": {"$in": ["beta"]}}, "age": {"$gte": 18}}]}
    compiled = compile_condition(condition)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled code must not parse the condition again")
    for name in ("compile_value", "_compile", "_compile_operator", "compile_condition"):
        monkeypatch.setattr(conditions, name, refuse)
    monkeypatch.setattr(re, "compile", refuse)
    assert compiled({"email": "ana@acme.com"})
    assert compiled({"tags": ["beta"], "age": 20})
    assert not compiled({"tags": ["beta"], "age": 17})


def test_later_mutation_of_the_document_does_not_change_the_condition() -> None:
    document: dict[str, Any] = {"tier": {"$in": ["pro"]}, "geo": {"country": "DE"}}
    compiled = compile_condition(document)
    document["tier"]["$in"].append("free")
    document["geo"]["country"] = "FR"
    assert compiled({"tier": "pro", "geo": {"country": "DE"}})
    assert not compiled({"tier": "free", "geo": {"country": "DE"}})
    assert compiled.source == {"tier": {"$in": ["pro"]}, "geo": {"country": "DE"}}


def test_evaluate_is_the_call_and_repr_shows_the_source() -> None:
    compiled = compile_condition({"n": {"$lt": 3}})
    assert compiled.evaluate({"n": 1}) is compiled({"n": 1}) is True
    assert repr(compiled) == 'Condition({"n": {"$lt": 3}})'


def test_any_mapping_is_an_attribute_mapping() -> None:
    compiled = compile_condition({"a.b": 1, "c": 2})
    assert compiled(MappingProxyType({"a": MappingProxyType({"b": 1}), "c": 2}))


def test_matches_caches_by_json_and_keeps_key_order(monkeypatch: pytest.MonkeyPatch) -> None:
    conditions._CACHE.clear()
    calls: list[Any] = []
    real = conditions.compile_condition

    def counting(condition: Any) -> Any:
        calls.append(condition)
        return real(condition)
    monkeypatch.setattr(conditions, "compile_condition", counting)
    for _ in range(3):
        assert matches({"plan": "pro"}, {"plan": "pro"})
    assert len(calls) == 1
    # GrowthBook's object equality depends on key order, so these are two conditions.
    attrs = {"o": {"a": 1, "b": 2}}
    assert matches({"o": {"a": 1, "b": 2}}, attrs)
    assert not matches({"o": {"b": 2, "a": 1}}, attrs)


def test_matches_rejects_non_json_conditions_even_after_a_json_twin() -> None:
    assert matches({"x": [1, 2]}, {"x": [1, 2]})
    with pytest.raises(ConditionError, match=r"^condition\.x: expects a JSON value, got tuple"):
        matches({"x": (1, 2)}, {"x": [1, 2]})
    assert matches({"x": 1}, {"x": 1.0})
    assert not matches({"x": True}, {"x": 1})


def test_yaml_dates_get_a_hint() -> None:
    with pytest.raises(ConditionError, match=r"^condition\.signup: \$gte expects a number, "
                       r"string or version, got date \(quote it in YAML"):
        compile_condition({"signup": {"$gte": date(2024, 5, 1)}})
    with pytest.raises(ConditionError, match=r"^condition\.day: expects a JSON value, got date"):
        compile_condition({"day": date(2024, 5, 1)})


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConditionError, match=r"^condition: a condition must be an object"):
        compile_condition(["a"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "number"),
    [("8", 8.0), (" -1.5e3 ", -1500.0), (".5", 0.5), ("7.", 7.0), ("+2", 2.0),
     ("", None), ("0x10", None), ("Infinity", None), ("nan", None), ("1.2.3", None),
     ("1_000", None), ("5 apples", None)],
)
def test_numeric_strings(text: str, number: float | None) -> None:
    assert cmp.numeric_string(text) == number
    expected = number is not None and number > 0
    assert compile_condition({"n": {"$gt": 0}})({"n": text}) is expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(100, "100"), (1.5, "1.5"), (1e21, "1e+21"), (1.5e16, "15000000000000000"),
     (1e-7, "1e-7"), (0.000001, "0.000001"), (-0.0, "0"), (123.456, "123.456"),
     (2**70, "1.1805916207174113e+21"), (float("inf"), "Infinity")],
)
def test_js_number_to_string_known_values(value: float, text: str) -> None:
    assert cmp.js_number_to_string(value) == text


@settings(max_examples=300, deadline=None)
@given(st.floats() | st.integers(-(10**25), 10**25))
def test_js_number_to_string_matches_growthbook(value: float) -> None:
    assert cmp.js_number_to_string(value) == gb._js_number_to_string(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.-+vab~", max_size=12) | st.floats(allow_nan=False)
       | st.none())
def test_padded_version_matches_growthbook(value: Any) -> None:
    assert cmp.padded_version(value) == gb.paddedVersionString(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=4), st.text(max_size=4))
def test_string_order_is_utf16_like_growthbook(left: str, right: str) -> None:
    assert cmp.utf16_order(left, right) == gb.compare(left, right)


@settings(max_examples=300, deadline=None)
@given(json_values, json_values)
def test_deep_equality_matches_growthbook(a: Any, b: Any) -> None:
    assert cmp.strict_deep_equal(a, b) == gb._strict_deep_equal(a, b)
    assert cmp.strict_deep_equal(a, a) == gb._strict_deep_equal(a, a)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_type_matches_growthbook(value: Any) -> None:
    assert cmp.json_type(value) == gb.getType(value)


def test_nan_never_orders_or_equals() -> None:
    for op in ("$gt", "$gte", "$lt", "$lte", "$eq"):
        assert not compile_condition({"x": {op: 1}})({"x": math.nan})
    assert compile_condition({"x": {"$ne": 1}})({"x": math.nan})


def test_condition_error_carries_where_and_problem_and_pickles() -> None:
    with pytest.raises(ConditionError) as raised:
        compile_condition({"$and": [{"a": 1}, {"$or": [{}, {"age": {"$gte": [1]}}]}]})
    assert raised.value.where == "condition.$and[1].$or[1].age"
    assert raised.value.problem == "$gte expects a number, string or version, got list"
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (copy.where, copy.problem, str(copy)) == (
        raised.value.where, raised.value.problem, str(raised.value))
