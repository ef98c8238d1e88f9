"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="trustramp",
    help="Roll AI features out to users without crashing their trust.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
