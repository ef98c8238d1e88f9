"""The rollout state machine as pure rules: from a state and a request to the next state.

Nothing here reads or writes the store; :class:`~trustramp.controller.Controller`
applies these rules inside one locked transaction and writes the audit entry
beside the new state. A request that cannot be applied raises
:class:`~trustramp.errors.TransitionRefusedError` with a sentence saying why and what
to do; a request that would change nothing (killing a killed rollout) raises
:class:`~trustramp.errors.UnchangedError`, so it is reported and never audited as a
change.

::

    draft --ready--> ready --start--> running(1) --promote--> running(2) ... running(N)
      |                                 |  ^                                  |
      +--start (checks pass)------------+  | resume (a person, with a reason) |
                                        pause/kill --> paused / killed        complete
    rollback: running/paused/killed(k) --> the same status in an earlier phase
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from trustramp.errors import TransitionRefusedError, UnchangedError
from trustramp.store.records import FeatureState
from trustramp.vocabulary import RolloutStatus

CONTROLLER = "controller"
"""The actor name of the controller's own (automatic) changes."""

_DRAFT, _READY, _RUNNING = RolloutStatus.DRAFT, RolloutStatus.READY, RolloutStatus.RUNNING
_PAUSED, _KILLED, _COMPLETE = RolloutStatus.PAUSED, RolloutStatus.KILLED, RolloutStatus.COMPLETE


class Transition(StrEnum):
    """The changes a person or the controller can ask for (the audit log's actions)."""

    REGISTER = "register"  # a plan version was stored; the first one creates the draft
    SIGN = "sign"  # a role signed the checklist
    READINESS = "readiness"  # a readiness evaluation was recorded
    READY = "ready"  # the checklist passed and every role signed
    UNREADY = "unready"  # a changed checklist voided the signatures: back to draft
    START = "start"
    APPLY = "apply"  # a new plan version for a rollout that already started
    PROMOTE = "promote"
    PAUSE = "pause"
    RESUME = "resume"
    KILL = "kill"
    ROLLBACK = "rollback"
    COMPLETE = "complete"


def _refuse(transition: Transition, why: str) -> TransitionRefusedError:
    return TransitionRefusedError(transition.value, why)


def _since(state: FeatureState) -> str:
    reason = f": {state.reason}" if state.reason else ""
    return f"since {state.updated_at:%Y-%m-%d %H:%M} UTC{reason}"


def _changed(before: FeatureState, *, now: datetime, actor: str, reason: str,
             **fields: object) -> FeatureState:
    return replace(before, updated_at=now, version=before.version + 1, changed_by=actor,
                   reason=reason, **fields)  # type: ignore[arg-type]


def start(before: FeatureState, first_phase: str, *, now: datetime, actor: str,
          reason: str) -> FeatureState:
    """draft or ready -> running in the first phase."""
    if before.status not in (_DRAFT, _READY):
        raise _refuse(Transition.START, f"the rollout of {before.feature!r} already started "
                      f"(it is {before.status.value} in phase {before.phase!r}); use promote, "
                      "resume or rollback to move it")
    return _changed(before, now=now, actor=actor, reason=reason, status=_RUNNING,
                    phase=first_phase, phase_started_at=now, resume_to=None)


def promote(before: FeatureState, phases: tuple[str, ...], *, now: datetime, actor: str,
            reason: str) -> FeatureState:
    """running in phase k -> running in phase k + 1."""
    _require_running(before, Transition.PROMOTE)
    index = _index(before, phases, Transition.PROMOTE)
    if index == len(phases) - 1:
        raise _refuse(Transition.PROMOTE, f"phase {before.phase!r} is the last phase of "
                      f"{before.feature!r}; `complete` ends the rollout")
    return _changed(before, now=now, actor=actor, reason=reason, phase=phases[index + 1],
                    phase_started_at=now)


def complete(before: FeatureState, phases: tuple[str, ...], *, now: datetime, actor: str,
             reason: str) -> FeatureState:
    """running in the last phase -> complete."""
    _require_running(before, Transition.COMPLETE)
    if _index(before, phases, Transition.COMPLETE) != len(phases) - 1:
        raise _refuse(Transition.COMPLETE, f"{before.feature!r} is in phase {before.phase!r}, "
                      f"not the last phase {phases[-1]!r}; promote it first")
    return _changed(before, now=now, actor=actor, reason=reason, status=_COMPLETE)


def pause(before: FeatureState, *, now: datetime, actor: str, reason: str) -> FeatureState:
    """running or complete -> paused (everyone gets the fallback until a person resumes)."""
    if before.status is _PAUSED:
        raise UnchangedError(Transition.PAUSE.value, f"{before.feature!r} is already paused "
                             f"{_since(before)}")
    if before.status is _KILLED:
        raise _refuse(Transition.PAUSE, f"{before.feature!r} is killed {_since(before)}; "
                      "a kill is only undone by resume, never turned into a pause")
    if not before.status.started:
        raise _refuse(Transition.PAUSE, f"{before.feature!r} has not started "
                      f"({before.status.value}): nobody sees it, there is nothing to pause")
    return _changed(before, now=now, actor=actor, reason=reason, status=_PAUSED,
                    resume_to=before.status)


def kill(before: FeatureState, *, now: datetime, actor: str, reason: str) -> FeatureState:
    """Any status but killed -> killed: the kill switch is never refused."""
    if before.status is _KILLED:
        raise UnchangedError(Transition.KILL.value, f"{before.feature!r} is already killed "
                             f"{_since(before)}")
    back = before.resume_to if before.status is _PAUSED else before.status
    return _changed(before, now=now, actor=actor, reason=reason, status=_KILLED,
                    resume_to=back)


def resume(before: FeatureState, *, now: datetime, actor: str, reason: str) -> FeatureState:
    """paused or killed -> the status before the pause or kill; a person, with a reason."""
    if before.status not in (_PAUSED, _KILLED):
        raise UnchangedError(Transition.RESUME.value, f"{before.feature!r} is "
                             f"{before.status.value}, not paused or killed")
    if actor == CONTROLLER:
        raise _refuse(Transition.RESUME, "the controller never resumes a rollout by itself: "
                      "a person decides, with a written reason")
    if not reason.strip():
        raise _refuse(Transition.RESUME, "resume needs a written reason (who decided and why)")
    back = before.resume_to or _RUNNING
    return _changed(before, now=now, actor=actor, reason=reason, status=back, resume_to=None)


def rollback(before: FeatureState, phases: tuple[str, ...], to_phase: str | None, *,
             now: datetime, actor: str, reason: str) -> FeatureState:
    """Phase k -> an earlier phase (default k - 1), keeping a pause or kill in place."""
    if not before.status.started:
        raise _refuse(Transition.ROLLBACK, f"{before.feature!r} has not started "
                      f"({before.status.value})")
    index = _index(before, phases, Transition.ROLLBACK)
    target = phases[index - 1] if to_phase is None and index > 0 else to_phase
    if target is None:
        raise _refuse(Transition.ROLLBACK, f"{before.feature!r} is in its first phase "
                      f"{before.phase!r}; there is nothing earlier (pause or kill instead)")
    if target not in phases:
        raise _refuse(Transition.ROLLBACK, f"phase {target!r} is not in the plan "
                      f"(phases: {', '.join(phases)})")
    if phases.index(target) >= index:
        raise _refuse(Transition.ROLLBACK, f"phase {target!r} is not earlier than the "
                      f"current phase {before.phase!r}")
    status = _RUNNING if before.status is _COMPLETE else before.status
    resume_to = _RUNNING if before.resume_to is _COMPLETE else before.resume_to
    return _changed(before, now=now, actor=actor, reason=reason, phase=target,
                    phase_started_at=now, status=status, resume_to=resume_to)


def ready(before: FeatureState, *, now: datetime, actor: str, reason: str) -> FeatureState:
    """draft -> ready once the checklist passed and every role signed."""
    return _changed(before, now=now, actor=actor, reason=reason, status=_READY)


def unready(before: FeatureState, *, now: datetime, actor: str, reason: str) -> FeatureState:
    """ready -> draft when a changed checklist voided what made it ready."""
    return _changed(before, now=now, actor=actor, reason=reason, status=_DRAFT)


def _require_running(before: FeatureState, transition: Transition) -> None:
    if before.status is _RUNNING:
        return
    if before.status in (_PAUSED, _KILLED):
        why = f"{before.feature!r} is {before.status.value} {_since(before)}; resume it first"
    elif before.status is _COMPLETE:
        why = f"the rollout of {before.feature!r} is complete"
    else:
        why = f"{before.feature!r} has not started ({before.status.value}); start it first"
    raise _refuse(transition, why)


def _index(before: FeatureState, phases: tuple[str, ...], transition: Transition) -> int:
    if before.phase not in phases:
        raise _refuse(transition, f"the state's phase {before.phase!r} is not in plan version "
                      f"{before.plan_version} (phases: {', '.join(phases)})")
    return phases.index(before.phase)
