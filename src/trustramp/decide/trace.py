"""One step of the decision path as :meth:`Policy.explain` reports it."""

from __future__ import annotations

from typing import NamedTuple


class RuleResult(NamedTuple):
    """One rule the decision path checked: ``result`` is ``pass``, ``fail`` or ``skip``.

    ``decisive`` marks the rule that settled the exposure or the decision.

    >>> RuleResult("gate", "confidence", "pass", "0.970 >= 0.95").decisive
    False
    """

    stage: str  # exposure | gate
    name: str
    result: str
    detail: str
    decisive: bool = False


Trace = list[RuleResult] | None
"""Where the decision path appends the rules it checks; None on the fast path."""
