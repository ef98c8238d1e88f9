"""Scenario templates: commented plan files a team starts from (``trustramp init``).

Each template encodes one scenario of the seed: a low-stakes summarizer, a
high-stakes financial advisor and a medium-stakes code generator. They ship as
YAML files in ``trustramp/plan/templates/`` so that the comments reach the user;
the tests load and lint every one of them.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from os import PathLike
from pathlib import Path


class Scenario(StrEnum):
    """The scenario templates ``trustramp init --scenario`` can write."""

    SUMMARIZATION = "summarization"  # low stakes
    FINANCIAL_ADVISOR = "financial-advisor"  # high stakes
    CODE_GENERATION = "code-generation"  # medium stakes


def template_text(scenario: Scenario | str) -> str:
    """The YAML text of a scenario's template; ValueError names the known scenarios.

    >>> "stakes: high" in template_text("financial-advisor")
    True
    """
    try:
        chosen = Scenario(scenario)
    except ValueError:
        known = ", ".join(s.value for s in Scenario)
        raise ValueError(f"scenario: unknown scenario {scenario!r}; expected one of {known}") \
            from None
    files = resources.files("trustramp.plan") / "templates" / f"{chosen.value}.yaml"
    return files.read_text(encoding="utf-8")


def write_template(
    scenario: Scenario | str, output: str | PathLike[str], *, force: bool = False
) -> Path:
    """Write a scenario's template to ``output`` and return the path.

    Without ``force`` an existing file is left alone and FileExistsError is
    raised; the check and the creation are one operation, so a file that
    appears in between is not overwritten either.

    >>> import tempfile, os
    >>> path = write_template("summarization", os.path.join(tempfile.mkdtemp(), "plan.yaml"))
    >>> path.read_text().startswith("# trustramp plan: document summarization")
    True
    """
    text = template_text(scenario)
    path = Path(output)
    with path.open("w" if force else "x", encoding="utf-8") as handle:
        handle.write(text)
    return path
