"""``trustramp db``: the database's schema (``trustramp db upgrade [--database URL]``)."""

from __future__ import annotations

from typing import Annotated

import typer

from trustramp.cli.app import app, fail
from trustramp.store import StoreError, default_database_url, upgrade

db_app = typer.Typer(
    name="db",
    help="The database behind trustramp: create or migrate its schema.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

__all__ = ["db_app", "upgrade_command"]


@db_app.command("upgrade")
def upgrade_command(
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host:5432/db "
            f"(default: {default_database_url()}).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create or migrate the schema to the newest revision; safe to run again.

    SQLite databases are migrated automatically when opened; run this for
    PostgreSQL before starting servers on a new trustramp version.
    """
    url = database if database is not None else default_database_url()
    try:
        result = upgrade(url)
    except (ValueError, StoreError) as exc:
        fail(f"error: {exc}", 2)
    if result.changed:
        typer.echo(
            f"upgraded {result.url} from {result.before or 'an empty database'} "
            f"to {result.after} (head)"
        )
    else:
        typer.echo(f"{result.url} is already at {result.after} (head); nothing to do")
