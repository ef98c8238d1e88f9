"""DESIGN.md's layering, checked on the source: an inner layer never imports an outer one.

The decision path and the statistics must stay free of web and database imports so
that the server, the SDKs and the embedded client can share them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "trustramp"


def ours(*packages: str) -> set[str]:
    return {f"trustramp.{package}" for package in packages}


# The embedded client and the command line are outermost: nothing inside imports them.
APP = ours("rollout", "cli")
# Web and database libraries the checks below keep out of the pure layers.
WEB_AND_DATABASE = {"sqlalchemy", "alembic", "psycopg", "fastapi", "starlette", "httpx",
                    "requests", "uvicorn"}
# package -> top-level modules it must never import (directly or from trustramp)
FORBIDDEN = {
    "stats": ours("events", "targeting", "plan", "decide", "store", "readiness")
    | APP
    | {"sqlalchemy", "pydantic", "typer", "rich", "yaml"},
    "targeting": ours("plan", "decide", "store", "readiness") | APP | {"sqlalchemy", "typer"},
    "plan": ours("decide", "store", "readiness") | APP | {"sqlalchemy", "typer", "rich"},
    "decide": ours("store", "readiness") | APP | {"sqlalchemy", "typer", "rich", "yaml"},
    "store": ours("decide") | APP | {"typer", "rich"},
    # The readiness check reads a plan and a file and computes; the controller stores
    # its report and the CLI prints it.
    "readiness": ours("store", "targeting", "server", "controller", "monitor") | APP
    | WEB_AND_DATABASE | {"typer", "rich"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violates(module: str, forbidden: set[str]) -> bool:
    return any(module == bad or module.startswith(bad + ".") for bad in forbidden)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_inner_layer_does_not_import_outer(package: str) -> None:
    files = sorted((SRC / package).rglob("*.py"))
    assert files, f"no sources found for {package}"
    bad = {
        f"{path.relative_to(SRC)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if violates(module, FORBIDDEN[package])
    }
    assert not bad, "\n".join(sorted(bad))


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from trustramp.store import open_store\nimport sqlalchemy.orm\n")
    found = imported_modules(module)
    assert violates("trustramp.store", FORBIDDEN["decide"])
    assert "trustramp.store" in found
    assert any(violates(name, FORBIDDEN["decide"]) for name in found)
