"""trustramp: roll AI features out to users without crashing their trust.

The public surface, deliberately short::

    import trustramp

    policy = trustramp.load_plan("portfolio-advice.yaml")      # pure, no storage
    exposure = policy.exposure({"id": "u42", "is_employee": True})
    decision = policy.gate(exposure, 0.97, input={"task": "explain_allocation"})

    with trustramp.Rollout("portfolio-advice.yaml") as rollout:  # + state and recording
        decision = rollout.gate(rollout.exposure(user), confidence, input=attributes)
        rollout.feedback(decision.decision_id, helpful=True)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from trustramp.decide import (
    Action,
    Decision,
    Explanation,
    Exposure,
    Policy,
    Rule,
    Status,
    Usage,
    User,
    compile_policy,
)
from trustramp.plan import Plan, PlanError, load_plan_file

if TYPE_CHECKING:
    from trustramp.rollout import Rollout

__version__ = "0.1.0"

__all__ = [
    "Action",
    "Decision",
    "Explanation",
    "Exposure",
    "Plan",
    "PlanError",
    "Policy",
    "Rollout",
    "Rule",
    "Status",
    "Usage",
    "User",
    "__version__",
    "compile_policy",
    "load_plan",
]


def __getattr__(name: str) -> Any:
    # Rollout pulls in the store (SQLAlchemy); importing it lazily keeps
    # ``import trustramp.decide`` or ``trustramp.targeting`` light for other users.
    if name == "Rollout":
        from trustramp.rollout import Rollout

        return Rollout
    raise AttributeError(f"module 'trustramp' has no attribute {name!r}")


def load_plan(path: str | os.PathLike[str], phase: str | None = None) -> Policy:
    """Load, validate and compile a plan file into a policy snapshot (first phase by default).

    Raises :class:`PlanError` (with file:line:column and the field path) for an
    invalid plan.

    >>> policy = load_plan("examples/plans/portfolio-advice.yaml")
    >>> policy.feature, policy.phase
    ('portfolio-advice', 'beta')
    """
    return compile_policy(load_plan_file(path), phase)
