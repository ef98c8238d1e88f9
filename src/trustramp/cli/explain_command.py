"""``trustramp explain``: one decision and every rule behind it.

Exit codes: 0 with the explanation; 2 when an argument or the plan is unusable
(bad JSON, an invalid plan, a confidence outside [0, 1], an unknown phase), with
one message on stderr and never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from trustramp.cli.app import app, fail
from trustramp.decide import Explanation, RolloutStatus, compile_policy
from trustramp.plan import PlanError, load_plan_file

__all__ = ["app", "explain"]

_STYLE = {"pass": "green", "fail": "red", "skip": "dim"}


def _fail(message: str) -> NoReturn:
    fail(f"error: {message}", 2)


def _json_object(option: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        _fail(f"{option} is not valid JSON ({error.msg} at column {error.colno}): {text!r}")
    except RecursionError:
        _fail(f"{option} is nested too deeply to read; expected a JSON object of "
              "attributes, not one hundreds of levels deep")
    if not isinstance(value, dict):
        _fail(f"{option} must be a JSON object such as '{{\"id\": \"u1\"}}', got {text!r}")
    return value


@app.command("explain")
def explain(
    plan: Annotated[Path, typer.Argument(help="The plan file (YAML).", show_default=False)],
    user: Annotated[str, typer.Option("--user", help='The user as JSON: \'{"id": "u1", ...}\'.',
                                      show_default=False)],
    confidence: Annotated[float, typer.Option("--confidence", help="The model's confidence "
                                              "in [0, 1].", show_default=False)],
    input_json: Annotated[str | None, typer.Option("--input", help="Input attributes as "
                                                   "JSON, for the task filter.")] = None,
    phase: Annotated[str | None, typer.Option("--phase", help="Phase to decide in "
                                              "(default: the first).")] = None,
    status: Annotated[RolloutStatus, typer.Option("--status", help="Rollout state.")] = (
        RolloutStatus.RUNNING),
    admitted: Annotated[bool, typer.Option("--admitted", help="Treat the user as already "
                                           "admitted under the phase caps.")] = False,
    decision_id: Annotated[str | None, typer.Option("--decision-id", help="Replay a logged "
                                                    "decision id (review sampling).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
    = False,
) -> None:
    """Print the decision for one user and confidence, and every rule that led to it."""
    attributes = _json_object("--user", user)
    task = _json_object("--input", input_json) if input_json is not None else None
    try:
        spec = load_plan_file(plan)
    except PlanError as error:
        _fail(f"the plan is not valid:\n{error}")
    try:
        policy = compile_policy(spec, phase, status)
        unit = attributes.get("id")
        units = frozenset({str(unit)}) if admitted and unit is not None else frozenset()
        explanation = policy.explain(attributes, confidence, task, admitted=units,
                                     decision_id=decision_id)
    except ValueError as error:
        _fail(str(error))
    if as_json:
        typer.echo(json.dumps({"plan": str(plan), **explanation.as_dict()}, indent=2))
        return
    _print(explanation, Console())


def _print(explanation: Explanation, console: Console) -> None:
    # Every string here can come from the user's JSON or the plan file; as Text it is
    # shown verbatim, where a str would be parsed as Rich markup ("[/]" raises,
    # "[beta]" vanishes).
    decision = explanation.decision
    table = Table(title=Text(f"{decision.feature} · phase {decision.phase} · plan "
                             f"{decision.version}"))
    for column in ("stage", "rule", "result", "detail"):
        table.add_column(column, overflow="fold")
    for rule in explanation.rules:
        marker = " ◀" if rule.decisive else ""
        table.add_row(Text(rule.stage), Text(rule.name + marker),
                      Text(rule.result, style=_STYLE[rule.result]), Text(rule.detail))
    console.print(table)
    console.print(Text.assemble((f"decision: {decision.action.value}", "bold"),
                                f" - {decision.reason}"))
    for name, value in (("label", decision.label), ("message", decision.message),
                        ("while pending", decision.while_pending),
                        ("decision id", decision.decision_id)):
        if value is not None:
            console.print(Text(f"  {name}: {value}"))
