"""The Markdown report: the verdict, the numbers, and text from files kept in its cell."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.readiness.heldout import (
    as_eval_set,
    heldout_rows,
    make_plan,
    plan_dict,
    write_jsonl,
)
from trustramp.readiness import (
    ReadinessReport,
    evaluate_readiness,
    load_eval_file,
    render_markdown,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def report_for(weak_penalty: float = 0.0, data: dict[str, Any] | None = None
               ) -> ReadinessReport:
    rows = heldout_rows(2000, seed=7, weak_task="tax_lots", weak_penalty=weak_penalty)
    return evaluate_readiness(make_plan(data), as_eval_set(rows), now=NOW)


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading``."""
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def test_a_passing_report_says_ready_and_shows_its_numbers(tmp_path: Path) -> None:
    held_out = load_eval_file(write_jsonl(tmp_path / "advice.jsonl", heldout_rows(2000, seed=7)))
    report = evaluate_readiness(make_plan(), held_out, now=NOW)
    text = render_markdown(report)
    assert text.startswith("# Readiness of advice\n\n**Verdict: READY** - no checklist item "
                           "fails.")
    accuracy = report.item("heldout_accuracy")
    assert f"accuracy {accuracy.estimate:.3f} [" in text
    assert report.fingerprint in text
    assert f"held-out file: {held_out.path}, 2,000 answers, SHA-256 `{held_out.sha256}`" in text
    assert "made 2025-03-01T12:00:00+00:00" in text
    assert "baseline for production monitoring: 2,000 of the 2,000 held-out answers" in text
    checklist = table_rows(text, "## Checklist")
    assert [row[:2] for row in checklist] == [
        ["PASS", "Held-out accuracy"], ["PASS", "Input patterns covered"],
        ["PASS", "Error slices"], ["PASS", "Worst case"],
        ["PASS", "Guardrails of the first phase"], ["PASS", "Confidence thresholds"],
        ["INFO", "Calibration"], ["INFO", "Sign-off"]]


def test_the_thresholds_reliability_and_worst_case_sections() -> None:
    report = report_for()
    text = render_markdown(report)
    phases = table_rows(text, "## Confidence thresholds per phase")
    assert [row[0] for row in phases] == ["pilot", "wide"]
    first = report.thresholds[0]
    assert phases[0][1] == "0.9 (success)"
    assert phases[0][2] == f"{first.certified:g} ({first.certified_coverage:.1%} shown)"
    assert phases[0][3] == "0.95"
    assert phases[0][4] == f"{first.plan_coverage:.1%} ({first.plan_n_shown:,})"
    bins = table_rows(text, "## Calibration")
    assert len(bins) == 10
    assert bins[-1][0] == "[0.9, 1.0]"
    assert bins[-1][1] == f"{report.calibration.bins[-1].count:,}"
    w = report.worst_case
    assert f"**{w.cost_per_1000:,.0f} USD**" in text
    assert "> A user acts on a wrong allocation." in text
    assert [row[0] for row in table_rows(text, "## Sign-off")] == ["product", "legal"]


def test_a_failing_report_says_what_blocks_the_launch_and_lists_the_slices() -> None:
    report = report_for(weak_penalty=0.3)
    text = render_markdown(report)
    assert "**Verdict: NOT READY** - " in text
    for sentence in report.missing:
        assert f"- {sentence}" in text
    slices = table_rows(text, "## Where errors concentrate")
    assert slices[0][0] == report.slices.top[0].description
    assert "task = tax_lots" in slices[0][0]


def test_text_from_the_plan_stays_in_its_cell_and_is_not_html() -> None:
    data = plan_dict()
    data["readiness"]["worst_case"]["description"] = "Loses | money <script>x</script>\nfast"
    text = render_markdown(report_for(data=data))
    row = next(r for r in table_rows(text, "## Checklist") if r[1] == "Worst case")
    assert len(row) == 3
    assert "Loses \\| money &lt;script>x&lt;/script> fast" in row[2]
    assert "<script>" not in text
