"""YAML reading: positions, anchors and merge keys, and the mistakes PyYAML lets through."""

from __future__ import annotations

import pytest

from trustramp.plan import PlanError
from trustramp.plan.document import read_yaml


def test_positions_of_keys_and_values_in_block_and_flow_style() -> None:
    data, positions = read_yaml("a:\n  b: [10, {c: x}]\n", "p.yaml")
    assert data == {"a": {"b": [10, {"c": "x"}]}}
    assert positions.key_at(("a", "b")) == (2, 3)
    assert positions.value_at(("a", "b", 0)) == (2, 7)
    assert positions.value_at(("a", "b", 1, "c")) == (2, 15)
    assert positions.key_at(("a", "b", 1)) == (2, 11)  # a list item has no key: its value
    assert positions.value_at(("a", "zzz", 3)) == (2, 3)  # absent: nearest written ancestor


def test_anchors_and_merge_keys_are_expanded_and_explicit_keys_win() -> None:
    text = "base: &base {k: 1, j: 2}\nmine:\n  <<: *base\n  k: 3\n"
    data, _ = read_yaml(text, "p.yaml")
    assert data["mine"] == {"k": 3, "j": 2}


def test_recursive_alias_is_rejected() -> None:
    with pytest.raises(PlanError, match=r"p\.yaml:1:4: a\[0\]: an alias refers to itself"):
        read_yaml("a: &x [*x]\n", "p.yaml")


def test_undefined_alias_and_second_document() -> None:
    with pytest.raises(PlanError, match=r"p\.yaml:1:4: \(plan\): .*undefined alias 'nope'"):
        read_yaml("a: *nope\n", "p.yaml")
    with pytest.raises(PlanError, match=r"p\.yaml:2:1: .*one document; remove the '---' line"):
        read_yaml("a: 1\n---\nb: 2\n", "p.yaml")


def test_keys_must_be_text() -> None:
    with pytest.raises(PlanError) as caught:
        read_yaml("yes: 1\n? [1, 2]\n: x\n", "p.yaml")
    assert [(p.line, p.column, p.message) for p in caught.value.problems] == [
        (1, 1, "expected a text key, got 'yes'; quote it if it is a name: 'yes':"),
        (2, 3, "expected a text key, got a list"),
    ]


def test_duplicate_keys_in_nested_and_flow_mappings() -> None:
    with pytest.raises(PlanError) as caught:
        read_yaml("a: {b: 1, b: 2}\nc:\n  d: 1\n  d: 1\n", "p.yaml")
    assert [(p.line, p.column, p.field_path) for p in caught.value.problems] == [
        (1, 11, "a.b"), (4, 3, "c.d"),
    ]


@pytest.mark.parametrize("padding", [0, 5000])  # PyYAML checks the first chunk eagerly
def test_control_character_has_a_position(padding: int) -> None:
    text = "# " + "x" * padding + "\na: 1\nb: \x1f\n"
    with pytest.raises(PlanError) as caught:
        read_yaml(text, "p.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (3, 4)
    assert problem.message == (
        "the character '\\x1f' is not allowed in YAML; expected printable text"
    )


def test_tags_that_cannot_be_built_are_problems_not_crashes() -> None:
    text = ("a: !!int abc\nb: !!python/object:os.system x\nc: !!float 1.5\n"
            "d: !!bool maybe\ne: !!set {x: 1}\n")
    with pytest.raises(PlanError) as caught:
        read_yaml(text, "p.yaml")
    assert [(p.line, p.column, p.field_path, p.message) for p in caught.value.problems] == [
        (1, 4, "a", "'abc' is not a valid int; remove the '!!int' tag or fix the value"),
        (2, 4, "b", "cannot read 'x' as 'python/object:os.system' (could not determine a "
                    "constructor for the tag 'tag:yaml.org,2002:python/object:os.system'); "
                    "expected a plain value without a '!' tag"),
        (4, 4, "d", "'maybe' is not a valid bool; remove the '!!bool' tag or fix the value"),
        (5, 4, "e", "unsupported tag 'tag:yaml.org,2002:set'; expected a plain mapping or "
                    "list without a '!' tag"),
    ]


def test_merge_of_a_scalar_is_a_problem() -> None:
    with pytest.raises(PlanError) as caught:
        read_yaml("a:\n  <<: 5\n  b: 1\n", "p.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.field_path) == (2, 7, "a")
    assert problem.message.startswith("cannot merge (expected a mapping or list of mappings")
