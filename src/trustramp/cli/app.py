"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import NoReturn

import typer

app = typer.Typer(
    name="trustramp",
    help="Roll AI features out to users without crashing their trust.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``: how a command reports a
    problem it understood, so the user reads a sentence, never a traceback."""
    typer.echo(message, err=True)
    raise typer.Exit(code)
