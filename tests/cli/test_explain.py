"""``trustramp explain``: the decision, its rules, and clean failures (exit 2, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustramp.cli import app

PLAN = str(Path(__file__).resolve().parents[2] / "examples" / "plans" / "portfolio-advice.yaml")
STAFF = '{"id": "s1", "is_employee": true, "power_user": true, "beta_opt_in": true}'
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["explain", PLAN, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def test_table_shows_the_decision_and_every_rule() -> None:
    code, out, _ = run("--user", STAFF, "--confidence", "0.97",
                       "--input", '{"task": "explain_allocation"}', "--decision-id", "d-1")
    assert code == 0
    assert "decision: hold_for_review" in out
    for rule in ("exclusion", "bucket", "task filter", "confidence", "human review"):
        assert rule in out


def test_json_output_in_a_later_phase() -> None:
    code, out, _ = run("--user", '{"id": "u7"}', "--confidence", "0.75", "--phase", "full",
                       "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["decision"]["action"] == "show_flagged"
    assert payload["decision"]["phase"] == "full"
    assert [r["name"] for r in payload["rules"]][:2] == ["status", "exclusion 'high-visibility'"]


def test_killed_state_forces_the_fallback() -> None:
    code, out, _ = run("--user", STAFF, "--confidence", "0.99", "--status", "killed", "--json")
    assert code == 0
    assert json.loads(out)["decision"]["action"] == "killed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", '{"id": "s1"', "--confidence", "0.5"], "--user is not valid JSON"),
        (["--user", '["s1"]', "--confidence", "0.5"], "--user must be a JSON object"),
        (["--user", STAFF, "--confidence", "1.5"], "confidence must be a number in [0, 1]"),
        (["--user", STAFF, "--confidence", "nan"], "confidence must be a number in [0, 1]"),
        (["--user", '{"name": "x"}', "--confidence", "0.5"], 'user has no "id"'),
        (["--user", STAFF, "--confidence", "0.5", "--phase", "gamma"], "phase 'gamma' is not"),
        (["--user", STAFF, "--confidence", "0.5", "--input", "{x"], "--input is not valid JSON"),
    ],
)
def test_bad_arguments_exit_2_with_one_message(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_invalid_plan_exits_2_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("feature: {key: f, stakes: extreme, fallback: x}\nphases: []\n")
    result = runner.invoke(app, ["explain", str(bad), "--user", STAFF, "--confidence", "0.5"])
    assert result.exit_code == 2
    assert f"{bad}:1:" in result.stderr
    assert "Traceback" not in result.stderr


def markup_plan(tmp_path: Path) -> str:
    """The example plan with Rich markup in its label and pending message."""
    text = Path(PLAN).read_text(encoding="utf-8")
    text = text.replace("Educational only - not personalised financial advice.",
                        "Educational [beta] - [/] verify [bold]now")
    text = text.replace("A specialist is checking this suggestion; you will see it shortly.",
                        "Checking [red]soon[/red] [/bold]")
    plan = tmp_path / "markup.yaml"
    plan.write_text(text, encoding="utf-8")
    return str(plan)


@pytest.mark.parametrize("user_id", ["u[/]1", "u[red]1", "u[bold]1[/bold]", "u\\[x]1"])
def test_user_ids_are_printed_verbatim_not_as_markup(user_id: str) -> None:
    code, out, err = run("--user", json.dumps({"id": user_id}), "--confidence", "0.9",
                         "--admitted")
    assert code == 0, err
    # The bucket rule shows the id as repr(): bucket('portfolio-advice', 'u[/]1').
    assert repr(user_id) in out.replace("\n", "").replace("│", "").replace(" ", "")


def test_input_with_markup_does_not_break_the_table() -> None:
    code, out, err = run("--user", STAFF, "--confidence", "0.97", "--admitted",
                         "--input", '{"task": "[/bold]"}')
    assert code == 0, err
    assert "task filter" in out


def test_plan_label_and_message_are_printed_verbatim(tmp_path: Path) -> None:
    plan = markup_plan(tmp_path)
    shown = runner.invoke(app, ["explain", plan, "--user", '{"id": "u7"}', "--confidence",
                                "0.9", "--phase", "full"])
    assert shown.exit_code == 0, shown.output
    assert "label: Educational [beta] - [/] verify [bold]now" in shown.stdout
    held = runner.invoke(app, ["explain", plan, "--user", STAFF, "--confidence", "0.97",
                               "--input", '{"task": "explain_allocation"}', "--admitted"])
    assert held.exit_code == 0, held.output
    assert "decision: hold_for_review" in held.stdout
    assert "message: Checking [red]soon[/red] [/bold]" in held.stdout


@pytest.mark.parametrize("option", ["--user", "--input"])
def test_deeply_nested_json_exits_2_without_a_traceback(option: str) -> None:
    deep = '{"id": "u1", "x": ' + "[" * 30_000 + "]" * 30_000 + "}"
    user, extra = (deep, []) if option == "--user" else (STAFF, ["--input", deep])
    code, out, err = run("--user", user, "--confidence", "0.5", *extra)
    assert code == 2
    assert f"{option} is nested too deeply" in err
    assert "Traceback" not in out + err
