"""``trustramp db upgrade``: says what it did; a bad URL is one line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from trustramp.cli import app
from trustramp.store import head_revision
from trustramp.store.models import VERSION_TABLE

runner = CliRunner()


def test_upgrade_reports_what_it_did_then_that_nothing_was_left(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert first.exit_code == 0, first.output
    assert f"from an empty database to {head_revision()}" in first.stdout
    second = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert second.exit_code == 0
    assert "already at" in second.stdout
    assert f"already at {head_revision()} (head)" in second.stdout
    assert "nothing to do" in second.stdout


@pytest.mark.postgres
def test_upgrade_postgres(fresh_postgres_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database", fresh_postgres_url])
    assert result.exit_code == 0, result.output
    assert "upgraded postgresql+psycopg://postgres@127.0.0.1:5432/test" in result.stdout


def test_default_database_is_the_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".trustramp" / "trustramp.db").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "error: database URL 'nonsense' is not a URL"),
        ("mysql://u@h/db", "uses 'mysql'"),
        (
            "postgresql+psycopg://u:secret@127.0.0.1:1/db",
            "could not upgrade the schema on database",
        ),
    ],
)
def test_bad_url_is_one_clear_line_and_exit_code_2(url: str, message: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert "secret" not in result.output


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_database_from_a_newer_trustramp_is_one_line_and_exit_code_2(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'newer.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    assert runner.invoke(app, ["db", "upgrade", "--database", url]).exit_code == 0
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = 'r0099'")
    engine.dispose()
    result = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: the database ")
    assert lines[0].endswith(
        f"is at schema revision r0099, newer than this trustramp knows (head {head_revision()}): "
        "upgrade trustramp"
    )
