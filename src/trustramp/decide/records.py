"""What the decision path returns: :class:`Exposure`, :class:`Decision` and their vocabularies.

Both records are immutable ``NamedTuple`` subclasses on purpose: building one
costs about a tenth of a microsecond, where a frozen dataclass with the same
fields costs about ten times more, and the decision path runs on every request.
They have no ``__dict__`` (``__slots__ = ()``), and assigning a field raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from trustramp.vocabulary import FORCED_FALLBACK, SHOWS_ANSWER, Action, RolloutStatus

__all__ = ["Action", "Decision", "Exposure", "RolloutStatus", "Usage", "User"]


@dataclass(frozen=True, slots=True)
class User:
    """A typed user, accepted wherever a user mapping is (``{"id": ..., **attributes}``).

    >>> User("u1", {"tier": "pro"}).as_attributes()
    {'tier': 'pro', 'id': 'u1'}
    """

    id: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def as_attributes(self) -> dict[str, Any]:
        """The attribute mapping conditions are evaluated on (``id`` included)."""
        return {**self.attributes, "id": self.id}


class Exposure(NamedTuple):
    """Whether one unit is in the rollout, decided before the model is called.

    ``phase`` is the policy's current phase (whose guardrails the gate applies);
    ``segment`` the segment that let the unit in (``"*"`` for a phase open to
    everyone); ``bucket`` the unit's sticky bucket in [0, 1) (None when the state
    or an exclusion decided first). ``admit`` is True when the unit takes a free
    place under the current phase's absolute cap: the caller records the admission
    (first come, first served, sticky).

    >>> from trustramp.decide import compile_policy
    >>> from trustramp.plan.schema import Plan
    >>> plan = Plan.model_validate({
    ...     "feature": {"key": "f", "stakes": "low", "fallback": "none"},
    ...     "segments": {"staff": {"condition": {"staff": True}}},
    ...     "phases": [{"name": "beta", "audience": {"segments": ["staff"]}}]})
    >>> compile_policy(plan).exposure({"id": "u1", "staff": True}).exposed
    True
    """

    exposed: bool
    unit_id: str
    phase: str
    reason: str
    segment: str | None
    bucket: float | None
    admit: bool
    feature: str
    version: str


class Decision(NamedTuple):
    """What the user sees for one model answer, and why.

    ``label`` is the transparency label to show with the answer (None when no AI
    answer is shown); ``message`` the user-facing text that goes with the action
    (the low-confidence flag, the clarifying question, the pending message);
    ``review`` is True when the answer was sampled for human review;
    ``while_pending`` says what the user sees meanwhile (``"hold"``: the pending
    message, ``"fallback"``: the non-AI answer now).

    >>> d = Decision(Action.SHOW, "confidence 0.97 >= 0.95", "beta", None, "id-1", "u1",
    ...              0.97, 0.95, False, None, None, "f", "1-abc")
    >>> d.shows_answer, d.uses_fallback
    (True, False)
    """

    action: Action
    reason: str
    phase: str
    label: str | None
    decision_id: str
    unit_id: str
    confidence: float | None
    threshold: float | None
    review: bool
    message: str | None
    while_pending: str | None
    feature: str
    version: str

    @property
    def shows_answer(self) -> bool:
        """True when the user sees the model's answer now (flagged or not)."""
        return self.action in SHOWS_ANSWER

    @property
    def uses_fallback(self) -> bool:
        """True when the user gets the non-AI path now (including while a review is pending)."""
        return self.action in FORCED_FALLBACK or self.while_pending == "fallback"


class Usage(NamedTuple):
    """A snapshot of rate-limit usage the caller counted before this request.

    ``user_last_hour``: this unit's gated answers in the last hour;
    ``feature_last_minute``: the feature's gated answers in the last minute.
    A limit is exceeded when the count already reached it.
    """

    user_last_hour: int = 0
    feature_last_minute: int = 0
