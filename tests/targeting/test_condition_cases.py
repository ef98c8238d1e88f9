"""The condition vectors in condition_cases.json, checked against us and against GrowthBook.

Each case states the expected result; ``growthbook_python`` is given only where
trustramp deliberately differs from the growthbook Python SDK (numbers against
numeric strings), so every other expectation is also GrowthBook's answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from growthbook.core import evalCondition

from trustramp.targeting import ConditionError, compile_condition, matches

DATA = json.loads((Path(__file__).parent / "condition_cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_case(case: dict[str, Any]) -> None:
    condition, attributes = case["condition"], case["attributes"]
    assert compile_condition(condition)(attributes) is case["expected"]
    assert matches(condition, attributes) is case["expected"]
    assert evalCondition(attributes, condition) is case.get("growthbook_python", case["expected"])


@pytest.mark.parametrize("case", DATA["errors"], ids=lambda c: c["message"])
def test_invalid_condition_message(case: dict[str, Any]) -> None:
    with pytest.raises(ConditionError) as raised:
        compile_condition(case["condition"])
    assert str(raised.value).startswith(case["message"])
    assert isinstance(raised.value, ValueError)


def test_cases_cover_every_operator() -> None:
    text = json.dumps(DATA["cases"])
    operators = ["$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists", "$regex",
                 "$elemMatch", "$size", "$all", "$type", "$not", "$and", "$or", "$nor", "$veq",
                 "$vne", "$vgt", "$vgte", "$vlt", "$vlte"]
    for op in operators:
        assert f'"{op}"' in text, op
