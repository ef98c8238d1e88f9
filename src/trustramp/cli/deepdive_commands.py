"""``trustramp worst`` and ``trustramp replay``: the weekly look back at logged outputs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from trustramp.cli.app import app, fail
from trustramp.cli.rollout_commands import FeatureArgument, load_plan_or_exit
from trustramp.cli.store_access import DatabaseOption, JsonOption, controller_errors, opened_store
from trustramp.controller import Controller
from trustramp.deepdive import ReplayRun, parse_what_if, replay, worst_outputs
from trustramp.events import utc_now
from trustramp.plan.schema import parse_duration

__all__ = ["app"]

LastOption = Annotated[str, typer.Option("--last", help="The window: 30m, 36h, 7d, 2w.")]


def _window(last: str) -> timedelta:
    try:
        return parse_duration(last)
    except ValueError as error:
        fail(f"error: --last: {error}", 2)


@app.command()
def worst(feature: FeatureArgument, last: LastOption = "7d",
          limit: Annotated[int, typer.Option("--limit", min=1, max=1000,
                                             help="How many outputs.")] = 20,
          database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """The worst recent outputs: critical errors, rejected by reviewers, confidently wrong,
    thumbs down, tickets; with their input, confidence, outcome and error slices."""
    now = utc_now()
    with opened_store(database) as store, controller_errors():
        report = worst_outputs(store, feature, since=now - _window(last), until=now,
                               limit=limit)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
        return
    console = Console(highlight=False)
    console.print(Text(f"{feature}: the {len(report.worst)} worst of {report.outputs:,} "
                       f"outputs in the last {last} ({report.with_outcome:,} with an "
                       f"outcome); {report.slices_note}"))
    if not report.worst:
        console.print(Text("nothing went wrong that trustramp heard of in this window"))
        return
    table = Table(show_lines=True)
    for column in ("when", "phase", "confidence", "input", "what went wrong", "slices"):
        table.add_column(column, overflow="fold")
    for item in report.worst:
        out = item.logged.output
        table.add_row(Text(f"{out.ts:%m-%d %H:%M}"), Text(out.phase or "-"),
                      Text(f"{out.confidence:.2f}" if out.confidence is not None else "-"),
                      Text(json.dumps(out.input_attributes)[:200]),
                      Text(item.why + "".join(f"\n\"{c}\"" for c in item.logged.comments
                                              + item.logged.tickets)),
                      Text("\n".join(item.slices) or "-"))
    console.print(table)


@app.command("replay")
def replay_command(
    feature: FeatureArgument,
    what_if: Annotated[list[str], typer.Option(
        "--what-if", help="A guardrail setting to try: confidence_threshold=0.9, "
        "review_rate=0.05, below=fallback|ask_user|show_flagged (repeatable).",
        show_default=False)],
    last: LastOption = "7d",
    phase: Annotated[str | None, typer.Option("--phase", help="Only this phase's outputs.",
                                              show_default=False)] = None,
    plan: Annotated[Path | None, typer.Option(
        "--plan", help="Replay under this plan file (default: the version the store runs).",
        show_default=False)] = None,
    database: DatabaseOption = None, as_json: JsonOption = False,
) -> None:
    """Re-run logged outputs through the gate under other guardrail settings: coverage and
    accuracy of the answers shown, with intervals, as logged and what if."""
    try:
        settings = parse_what_if(what_if)
    except ValueError as error:
        fail(f"error: {error}", 2)
    now = utc_now()
    with opened_store(database) as store, controller_errors():
        spec = load_plan_or_exit(plan)[0] if plan else Controller(store).plan(feature)
        if spec.feature.key != feature:
            fail(f"error: the plan is for {spec.feature.key!r}, not {feature!r}", 2)
        runs = replay(store, spec, settings, since=now - _window(last), until=now,
                      phase=phase)
    if as_json:
        typer.echo(json.dumps({"feature": feature, "last": last,
                               "runs": [run.to_json() for run in runs]}, indent=2))
        return
    _print(feature, last, runs)


def _print(feature: str, last: str, runs: tuple[ReplayRun, ...]) -> None:
    table = Table(title=Text(f"{feature}: {runs[0].outputs:,} logged answers, last {last}"))
    for column in ("run", "coverage [95%]", "accuracy shown [95%] (n)", "wrong shown",
                   "held for review", "same as logged"):
        table.add_column(column)
    for run in runs:
        coverage, (c_low, c_high) = run.coverage
        accuracy, (a_low, a_high) = run.accuracy
        same = f"{run.agreement:.1%}" if run.agreement is not None else ""
        table.add_row(Text(run.name), Text(f"{coverage:.1%} [{c_low:.1%}, {c_high:.1%}]"),
                      Text(f"{accuracy:.1%} [{a_low:.1%}, {a_high:.1%}] ({run.labelled_shown})"),
                      Text(str(run.wrong_shown)), Text(str(run.held)), Text(same))
    console = Console(highlight=False)
    console.print(table)
    console.print(Text("rate limits are not replayed; accuracy counts answers with a label "
                       "or a randomly sampled review"))
