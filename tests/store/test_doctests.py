"""The examples in the store's docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

MODULES = [
    "trustramp.store",
    "trustramp.store.database",
    "trustramp.store.migrate",
    "trustramp.store.opening",
    "trustramp.store.protocol",
    "trustramp.store.records",
    "trustramp.store.sql",
    "trustramp.store.writer",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that touch the default database stay here
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
