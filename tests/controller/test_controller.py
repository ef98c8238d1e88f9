"""The controller against a real store: checks before start, sign-offs, audit, atomicity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from trustramp.controller import CONTROLLER, Controller
from trustramp.decide import plan_version
from trustramp.errors import InvalidInputError, NotFoundError, TransitionRefusedError
from trustramp.plan import parse_plan
from trustramp.plan.schema import Plan
from trustramp.readiness import EvalSet, evaluate_readiness
from trustramp.store import AuditRecord, SqlStore, StoreError, open_store
from trustramp.vocabulary import RolloutStatus

from ..decide.plans import lint_clean_plan_dict

FEATURE = "portfolio-advice"
ROLES = ("product", "legal")


def plan_data(**readiness: Any) -> dict[str, Any]:
    data = lint_clean_plan_dict()
    data["readiness"] = {
        "heldout": {"path": "heldout.jsonl", "min_accuracy": 0.9, "min_examples": 500},
        "min_input_patterns": 2,
        "worst_case": {"description": "a wrong allocation is followed", "amount": 1000},
        "required_guardrails": {"min_count": 3, "must_include": ["confidence", "review"]},
        "sign_off": list(ROLES),
        **readiness,
    }
    return data


def as_plan(data: dict[str, Any]) -> tuple[Plan, str]:
    text = yaml.safe_dump(data, sort_keys=False)
    return parse_plan(text), text


def good_heldout(accuracy: float = 0.98, n: int = 2000) -> EvalSet:
    correct = [i % 1000 < accuracy * 1000 for i in range(n)]
    return EvalSet.from_rows([0.99] * n, correct, patterns=[f"p{i % 4}" for i in range(n)])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()


def registered(store: SqlStore, data: dict[str, Any] | None = None) -> tuple[Controller, Plan]:
    controller = Controller(store)
    plan, text = as_plan(data or plan_data())
    assert controller.register(plan, text, actor="ana").after.status is RolloutStatus.DRAFT
    return controller, plan


def record(controller: Controller, plan: Plan, heldout: EvalSet) -> None:
    report = evaluate_readiness(plan, heldout)
    controller.record_readiness(FEATURE, plan_version=plan_version(plan),
                                report=report.to_json(), passed=report.passed, actor="ana")


def test_start_lists_everything_missing(store: SqlStore) -> None:
    controller, _ = registered(store)
    with pytest.raises(TransitionRefusedError) as refused:
        controller.start(FEATURE, actor="ana", reason="go")
    missing = refused.value.missing
    assert any("no readiness evaluation of this checklist" in m for m in missing)
    assert any("no sign-off by 'product'" in m for m in missing)
    assert any("no sign-off by 'legal'" in m for m in missing)
    assert store.get_state(FEATURE).status is RolloutStatus.DRAFT  # type: ignore[union-attr]


def test_a_failing_checklist_blocks_with_its_own_sentences(store: SqlStore) -> None:
    controller, plan = registered(store)
    record(controller, plan, good_heldout(accuracy=0.80))
    for role in ROLES:
        controller.sign(FEATURE, plan_version=plan_version(plan), role=role, name="x",
                        actor="x")
    (blocker,) = controller.blockers(FEATURE)
    assert blocker.startswith("readiness: ")
    assert "accuracy" in blocker


def test_lint_errors_block_start(store: SqlStore) -> None:
    data = lint_clean_plan_dict()
    del data["phases"][1]["stop"]  # TR007: no stop criteria
    controller, _ = registered(store, data)
    with pytest.raises(TransitionRefusedError, match="not ready to start") as refused:
        controller.start(FEATURE, actor="ana", reason="go")
    assert any(m.startswith("lint TR007 at phases[1]") for m in refused.value.missing)


def test_checklist_and_signatures_make_it_ready_then_it_starts(store: SqlStore) -> None:
    controller, plan = registered(store)
    version = plan_version(plan)
    record(controller, plan, good_heldout())
    first = controller.sign(FEATURE, plan_version=version, role="product", name="Priya",
                            actor="priya")
    assert (first.transition.value, first.after.status) == ("sign", RolloutStatus.DRAFT)
    again = controller.sign(FEATURE, plan_version=version, role="product", name="Priya",
                            actor="priya")
    assert not again.changed
    last = controller.sign(FEATURE, plan_version=version, role="legal", name="Lee", actor="lee")
    assert (last.transition.value, last.after.status) == ("ready", RolloutStatus.READY)
    started = controller.start(FEATURE, actor="ana", reason="signed")
    assert (started.after.status, started.after.phase) == (RolloutStatus.RUNNING, "beta")
    assert [e.action for e in store.audit_log(FEATURE)] == [
        "register", "readiness", "sign", "sign", "ready", "start"]
    sign_entry = store.audit_log(FEATURE)[2]
    assert sign_entry.evidence is not None
    assert sign_entry.evidence["role"] == "product"
    assert sign_entry.plan_version == version


def test_an_unknown_role_or_an_empty_name_cannot_sign(store: SqlStore) -> None:
    controller, plan = registered(store)
    with pytest.raises(TransitionRefusedError, match="role 'ceo' is not among"):
        controller.sign(FEATURE, plan_version=plan_version(plan), role="ceo", name="x",
                        actor="x")
    with pytest.raises(InvalidInputError, match="signer's name"):
        controller.sign(FEATURE, plan_version=plan_version(plan), role="legal", name=" ",
                        actor="x")


def test_a_changed_threshold_voids_the_signatures_and_the_readiness(store: SqlStore) -> None:
    controller, plan = registered(store)
    version = plan_version(plan)
    record(controller, plan, good_heldout())
    for role in ROLES:
        controller.sign(FEATURE, plan_version=version, role=role, name=role, actor=role)
    assert store.get_state(FEATURE).status is RolloutStatus.READY  # type: ignore[union-attr]
    data = plan_data()
    data["revision"] = 4
    data["phases"][0]["guardrails"]["confidence"]["threshold"] = 0.5
    changed, text = as_plan(data)
    change = controller.register(changed, text, actor="bob")
    assert change.after.status is RolloutStatus.DRAFT
    assert "2 signature(s) voided" in change.message
    assert all(not s.valid and "checklist changed" in s.void_reason
               for s in store.signatures(FEATURE))
    assert any("no readiness evaluation" in b for b in controller.blockers(FEATURE))


def test_a_new_description_keeps_signatures_and_readiness(store: SqlStore) -> None:
    controller, plan = registered(store)
    version = plan_version(plan)
    record(controller, plan, good_heldout())
    for role in ROLES:
        controller.sign(FEATURE, plan_version=version, role=role, name=role, actor=role)
    data = plan_data()
    data["revision"] = 4
    data["feature"]["description"] = "reworded"
    reworded, text = as_plan(data)
    change = controller.register(reworded, text, actor="bob")
    assert (change.transition.value, change.after.status) == ("ready", RolloutStatus.READY)
    assert all(s.valid for s in store.signatures(FEATURE))


def test_every_change_writes_its_audit_entry_or_nothing(store: SqlStore) -> None:
    data = lint_clean_plan_dict()
    controller, _ = registered(store, data)
    controller.start(FEATURE, actor="ana", reason="go")
    entries = len(store.audit_log(FEATURE))
    state = store.get_state(FEATURE)

    # The database refuses the audit insert: the state change must not land alone.
    broken = open_store(store.url)
    original = broken.state_transaction

    def failing(feature: str) -> Any:
        manager = original(feature)

        class Wrapped:
            def __enter__(self) -> Any:
                tx = manager.__enter__()

                def refuse(record: AuditRecord) -> None:
                    raise StoreError("could not change feature state: disk full")

                tx.append_audit = refuse
                return tx

            def __exit__(self, *exc: Any) -> Any:
                return manager.__exit__(*exc)

        return Wrapped()

    broken.state_transaction = failing  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="disk full"):
        Controller(broken).kill(FEATURE, actor="ana", reason="test")
    broken.close()
    assert store.get_state(FEATURE) == state
    assert len(store.audit_log(FEATURE)) == entries


def test_resume_after_an_automatic_kill_needs_a_person(store: SqlStore) -> None:
    controller, _ = registered(store, lint_clean_plan_dict())
    controller.start(FEATURE, actor="ana", reason="go")
    controller.kill(FEATURE, actor=CONTROLLER, reason="critical error rate breached",
                    evidence={"criterion": "critical_error_rate", "bound": 0.03})
    with pytest.raises(TransitionRefusedError, match="never resumes"):
        controller.resume(FEATURE, actor=CONTROLLER, reason="looks fine now")
    with pytest.raises(InvalidInputError, match="resume needs a reason"):
        controller.resume(FEATURE, actor="ana", reason="")
    change = controller.resume(FEATURE, actor="ana", reason="root cause fixed")
    assert change.after.status is RolloutStatus.RUNNING
    kill_entry = store.audit_log(FEATURE)[-2]
    assert (kill_entry.actor, kill_entry.evidence) == (
        CONTROLLER, {"criterion": "critical_error_rate", "bound": 0.03})


def test_unknown_features_and_versions_are_not_found(store: SqlStore) -> None:
    controller = Controller(store)
    with pytest.raises(NotFoundError, match="no rollout of 'ghost'"):
        controller.kill("ghost", actor="ana", reason="x")
    registered(store, lint_clean_plan_dict())
    with pytest.raises(NotFoundError, match="plan version 9-deadbeef"):
        controller.start(FEATURE, actor="ana", reason="x", plan_version="9-deadbeef")
