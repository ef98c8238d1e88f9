"""Plans too deep or too large once aliases are expanded: a PlanError at the place, no crash."""

from __future__ import annotations

import pytest

from trustramp.plan import PlanError, PlanProblem, bounded_yaml
from trustramp.plan.bounded_yaml import MAX_DEPTH, MAX_VALUES
from trustramp.plan.document import read_yaml


def only_problem(text: str) -> PlanProblem:
    with pytest.raises(PlanError) as caught:
        read_yaml(text, "p.yaml")
    [problem] = caught.value.problems
    return problem


def nested_lists(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_flow_nesting_far_past_the_recursion_limit_is_a_problem() -> None:
    problem = only_problem("a: " + nested_lists(5_000) + "\n")
    # The root mapping is level 1 and the k-th '[' (column 3 + k) is level k + 1.
    assert (problem.line, problem.column) == (1, 3 + MAX_DEPTH)
    assert problem.field_path == "(plan)"
    assert problem.message.startswith(f"nesting deeper than {MAX_DEPTH} levels")


def test_block_nesting_far_past_the_recursion_limit_is_a_problem() -> None:
    text = "".join(f"{' ' * i}k{i}:\n" for i in range(5_000)) + " " * 5_000 + "v\n"
    problem = only_problem(text)
    # The mapping on line d is level d; its key k{d-1} is the first node at level d + 1.
    assert (problem.line, problem.column) == (MAX_DEPTH, MAX_DEPTH)
    assert f"nesting deeper than {MAX_DEPTH} levels" in problem.message


def test_the_limit_is_exactly_max_depth_levels() -> None:
    data, _ = read_yaml("a: " + nested_lists(MAX_DEPTH - 1) + "\n", "p.yaml")
    depth, value = 1, data["a"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth + 1 == MAX_DEPTH  # the root mapping and the outermost list
    only_problem("a: " + nested_lists(MAX_DEPTH) + "\n")


def test_billion_laughs_is_refused_at_the_alias_that_crosses_the_cap() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 6)]
    problem = only_problem("\n".join(lines) + "\n")
    # a0..a3 hold 11 + 111 + 1,111 + 11,111 values; each *a3 in a4 adds 11,111 more,
    # so the 8th (column 10 + 7 * 5) crosses 100,000.
    assert MAX_VALUES == 100_000
    assert (problem.line, problem.column) == (5, 45)
    assert problem.message.startswith("the alias *a3 expands the plan past 100,000 values")


def test_aliases_that_nest_past_the_limit_are_refused_at_the_alias() -> None:
    # Each anchor nests the previous one 90 levels deeper: 40 of them would be 3,600
    # levels when expanded, far past Python's recursion limit, in a 15 kB file.
    levels = 90
    lines = [f"a0: &a0 {nested_lists(levels)}"]
    lines += [f"a{i}: &a{i} {'[' * levels}*a{i - 1}{']' * levels}" for i in range(1, 40)]
    problem = only_problem("\n".join(lines) + "\n")
    assert (problem.line, problem.column) == (2, len("a1: &a1 ") + levels + 1)
    assert problem.message.startswith(f"the alias *a0 nests the plan deeper than {MAX_DEPTH}")


def test_a_plain_document_past_the_value_cap_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A smaller cap keeps the test fast; the counting is the same at 100,000.
    monkeypatch.setattr(bounded_yaml, "MAX_VALUES", 1_000)
    # The root mapping, the key 'a' and the list are 3 values; the scalars the rest.
    data, _ = read_yaml("a: [" + "0, " * 997 + "]\n", "p.yaml")
    assert len(data["a"]) == 997
    problem = only_problem("a: [" + "0, " * 998 + "]\n")
    assert problem.message.startswith("the plan holds more than 1,000 values")
    assert problem.line == 1


def test_aliases_within_the_caps_are_expanded() -> None:
    text = "a: &a [" + ", ".join(["x"] * 100) + "]\nb: [" + ", ".join(["*a"] * 100) + "]\n"
    data, _ = read_yaml(text, "p.yaml")
    assert len(data["b"]) == 100
    assert all(item == ["x"] * 100 for item in data["b"])
