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
needs memory or storage: the rollout state (followed in the background: a change
written by any process reaches this one within a second), admissions under
absolute caps, rate-limit counters, and recording. Recording never blocks: events
go to a bounded queue that a background thread writes to the store (see
:class:`trustramp.store.EventWriter`). State changes go through the
:class:`~trustramp.controller.Controller`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from types import TracebackType
from typing import Any

from trustramp.controller import Change, Controller
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
from trustramp.errors import ClosedError, InvalidInputError
from trustramp.events import ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.plan import load_plan_file
from trustramp.store import EventWriter, FeatureState, Store, StoreError, open_store
from trustramp.vocabulary import RolloutStatus

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
    passed in stays open on :meth:`close` (the caller owns it). Opening registers
    the plan with the controller: a plan the store has never seen starts in
    ``draft``, where everyone gets the fallback until ``trustramp start`` (or
    :meth:`start`) passes the readiness checks. The status and phase then come from
    the store; ``phase`` pins this client to a phase of its own plan (for testing a
    phase; it still obeys the status and never writes its phase to the store).

    A background thread reads the state's change counter every ``follow_every``
    seconds and switches to a new state when it moved, so a kill written by any
    process reaches this one within about that interval. The decision path itself
    never touches the store, except the one bounded admission into a capped phase.

    What it keeps in memory, per process:

    - rate-limit counters (sliding windows): with N processes each enforces the
      limits on its own traffic;
    - which units' exposure it recorded: an exposure event is written once per
      unit and phase, and again only if the unit's exposure changes (it remembers
      up to 200,000 units, then starts over, so memory stays bounded);
    - the admissions under the phase caps, loaded from the store with the state; a
      new admission is one serialized store write, waited for at most
      ``admission_timeout`` seconds (a slower store fails closed: the unit is not
      exposed this time).

    Example:
        >>> rollout = Rollout("examples/plans/portfolio-advice.yaml", store="sqlite://")
        >>> staff = {"id": "s1", "is_employee": True, "power_user": True, "beta_opt_in": True}
        >>> rollout.status.value                      # registered, not started
        'draft'
        >>> rollout.gate(rollout.exposure(staff), 0.99).action.value
        'fallback'
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
        follow_every: float = 0.25,
        admission_timeout: float = 0.05,
    ) -> None:
        plan = load_plan_file(plan_path)
        text = Path(plan_path).read_text(encoding="utf-8")
        if not follow_every > 0:
            raise InvalidInputError(f"follow_every must be a positive number of seconds, got "
                                    f"{follow_every!r}")
        self._owns_store = store is None or isinstance(store, str)
        self._store: Store = open_store(store) if store is None or isinstance(store, str) \
            else store
        self.actor = actor
        self._clock = clock
        self._pinned = phase
        self._lock = threading.Lock()
        self._closed = False
        self._owns_writer = writer is None
        self._admission_timeout = admission_timeout
        self._admissions = ThreadPoolExecutor(1, thread_name_prefix="trustramp-admit")
        self._pending: dict[str, Future[bool]] = {}
        self._own = compile_policy(plan, phase)  # validates a pinned phase
        self._policy = self._own
        self._compiled: dict[str, Policy] = {self._own.version: self._own}
        self._state_version = -1
        self._recorded: dict[str, bool] = {}
        self._admitted: set[str] = set()
        self._admitted_count = 0
        self._user_limit: RateCounter | None = None
        self._feature_limit: RateCounter | None = None
        self._loaded_phase: str | None = None
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        try:
            self.controller = Controller(self._store)
            self.controller.register(plan, text, actor=actor)
            self._writer = writer if writer is not None else EventWriter(self._store)
            self.refresh()
        except BaseException:
            self._release()  # do not leave threads and the store open
            raise
        self._follow_every = follow_every
        self._follower = threading.Thread(target=self._follow, name="trustramp-follow",
                                          daemon=True)
        self._follower.start()

    # --------------------------------------------------------------- state

    @property
    def policy(self) -> Policy:
        """The current policy snapshot (replaced as a whole when the state changes)."""
        return self._policy

    @property
    def feature(self) -> str:
        return self._policy.feature

    @property
    def status(self) -> RolloutStatus:
        """The rollout's status as this process last read it."""
        return self._policy.status

    @property
    def writer(self) -> EventWriter:
        """The event writer (its ``dropped`` / ``failed`` counters tell if recording lags)."""
        return self._writer

    def refresh(self) -> Policy:
        """Re-read the rollout state and the cap admissions from the store and switch to them.

        The background thread calls this whenever the state changes; call it
        yourself only to pick up admissions made by other processes sooner. A state
        read before a newer one this process already applied is ignored, so a
        refresh racing a kill can never bring back the state before the kill.
        """
        state = self._store.get_state(self.feature)
        if state is None:
            raise StoreError(f"the store holds no state of {self.feature!r}; was it reset "
                             "while this process ran?")
        fresh = self._policy_of(state)
        admitted, count = self._read_admissions(fresh)
        return self._switch(state, fresh, admitted, count)

    def _policy_of(self, state: FeatureState) -> Policy:
        if self._pinned is not None:
            base = self._own
        else:
            base = self._compiled.get(state.plan_version) or self._load(state.plan_version)
        phase = self._pinned or state.phase
        try:
            return base.with_phase(phase).with_status(state.status, state.reason)
        except ValueError as error:
            raise InvalidInputError(f"the store's state of {self.feature!r} names a phase this "
                                    f"plan does not have ({error}); pass phase=... or fix "
                                    "the state") from None

    def _load(self, version: str) -> Policy:
        """The policy of a plan version the store runs but this process's file is not."""
        try:
            plan = self.controller.plan(self.feature, version)
        except LookupError:
            logger.warning("trustramp: %r runs plan version %s, which the store does not hold; "
                           "serving this process's plan %s", self.feature, version,
                           self._own.version)
            return self._own
        logger.warning("trustramp: %r runs plan version %s; this process's plan file is %s "
                       "(run `trustramp start` with it to apply it)", self.feature, version,
                       self._own.version)
        policy = compile_policy(plan)
        self._compiled[version] = policy
        return policy

    def _switch(self, state: FeatureState, fresh: Policy, admitted: set[str],
                count: int) -> Policy:
        with self._lock:
            if state.version < self._state_version:
                return self._policy  # a stale read lost the race to a newer state
            if fresh.phase != self._loaded_phase or fresh.version != self._policy.version:
                self._start_phase(fresh)
                self._admitted, self._admitted_count = admitted, count
            else:  # admissions only grow: never forget one made meanwhile
                self._admitted |= admitted
                self._admitted_count = max(self._admitted_count, count)
            self._state_version = state.version
            self._policy = fresh
            return fresh

    def _read_admissions(self, policy: Policy) -> tuple[set[str], int]:
        """Units admitted under the caps up to the policy's phase, and the current cap's count."""
        current = policy.current
        admitted: set[str] = set()
        count = 0
        for compiled in policy.compiled.phases[: current.index + 1]:
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

    def _follow(self) -> None:
        warned = False
        while not self._stop.wait(self._follow_every):
            try:
                version = self._store.state_version(self.feature)
                if version is not None and version != self._state_version:
                    self.refresh()
                warned = False
            except Exception as error:  # keep following through an outage
                if not warned:
                    logger.warning("trustramp could not read the state of %r (keeps serving "
                                   "the last one it read): %s", self.feature, error)
                    warned = True

    # ------------------------------------------------------------ deciding

    def exposure(self, user: Mapping[str, Any] | User) -> Exposure:
        """Whether ``user`` is in the rollout (see :meth:`Policy.exposure`), recorded once."""
        if self._closed:
            self._refuse_closed("exposure")
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
        unit = exposure.unit_id
        submitted = False
        with self._lock:
            if unit in self._admitted:
                return exposure._replace(admit=False)
            future = self._pending.get(unit)
            if future is None:
                future = self._admissions.submit(self._store.admit, policy.feature, policy.phase,
                                                 unit, cap=cap)
                self._pending[unit] = future
                submitted = True
        if submitted:  # outside the lock: a finished future runs the callback right here
            future.add_done_callback(lambda done: self._admitted_later(policy, unit, done))
        try:
            admitted = future.result(timeout=self._admission_timeout)
        except FutureTimeout:
            # Fail closed: a slow store must not hold the request, and a unit not yet
            # counted against the cap must not see the feature. The admission goes on in
            # the background; once it lands the unit is in from its next request on.
            return self._closed_out(exposure, "admission to the capped phase took longer "
                                    f"than {self._admission_timeout * 1000:g} ms")
        except StoreError as error:
            logger.warning("trustramp could not record an admission to phase %r of %r: "
                           "%s", policy.phase, policy.feature, error)
            return self._closed_out(exposure, "admission to the capped phase is unavailable "
                                    "(the store could not be reached)")
        if admitted:
            return exposure
        return self._closed_out(exposure, f"the cap of {cap} units of phase {policy.phase!r} "
                                "is full")

    def _admitted_later(self, policy: Policy, unit: str, done: Future[bool]) -> None:
        with self._lock:
            self._pending.pop(unit, None)
            if done.cancelled() or done.exception() is not None or self._policy.phase != \
                    policy.phase:
                return
            if done.result():
                if unit not in self._admitted:
                    self._admitted.add(unit)
                    self._admitted_count += 1
            else:
                self._admitted_count = policy.current.cap or 0  # full: stop asking the store

    @staticmethod
    def _closed_out(exposure: Exposure, reason: str) -> Exposure:
        return exposure._replace(exposed=False, admit=False, segment=None, reason=reason)

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
        if self._closed:
            self._refuse_closed("gate")
        policy = self._policy
        users, feature = self._user_limit, self._feature_limit
        usage = None
        if users is not None or feature is not None:
            now = self._clock()
            unit = exposure.unit_id if isinstance(exposure, Exposure) else ""
            usage = Usage(users.count(unit, now) if users else 0,
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

    # ------------------------------------------------------------ outcomes

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
        if self._closed:
            self._refuse_closed(kind.value)
        return self._writer.submit(OutcomeEvent(decision_id, self.feature, kind, value,
                                                critical, comment, source))

    # ------------------------------------------------------- state changes

    def start(self, reason: str = "") -> Change:
        """Start the rollout (the controller refuses while the readiness checks block it)."""
        return self._apply(self.controller.start(self.feature, actor=self.actor, reason=reason))

    def pause(self, reason: str) -> Change:
        """Serve the fallback to everyone until :meth:`resume` (state and audit in the store)."""
        return self._apply(self.controller.pause(self.feature, actor=self.actor, reason=reason))

    def kill(self, reason: str) -> Change:
        """The kill switch: the fallback for everyone, in every process on this store."""
        return self._apply(self.controller.kill(self.feature, actor=self.actor, reason=reason))

    def resume(self, reason: str) -> Change:
        """Serve the AI path again after a pause or a kill (a person, with a reason)."""
        return self._apply(self.controller.resume(self.feature, actor=self.actor,
                                                  reason=reason))

    def _apply(self, change: Change) -> Change:
        # The change is committed; switch now rather than at the next poll.
        fresh = self._policy_of(change.after)
        self._switch(change.after, fresh, *self._read_admissions(fresh))
        return change

    # ------------------------------------------------------------- closing

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event recorded so far is written; False on timeout."""
        return self._writer.flush(timeout)

    def close(self) -> None:
        """Stop following, write the queued events; close the writer and the store if this
        client made them. Deciding or recording afterwards raises :class:`ClosedError`."""
        if self._closed:
            return
        self._closed = True
        self._release()

    def _release(self) -> None:
        self._closed = True
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5.0)
        self._admissions.shutdown(wait=False, cancel_futures=True)
        writer = getattr(self, "_writer", None)
        if writer is not None:
            if self._owns_writer:
                writer.close()
            else:
                writer.flush()
        if self._owns_store:
            self._store.close()

    def _refuse_closed(self, what: str) -> None:
        raise ClosedError(f"{what}: this Rollout of {self.feature!r} is closed; it no longer "
                          "decides or records (open a new one)")

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


__all__ = ["Rollout"]
