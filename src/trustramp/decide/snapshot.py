"""What a policy snapshot precomputes for its current phase, so requests only read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustramp.decide.compiled import EVERYONE, CompiledPhase, CompiledPlan, Members, Test
from trustramp.decide.records import Action, RolloutStatus

BELOW = {
    "fallback": Action.FALLBACK,
    "ask_user": Action.ASK_USER,
    "show_flagged": Action.SHOW_FLAGGED,
}
OpenEntry = tuple[float, frozenset[str], Test | None, str, str]
"""(fraction, allow list, condition or None for everyone, segment name, reason)."""


def _never(attributes: Mapping[str, Any]) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class GateTexts:
    """The gate's words for the current phase, formatted once per snapshot, not per request."""

    blocked: str
    show: str
    task: str
    below: str
    below_action: Action
    below_message: str | None
    review: str
    review_flagged: str
    pending: str | None

    @classmethod
    def of(cls, phase: CompiledPhase, status: RolloutStatus, reason: str) -> GateTexts:
        below = BELOW[phase.below]
        # Without a threshold the texts about it are never used; keep them well-formed.
        threshold = f"confidence below the threshold {phase.threshold or 0.0:g}"
        words = {Action.FALLBACK: "the fallback", Action.ASK_USER: "ask the user",
                 Action.SHOW_FLAGGED: "shown flagged"}
        message = {Action.ASK_USER: phase.question, Action.SHOW_FLAGGED: phase.flag_text}
        review = f"sampled for human review (rate {phase.review_rate:g})"
        return cls(
            blocked=_blocked_text(status, reason),
            show="passed every guardrail of phase " + repr(phase.name),
            task="task outside the phase's task filter",
            below=f"{threshold}: {words[below]}",
            below_action=below,
            below_message=message.get(below),
            review=review,
            review_flagged=f"{review}; {threshold}, flagged",
            pending=phase.pending_message if phase.while_pending == "hold" else None,
        )


def _blocked_text(status: RolloutStatus, reason: str) -> str:
    if status.started:
        return f"rollout is {status.value}: {reason or 'no reason given'}"
    return (f"rollout has not started (status {status.value}): nobody sees the feature "
            "until `trustramp start` passes its readiness checks")


def blocked_action(status: RolloutStatus) -> Action | None:
    """What every request gets in ``status`` (None when the phase's audience is served)."""
    if status.serving:
        return None
    if status is RolloutStatus.PAUSED:
        return Action.PAUSED
    if status is RolloutStatus.KILLED:
        return Action.KILLED
    return Action.FALLBACK  # draft or ready: not started


def lifted_exclusions(
    compiled: CompiledPlan, current: CompiledPhase
) -> tuple[tuple[str, str], ...]:
    """(name, until phase) of the exclusions the current phase no longer applies."""
    return tuple((ex.members.name, ex.until_phase or "") for ex in compiled.exclusions
                 if ex.until_index is not None and current.index >= ex.until_index)


def active_exclusions(
    compiled: CompiledPlan, current: CompiledPhase
) -> tuple[tuple[Members, str], ...]:
    active = []
    for ex in compiled.exclusions:
        if ex.until_index is not None and current.index >= ex.until_index:
            continue
        until = f"until phase {ex.until_phase!r}" if ex.until_phase else "for the whole rollout"
        active.append((ex.members, f"excluded by {ex.members.name!r} {until}"))
    return tuple(active)


def open_audience(compiled: CompiledPlan, current: CompiledPhase) -> tuple[OpenEntry, ...]:
    """The uncapped audiences of phases up to ``current``, one entry per segment.

    The union of "segment s and bucket < f_j" over phases j is "segment s and
    bucket < max f_j", so each segment is tested once per request.
    """
    widest: dict[str, OpenEntry] = {}
    for phase in compiled.phases[: current.index + 1]:
        if phase.cap is not None or phase.fraction <= 0.0:
            continue
        for m in phase.segments:
            if m.name not in widest or widest[m.name][0] < phase.fraction:
                who = "everyone" if m.name == EVERYONE else f"segment {m.name!r}"
                reason = f"{who} at {phase.percent:g}% in phase {phase.name!r}"
                test = None if m.everyone else m.test or _never
                widest[m.name] = (phase.fraction, m.users, test, m.name, reason)
    # Widest first: a unit in the bucket range of a wide entry is decided there.
    return tuple(sorted(widest.values(), key=lambda entry: -entry[0]))
