"""The embedded client end to end against a temporary SQLite store."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from trustramp import Action, Rollout
from trustramp.events import OutcomeKind
from trustramp.store import FeatureStatus, open_store

from .decide.plans import plan_dict

FEATURE = "portfolio-advice"
TASK = {"task": "explain"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write_plan(tmp_path: Path, **phase0: Any) -> Path:
    data = plan_dict()
    data["phases"][0]["audience"].update(phase0)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'trustramp.db'}"


def test_decisions_and_outcomes_land_in_the_store(tmp_path: Path, db: str) -> None:
    with Rollout(write_plan(tmp_path), db) as rollout:
        staff = {"id": "s1", "staff": True}
        exposures = [rollout.exposure(staff) for _ in range(3)]
        assert all(e.exposed for e in exposures)
        assert exposures[0].admit
        assert not exposures[1].admit  # admitted once, sticky
        decision = rollout.gate(exposures[0], 0.99, TASK)
        assert decision.action is Action.HOLD_FOR_REVIEW
        outsider = rollout.exposure({"id": "o1"})
        rollout.gate(outsider, None)  # no model answer: nothing recorded
        assert rollout.review(decision.decision_id, approved=True, reviewer="ana")
        assert rollout.feedback(decision.decision_id, helpful=False, comment="vague")
        assert rollout.label(decision.decision_id, correct=False, critical=True)
        assert rollout.ticket(decision.decision_id, comment="wrong ticker")
        assert rollout.feedback("from-another-process-7", helpful=True)
        assert rollout.flush(timeout=10)
    store = open_store(db)
    try:
        assert [(e.unit_id, e.exposed) for e in store.exposures(FEATURE)] == [
            ("s1", True), ("o1", False)]
        (output,) = store.outputs(FEATURE)
        assert (output.decision_id, output.action, output.confidence) == (
            decision.decision_id, "hold_for_review", 0.99)
        assert output.input_attributes == TASK
        kinds = sorted((o.kind.value, o.value, o.critical) for o in store.outcomes(FEATURE))
        assert kinds == [("feedback", False, False), ("feedback", True, False),
                         ("label", False, True), ("review", True, False),
                         ("ticket", None, False)]
        assert store.admitted_units(FEATURE, "beta") == frozenset({"s1"})
        assert store.outcomes(FEATURE, kind=OutcomeKind.REVIEW)[0].source == "ana"
    finally:
        store.close()


def test_cap_is_first_come_first_served_across_clients(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path, max_users=2)
    with Rollout(plan, db) as first:
        assert [first.exposure({"id": f"s{i}", "staff": True}).exposed for i in range(3)] == [
            True, True, False]
    with Rollout(plan, db) as second:
        assert second.exposure({"id": "s1", "staff": True}).exposed  # sticky admission
        late = second.exposure({"id": "s9", "staff": True})
        assert not late.exposed
        assert late.reason == "the cap of 2 units of phase 'beta' is full"


def test_rate_limits_slide_with_the_clock(tmp_path: Path, db: str) -> None:
    clock = FakeClock()
    with Rollout(write_plan(tmp_path), db, clock=clock) as rollout:
        exposure = rollout.exposure({"id": "s1", "staff": True})
        actions = [rollout.gate(exposure, 0.99, TASK).action for _ in range(4)]
        assert actions == [Action.HOLD_FOR_REVIEW] * 3 + [Action.RATE_LIMITED]
        clock.now += 3600.5
        assert rollout.gate(exposure, 0.99, TASK).action is Action.HOLD_FOR_REVIEW


def test_kill_forces_the_fallback_and_persists(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path)
    staff = {"id": "s1", "staff": True}
    with Rollout(plan, db) as rollout, Rollout(plan, db) as other:
        rollout.kill("critical error in a trade suggestion")
        exposure = rollout.exposure(staff)
        assert not exposure.exposed
        assert rollout.gate(exposure, 0.99, TASK).action is Action.KILLED
        assert other.policy.status.value == "active"  # until it refreshes
        assert other.refresh().status.value == "killed"
    with Rollout(plan, db) as restarted:
        assert restarted.gate(restarted.exposure(staff), 0.99, TASK).action is Action.KILLED
        restarted.resume("root cause fixed, reviewed by risk")
        assert restarted.gate(restarted.exposure(staff), 0.99, TASK).action is (
            Action.HOLD_FOR_REVIEW)
    store = open_store(db)
    try:
        state = store.get_state(FEATURE)
        assert state is not None
        assert state.status is FeatureStatus.ACTIVE
        assert [(a.action, a.actor) for a in store.audit_log(FEATURE)] == [
            ("kill", "embedded-client"), ("resume", "embedded-client")]
    finally:
        store.close()


def test_pinned_phase_and_bad_inputs(tmp_path: Path, db: str) -> None:
    with Rollout(write_plan(tmp_path), db, phase="full") as rollout:
        assert rollout.policy.phase == "full"
        decision = rollout.gate(rollout.exposure({"id": "anyone"}), 0.5)
        assert decision.action is Action.FALLBACK
        with pytest.raises(ValueError, match="helpful must be True or False"):
            rollout.feedback(decision.decision_id, helpful="yes")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="decision_id must be the non-empty id"):
            rollout.label("", correct=True)
        with pytest.raises(ValueError, match="kill needs a reason"):
            rollout.kill(" ")
        with pytest.raises(ValueError, match="ticket comment must say"):
            rollout.ticket(decision.decision_id, comment="")
    with pytest.raises(ValueError, match="phase 'nope' is not in plan"):
        Rollout(write_plan(tmp_path), db, phase="nope")


def test_admissions_of_another_process_are_seen_after_refresh(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path, max_users=2)
    with Rollout(plan, db) as first, Rollout(plan, db) as second:
        assert first.exposure({"id": "s0", "staff": True}).exposed
        assert first.exposure({"id": "s1", "staff": True}).exposed
        assert second.exposure({"id": "s0", "staff": True}).exposed  # the store says: admitted
        assert not second.exposure({"id": "s5", "staff": True}).exposed  # the store refuses
        assert not second.exposure({"id": "s1", "staff": True}).exposed  # stale view of the cap
        second.refresh()
        assert second.exposure({"id": "s1", "staff": True}).exposed


def test_concurrent_admissions_never_exceed_the_cap(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path, max_users=10)
    with Rollout(plan, db) as rollout:
        results: list[bool] = []

        def arrive(start: int) -> None:
            for i in range(start, start + 25):
                results.append(rollout.exposure({"id": f"s{i}", "staff": True}).exposed)

        threads = [threading.Thread(target=arrive, args=(25 * t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(results) == 10
    store = open_store(db)
    try:
        assert len(store.admitted_units(FEATURE, "beta")) == 10
    finally:
        store.close()


def test_pause_and_resume_change_only_the_status_in_the_store(tmp_path: Path, db: str) -> None:
    # A client pinned to (or not yet refreshed to) an earlier phase must not move the
    # whole rollout back to its phase when it pauses or resumes.
    path = write_plan(tmp_path)
    phases = [phase["name"] for phase in plan_dict()["phases"]]
    store = open_store(db)
    with Rollout(path, store, phase=phases[1]) as promoted:
        promoted.resume("promoted by the team")
    with Rollout(path, store, phase=phases[0]) as pinned:
        pinned.pause("investigating a ticket")
        pinned.resume("false alarm")
    state = store.get_state(FEATURE)
    assert state is not None
    assert state.phase == phases[1]
    assert state.status is FeatureStatus.ACTIVE
    assert [entry.action for entry in store.audit_log(FEATURE)] == ["resume", "pause", "resume"]
    store.close()


class UnreachableAdmissions:
    """A real store whose admissions fail, as during a database outage."""

    def __init__(self, url: str) -> None:
        self.store = open_store(url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def admit(self, feature: str, phase: str, unit_id: str, *, cap: int) -> bool:
        from trustramp.store import StoreError

        raise StoreError("could not reach the database")


def test_admission_outage_fails_closed_without_raising(tmp_path: Path, db: str) -> None:
    store = UnreachableAdmissions(db)
    with Rollout(write_plan(tmp_path), store) as rollout:  # type: ignore[arg-type]
        exposure = rollout.exposure({"id": "s1", "staff": True})
    assert not exposure.exposed
    assert "unavailable" in exposure.reason
    store.store.close()


def test_failed_start_leaves_no_writer_thread(tmp_path: Path, db: str) -> None:
    path = write_plan(tmp_path)
    store = open_store(db)
    with Rollout(path, store) as rollout:
        rollout.pause("set a state")
    # The stored phase is not in the plan any more: the client refuses to start.
    renamed = yaml.safe_load(path.read_text())
    renamed["phases"][0]["name"] = "renamed"
    path.write_text(yaml.safe_dump(renamed, sort_keys=False))
    before = threading.active_count()
    with pytest.raises(ValueError, match="names a phase this plan does not have"):
        Rollout(path, store)
    assert threading.active_count() == before
    store.close()
