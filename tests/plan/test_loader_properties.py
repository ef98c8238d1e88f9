"""Whatever the text, loading either returns a plan or raises PlanError with valid places."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.plan.plans import BASE_YAML
from trustramp.plan import PlanError, parse_plan


def check(text: str) -> None:
    try:
        parse_plan(text, "p.yaml")
    except PlanError as error:
        lines = max(1, text.count("\n") + 1)
        for problem in error.problems:
            assert 1 <= problem.line <= lines + 1
            assert problem.column >= 1
            assert problem.message
            assert str(problem).startswith(f"p.yaml:{problem.line}:{problem.column}: ")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_plans_never_raise_anything_else(data: st.DataObject) -> None:
    text = BASE_YAML
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        insert = data.draw(st.sampled_from(["", ":", "-", " ", "\n", "{", "[", "'", "x", "1.5",
                                            "\t", "&a", "*a", "!!int", "null", "{$gte: x}"]))
        cut = data.draw(st.integers(0, 3))
        text = text[:at] + insert + text[at + cut:]
    check(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    check(text)
