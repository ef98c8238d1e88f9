"""trustramp init / validate / lint through the real Typer app: exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustramp.cli import app
from trustramp.plan import template_text

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plans" / "portfolio-advice.yaml"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def line_of(text: str, fragment: str) -> int:
    """1-based line of the only line containing ``fragment`` (templates may be edited)."""
    [number] = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    return number


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_ok_prints_a_summary() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"OK {EXAMPLE}: feature 'portfolio-advice' (high stakes)")
    assert "4 phases: beta -> early-access -> gradual -> full" in result.stdout


def test_validate_reports_each_problem_with_its_place(in_tmp: Path) -> None:
    text = template_text("summarization").replace("stakes: low", "stakes: lo", 1)
    text = text.replace("threshold: 0.80, below: fallback}", "threshold: 8}", 1)
    write(in_tmp / "plan.yaml", text)
    result = runner.invoke(app, ["validate", "plan.yaml"])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    stakes, threshold = line_of(text, "stakes: lo"), line_of(text, "threshold: 8}")
    assert lines[0].startswith(f"plan.yaml:{stakes}:11: feature.stakes: expected one of 'low'")
    assert lines[1].startswith(f"plan.yaml:{threshold}:31: phases[0].guardrails.confidence."
                               "threshold: expected a number between 0 and 1, got 8")
    assert lines[2] == "plan.yaml: 2 problems; the plan is not valid"
    assert "Traceback" not in result.output


def test_validate_missing_file_is_a_message_not_a_traceback(in_tmp: Path) -> None:
    result = runner.invoke(app, ["validate", "nowhere.yaml"])
    assert result.exit_code == 1
    assert result.stderr.startswith("nowhere.yaml:1:1: (plan): no such file")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_yaml_syntax_error(in_tmp: Path) -> None:
    write(in_tmp / "plan.yaml", "feature: {key: demo\nphases: []\n")
    result = runner.invoke(app, ["validate", "plan.yaml"])
    assert result.exit_code == 1
    assert "plan.yaml:2:7: (plan): YAML syntax error" in result.stderr


def test_lint_clean_plan_exits_zero() -> None:
    result = runner.invoke(app, ["lint", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "no findings" in result.stdout


def test_lint_errors_exit_one_with_rule_place_and_reason(in_tmp: Path) -> None:
    text = template_text("financial-advisor").replace("until_phase: small-portfolios\n",
                                                      "until_phase: employees\n", 1)
    write(in_tmp / "plan.yaml", text)
    result = runner.invoke(app, ["lint", "plan.yaml"])
    assert result.exit_code == 1
    assert result.stdout.lstrip().startswith("lint plan.yaml")
    assert f"│ {line_of(text, 'until_phase: employees')}:18 " in result.stdout
    assert "TR011" in result.stdout
    assert "1 error(s), 0 warning(s)" in result.stdout


def test_lint_warnings_only_exit_zero(in_tmp: Path) -> None:
    text = template_text("summarization").replace("label: ai\n", "label: aii\n", 1)
    write(in_tmp / "plan.yaml", text)
    result = runner.invoke(app, ["lint", "plan.yaml", "--json"])
    assert result.exit_code == 0, result.output
    [finding] = json.loads(result.stdout)
    assert finding["rule"] == "TR015"
    assert finding["severity"] == "warning"
    where = (finding["file"], finding["line"], finding["column"])
    assert where == ("plan.yaml", line_of(text, "label: aii"), 14)
    assert finding["field_path"] == "phases[0].guardrails.label"
    assert finding["why"]


def test_lint_json_lists_errors_and_exits_one(in_tmp: Path) -> None:
    text = template_text("code-generation").replace("percent: 20}", "percent: 100}", 1)
    write(in_tmp / "plan.yaml", text)
    result = runner.invoke(app, ["lint", "--json", "plan.yaml"])
    assert result.exit_code == 1
    rules = [item["rule"] for item in json.loads(result.stdout)]
    assert rules == ["TR003"]


def test_lint_of_an_invalid_plan_prints_problems(in_tmp: Path) -> None:
    write(in_tmp / "plan.yaml", "feature: {key: demo, stakes: low, fallback: x}\n")
    result = runner.invoke(app, ["lint", "plan.yaml"])
    assert result.exit_code == 1
    assert result.stderr.startswith("plan.yaml:1:1: phases: missing required field 'phases'")


def test_init_writes_the_template_and_refuses_to_overwrite(in_tmp: Path) -> None:
    first = runner.invoke(app, ["init", "--scenario", "code-generation"])
    assert first.exit_code == 0, first.output
    assert (in_tmp / "trustramp.yaml").read_text() == template_text("code-generation")
    assert "medium stakes" in first.stdout
    (in_tmp / "trustramp.yaml").write_text("edited\n")
    again = runner.invoke(app, ["init", "--scenario", "summarization"])
    assert again.exit_code == 2
    assert "trustramp.yaml already exists; pass --force" in again.stderr
    assert (in_tmp / "trustramp.yaml").read_text() == "edited\n"
    forced = runner.invoke(app, ["init", "--scenario", "summarization", "--force"])
    assert forced.exit_code == 0
    assert (in_tmp / "trustramp.yaml").read_text() == template_text("summarization")


def test_init_output_path_and_unwritable_directory(in_tmp: Path) -> None:
    result = runner.invoke(app, ["init", "--scenario", "financial-advisor", "--output", "fa.yaml"])
    assert result.exit_code == 0
    assert runner.invoke(app, ["validate", "fa.yaml"]).exit_code == 0
    missing_dir = runner.invoke(
        app, ["init", "--scenario", "financial-advisor", "--output", "no/such/dir/fa.yaml"]
    )
    assert missing_dir.exit_code == 1
    assert missing_dir.stderr.startswith("no/such/dir/fa.yaml: cannot write the plan")


def test_init_unknown_scenario_is_a_usage_error(in_tmp: Path) -> None:
    result = runner.invoke(app, ["init", "--scenario", "chatbot"])
    assert result.exit_code == 2
    assert "chatbot" in result.stderr
    assert not (in_tmp / "trustramp.yaml").exists()


@pytest.mark.parametrize("name", ["d[/]/plan.yaml", "p[red]x.yaml", "p[bold].yaml"])
def test_lint_prints_a_bracketed_file_name_verbatim(in_tmp: Path, name: str) -> None:
    text = template_text("financial-advisor").replace("until_phase: small-portfolios\n",
                                                      "until_phase: employees\n", 1)
    (in_tmp / name).parent.mkdir(parents=True, exist_ok=True)
    write(in_tmp / name, text)
    result = runner.invoke(app, ["lint", name])
    assert result.exit_code == 1, result.output
    assert result.stdout.lstrip().startswith(f"lint {name}")
    assert "TR011" in result.stdout


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("a: " + "[" * 5_000 + "]" * 5_000 + "\n", "1:103", "nesting deeper than 100 levels"),
        ("".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}' if i else 'x'] * 10)}]\n"
                 for i in range(8)), "5:45", "the alias *a3 expands the plan past"),
    ],
)
def test_validate_reports_a_runaway_plan_with_its_place(
    in_tmp: Path, text: str, where: str, message: str,
) -> None:
    write(in_tmp / "plan.yaml", text)
    result = runner.invoke(app, ["validate", "plan.yaml"])
    assert result.exit_code == 1
    assert f"plan.yaml:{where}: (plan): {message}" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
