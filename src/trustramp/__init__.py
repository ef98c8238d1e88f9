"""trustramp: roll AI features out to users without crashing their trust.

The public surface, deliberately short::

    import trustramp

    policy = trustramp.load_plan("portfolio-advice.yaml")      # pure, no storage
    exposure = policy.exposure({"id": "u42", "is_employee": True})
    decision = policy.gate(exposure, 0.97, input={"task": "explain_allocation"})

    with trustramp.Rollout("portfolio-advice.yaml") as rollout:  # + state and recording
        decision = rollout.gate(rollout.exposure(user), confidence, input=attributes)
        rollout.feedback(decision.decision_id, helpful=True)

Every name is imported on first use, so ``import trustramp.stats`` or
``import trustramp.targeting`` does not load pydantic, PyYAML or SQLAlchemy.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trustramp.decide import (
        Action,
        Decision,
        Explanation,
        Exposure,
        Policy,
        RolloutStatus,
        RuleResult,
        Usage,
        User,
        compile_policy,
    )
    from trustramp.errors import TrustrampError
    from trustramp.plan import Plan, PlanError
    from trustramp.rollout import Rollout
    from trustramp.store import StoreError

__version__ = "0.1.0"

_LAZY = {
    "Action": "trustramp.vocabulary",
    "RolloutStatus": "trustramp.vocabulary",
    "TrustrampError": "trustramp.errors",
    "Decision": "trustramp.decide",
    "Explanation": "trustramp.decide",
    "Exposure": "trustramp.decide",
    "Policy": "trustramp.decide",
    "RuleResult": "trustramp.decide",
    "Usage": "trustramp.decide",
    "User": "trustramp.decide",
    "compile_policy": "trustramp.decide",
    "Plan": "trustramp.plan",
    "PlanError": "trustramp.plan",
    "Rollout": "trustramp.rollout",
    "StoreError": "trustramp.store",
}

__all__ = [
    "Action",
    "Decision",
    "Explanation",
    "Exposure",
    "Plan",
    "PlanError",
    "Policy",
    "Rollout",
    "RolloutStatus",
    "RuleResult",
    "StoreError",
    "TrustrampError",
    "Usage",
    "User",
    "__version__",
    "compile_policy",
    "load_plan",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trustramp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_plan(path: str | os.PathLike[str], phase: str | None = None) -> Policy:
    """Load, validate and compile a plan file into a policy snapshot (first phase by default).

    Raises :class:`PlanError` (with file:line:column and the field path) for an
    invalid plan.

    >>> policy = load_plan("examples/plans/portfolio-advice.yaml")
    >>> policy.feature, policy.phase
    ('portfolio-advice', 'beta')
    """
    from trustramp.decide import compile_policy
    from trustramp.plan import load_plan_file

    return compile_policy(load_plan_file(path), phase)
