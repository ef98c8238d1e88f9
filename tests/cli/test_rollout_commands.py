"""The controller's verbs on the command line: one line per outcome, exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from trustramp.cli import app

from ..decide.plans import lint_clean_plan_dict

runner = CliRunner()
FEATURE = "portfolio-advice"


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the default database lands under tmp_path/.trustramp
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(lint_clean_plan_dict(), sort_keys=False))
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_start_then_the_whole_life_of_a_rollout(plan: Path) -> None:
    code, out, _ = run("start", str(plan), "--actor", "ana")
    assert code == 0
    assert "register: portfolio-advice is draft" in out
    assert "start: portfolio-advice is running in phase 'beta'" in out
    assert run("promote", FEATURE, "--actor", "ana")[1].startswith("promote: ")
    code, out, _ = run("pause", FEATURE, "--reason", "tickets spiked", "--actor", "bob")
    assert (code, out.split(":")[0]) == (0, "pause")
    code, out, err = run("pause", FEATURE, "--reason", "again")
    assert code == 0
    assert out.startswith("unchanged: 'portfolio-advice' is already paused")
    assert run("kill", FEATURE, "--reason", "wrong tickers")[0] == 0
    code, _, err = run("pause", FEATURE, "--reason", "x")
    assert code == 1
    assert "a kill is only undone by resume" in err
    assert run("resume", FEATURE, "--reason", "fixed", "--actor", "ana")[0] == 0
    assert run("rollback", FEATURE, "--to", "beta")[1].startswith("rollback: ")
    code, out, _ = run("status", FEATURE, "--json")
    state = json.loads(out)
    assert (state["status"], state["phase"], state["phase_number"]) == ("running", "beta", 1)
    code, out, _ = run("audit", FEATURE, "--json")
    assert [e["action"] for e in json.loads(out)] == [
        "register", "start", "promote", "pause", "kill", "resume", "rollback"]
    assert json.loads(out)[3]["actor"] == "bob"


def test_pause_kill_and_resume_require_a_reason(plan: Path) -> None:
    run("start", str(plan))
    for verb in ("pause", "kill", "resume"):
        code, _, err = run(verb, FEATURE)
        assert code == 2
        assert "--reason" in err


def test_a_refused_start_lists_what_is_missing(plan: Path) -> None:
    data = lint_clean_plan_dict()
    del data["phases"][0]["stop"]
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    code, out, err = run("start", str(plan))
    assert code == 1
    assert "start refused: 'portfolio-advice' is not ready to start" in err
    assert "- lint TR007 at phases[0]" in err
    code, out, _ = run("status", "--json")
    (row,) = json.loads(out)
    assert row["status"] == "draft"
    assert row["blockers"]


def test_unusable_requests_exit_2_with_one_line(plan: Path, tmp_path: Path) -> None:
    code, _, err = run("kill", "ghost", "--reason", "x")
    assert code == 2
    assert "no rollout of 'ghost'" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("feature: {key: f, stakes: extreme, fallback: x}\nphases: []\n")
    code, _, err = run("start", str(bad))
    assert code == 2
    assert f"{bad}:1:" in err
    code, _, err = run("status", "--database", "mysql://nope")
    assert code == 2
    assert "trustramp supports SQLite" in err


def test_sign_records_against_the_checklist(plan: Path) -> None:
    data = lint_clean_plan_dict()
    data["readiness"] = {
        "heldout": {"path": "heldout.jsonl", "min_accuracy": 0.9},
        "min_input_patterns": 1,
        "worst_case": {"description": "a wrong allocation", "amount": 10},
        "required_guardrails": {"min_count": 1},
        "sign_off": ["legal"],
    }
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    code, out, _ = run("sign", str(plan), "--role", "legal", "--name", "Lee")
    assert code == 0
    assert out.startswith("signed: Lee as legal (checklist ")
    assert run("sign", str(plan), "--role", "legal", "--name", "Lee")[1].startswith("unchanged")
    code, _, err = run("sign", str(plan), "--role", "ceo", "--name", "Kim")
    assert code == 1
    assert "role 'ceo' is not among the sign-off roles" in err
    code, out, _ = run("status", FEATURE, "--json")
    (signature,) = json.loads(out)["signatures"]
    assert (signature["role"], signature["valid"]) == ("legal", True)
    code, _, err = run("start", str(plan))
    assert code == 1
    assert "no readiness evaluation of this checklist" in err
