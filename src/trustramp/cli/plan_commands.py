"""``trustramp init``, ``validate`` and ``lint``: write, check and criticise a plan file.

Exit codes: 0 when all is well; 1 when the plan has problems (schema errors, or
lint findings of error severity); 2 when ``init`` would overwrite a file. A
plan problem is printed as ``file:line:column: field.path: message``, never as
a traceback.
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
from trustramp.plan import (
    PlanDocument,
    PlanError,
    Scenario,
    has_errors,
    lint,
    load_plan_document,
    parse_plan,
    template_text,
    write_template,
)

__all__ = ["app", "init", "lint_command", "validate"]

PlanArgument = Annotated[
    Path, typer.Argument(help="The plan file (YAML).", show_default=False)
]


def _load(path: Path) -> PlanDocument:
    """The plan, or its problems on stderr and exit 1."""
    try:
        return load_plan_document(path)
    except PlanError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        count = len(error.problems)
        fail(f"{path}: {count} problem{'s' if count != 1 else ''}; the plan is not valid", 1)


@app.command()
def validate(plan: PlanArgument) -> None:
    """Check a plan against the schema: OK with a summary, or each problem with its place."""
    document = _load(plan)
    spec = document.plan
    phases = " -> ".join(phase.name for phase in spec.phases)
    typer.echo(
        f"OK {plan}: feature {spec.feature.key!r} ({spec.feature.stakes.value} stakes), "
        f"revision {spec.revision}, {len(spec.phases)} phases: {phases}"
    )


@app.command("lint")
def lint_command(
    plan: PlanArgument,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings as a JSON list.")
    ] = False,
) -> None:
    """Report rollout anti-patterns with rule id, place and why; exit 1 on any error."""
    document = _load(plan)
    findings = lint(document.plan, positions=document.positions)
    if as_json:
        rows = [{"file": str(plan), **finding.to_dict()} for finding in findings]
        typer.echo(json.dumps(rows, indent=2))
    elif not findings:
        typer.echo(f"OK {plan}: no findings")
    else:
        # The file goes in the title: a long path in every row would squeeze out the rest.
        # As Text, since a str title is Rich markup and file names may hold brackets.
        table = Table(title=Text(f"lint {plan}"), show_lines=True)
        table.add_column("line:col", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("finding and why it matters")
        for f in findings:
            style = "bold red" if f.severity == "error" else "yellow"
            detail = Text(f.field_path, style="bold")
            detail.append(f"\n{f.message}\n")
            detail.append(f"why: {f.why}", style="dim")
            table.add_row(
                Text(f"{f.line}:{f.column}"),
                Text(f"{f.rule}\n{f.severity}", style=style),
                detail,
            )
        errors = sum(1 for f in findings if f.severity == "error")
        console = Console(highlight=False)
        console.print(table)
        console.print(Text(f"{errors} error(s), {len(findings) - errors} warning(s)"))
    if has_errors(findings):
        raise typer.Exit(1)


@app.command()
def init(
    scenario: Annotated[
        Scenario, typer.Option(help="The scenario template to start from.", show_default=False)
    ],
    output: Annotated[
        Path, typer.Option(help="Where to write the plan.")
    ] = Path("trustramp.yaml"),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the output file if it exists.")
    ] = False,
) -> None:
    """Write a commented plan from a scenario template (default output: trustramp.yaml)."""
    try:
        write_template(scenario, output, force=force)
    except FileExistsError:
        fail(f"{output} already exists; pass --force to overwrite it, or --output to write "
             "the plan elsewhere", 2)
    except OSError as error:
        fail(f"{output}: cannot write the plan: {error.strerror or error}", 1)
    stakes = parse_plan(template_text(scenario), str(output)).feature.stakes.value
    typer.echo(f"wrote {output} ({scenario.value} scenario, {stakes} stakes); "
               f"edit the values marked 'yours', then run: trustramp lint {output}")
