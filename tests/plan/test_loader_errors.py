"""Broken plans: each problem must point at the exact line:column and field path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.plans import BASE_YAML, broken
from trustramp.plan import PlanError, PlanProblem, load_plan_file, parse_plan


def problems(text: str) -> list[PlanProblem]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "plan.yaml")
    return list(caught.value.problems)


def where(problem: PlanProblem) -> tuple[int, int, str]:
    return problem.line, problem.column, problem.field_path


def test_the_base_plan_is_valid() -> None:
    plan = parse_plan(BASE_YAML, "plan.yaml")
    assert [phase.name for phase in plan.phases] == ["pilot", "wider"]


def test_bad_enum_points_at_the_value_and_suggests_the_member() -> None:
    [problem] = problems(broken("stakes: low", "stakes: hihg"))
    assert where(problem) == (3, 11, "feature.stakes")
    assert problem.message == (
        "expected one of 'low', 'medium', 'high', got 'hihg'; did you mean 'high'?"
    )


def test_unknown_field_points_at_the_key_and_suggests_the_known_one() -> None:
    found = problems(broken("{threshold: 0.9}", "{treshold: 0.9}"))
    assert [where(p) for p in found] == [
        (14, 7, "phases[0].guardrails.confidence.threshold"),  # now missing: its parent
        (14, 20, "phases[0].guardrails.confidence.treshold"),
    ]
    assert found[1].message == "unknown field 'treshold'; did you mean 'threshold'?"
    assert found[0].message == (
        "missing required field 'threshold'; expected a number between 0 and 1"
    )


def test_wrong_type_says_what_is_expected() -> None:
    [problem] = problems(broken("percent: 40", "percent: lots"))
    assert where(problem) == (20, 43, "phases[1].audience.percent")
    assert problem.message == "expected a number between 0 and 100, got 'lots'"


def test_missing_field_points_at_the_mapping_that_lacks_it() -> None:
    [problem] = problems(broken("  fallback: rules\n", ""))
    assert where(problem) == (1, 1, "feature.fallback")
    assert problem.message == "missing required field 'fallback'; expected text"


def test_missing_field_of_a_list_item_points_at_the_item() -> None:
    [problem] = problems(broken("    audience: {segments: [beta], percent: 40}\n", ""))
    assert where(problem) == (19, 5, "phases[1].audience")
    assert problem.message.startswith("missing required field 'audience'; expected a mapping")


def test_duplicate_key_names_both_places() -> None:
    [problem] = problems(broken("  stakes: low\n", "  stakes: low\n  stakes: high\n"))
    assert where(problem) == (4, 3, "feature.stakes")
    assert problem.message == (
        "duplicate key 'stakes' (first at line 3, column 3); expected each key once per mapping"
    )


def test_yaml_syntax_error_has_a_position() -> None:
    [problem] = problems(broken("percent: 40}", "percent: 40"))
    assert (problem.line, problem.field_path) == (21, "(plan)")
    assert problem.message.startswith("YAML syntax error: expected ',' or '}'")


def test_unquoted_comparison_operator_gets_a_hint() -> None:
    text = BASE_YAML + "    success:\n      - metric: accuracy\n        op: >=\n"
    [problem] = problems(text)
    assert (problem.line, problem.column) == (28, 14)  # the "=" YAML stumbled on
    assert problem.message.endswith("quote comparison operators, e.g. op: \">=\"")


def test_tab_indentation_gets_a_hint() -> None:
    [problem] = problems("feature:\n\tkey: demo\n")
    assert (problem.line, problem.column) == (2, 1)
    assert problem.message.endswith("indent with spaces, not tabs")


def test_unknown_segment_reference_points_at_the_list_item() -> None:
    [problem] = problems(broken("[beta], percent: 40", "[betta], percent: 40"))
    assert where(problem) == (20, 27, "phases[1].audience.segments[0]")
    assert problem.message == "unknown segment 'betta' (defined: beta); did you mean 'beta'?"


def test_bad_condition_points_inside_the_condition() -> None:
    [problem] = problems(broken("{beta: true}", "{beta: {$gte: [1]}}"))
    assert where(problem) == (7, 23, "segments.beta.condition.beta")
    assert problem.message.startswith("invalid condition: $gte expects")


def test_bad_task_filter_inside_a_logical_operator() -> None:
    text = broken(
        "  - name: wider\n",
        "  - name: wider\n    task_filter: {$or: [{tier: pro}, {pages: {$size: x}}]}\n",
    )
    [problem] = problems(text)
    assert where(problem) == (20, 46, "phases[1].task_filter.$or[1].pages")
    assert problem.message.startswith("invalid condition:")


def test_threshold_out_of_range_renders_file_line_column_path_and_expectation() -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(broken("threshold: 0.85", "threshold: 1.5"), "plan.yaml")
    assert str(caught.value) == (
        "plan.yaml:23:20: phases[1].guardrails.confidence.threshold: "
        "expected a number between 0 and 1, got 1.5"
    )


def test_duplicate_phase_points_at_the_second_name() -> None:
    [problem] = problems(broken("  - name: wider", "  - name: pilot"))
    assert where(problem) == (19, 11, "phases[1].name")
    assert problem.message == "phase 'pilot' is defined twice"


def test_bad_duration() -> None:
    [problem] = problems(broken("min_duration: 14d", "min_duration: 2 weeks"))
    assert where(problem) == (16, 83, "phases[0].success[0].min_duration")
    assert "expected a duration such as '30m', '36h', '14d' or '2w'" in problem.message


@pytest.mark.parametrize("duration", ["99999999999999d", "1000000000d", "9" * 400 + "w"])
def test_duration_too_long_for_timedelta_is_a_problem_not_a_crash(duration: str) -> None:
    [problem] = problems(broken("min_duration: 14d", f"min_duration: {duration}"))
    assert where(problem) == (16, 83, "phases[0].success[0].min_duration")
    assert "of at most 999999999d" in problem.message
    assert repr(duration) in problem.message


def test_longest_duration_timedelta_holds_is_accepted() -> None:
    plan = parse_plan(broken("min_duration: 14d", "min_duration: 999999999d"), "plan.yaml")
    assert plan.phases[0].success[0].min_duration.days == 999_999_999


def test_rate_target_written_as_a_percent() -> None:
    [problem] = problems(broken("target: 0.9,", "target: 90,"))
    assert where(problem) == (16, 46, "phases[0].success[0].target")
    assert problem.message == (
        "accuracy is a rate; expected a target between 0 and 1 (write 90% as 0.9), got 90"
    )


def test_exclusion_until_unknown_phase() -> None:
    text = BASE_YAML + (
        "exclusions:\n"
        "  - {name: press, condition: {press: true}, until_phase: ful, high_visibility: true}\n"
    )
    [problem] = problems(text)
    assert where(problem) == (27, 58, "exclusions[0].until_phase")
    assert problem.message == "unknown phase 'ful' (phases: pilot, wider)"  # nothing close


def test_non_text_key() -> None:
    [problem] = problems(broken("  fallback: rules\n", "  fallback: rules\n  3: x\n"))
    assert where(problem) == (5, 3, "feature")
    assert problem.message.startswith("expected a text key, got '3'")


def test_empty_file_and_non_mapping_root() -> None:
    [empty] = problems("# nothing but a comment\n")
    assert where(empty) == (1, 1, "(plan)")
    assert "empty" in empty.message
    [listed] = problems("\n- feature\n")
    assert where(listed) == (2, 1, "(plan)")
    assert listed.message.endswith("got a list")


def test_several_problems_are_all_reported_in_file_order() -> None:
    text = broken("stakes: low", "stakes: hihg").replace("threshold: 0.85", "threshold: 1.5")
    assert [(p.line, p.column) for p in problems(text)] == [(3, 11), (23, 20)]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(PlanError) as caught:
        load_plan_file(path)
    assert str(caught.value).startswith(f"{path}:1:1: (plan): no such file")


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"feature:\n  key: d\xe9mo\n")
    with pytest.raises(PlanError) as caught:
        load_plan_file(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, 9)
    assert "UTF-8" in problem.message


def test_a_directory_is_not_a_plan(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan_file(tmp_path)
    assert "cannot read the file" in caught.value.problems[0].message


def test_plan_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"plan\.yaml:3:11: feature\.stakes"):
        parse_plan(broken("stakes: low", "stakes: 5"), "plan.yaml")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  beta:\n", "  Beta Users:\n",
         (6, 3, "segments.Beta Users",
          "a segment name uses lowercase letters, digits, '_', '-' and '.'")),
        ("  - name: wider", "  - name: Wider Phase",
         (19, 11, "phases[1].name",
          "expected a name of lowercase letters, digits, '_', '-' and '.' starting with a "
          "letter or digit, got 'Wider Phase'")),
        ("feature:\n", "format: 2\nfeature:\n",
         (1, 9, "format", "expected 1, got 2")),
        ("share: 0.02", "share: 0",
         (8, 12, "segments.beta.share",
          "expected a number > 0 and <= 1, got 0 (estimated fraction of all users in this "
          "segment (0.02 = 2%); lint uses it to size audiences)")),
        ("min_samples: 100,", "min_samples: 2.5,",
         (16, 64, "phases[0].success[0].min_samples", "expected a whole number >= 1, got 2.5")),
        ("{beta: true}", "[beta]",
         (7, 5, "segments.beta.condition", "expected a mapping of 'key: value' lines, got a list")),
        ("fallback: rules", "fallback: ''",
         (4, 13, "feature.fallback", "expected non-empty text, got '' (name of the non-AI path)")),
        ("fallback: rules", "fallback: 12",
         (4, 13, "feature.fallback",
          "expected text (quote it if it looks like a number or true/false), got 12 "
          "(name of the non-AI path)")),
    ],
)
def test_pydantic_messages_become_sentences(
    old: str, new: str, expected: tuple[int, int, str, str]
) -> None:
    [problem] = problems(broken(old, new))
    assert (problem.line, problem.column, problem.field_path, problem.message) == expected


def test_empty_phase_list() -> None:
    text = BASE_YAML[: BASE_YAML.index("phases:")] + "phases: []\n"
    [problem] = problems(text)
    assert where(problem) == (10, 1, "phases")
    assert problem.message == "expected at least 1 item(s) in the list, got an empty list"


def test_duplicate_exclusion_name() -> None:
    text = BASE_YAML + (
        "exclusions:\n"
        "  - {name: press, condition: {press: true}}\n"
        "  - {name: press, users: [u1]}\n"
    )
    [problem] = problems(text)
    assert where(problem) == (28, 12, "exclusions[1].name")
    assert problem.message == "exclusion 'press' is defined twice"


def test_bad_exclusion_condition() -> None:
    text = BASE_YAML + "exclusions:\n  - name: press\n    condition: {flags: {$inn: [press]}}\n"
    [problem] = problems(text)
    assert where(problem) == (28, 24, "exclusions[0].condition.flags")
    assert problem.message.startswith("invalid condition: unknown operator $inn; expected one of")
