"""Whatever the text, loading either returns a plan (which lint accepts) or raises
PlanError with valid places."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.plan.plans import BASE_YAML
from trustramp.plan import PlanError, lint, parse_plan_document

INSERTS = ["", ":", "-", " ", "\n", "{", "[", "'", "x", "1.5", "\t", "&a", "*a", "!!int", "!!bool",
           "!!timestamp", "!!set", "!foo", "null", "{$gte: x}", "<<: ", "? "]


def check(text: str) -> None:
    try:
        document = parse_plan_document(text, "p.yaml")
    except PlanError as error:
        lines = max(1, text.count("\n") + 1)
        for problem in error.problems:
            assert 1 <= problem.line <= lines + 1
            assert problem.column >= 1
            assert problem.message
            assert str(problem).startswith(f"p.yaml:{problem.line}:{problem.column}: ")
    else:
        for finding in lint(document.plan, positions=document.positions):
            assert finding.line is not None
            assert finding.line >= 1


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_plans_never_raise_anything_else(data: st.DataObject) -> None:
    text = BASE_YAML
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        insert = data.draw(st.sampled_from(INSERTS))
        cut = data.draw(st.integers(0, 3))
        text = text[:at] + insert + text[at + cut:]
    check(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    check(text)
