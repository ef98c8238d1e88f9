"""Command line: one verb per job (see DESIGN.md, "Command line").

Each command module registers its verbs on :data:`trustramp.cli.app.app`; importing
them here is what puts them on the command line.
"""

from __future__ import annotations

import sys

from trustramp.cli import (
    db_commands,
    deepdive_commands,
    explain_command,
    plan_commands,
    readiness_commands,
    rollout_commands,
)
from trustramp.cli.app import app

__all__ = [
    "app",
    "db_commands",
    "deepdive_commands",
    "explain_command",
    "main",
    "plan_commands",
    "readiness_commands",
    "rollout_commands",
]


def main() -> None:
    """Entry point of the ``trustramp`` script: no traceback ever reaches the user."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
