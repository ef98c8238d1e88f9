"""Importing an inner layer loads only what that layer needs (checked in a fresh interpreter).

``trustramp/__init__`` imports lazily, so ``import trustramp.stats`` must not pull in
pydantic, PyYAML or SQLAlchemy through the package, and the decision path must not
pull in the store.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pydantic", "yaml", "sqlalchemy", "alembic", "typer", "rich", "fastapi", "httpx")


def loaded_after(statement: str) -> set[str]:
    script = (f"import sys\n{statement}\nimport json\n"
              f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=True)
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        ("import trustramp", set()),
        ("import trustramp.stats", set()),
        ("import trustramp.targeting", set()),
        ("import trustramp.vocabulary, trustramp.errors, trustramp.events", set()),
        ("import trustramp.decide", {"pydantic", "yaml"}),
        ("from trustramp import Action, RolloutStatus, TrustrampError", set()),
    ],
)
def test_inner_layers_stay_light(statement: str, allowed: set[str]) -> None:
    assert loaded_after(statement) <= allowed


def test_the_check_sees_a_heavy_import() -> None:
    assert "sqlalchemy" in loaded_after("import trustramp.store")


def test_lazy_names_resolve_and_unknown_names_fail() -> None:
    import trustramp

    assert trustramp.RolloutStatus("killed").value == "killed"
    assert trustramp.Rollout.__name__ == "Rollout"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        trustramp.Nope  # noqa: B018
