"""What every command that reads or writes state shares: ``--database`` and one way to fail.

A store that cannot be opened, a refused transition, an unknown feature: each ends
as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from trustramp.cli.app import fail
from trustramp.controller import Controller
from trustramp.errors import NotFoundError, TransitionRefusedError, TrustrampError
from trustramp.store import Store, StoreError, default_database_url, open_store

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the store, e.g. postgresql+psycopg://user@host:5432/db "
        f"(default: {default_database_url()}).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def opened_store(database: str | None) -> Iterator[Store]:
    """The store at ``database`` (default: the SQLite file under .trustramp/), closed after."""
    try:
        store = open_store(database)
    except (StoreError, ValueError) as error:
        fail(f"error: {error}", 2)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def controller_errors() -> Iterator[None]:
    """Turn the controller's and the store's errors into one line and an exit code.

    1: the controller refused the change (the message says why and what to do);
    2: the request itself is unusable (an unknown feature, a bad value, no database).
    """
    try:
        yield
    except TransitionRefusedError as refused:
        fail(f"error: {refused}", 1)
    except NotFoundError as missing:
        fail(f"error: {missing}", 2)
    except (StoreError, ValueError, TrustrampError) as error:
        fail(f"error: {error}", 2)


@contextmanager
def opened_controller(database: str | None) -> Iterator[Controller]:
    with opened_store(database) as store, controller_errors():
        yield Controller(store)
