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
WEB = {"fastapi", "uvicorn", "starlette", "httpx", "requests", "prometheus_client", "jinja2"}
DATABASE = {"sqlalchemy", "alembic", "psycopg"}
OUTER = ours("controller", "monitor", "server", "sdk", "dashboard", "simulate")
# package or module -> top-level modules it must never import (directly or from trustramp)
FORBIDDEN = {
    "vocabulary.py": ours("events", "errors", "stats", "targeting", "plan", "decide", "store",
                          "readiness") | OUTER | APP | DATABASE | {"pydantic", "yaml"},
    "errors.py": ours("events", "vocabulary", "stats", "targeting", "plan", "decide", "store",
                      "readiness") | OUTER | APP | DATABASE | {"pydantic", "yaml"},
    "stats": ours("events", "errors", "vocabulary", "targeting", "plan", "decide", "store",
                  "readiness")
    | OUTER | APP | DATABASE
    | {"pydantic", "typer", "rich", "yaml"},
    "targeting": ours("plan", "decide", "store", "readiness") | OUTER | APP | DATABASE
    | {"typer"},
    "plan": ours("decide", "store", "readiness") | OUTER | APP | DATABASE | {"typer", "rich"},
    "decide": ours("store", "readiness") | OUTER | APP | DATABASE | {"typer", "rich", "yaml"},
    # The readiness check reads a plan and a file and computes; the controller stores
    # its report and the CLI prints it.
    "readiness": ours("store", "targeting") | OUTER | APP | WEB | DATABASE | {"typer", "rich"},
    "store": ours("decide", "readiness") | OUTER | APP | WEB | {"typer", "rich"},
    "deepdive": ours("controller", "server", "sdk", "dashboard", "simulate") | APP | WEB
    | {"typer", "rich"},
    "monitor": ours("controller", "server", "sdk", "dashboard", "simulate") | APP | WEB
    | {"typer", "rich"},
    "controller": ours("server", "sdk", "dashboard", "simulate") | APP
    | (WEB - {"httpx"}) | {"typer", "rich"},
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
    files = [SRC / package] if package.endswith(".py") else sorted((SRC / package).rglob("*.py"))
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
