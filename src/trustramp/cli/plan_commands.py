"""plan_commands commands."""

from __future__ import annotations

from trustramp.cli.app import app

__all__ = ["app"]
