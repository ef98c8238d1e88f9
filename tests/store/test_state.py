"""Rollout state and its audit log change together or not at all."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from trustramp.store import (
    AuditRecord,
    FeatureState,
    SqlStore,
    StoreError,
    open_store,
)
from trustramp.vocabulary import RolloutStatus

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def set_state(store: SqlStore, state: FeatureState, *, actor: str, action: str,
              reason: str = "") -> AuditRecord:
    """What the controller does for every change: state and audit in one transaction."""
    with store.state_transaction(state.feature) as tx:
        record = AuditRecord.of_change(tx.before, state, actor=actor, action=action,
                                       reason=reason)
        tx.set_state(state)
        tx.append_audit(record)
    return record


def test_set_state_writes_state_and_audit_with_before_and_after(store: SqlStore) -> None:
    assert store.get_state("advice") is None
    first = FeatureState("advice", "1", "beta", updated_at=T0)
    record = set_state(store, first, actor="ana", action="start", reason="signed off")
    assert record.before is None
    assert record.after == first.to_json()
    assert store.get_state("advice") == first

    paused = FeatureState(
        "advice",
        "1",
        "beta",
        RolloutStatus.PAUSED,
        "accuracy floor",
        updated_at=T0 + timedelta(hours=1),
    )
    set_state(store, paused, actor="controller", action="pause", reason="accuracy 0.81 < 0.85")
    assert store.get_state("advice") == paused
    log = store.audit_log("advice")
    assert [(r.actor, r.action) for r in log] == [("ana", "start"), ("controller", "pause")]
    assert log[1].before == first.to_json()
    assert log[1].after == paused.to_json()
    assert log[0] == record
    assert store.audit_log("other") == []


def test_an_exception_in_the_transaction_leaves_neither_state_nor_audit(store: SqlStore) -> None:
    set_state(store, FeatureState("advice", "1", "beta"), actor="ana", action="start")

    def promote_then_change_mind() -> None:
        with store.state_transaction("advice") as tx:
            tx.set_state(FeatureState("advice", "1", "early"))
            tx.append_audit(AuditRecord("advice", actor="ana", action="promote"))
            raise RuntimeError("decided against it")

    with pytest.raises(RuntimeError, match="decided against it"):
        promote_then_change_mind()
    state = store.get_state("advice")
    assert state is not None
    assert state.phase == "beta"
    assert [r.action for r in store.audit_log("advice")] == ["start"]


def test_a_failing_audit_insert_rolls_back_the_state_change(store: SqlStore) -> None:
    first = set_state(store, FeatureState("advice", "1", "beta"), actor="ana", action="start")

    def promote_with_a_clashing_audit_id() -> None:
        with store.state_transaction("advice") as tx:
            tx.set_state(FeatureState("advice", "1", "gradual"))
            # Same primary key as an existing entry: the database itself refuses it.
            tx.append_audit(AuditRecord("advice", actor="bob", action="promote", id=first.id))

    with pytest.raises(StoreError, match="could not change feature state on database"):
        promote_with_a_clashing_audit_id()
    state = store.get_state("advice")
    assert state is not None
    assert state.phase == "beta"
    assert len(store.audit_log("advice")) == 1


def test_transactions_are_serialized_per_feature(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(3)]
    set_state(stores[0], FeatureState("advice", "1", "p0"), actor="t", action="start")
    start = threading.Barrier(len(stores))

    def increment(store: object) -> None:
        assert isinstance(store, SqlStore)
        start.wait()
        for _ in range(8):
            with store.state_transaction("advice") as tx:
                assert tx.before is not None
                n = int(tx.before.phase[1:])
                tx.set_state(FeatureState("advice", "1", f"p{n + 1}"))

    threads = [threading.Thread(target=increment, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = stores[0].get_state("advice")
    for store in stores:
        store.close()
    assert state is not None
    assert state.phase == f"p{8 * len(stores)}"


def test_misuse_is_refused_with_a_reason(store: SqlStore) -> None:
    with (
        store.state_transaction("advice") as tx,
        pytest.raises(ValueError, match="feature 'other' differs"),
    ):
        tx.set_state(FeatureState("other", "1", "beta"))
    with pytest.raises(StoreError, match="has ended"):
        tx.set_state(FeatureState("advice", "1", "beta"))
    with pytest.raises(ValueError, match="status of feature 'advice' is 'paws'"):
        FeatureState("advice", "1", "beta", "paws")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        FeatureState("advice", "1", "beta", updated_at=datetime(2026, 1, 1))
    with (
        pytest.raises(ValueError, match=r"AuditRecord of feature .advice.: after must be JSON"),
        store.state_transaction("advice") as tx2,
    ):
        tx2.append_audit(AuditRecord("advice", "ana", "sign", after={"at": object()}))


def test_a_nul_in_state_or_audit_is_refused_alike_on_both_backends(store: SqlStore) -> None:
    # PostgreSQL cannot store NUL, SQLite can: both refuse it before SQL runs.
    with pytest.raises(
        ValueError, match=r"FeatureState of feature 'advice': reason contains a NUL"
    ):
        set_state(store,
            FeatureState("advice", "1", "beta", reason="a\x00b"), actor="ana", action="start"
        )
    with pytest.raises(ValueError, match=r"AuditRecord of feature 'advice': actor contains a NUL"):
        set_state(store, FeatureState("advice", "1", "beta"), actor="an\x00a", action="start")
    with (
        pytest.raises(ValueError, match=r"after\['note'\]\[0\] contains a NUL"),
        store.state_transaction("advice") as tx,
    ):
        tx.append_audit(AuditRecord("advice", "ana", "note", after={"note": ["x\x00"]}))
    assert store.get_state("advice") is None
    assert store.audit_log("advice") == []
