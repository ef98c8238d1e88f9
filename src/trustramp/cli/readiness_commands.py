"""``trustramp ready PLAN [--eval FILE]``: the readiness checklist, evaluated and reported.

Exit codes: 0 when the checklist passes (warnings allowed); 1 when an item fails;
2 when the command cannot do its job (an invalid plan, a plan without a readiness
section, an unusable held-out file, a bad ``--delta``, a report that cannot be
written), with the problems on stderr and never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from trustramp.cli.app import app, fail
from trustramp.cli.store_access import DatabaseOption, opened_controller
from trustramp.plan import Plan, PlanError, load_plan_file
from trustramp.plan.schema import Readiness
from trustramp.readiness import (
    EvalFileError,
    ItemStatus,
    ReadinessReport,
    evaluate_readiness,
    load_eval_file,
    render_markdown,
)

__all__ = ["app", "ready"]

_STYLE = {ItemStatus.PASS: "green", ItemStatus.FAIL: "bold red", ItemStatus.WARN: "yellow",
          ItemStatus.INFO: "dim"}
REPORT_FOLDER = Path(".trustramp") / "readiness"


def _plan(path: Path) -> tuple[Plan, Readiness]:
    try:
        plan = load_plan_file(path)
    except PlanError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        fail(f"{path}: the plan is not valid; fix it, then run trustramp ready again", 2)
    if plan.readiness is None:
        fail(f"error: {path} has no readiness section; add one (heldout, min_input_patterns, "
             "worst_case, required_guardrails, sign_off), e.g. from: trustramp init "
             "--scenario financial-advisor --output example.yaml", 2)
    return plan, plan.readiness


def _write(report: ReadinessReport, path: Path | None) -> Path:
    target = path if path is not None else (
        REPORT_FOLDER / f"{report.feature}-{report.fingerprint[:8]}.md")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_markdown(report), encoding="utf-8")
    except OSError as error:
        fail(f"error: {target}: cannot write the report: {error.strerror or error}; pass "
             "--report with a writable path", 2)
    return target


def _print(report: ReadinessReport, written: Path, console: Console) -> None:
    # Summaries quote the plan and the held-out file: as Text they are never markup.
    table = Table(title=Text(f"readiness {report.feature} · {report.eval_path} · "
                             f"{report.n:,} answers"), show_lines=True)
    table.add_column("status", no_wrap=True)
    table.add_column("item", no_wrap=True)
    table.add_column("summary", overflow="fold")
    for item in report.items:
        table.add_row(Text(item.status.value, style=_STYLE[item.status]), Text(item.id),
                      Text(item.summary))
    console.print(table)
    if report.passed:
        verdict = Text("READY: no item fails", style="bold green")
    else:
        failed = sum(1 for item in report.items if item.status is ItemStatus.FAIL)
        verdict = Text(f"NOT READY: {failed} item{'s' * (failed > 1)} fail", style="bold red")
    console.print(verdict)
    console.print(Text(f"checklist fingerprint {report.fingerprint[:8]}, held-out file "
                       f"SHA-256 {report.eval_sha256[:12]}; report: {written}"))


def _record(path: Path, report: ReadinessReport, database: str | None) -> None:
    text = path.read_text(encoding="utf-8")
    spec = load_plan_file(path)
    with opened_controller(database) as controller:
        controller.register(spec, text, actor="trustramp ready")
        controller.record_readiness(report.feature, plan_version=report.plan_version,
                                    report=report.to_json(), passed=report.passed,
                                    actor="trustramp ready")


@app.command("ready")
def ready(
    plan: Annotated[Path, typer.Argument(help="The plan file (YAML).", show_default=False)],
    eval_file: Annotated[Path | None, typer.Option(
        "--eval", help="The labelled held-out file, .csv or .jsonl (default: the plan's "
        "readiness.heldout.path, relative to the plan's folder).", show_default=False)] = None,
    delta: Annotated[float, typer.Option(
        "--delta", help="Risk of the certified confidence thresholds (Learn-then-Test).")]
    = 0.10,
    report_path: Annotated[Path | None, typer.Option(
        "--report", help="Where to write the Markdown report (default: "
        ".trustramp/readiness/<feature>-<fingerprint>.md).", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the report as one JSON object instead of a table.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Evaluate the plan's readiness checklist on its held-out file; exit 1 when it fails.

    The plan is registered and the report recorded in the store, where `start` reads it.
    """
    spec, readiness = _plan(plan)
    source = eval_file if eval_file is not None else plan.parent / readiness.heldout.path
    try:
        eval_set = load_eval_file(source)
    except EvalFileError as error:
        typer.echo(str(error), err=True)
        fail(f"{source}: the held-out file cannot be used; fix it or pass --eval FILE", 2)
    try:
        report = evaluate_readiness(spec, eval_set, delta=delta)
    except ValueError as error:
        fail(f"error: {error}", 2)
    written = _write(report, report_path)
    _record(plan, report, database)
    if as_json:
        typer.echo(json.dumps(report.to_json()))
        typer.echo(f"report: {written}", err=True)
    else:
        _print(report, written, Console(highlight=False))
    if not report.passed:
        raise typer.Exit(1)
