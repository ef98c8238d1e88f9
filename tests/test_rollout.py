"""The embedded client end to end against a temporary SQLite store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from trustramp import Action, Rollout
from trustramp.controller import Controller
from trustramp.errors import ClosedError, TransitionRefusedError
from trustramp.events import OutcomeKind
from trustramp.store import FeatureState, SqlStore, StoreError, open_store
from trustramp.vocabulary import RolloutStatus

from .decide.plans import lint_clean_plan_dict

FEATURE = "portfolio-advice"
TASK = {"task": "explain"}
STAFF = {"id": "s1", "staff": True}
ROOT = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write_plan(tmp_path: Path, **phase0: Any) -> Path:
    data = lint_clean_plan_dict()
    data["phases"][0]["audience"].update(phase0)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'trustramp.db'}"


def started(plan: Path, db: str, **options: Any) -> Rollout:
    rollout = Rollout(plan, db, **options)
    if rollout.status is RolloutStatus.DRAFT:
        rollout.start("tests")
    return rollout


def actions(store: SqlStore) -> list[str]:
    return [entry.action for entry in store.audit_log(FEATURE)]


def test_a_new_plan_is_a_draft_that_serves_the_fallback(tmp_path: Path, db: str) -> None:
    with Rollout(write_plan(tmp_path), db) as rollout:
        assert rollout.status is RolloutStatus.DRAFT
        exposure = rollout.exposure(STAFF)
        assert not exposure.exposed
        assert "has not started" in exposure.reason
        assert rollout.gate(exposure, 0.99, TASK).action is Action.FALLBACK
        rollout.start("signed off")
        assert rollout.gate(rollout.exposure(STAFF), 0.99, TASK).action is (
            Action.HOLD_FOR_REVIEW)


def test_decisions_and_outcomes_land_in_the_store(tmp_path: Path, db: str) -> None:
    with started(write_plan(tmp_path), db) as rollout:
        exposures = [rollout.exposure(STAFF) for _ in range(3)]
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
    with started(plan, db) as first:
        assert [first.exposure({"id": f"s{i}", "staff": True}).exposed for i in range(3)] == [
            True, True, False]
    with Rollout(plan, db) as second:
        assert second.status is RolloutStatus.RUNNING
        assert second.exposure({"id": "s1", "staff": True}).exposed  # sticky admission
        late = second.exposure({"id": "s9", "staff": True})
        assert not late.exposed
        assert late.reason == "the cap of 2 units of phase 'beta' is full"


def test_rate_limits_slide_with_the_clock(tmp_path: Path, db: str) -> None:
    clock = FakeClock()
    with started(write_plan(tmp_path), db, clock=clock) as rollout:
        exposure = rollout.exposure(STAFF)
        got = [rollout.gate(exposure, 0.99, TASK).action for _ in range(4)]
        assert got == [Action.HOLD_FOR_REVIEW] * 3 + [Action.RATE_LIMITED]
        clock.now += 3600.5
        assert rollout.gate(exposure, 0.99, TASK).action is Action.HOLD_FOR_REVIEW


def wait_for(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


def test_kill_reaches_another_client_without_refresh_and_persists(tmp_path: Path,
                                                                   db: str) -> None:
    plan = write_plan(tmp_path)
    with started(plan, db) as rollout, Rollout(plan, db) as other:
        assert other.status is RolloutStatus.RUNNING
        rollout.kill("critical error in a trade suggestion")
        exposure = rollout.exposure(STAFF)
        assert not exposure.exposed
        assert rollout.gate(exposure, 0.99, TASK).action is Action.KILLED
        # No refresh(): the background thread follows the state's change counter.
        assert wait_for(lambda: other.status is RolloutStatus.KILLED)
        assert other.gate(other.exposure(STAFF), 0.99, TASK).action is Action.KILLED
    with Rollout(plan, db) as restarted:
        assert restarted.gate(restarted.exposure(STAFF), 0.99, TASK).action is Action.KILLED
        restarted.resume("root cause fixed, reviewed by risk")
        assert restarted.gate(restarted.exposure(STAFF), 0.99, TASK).action is (
            Action.HOLD_FOR_REVIEW)
    store = open_store(db)
    try:
        state = store.get_state(FEATURE)
        assert state is not None
        assert state.status is RolloutStatus.RUNNING
        assert [(a.action, a.actor) for a in store.audit_log(FEATURE)] == [
            ("register", "embedded-client"), ("start", "embedded-client"),
            ("kill", "embedded-client"), ("resume", "embedded-client")]
    finally:
        store.close()


def test_a_kill_from_another_process_arrives_within_a_second(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path)
    killer = textwrap.dedent(f"""
        from trustramp.controller import Controller
        from trustramp.store import open_store
        store = open_store({db!r})
        Controller(store).kill({FEATURE!r}, actor="oncall", reason="from another process")
        store.close()
    """)
    with started(plan, db, follow_every=0.1) as rollout:
        subprocess.run([sys.executable, "-c", killer], check=True, timeout=60, cwd=ROOT)
        # The kill committed before run() returned; the follower polls every 0.1 s.
        assert wait_for(lambda: rollout.status is RolloutStatus.KILLED, seconds=1.0)


def test_kill_then_pause_keeps_the_kill_and_its_reason(tmp_path: Path, db: str) -> None:
    with started(write_plan(tmp_path), db) as rollout:
        rollout.kill("confidently wrong tickers")
        with pytest.raises(TransitionRefusedError, match="a kill is only undone by resume"):
            rollout.pause("investigating")
        assert rollout.status is RolloutStatus.KILLED
        assert rollout.policy.reason == "confidently wrong tickers"
    store = open_store(db)
    try:
        state = store.get_state(FEATURE)
        assert state is not None
        assert (state.status, state.reason) == (RolloutStatus.KILLED, "confidently wrong tickers")
        assert actions(store) == ["register", "start", "kill"]
    finally:
        store.close()


def test_no_op_changes_are_reported_and_never_audited(tmp_path: Path, db: str) -> None:
    with started(write_plan(tmp_path), db) as rollout:
        assert not rollout.resume("nothing to resume").changed  # running: no change
        assert rollout.kill("first").changed
        again = rollout.kill("second")
        assert not again.changed
        assert "already killed" in again.message
        assert rollout.policy.reason == "first"
    store = open_store(db)
    try:
        assert actions(store) == ["register", "start", "kill"]
    finally:
        store.close()


def test_a_pinned_client_never_writes_its_phase(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path)
    with Rollout(plan, db, phase="full") as pinned:
        assert pinned.policy.phase == "full"
        pinned.kill("pinned test client pulled the switch")
    store = open_store(db)
    try:
        state = store.get_state(FEATURE)
        assert state is not None
        assert (state.phase, state.status) == ("beta", RolloutStatus.KILLED)
    finally:
        store.close()
    with Rollout(plan, db) as follower:
        assert follower.policy.phase == "beta"


class StaleReadStore(SqlStore):
    """A real store whose get_state can be held between its read and its return."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.hold = False
        self.read_done = threading.Event()
        self.release = threading.Event()

    def get_state(self, feature: str) -> FeatureState | None:
        state = super().get_state(feature)
        if self.hold and threading.current_thread().name == "racing-refresh":
            self.read_done.set()
            self.release.wait(10)
        return state


def test_a_refresh_racing_a_kill_never_restores_the_old_state(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path)
    started(plan, db).close()
    store = StaleReadStore(db)
    with Rollout(plan, store) as rollout:
        store.hold = True
        racer = threading.Thread(target=rollout.refresh, name="racing-refresh")
        racer.start()
        assert store.read_done.wait(10)  # the refresh read the running state ...
        rollout.kill("kill wins")  # ... the kill commits and applies ...
        store.release.set()  # ... then the stale read arrives
        racer.join(10)
        assert rollout.status is RolloutStatus.KILLED
        assert rollout.gate(rollout.exposure(STAFF), 0.99, TASK).action is Action.KILLED
    store.close()


def test_a_closed_rollout_refuses_to_decide_or_record(tmp_path: Path, db: str) -> None:
    rollout = started(write_plan(tmp_path), db)
    exposure = rollout.exposure(STAFF)
    decision = rollout.gate(exposure, 0.99, TASK)
    rollout.close()
    rollout.close()  # idempotent
    with pytest.raises(ClosedError, match="closed"):
        rollout.exposure(STAFF)
    with pytest.raises(ClosedError, match="closed"):
        rollout.gate(exposure, 0.99, TASK)
    with pytest.raises(ClosedError, match="closed"):
        rollout.feedback(decision.decision_id, helpful=True)


def test_pinned_phase_and_bad_inputs(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path)
    started(plan, db).close()
    with Rollout(plan, db, phase="full") as rollout:
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
    with started(plan, db) as first, Rollout(plan, db) as second:
        assert first.exposure({"id": "s0", "staff": True}).exposed
        assert first.exposure({"id": "s1", "staff": True}).exposed
        assert second.exposure({"id": "s0", "staff": True}).exposed  # the store says: admitted
        assert not second.exposure({"id": "s5", "staff": True}).exposed  # the store refuses
        assert not second.exposure({"id": "s1", "staff": True}).exposed  # stale view of the cap
        second.refresh()
        assert second.exposure({"id": "s1", "staff": True}).exposed


def test_concurrent_admissions_never_exceed_the_cap(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path, max_users=10)
    with started(plan, db, admission_timeout=30.0) as rollout:
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
    store = open_store(db)
    with started(path, store) as rollout:
        rollout.controller.promote(FEATURE, actor="ana", reason="criteria met")
    with Rollout(path, store, phase="beta") as pinned:
        pinned.pause("investigating a ticket")
        pinned.resume("false alarm")
    state = store.get_state(FEATURE)
    assert state is not None
    assert state.phase == "early-access"
    assert state.status is RolloutStatus.RUNNING
    assert actions(store) == ["register", "start", "promote", "pause", "resume"]
    store.close()


class BlockedAdmissions(SqlStore):
    """A real store whose admissions wait until the test releases them (a stalled database)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.release = threading.Event()
        self.calls = 0

    def admit(self, feature: str, phase: str, unit_id: str, *, cap: int) -> bool:
        self.calls += 1
        self.release.wait(30)
        return super().admit(feature, phase, unit_id, cap=cap)


def test_a_stalled_admission_fails_closed_and_lands_later(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path, max_users=5)
    started(plan, db).close()
    store = BlockedAdmissions(db)
    with Rollout(plan, store) as rollout:
        results: list[Any] = []
        threads = [threading.Thread(target=lambda i=i: results.append(
            rollout.exposure({"id": f"s{i}", "staff": True}))) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        # Every request came back while the store was still stalled: none waited for it.
        assert not store.release.is_set()
        assert len(results) == 8
        assert not any(e.exposed for e in results)
        assert all("took longer than 50 ms" in e.reason for e in results)
        store.release.set()
        assert wait_for(lambda: store.calls >= 1 and not rollout._pending)
        admitted = [e.unit_id for e in results if e.unit_id in rollout._admitted]
        for unit in admitted:  # admitted in the background: in from the next request on
            assert rollout.exposure({"id": unit, "staff": True}).exposed
        assert len(store.admitted_units(FEATURE, "beta")) == len(admitted) >= 1
    store.close()


class UnreachableAdmissions(SqlStore):
    """A real store whose admissions fail, as during a database outage."""

    def admit(self, feature: str, phase: str, unit_id: str, *, cap: int) -> bool:
        raise StoreError("could not reach the database")


def test_admission_outage_fails_closed_without_raising(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path)
    started(plan, db).close()
    store = UnreachableAdmissions(db)
    with Rollout(plan, store) as rollout:
        exposure = rollout.exposure(STAFF)
    assert not exposure.exposed
    assert "unavailable" in exposure.reason
    store.close()


class UnreadableState(SqlStore):
    def get_state(self, feature: str) -> FeatureState | None:
        raise StoreError("could not read feature state: the database is down")


def test_failed_start_leaves_no_thread_behind(tmp_path: Path, db: str) -> None:
    open_store(db).close()  # migrated
    store = UnreadableState(db)
    before = threading.active_count()
    with pytest.raises(StoreError, match="the database is down"):
        Rollout(write_plan(tmp_path), store)
    assert threading.active_count() == before
    store.close()


def test_the_store_runs_its_plan_version_not_the_files(tmp_path: Path, db: str) -> None:
    plan = write_plan(tmp_path)
    started(plan, db).close()
    data = yaml.safe_load(plan.read_text())
    data["revision"] = 4
    data["phases"][0]["guardrails"]["confidence"]["threshold"] = 0.5
    newer = tmp_path / "newer.yaml"
    newer.write_text(yaml.safe_dump(data, sort_keys=False))
    with Rollout(newer, db) as rollout:
        # The file's revision 4 is stored, not applied: the rollout runs revision 3.
        assert rollout.policy.version.startswith("3-")
        assert rollout.policy.current.threshold == 0.95
        store = open_store(db)
        try:
            assert [p.revision for p in store.plans(FEATURE)] == [3, 4]
            controller = Controller(store)
            version = store.plans(FEATURE)[1].version
            controller.start(FEATURE, actor="ana", reason="lower threshold",
                             plan_version=version)
        finally:
            store.close()
        assert wait_for(lambda: rollout.policy.version.startswith("4-"))
        assert rollout.policy.current.threshold == 0.5
