"""Plan errors for people: file, line, column, field path, and what is expected.

Every way a plan can fail to load (a missing file, a YAML syntax error, a
duplicate key, a schema violation, a targeting condition that does not compile)
ends up as one :class:`PlanError` holding one :class:`PlanProblem` per mistake,
so the CLI can print them all and never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trustramp.errors import TrustrampError

PathPart = str | int
FieldPath = tuple[PathPart, ...]


def format_path(path: Sequence[PathPart]) -> str:
    """Render a field path the way a person reads the YAML file.

    >>> format_path(("phases", 1, "guardrails", "confidence", "threshold"))
    'phases[1].guardrails.confidence.threshold'
    >>> format_path(())
    '(plan)'
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(plan)"


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """A '; did you mean ...?' suffix naming the closest choice, or '' when none is close.

    >>> did_you_mean("hihg", ["low", "medium", "high"])
    "; did you mean 'high'?"
    """
    close = difflib.get_close_matches(given, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One mistake in a plan: where it is (1-based line and column) and what is wrong.

    >>> str(PlanProblem("plan.yaml", 12, 18, "phases[1].percent", "expected a number"))
    'plan.yaml:12:18: phases[1].percent: expected a number'
    """

    source: str
    line: int
    column: int
    field_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.field_path}: {self.message}"


class PlanError(TrustrampError, ValueError):
    """A plan that cannot be used; ``problems`` lists every mistake found, in file order.

    Its code is ``plan_invalid``.

    ``str()`` renders one line per problem, ``file:line:column: field.path: message``.

    >>> error = PlanError([PlanProblem("p.yaml", 3, 5, "feature.stakes", "expected ...")])
    >>> error.problems[0].line
    3
    """

    code = "plan_invalid"

    def __init__(self, problems: Iterable[PlanProblem]) -> None:
        ordered = sorted(problems, key=lambda p: (p.source, p.line, p.column, p.field_path))
        if not ordered:
            raise ValueError("PlanError needs at least one problem")
        self.problems: tuple[PlanProblem, ...] = tuple(ordered)
        super().__init__("\n".join(str(problem) for problem in self.problems))
