"""``trustramp ready``: exit codes, --json, the report file, and no traceback on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.readiness.heldout import heldout_rows, plan_dict, write_csv, write_jsonl
from trustramp.cli import app
from trustramp.readiness import ReadinessReport

runner = CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_plan(folder: Path, data: dict[str, Any] | None = None) -> Path:
    path = folder / "plans" / "advice.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data if data is not None else plan_dict()), encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ready", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_a_passing_checklist_exits_0_with_the_default_eval_path(in_tmp: Path) -> None:
    plan = write_plan(in_tmp)
    # readiness.heldout.path is evals/advice.jsonl, relative to the plan's folder
    write_jsonl(in_tmp / "plans" / "evals" / "advice.jsonl", heldout_rows(2000, seed=7))
    code, out, _ = run(str(plan))
    assert code == 0
    assert "READY: no item fails" in out
    for item in ("heldout_accuracy", "input_patterns", "error_slices", "worst_case",
                 "guardrails", "thresholds", "calibration", "sign_off"):
        assert item in out
    [report] = (in_tmp / ".trustramp" / "readiness").glob("advice-*.md")
    assert "report: .trustramp/readiness/advice-" in out.replace("\n", "")
    assert "**Verdict: READY**" in report.read_text(encoding="utf-8")


def test_a_failing_checklist_exits_1_and_json_is_one_object(in_tmp: Path) -> None:
    plan = write_plan(in_tmp)
    rows = heldout_rows(400, seed=7)  # fewer than the 500 examples required
    held_out = write_csv(in_tmp / "h.csv", rows)
    code, out, err = run(str(plan), "--eval", str(held_out), "--json", "--report", "r.md")
    assert code == 1
    data = json.loads(out)  # the whole of stdout is one JSON object
    assert isinstance(data, dict)
    assert data["passed"] is False
    assert data["missing"][0].startswith("accuracy ")
    assert "only 400 of the 500 examples required" in data["missing"][0]
    assert ReadinessReport.from_json(data).n == 400
    assert err.strip() == "report: r.md"
    assert (in_tmp / "r.md").read_text(encoding="utf-8").count("NOT READY") == 1


def test_the_delta_option_reaches_the_thresholds(in_tmp: Path) -> None:
    plan = write_plan(in_tmp)
    held_out = write_jsonl(in_tmp / "h.jsonl", heldout_rows(2000, seed=7))
    _, out, _ = run(str(plan), "--eval", str(held_out), "--json", "--delta", "0.05")
    assert json.loads(out)["delta"] == 0.05
    assert "at delta 0.05" in json.loads(out)["thresholds"][0]["note"]


def test_bad_held_out_file_exits_2_with_its_lines(in_tmp: Path) -> None:
    plan = write_plan(in_tmp)
    bad = in_tmp / "h.csv"
    bad.write_text("confidence,correct\n0.9,1\nhigh,1\n", encoding="utf-8")
    code, out, err = run(str(plan), "--eval", str(bad))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"{bad}:3: confidence: 'high' is not a number; expected a confidence in [0, 1]",
        f"{bad}: the held-out file cannot be used; fix it or pass --eval FILE",
    ]


def test_missing_default_eval_file_names_where_it_looked(in_tmp: Path) -> None:
    plan = write_plan(in_tmp)
    code, _, err = run(str(plan))
    assert code == 2
    assert err.startswith(f"{in_tmp / 'plans' / 'evals' / 'advice.jsonl'}:1: (file): no such "
                          "file")


def test_bad_plans_exit_2(in_tmp: Path) -> None:
    code, _, err = run("nowhere.yaml")
    assert code == 2
    assert err.startswith("nowhere.yaml:1:1: (plan): no such file")
    broken = in_tmp / "broken.yaml"
    broken.write_text("feature: {key: f, stakes: extreme, fallback: x}\nphases: []\n")
    code, _, err = run(str(broken))
    assert code == 2
    assert f"{broken}:1:" in err
    data = plan_dict()
    del data["readiness"]
    code, _, err = run(str(write_plan(in_tmp, data)))
    assert code == 2
    assert "has no readiness section; add one" in err


def test_an_unwritable_report_path_exits_2(in_tmp: Path) -> None:
    plan = write_plan(in_tmp)
    held_out = write_jsonl(in_tmp / "h.jsonl", heldout_rows(600, seed=7))
    (in_tmp / "afile").write_text("x")
    code, out, err = run(str(plan), "--eval", str(held_out), "--report", "afile/report.md")
    assert code == 2
    assert out == ""
    assert err.startswith("error: afile/report.md: cannot write the report: ")


@pytest.mark.parametrize("delta", ["0", "1.5"])
def test_a_delta_outside_0_1_exits_2(in_tmp: Path, delta: str) -> None:
    plan = write_plan(in_tmp)
    held_out = write_jsonl(in_tmp / "h.jsonl", heldout_rows(100, seed=7))
    code, _, err = run(str(plan), "--eval", str(held_out), "--delta", delta)
    assert code == 2
    assert "delta: expected a number strictly between 0 and 1" in err


def test_markup_in_the_plan_is_printed_verbatim(in_tmp: Path) -> None:
    data = plan_dict()
    data["readiness"]["worst_case"]["description"] = "[bold]loses[/] money [/]"
    plan = write_plan(in_tmp, data)
    held_out = write_jsonl(in_tmp / "h.jsonl", heldout_rows(600, seed=7))
    code, out, _ = run(str(plan), "--eval", str(held_out))
    assert code == 0
    assert "[bold]loses[/] money [/]" in out
