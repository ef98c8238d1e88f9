"""The words every layer shares: a rollout's status and what a user gets for one answer.

Defined once, here, beside :mod:`trustramp.events`: the decision engine, the store,
the controller, the server and the SDKs all use these enums, so a status read from
the database is the same object the decision path switches on. Standard library
only, so importing it costs nothing.
"""

from __future__ import annotations

from enum import StrEnum


class RolloutStatus(StrEnum):
    """Where a feature's rollout stands (the controller's states).

    ``draft``: the plan is registered, nobody sees the feature; ``ready``: the
    readiness checklist passed and every required role signed; ``running``: the
    current phase's audience sees it under that phase's guardrails; ``paused``:
    everyone gets the fallback until a person resumes; ``killed``: the kill switch,
    everyone gets the fallback and only a person's ``resume`` with a reason undoes
    it; ``complete``: the last phase graduated, the feature stays on for its audience.

    >>> RolloutStatus("running").serving, RolloutStatus.KILLED.serving
    (True, False)
    """

    DRAFT = "draft"
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    KILLED = "killed"
    COMPLETE = "complete"

    @property
    def serving(self) -> bool:
        """True when the phase's audience sees the AI path (running or complete)."""
        return self in _SERVING

    @property
    def started(self) -> bool:
        """True once the rollout left draft/ready (it has a live phase, maybe paused)."""
        return self not in _NOT_STARTED

    @property
    def stopped(self) -> bool:
        """True when a pause or kill forces the fallback on everyone."""
        return self in _STOPPED


_SERVING = frozenset({RolloutStatus.RUNNING, RolloutStatus.COMPLETE})
_NOT_STARTED = frozenset({RolloutStatus.DRAFT, RolloutStatus.READY})
_STOPPED = frozenset({RolloutStatus.PAUSED, RolloutStatus.KILLED})


class Action(StrEnum):
    """What the user gets for one model answer.

    ``paused`` and ``killed`` are the fallback forced by the rollout's state;
    ``rate_limited`` is the fallback forced by a rate limit.
    """

    SHOW = "show"  # the answer, with the phase's label
    SHOW_FLAGGED = "show_flagged"  # the answer, visibly flagged as low confidence
    FALLBACK = "fallback"  # the non-AI path
    ASK_USER = "ask_user"  # a clarifying question instead of the answer
    HOLD_FOR_REVIEW = "hold_for_review"  # a reviewer sees the answer before the user does
    RATE_LIMITED = "rate_limited"
    PAUSED = "paused"
    KILLED = "killed"


SHOWS_ANSWER = frozenset({Action.SHOW, Action.SHOW_FLAGGED})
"""Actions under which the user sees the model's answer now."""
FORCED_FALLBACK = frozenset({Action.FALLBACK, Action.RATE_LIMITED, Action.PAUSED, Action.KILLED})
"""Actions under which the user gets the non-AI path now."""
