"""The embedded client: a plan, its state and the event recording, in the app's own process.

::

    with trustramp.Rollout("portfolio-advice.yaml") as rollout:   # SQLite under .trustramp/
        exposure = rollout.exposure({"id": "u42", "staff": True})
        if exposure.exposed:
            answer, confidence = model(question)
        decision = rollout.gate(exposure, confidence, input={"task": "explain"})
        ...
        rollout.feedback(decision.decision_id, helpful=True)

Deciding is the pure :class:`~trustramp.decide.Policy` code; this class adds what
needs memory or storage: the rollout state (read from the store at start and on
:meth:`Rollout.refresh`), admissions under absolute caps, rate-limit counters,
and recording. Recording never blocks: events go to a bounded queue that a
background thread writes to the store (see :class:`trustramp.store.EventWriter`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

from trustramp.decide import (
    Action,
    Decision,
    Exposure,
    Policy,
    RateCounter,
    Usage,
    User,
    compile_policy,
)
from trustramp.events import ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent, utc_now
from trustramp.plan import load_plan_file
from trustramp.store import (
    AuditRecord,
    EventWriter,
    FeatureState,
    FeatureStatus,
    Store,
    StoreError,
    open_store,
)

logger = logging.getLogger("trustramp")

_UNCOUNTED = frozenset({Action.RATE_LIMITED, Action.PAUSED, Action.KILLED})
# Units whose exposure this process remembers recording. Past this many it forgets
# them all: a long-lived server must not grow with its user base, and an exposure
# recorded twice is a repeated fact, not a wrong one.
_REMEMBERED_EXPOSURES = 200_000


class Rollout:
    """One feature under rollout in this process: decide, record, pause, kill.

    ``store`` is a :class:`~trustramp.store.Store`, a database URL, or None for
    the default SQLite file ``.trustramp/trustramp.db``; a store or ``writer``
    passed in stays open on :meth:`close` (the caller owns it). ``phase`` pins this
    client to a phase; by default it follows the state in the store (the first
    phase when there is none). The paused/killed status always comes from the
    store.

    What it keeps in memory, per process:

    - rate-limit counters (sliding windows): with N processes each enforces the
      limits on its own traffic;
    - which units' exposure it recorded: an exposure event is written once per
      unit and phase, and again only if the unit's exposure changes (it remembers
      up to 200,000 units, then starts over, so memory stays bounded);
    - the admissions under the phase caps, loaded from the store at start and on
      :meth:`refresh`; a new admission is one synchronous, serialized store write
      (at most ``max_users`` of them per phase), so concurrent processes never
      exceed the cap. Once this process sees the cap full, a unit admitted by
      another process meanwhile is recognised after the next :meth:`refresh`.

    Example:
        >>> rollout = Rollout("examples/plans/portfolio-advice.yaml", store="sqlite://")
        >>> staff = {"id": "s1", "is_employee": True, "power_user": True, "beta_opt_in": True}
        >>> exposure = rollout.exposure(staff)
        >>> rollout.gate(exposure, 0.99, input={"task": "explain_allocation"}).action.value
        'hold_for_review'
        >>> rollout.close()
    """

    def __init__(
        self,
        plan_path: str | os.PathLike[str],
        store: Store | str | None = None,
        *,
        phase: str | None = None,
        actor: str = "embedded-client",
        clock: Callable[[], float] = time.monotonic,
        writer: EventWriter | None = None,
    ) -> None:
        plan = load_plan_file(plan_path)
        self._owns_store = store is None or isinstance(store, str)
        self._store: Store = open_store(store) if store is None or isinstance(store, str) \
            else store
        self.actor = actor
        self._clock = clock
        self._pinned = phase
        self._lock = threading.Lock()
        self._owns_writer = writer is None
        self._writer = writer if writer is not None else EventWriter(self._store)
        self._policy = compile_policy(plan, phase)  # validates a pinned phase
        self._recorded: dict[str, bool] = {}
        self._admitted: set[str] = set()
        self._admitted_count = 0
        self._user_limit: RateCounter | None = None
        self._feature_limit: RateCounter | None = None
        self._loaded_phase: str | None = None
        try:
            self.refresh()
        except BaseException:
            self.close()  # do not leave the writer thread and the store open
            raise

    @property
    def policy(self) -> Policy:
        """The current policy snapshot (replaced as a whole on pause, kill, refresh)."""
        return self._policy

    @property
    def feature(self) -> str:
        return self._policy.feature

    @property
    def writer(self) -> EventWriter:
        """The event writer (its ``dropped`` / ``failed`` counters tell if recording lags)."""
        return self._writer

    def refresh(self) -> Policy:
        """Re-read the rollout state and the cap admissions from the store and switch to them.

        The phase follows the store unless this client was pinned to one. Call it
        periodically (or after ``trustramp kill`` from another process) to pick up
        changes; the decision path itself never reads the store.
        """
        state = self._store.get_state(self.feature)
        policy = self._policy
        phase = self._pinned or (state.phase if state else policy.phase)
        status = state.status.value if state else "active"
        reason = state.reason if state else ""
        try:
            fresh = policy.with_phase(phase).with_status(status, reason)
        except ValueError as error:
            raise ValueError(f"the store's state of {self.feature!r} names a phase this plan "
                             f"does not have ({error}); pass phase=... or fix the state") from None
        admitted, count = self._admissions(fresh)
        with self._lock:
            if fresh.phase != self._loaded_phase:
                self._start_phase(fresh)
            self._admitted, self._admitted_count = admitted, count
            self._policy = fresh
        return fresh

    def _admissions(self, policy: Policy) -> tuple[set[str], int]:
        """Units admitted under the caps up to the policy's phase, and the current cap's count."""
        phases = policy.compiled.phases
        current = policy.current
        admitted: set[str] = set()
        count = 0
        for compiled in phases[: current.index + 1]:
            if compiled.cap is not None:
                units = self._store.admitted_units(self.feature, compiled.name)
                admitted |= units
                count = len(units) if compiled is current else count
        return admitted, count

    def _start_phase(self, policy: Policy) -> None:
        current = policy.current
        self._recorded = {}
        per_user, per_feature = current.per_user_per_hour, current.per_feature_per_minute
        self._user_limit = RateCounter(per_user, 3600.0) if per_user else None
        self._feature_limit = RateCounter(per_feature, 60.0) if per_feature else None
        self._loaded_phase = policy.phase

    def exposure(self, user: Mapping[str, Any] | User) -> Exposure:
        """Whether ``user`` is in the rollout (see :meth:`Policy.exposure`), recorded once."""
        policy = self._policy
        exposure = policy.exposure(user, admitted=self._admitted,
                                   admitted_count=self._admitted_count)
        if exposure.admit:
            exposure = self._admit(policy, exposure)
        if self._recorded.get(exposure.unit_id) is not exposure.exposed:
            if len(self._recorded) >= _REMEMBERED_EXPOSURES:
                self._recorded = {}
            self._recorded[exposure.unit_id] = exposure.exposed
            self._writer.submit(ExposureEvent(policy.feature, policy.version, exposure.unit_id,
                                              exposure.exposed, policy.phase, exposure.reason))
        return exposure

    def _admit(self, policy: Policy, exposure: Exposure) -> Exposure:
        cap = policy.current.cap or 0
        with self._lock:
            if exposure.unit_id in self._admitted:
                return exposure._replace(admit=False)
            try:
                admitted = self._store.admit(policy.feature, policy.phase, exposure.unit_id,
                                             cap=cap)
            except StoreError as error:
                # Fail closed: a store outage must not raise into the app's request, and
                # a unit we could not count against the cap must not see the feature.
                logger.warning("trustramp could not record an admission to phase %r of %r: "
                               "%s", policy.phase, policy.feature, error)
                return exposure._replace(exposed=False, admit=False, segment=None,
                                         reason="admission to the capped phase is unavailable "
                                         "(the store could not be reached)")
            if admitted:
                self._admitted.add(exposure.unit_id)
                self._admitted_count += 1
                return exposure
            self._admitted_count = cap  # other processes filled it: stop asking the store
        return exposure._replace(exposed=False, admit=False, segment=None,
                                 reason=f"the cap of {cap} units of phase {policy.phase!r} "
                                 "is full")

    def gate(
        self,
        exposure: Exposure,
        confidence: float | None,
        input: Mapping[str, Any] | None = None,
        *,
        decision_id: str | None = None,
    ) -> Decision:
        """What the user sees (see :meth:`Policy.gate`), with this process's rate-limit usage.

        The output is recorded (enqueued, never blocking) when the unit was
        exposed, i.e. when there was a model answer to decide about.
        """
        policy = self._policy
        users, feature = self._user_limit, self._feature_limit
        usage = None
        if users is not None or feature is not None:
            now = self._clock()
            usage = Usage(users.count(exposure.unit_id, now) if users else 0,
                          feature.count("", now) if feature else 0)
        decision = policy.gate(exposure, confidence, input, decision_id=decision_id,
                               usage=usage)
        if exposure.exposed:
            if usage is not None and decision.action not in _UNCOUNTED:
                if users is not None:
                    users.hit(exposure.unit_id, now)
                if feature is not None:
                    feature.hit("", now)
            self._writer.submit(OutputEvent(
                decision.decision_id, decision.feature, decision.version, decision.unit_id,
                decision.phase, decision.action.value, decision.reason, decision.confidence,
                decision.review, decision.label, dict(input) if input else {}))
        return decision

    def feedback(self, decision_id: str, *, helpful: bool, comment: str | None = None) -> bool:
        """Record a user's thumbs up (``helpful=True``) or down on one output.

        Unknown decision ids are accepted (the output may come from another
        process). Returns False when the event queue was full (the event is dropped).
        """
        _check_outcome(decision_id, "helpful", helpful, comment)
        return self._outcome(decision_id, OutcomeKind.FEEDBACK, helpful, False, comment, "user")

    def label(self, decision_id: str, *, correct: bool, critical: bool = False,
              comment: str | None = None) -> bool:
        """Record ground truth about one output; ``critical`` marks a severe error."""
        _check_outcome(decision_id, "correct", correct, comment, critical)
        return self._outcome(decision_id, OutcomeKind.LABEL, correct, critical, comment, "label")

    def review(self, decision_id: str, *, approved: bool, reviewer: str | None = None,
               comment: str | None = None, critical: bool = False) -> bool:
        """Record a reviewer's verdict on an output held for review."""
        _check_outcome(decision_id, "approved", approved, comment, critical)
        if reviewer is not None and not isinstance(reviewer, str):
            raise ValueError(f"reviewer must be a string or None, got {reviewer!r}")
        return self._outcome(decision_id, OutcomeKind.REVIEW, approved, critical, comment,
                             reviewer or "reviewer")

    def ticket(self, decision_id: str, *, comment: str, critical: bool = False) -> bool:
        """Record a support ticket about one output."""
        _check_outcome(decision_id, "comment", True, comment, critical)
        if not comment:
            raise ValueError("ticket comment must say what the user reported")
        return self._outcome(decision_id, OutcomeKind.TICKET, None, critical, comment, "support")

    def _outcome(self, decision_id: str, kind: OutcomeKind, value: bool | None,
                 critical: bool, comment: str | None, source: str) -> bool:
        return self._writer.submit(OutcomeEvent(decision_id, self.feature, kind, value,
                                                critical, comment, source))

    def pause(self, reason: str) -> Policy:
        """Serve the fallback to everyone until :meth:`resume` (state and audit in the store)."""
        return self._set_status(FeatureStatus.PAUSED, "pause", reason)

    def kill(self, reason: str) -> Policy:
        """The kill switch: the fallback for everyone, in every process that refreshes."""
        return self._set_status(FeatureStatus.KILLED, "kill", reason)

    def resume(self, reason: str) -> Policy:
        """Serve the AI path again after a pause or a kill."""
        return self._set_status(FeatureStatus.ACTIVE, "resume", reason)

    def _set_status(self, status: FeatureStatus, action: str, reason: str) -> Policy:
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{action} needs a reason (who decided and why), got {reason!r}")
        policy = self._policy
        with self._store.state_transaction(policy.feature) as transaction:
            # Only the status changes: the phase and plan version are the store's, so a
            # process that is pinned or has not refreshed since a promotion cannot
            # move the rollout back to its own phase.
            before = transaction.before
            if before is None:
                state = FeatureState(policy.feature, plan_version=policy.version,
                                     phase=policy.phase, status=status, reason=reason)
            else:
                state = replace(before, status=status, reason=reason, updated_at=utc_now())
            transaction.set_state(state)
            transaction.append_audit(AuditRecord.of_change(
                before, state, actor=self.actor, action=action, reason=reason))
        with self._lock:
            self._policy = self._policy.with_status(status.value, reason)
        return self._policy

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event recorded so far is written; False on timeout."""
        return self._writer.flush(timeout)

    def close(self) -> None:
        """Write the queued events; close the writer and the store if this client made them."""
        if self._owns_writer:
            self._writer.close()
        else:
            self._writer.flush()
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Rollout:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _check_outcome(decision_id: object, name: str, value: object, comment: object,
                   critical: object = False) -> None:
    if not isinstance(decision_id, str) or not decision_id:
        raise ValueError(f"decision_id must be the non-empty id of a Decision, got "
                         f"{decision_id!r}")
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    if not isinstance(critical, bool):
        raise ValueError(f"critical must be True or False, got {critical!r}")
    if comment is not None and not isinstance(comment, str):
        raise ValueError(f"comment must be a string or None, got {type(comment).__name__}")
