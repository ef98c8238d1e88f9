"""The packaged migration creates exactly the models' schema, on both backends."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trustramp.store import StoreError, UpgradeResult, head_revision, open_store, upgrade
from trustramp.store.models import VERSION_TABLE, metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


def test_migration_creates_what_the_models_describe(empty_url: str) -> None:
    result = upgrade(empty_url)
    assert (result.before, result.after, result.changed) == (None, head_revision(), True)
    engine = sa.create_engine(empty_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        diff = compare_metadata(context, metadata)
        tables = set(sa.inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert tables == {*metadata.tables, VERSION_TABLE}


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    upgrade(empty_url)
    again = upgrade(empty_url)
    assert (again.before, again.after, again.changed) == (head_revision(), head_revision(), False)


def test_compare_metadata_would_notice_a_missing_table(tmp_path: Path) -> None:
    # Guards the test above against comparing nothing.
    url = f"sqlite:///{tmp_path / 'partial.db'}"
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE audit_log")
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert [entry[0] for entry in diff] == ["add_table", "add_index"]
    assert diff[0][1].name == "audit_log"


@pytest.mark.postgres
def test_open_store_refuses_an_unmigrated_postgres_with_the_command_to_run(
    fresh_postgres_url: str,
) -> None:
    with pytest.raises(StoreError, match=r"none \(empty\).*run: trustramp db upgrade --database"):
        open_store(fresh_postgres_url)
    upgrade(fresh_postgres_url)
    open_store(fresh_postgres_url).close()


def test_default_store_is_sqlite_under_dot_trustramp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    open_store().close()
    assert (tmp_path / ".trustramp" / "trustramp.db").is_file()
    # Absolute once opened: a later chdir must not move the database.
    again = open_store()
    os.chdir(tmp_path.parent)
    assert again.get_state("advice") is None
    assert not (tmp_path.parent / ".trustramp").exists()
    again.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "is not a URL; expected e.g."),
        ("mysql://u@h/db", "uses 'mysql'; trustramp supports SQLite"),
    ],
)
def test_bad_urls_say_what_is_expected(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_store(url)


def test_unreachable_database_is_one_line_store_error() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql+psycopg://u:hunter2@127.0.0.1:1/db")
    text = str(caught.value)
    assert "\n" not in text
    assert "hunter2" not in text
    assert "127.0.0.1:1" in text


def test_concurrent_upgrades_of_one_database_are_serialized(empty_url: str) -> None:
    results: list[UpgradeResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        start.wait()
        try:
            results.append(upgrade(empty_url))
        except BaseException as exc:  # collected: the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.changed for r in results) == [False, False, False, True]


UPGRADE_WHEN_TOLD = """
import json, sys, time
from pathlib import Path
from trustramp.store import upgrade
folder, name, url = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
(folder / name).touch()
while not (folder / "go").exists():
    time.sleep(0.001)
print(json.dumps(upgrade(url).changed))
"""


def test_concurrent_upgrades_from_separate_processes_are_serialized(
    empty_url: str, tmp_path: Path
) -> None:
    # Threads of one process queue on a process-wide lock before reaching the
    # database; only separate processes test the database lock itself.
    names = [f"ready{i}" for i in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_WHEN_TOLD, str(tmp_path), name, empty_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / name).exists() for name in names):
        assert time.monotonic() < deadline, "the upgrade processes did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert sorted(json.loads(out) for out, _ in outputs) == [False, False, True]


def test_upgrades_of_different_databases_in_threads_do_not_mix(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'db{i}.sqlite'}" for i in range(6)]
    results: dict[str, UpgradeResult] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(urls))

    def run(url: str) -> None:
        start.wait()
        try:
            results[url] = upgrade(url)
        except BaseException as exc:  # collected: the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(results[url].changed for url in urls)
    for url in urls:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) == {
                *metadata.tables,
                VERSION_TABLE,
            }
        engine.dispose()


@pytest.fixture
def newer_url(empty_url: str) -> str:
    """A database migrated, then stamped by an imagined newer trustramp (r0099)."""
    upgrade(empty_url)
    engine = sa.create_engine(empty_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = 'r0099'")
    engine.dispose()
    return empty_url


NEWER = (
    "is at schema revision r0099, newer than this trustramp knows "
    f"(head {head_revision()}): upgrade trustramp"
)


def test_a_database_from_a_newer_trustramp_is_refused_with_a_store_error(newer_url: str) -> None:
    with pytest.raises(StoreError, match=re.escape(NEWER)):
        open_store(newer_url)
    with pytest.raises(StoreError, match=re.escape(NEWER)):
        upgrade(newer_url)
    engine = sa.create_engine(newer_url)
    with engine.connect() as connection:  # refused, not "downgraded" or overwritten
        assert connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar() == (
            "r0099"
        )
    engine.dispose()
