"""The examples in the plan package's docstrings run and hold (they are documentation)."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

MODULES = ["errors", "document", "loader", "messages", "audience", "lint", "templates"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name examples/plans/... relative to the repo
    module = importlib.import_module(f"trustramp.plan.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_package_docstring_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(importlib.import_module("trustramp.plan"))
    assert result.attempted > 0
    assert result.failed == 0
