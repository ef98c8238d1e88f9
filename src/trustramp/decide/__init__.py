"""The decision engine: exposure (before the model runs) and gate (after it answered).

A plan is compiled once into an immutable :class:`Policy` snapshot; deciding is
two pure calls on it::

    policy = compile_policy(plan)                      # or trustramp.load_plan(path)
    exposure = policy.exposure({"id": "u42", "staff": True})
    if exposure.exposed:
        answer, confidence = model(...)
    decision = policy.gate(exposure, confidence, input={"task": "summary"})
    decision.action                                    # Action.SHOW, FALLBACK, ...

:meth:`Policy.explain` returns the same decision with every rule checked.
"""

from __future__ import annotations

from trustramp.decide.compiled import compile_plan, plan_version
from trustramp.decide.explain import Explanation
from trustramp.decide.policy import Policy
from trustramp.decide.records import Action, Decision, Exposure, RolloutStatus, Usage, User
from trustramp.decide.sampling import new_decision_id, review_sampled
from trustramp.decide.trace import RuleResult
from trustramp.decide.usage import RateCounter
from trustramp.plan.schema import Plan

__all__ = [
    "Action",
    "Decision",
    "Explanation",
    "Exposure",
    "Policy",
    "RateCounter",
    "RolloutStatus",
    "RuleResult",
    "Usage",
    "User",
    "compile_policy",
    "new_decision_id",
    "plan_version",
    "review_sampled",
]


def compile_policy(plan: Plan, phase: str | None = None,
                   status: RolloutStatus | str = RolloutStatus.RUNNING,
                   reason: str = "") -> Policy:
    """Compile ``plan`` into a policy snapshot in ``phase`` (default: the first phase).

    Raises ValueError for an unknown phase or status, and
    :class:`trustramp.targeting.ConditionError` (a ValueError naming the plan field)
    for a condition that cannot be compiled.

    >>> from trustramp.plan.schema import Plan
    >>> plan = Plan.model_validate({"feature": {"key": "f", "stakes": "low", "fallback": "x"},
    ...                             "phases": [{"name": "all", "audience": {"percent": 100}}]})
    >>> compile_policy(plan).phase
    'all'
    """
    compiled = compile_plan(plan)
    return Policy(compiled, phase if phase is not None else compiled.phases[0].name, status,
                  reason)
