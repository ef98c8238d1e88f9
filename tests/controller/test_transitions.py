"""The state machine's rules, every state against every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trustramp.controller import transitions as rules
from trustramp.errors import TransitionRefusedError, UnchangedError
from trustramp.store import FeatureState
from trustramp.vocabulary import RolloutStatus

T0 = datetime(2026, 5, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
PHASES = ("staff", "beta", "all")
S = RolloutStatus


def state(status: S, phase: str = "beta", resume_to: S | None = None) -> FeatureState:
    return FeatureState("f", "1-abc", phase, status, "earlier reason", T0, version=7,
                        phase_started_at=T0, resume_to=resume_to)


def who() -> dict[str, object]:
    return {"now": T1, "actor": "ana", "reason": "because"}


def test_start_from_draft_or_ready_runs_the_first_phase() -> None:
    for status in (S.DRAFT, S.READY):
        after = rules.start(state(status, "beta"), "staff", **who())  # type: ignore[arg-type]
        assert (after.status, after.phase, after.phase_started_at) == (S.RUNNING, "staff", T1)
        assert (after.version, after.changed_by, after.reason) == (8, "ana", "because")


@pytest.mark.parametrize("status", [S.RUNNING, S.PAUSED, S.KILLED, S.COMPLETE])
def test_start_of_a_started_rollout_is_refused(status: S) -> None:
    with pytest.raises(TransitionRefusedError, match="already started"):
        rules.start(state(status), "staff", **who())  # type: ignore[arg-type]


def test_promote_moves_one_phase_and_restarts_the_phase_clock() -> None:
    after = rules.promote(state(S.RUNNING, "staff"), PHASES, **who())  # type: ignore[arg-type]
    assert (after.phase, after.phase_started_at, after.status) == ("beta", T1, S.RUNNING)
    with pytest.raises(TransitionRefusedError, match="is the last phase"):
        rules.promote(state(S.RUNNING, "all"), PHASES, **who())  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "words"), [
    (S.PAUSED, "resume it first"), (S.KILLED, "resume it first"), (S.DRAFT, "not started"),
    (S.READY, "not started"), (S.COMPLETE, "complete")])
def test_promote_needs_a_running_rollout(status: S, words: str) -> None:
    with pytest.raises(TransitionRefusedError, match=words):
        rules.promote(state(status), PHASES, **who())  # type: ignore[arg-type]


def test_pause_remembers_what_resume_returns_to() -> None:
    for status in (S.RUNNING, S.COMPLETE):
        paused = rules.pause(state(status), **who())  # type: ignore[arg-type]
        assert (paused.status, paused.resume_to) == (S.PAUSED, status)
        resumed = rules.resume(paused, **who())  # type: ignore[arg-type]
        assert (resumed.status, resumed.resume_to) == (status, None)


def test_a_kill_is_never_turned_into_a_pause_and_keeps_its_reason() -> None:
    killed = state(S.KILLED, resume_to=S.RUNNING)
    with pytest.raises(TransitionRefusedError, match="only undone by resume"):
        rules.pause(killed, **who())  # type: ignore[arg-type]
    with pytest.raises(UnchangedError, match="already killed"):
        rules.kill(killed, **who())  # type: ignore[arg-type]


def test_kill_of_a_paused_rollout_resumes_to_what_the_pause_would() -> None:
    after = rules.kill(state(S.PAUSED, resume_to=S.COMPLETE), **who())  # type: ignore[arg-type]
    assert (after.status, after.resume_to) == (S.KILLED, S.COMPLETE)


def test_kill_is_allowed_before_start_and_resumes_to_the_draft() -> None:
    after = rules.kill(state(S.DRAFT), **who())  # type: ignore[arg-type]
    assert (after.status, after.resume_to) == (S.KILLED, S.DRAFT)
    assert rules.resume(after, **who()).status is S.DRAFT  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [S.RUNNING, S.COMPLETE, S.DRAFT, S.READY])
def test_resume_of_a_serving_or_unstarted_rollout_changes_nothing(status: S) -> None:
    with pytest.raises(UnchangedError, match="not paused or killed"):
        rules.resume(state(status), **who())  # type: ignore[arg-type]


def test_resume_needs_a_person_and_a_reason() -> None:
    paused = state(S.PAUSED, resume_to=S.RUNNING)
    with pytest.raises(TransitionRefusedError, match="never resumes a rollout by itself"):
        rules.resume(paused, now=T1, actor=rules.CONTROLLER, reason="breach cleared")
    with pytest.raises(TransitionRefusedError, match="written reason"):
        rules.resume(paused, now=T1, actor="ana", reason="  ")


def test_rollback_keeps_a_pause_and_defaults_to_the_previous_phase() -> None:
    after = rules.rollback(state(S.PAUSED, "all", S.RUNNING), PHASES, None, **who())  # type: ignore[arg-type]
    assert (after.phase, after.status, after.resume_to) == ("beta", S.PAUSED, S.RUNNING)
    to_first = rules.rollback(state(S.RUNNING, "all"), PHASES, "staff", **who())  # type: ignore[arg-type]
    assert to_first.phase == "staff"
    back = rules.rollback(state(S.COMPLETE, "all"), PHASES, None, **who())  # type: ignore[arg-type]
    assert (back.status, back.phase) == (S.RUNNING, "beta")


@pytest.mark.parametrize(("phase", "target", "words"), [
    ("staff", None, "first phase"), ("beta", "all", "not earlier"), ("beta", "beta", "not earlier"),
    ("beta", "nowhere", "not in the plan")])
def test_rollback_refusals(phase: str, target: str | None, words: str) -> None:
    with pytest.raises(TransitionRefusedError, match=words):
        rules.rollback(state(S.RUNNING, phase), PHASES, target, **who())  # type: ignore[arg-type]


def test_complete_only_from_the_last_phase() -> None:
    assert rules.complete(state(S.RUNNING, "all"), PHASES, **who()).status is S.COMPLETE  # type: ignore[arg-type]
    with pytest.raises(TransitionRefusedError, match="promote it first"):
        rules.complete(state(S.RUNNING, "beta"), PHASES, **who())  # type: ignore[arg-type]


def test_a_state_in_a_phase_the_plan_lacks_is_refused_not_guessed() -> None:
    with pytest.raises(TransitionRefusedError, match="not in plan version"):
        rules.promote(state(S.RUNNING, "gone"), PHASES, **who())  # type: ignore[arg-type]
