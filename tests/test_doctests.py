"""The examples in every module's docstrings run and print what they claim.

They are documentation: a wrong example misleads more than a missing one.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import trustramp

ROOT = Path(__file__).resolve().parents[1]
SKIP = ("trustramp.store.migrations",)  # Alembic's env.py runs migrations when imported
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(trustramp.__path__, "trustramp.")
    if not info.name.startswith(SKIP)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Store examples may create the default database: keep it out of the checkout.
    # The others name example files relative to the repository root.
    monkeypatch.chdir(tmp_path if name.startswith("trustramp.store") else ROOT)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_examples_exist() -> None:
    attempted = {
        name: doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS,
                              report=False).attempted
        for name in ("trustramp.plan.loader", "trustramp.stats.threshold", "trustramp.events",
                     "trustramp.targeting.bucketing", "trustramp.decide.sampling")
    }
    assert all(count > 0 for count in attempted.values()), attempted
