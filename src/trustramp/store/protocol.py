"""The seam between trustramp and its database: one protocol per role, and :class:`Store`.

Each caller depends on the narrowest protocol it uses: the event writer on
:class:`EventSink` (``write`` only), the embedded client's admissions on
:class:`AdmissionStore`, the processes that follow a rollout on
:class:`StateReader`, the controller on :class:`StateStore` and :class:`PlanStore`
and :class:`LeaseStore`, the monitor on :class:`AggregateStore`. :class:`Store` is all
of them; :class:`SqlStore` implements it
on SQLite and PostgreSQL. Moving events to a partitioned table or a column store is
a new implementation of these protocols, not a change anywhere else.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from trustramp.events import Event, ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store.records import (
    AuditRecord,
    FeatureState,
    OutcomeCounts,
    PlanRecord,
    ReadinessRecord,
    Signature,
)
from trustramp.store.sequenced import (
    CounterKey,
    Cursors,
    LabelledOutput,
    NewEvents,
    OutcomeFact,
    OutputFact,
)


class EventSink(Protocol):
    """Where recorded events go (the writer needs nothing else)."""

    def write(self, events: Sequence[Event]) -> None:
        """Insert events, idempotent on ``event_id``: rewriting a batch adds nothing.

        Raises ValueError, before anything is written, for an event the store
        cannot keep (naive timestamp, input attributes that are not JSON).
        """
        ...


class EventReader(Protocol):
    """Events back, oldest first, windows half-open ``since <= ts < until``."""

    def exposures(
        self,
        feature: str,
        *,
        phase: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ExposureEvent]:
        """Exposure events of one feature, optionally one phase and window."""
        ...

    def outputs(
        self,
        feature: str,
        *,
        phase: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[OutputEvent]:
        """Output (gate decision) events of one feature, optionally one phase and window."""
        ...

    def outcomes(
        self,
        feature: str,
        *,
        kind: OutcomeKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[OutcomeEvent]:
        """Outcome events of one feature, optionally one kind and window."""
        ...

    def outcome_counts(
        self,
        feature: str,
        *,
        phase: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> OutcomeCounts:
        """Aggregated outcome evidence; ``phase`` is the phase of the output each
        outcome refers to (joined by ``decision_id``), the window applies to the
        outcome's own timestamp. See :class:`OutcomeCounts` for what counts once."""
        ...


class AdmissionStore(Protocol):
    """Absolute audience caps: who took a place in a capped phase."""

    def admit(self, feature: str, phase: str, unit_id: str, *, cap: int) -> bool:
        """Admit a unit into a phase with an absolute audience cap, first come first served.

        True when the unit is admitted: it already was (sticky, even if the cap
        was lowered since), or fewer than ``cap`` units were and it now is. The
        check and the insert are one serialized step, so concurrent callers
        never admit more than ``cap`` units.
        """
        ...

    def admitted_units(self, feature: str, phase: str) -> frozenset[str]:
        """The unit ids admitted into one phase of one feature."""
        ...


class StateTransaction(Protocol):
    """A read-decide-write of one feature's state, atomic and serialized per feature.

    ``before`` is read after the feature's lock is taken, so no other transaction
    changes it until this one ends. Everything written through the transaction
    (state, audit entries, plans, signatures, readiness reports) commits together
    when the ``with`` block exits normally and is rolled back, all of it, when the
    block raises. Only the controller opens these.
    """

    @property
    def before(self) -> FeatureState | None:
        """The feature's state when the transaction started (None: never set)."""
        ...

    def set_state(self, state: FeatureState) -> None:
        """Replace the feature's state (``state.feature`` must be this feature)."""
        ...

    def append_audit(self, record: AuditRecord) -> None:
        """Add one audit log entry (``record.feature`` must be this feature)."""
        ...

    def add_plan(self, record: PlanRecord) -> bool:
        """Store a plan version; False when that version was stored before (kept as is)."""
        ...

    def add_signature(self, signature: Signature) -> None:
        """Record a sign-off."""
        ...

    def void_signatures(self, keep_fingerprint: str, reason: str, at: datetime) -> int:
        """Void the valid signatures made against any other fingerprint; how many."""
        ...

    def add_readiness(self, record: ReadinessRecord) -> None:
        """Store a readiness evaluation."""
        ...

    def signatures(self) -> list[Signature]:
        """This feature's signatures, valid and void, oldest first."""
        ...

    def latest_readiness(self, fingerprint: str) -> ReadinessRecord | None:
        """The newest readiness evaluation against ``fingerprint``."""
        ...

    def plan(self, version: str) -> PlanRecord | None:
        """The stored plan version, or None."""
        ...


class StateReader(Protocol):
    """What a process that follows a rollout reads: cheap, and no locks."""

    def get_state(self, feature: str) -> FeatureState | None:
        """The feature's rollout state, or None when no plan was ever registered."""
        ...

    def state_version(self, feature: str) -> int | None:
        """The state's change counter alone (None: no state): the cheap poll."""
        ...


class StateStore(StateReader, Protocol):
    """Rollout states and the audit log (the controller's)."""

    def state_transaction(self, feature: str) -> AbstractContextManager[StateTransaction]:
        """Lock one feature's state for a read-decide-write (see :class:`StateTransaction`)."""
        ...

    def states(self) -> list[FeatureState]:
        """Every feature's state, by feature key."""
        ...

    def audit_log(self, feature: str | None = None) -> list[AuditRecord]:
        """Audit entries, oldest first, of one feature or of all."""
        ...


class PlanStore(Protocol):
    """Plan versions, sign-offs and readiness evaluations, read outside a transaction."""

    def plan(self, feature: str, version: str) -> PlanRecord | None:
        """One stored plan version, or None."""
        ...

    def plans(self, feature: str) -> list[PlanRecord]:
        """Every stored version of a feature's plan, oldest first."""
        ...

    def signatures(self, feature: str) -> list[Signature]:
        """A feature's signatures, valid and void, oldest first."""
        ...

    def readiness_reports(self, feature: str, limit: int = 20) -> list[ReadinessRecord]:
        """A feature's readiness evaluations, newest first."""
        ...


class Lease(Protocol):
    """Who runs the controller: at most one holder at a time, taken over when it dies."""

    @property
    def held(self) -> bool:
        """True while this process holds the lease (as of its last acquire)."""
        ...

    def acquire(self) -> bool:
        """Take or renew the lease; True when this process holds it afterwards."""
        ...

    def release(self) -> None:
        """Give the lease up (another process may take it at once)."""
        ...


class LeaseStore(Protocol):
    def lease(self, name: str, holder: str, ttl: timedelta) -> Lease:
        """The lease ``name`` for ``holder``; a row that expires after ``ttl`` on SQLite,
        a session advisory lock (released when the connection dies) on PostgreSQL."""
        ...


class MonitorTransaction(Protocol):
    """One fold step: read after the cursors, add counters, move the cursors, atomically.

    Everything added and the cursors commit together when the ``with`` block exits
    normally and are rolled back, all of it, when it raises. Fold steps are
    serialized: a second one waits until the first commits and then sees its cursors.
    """

    @property
    def cursors(self) -> Cursors:
        """How far the monitor has folded each event table."""
        ...

    def new_events(self, horizon: Cursors, limit: int) -> NewEvents:
        """Up to ``limit`` rows of each table with ``cursor < seq <= horizon``, oldest
        first, and the cursors that follow them (``NewEvents.cursors``)."""
        ...

    def outputs_of(self, decision_ids: Collection[str], upto: int) -> list[OutputFact]:
        """Every output row of these decisions with ``seq <= upto``, oldest first."""
        ...

    def outcomes_of(self, decision_ids: Collection[str], upto: int) -> list[OutcomeFact]:
        """Every outcome row about these decisions with ``seq <= upto``, oldest first."""
        ...

    def add_counts(self, counts: Mapping[CounterKey, int]) -> None:
        """Add signed increments to the counters (a missing counter starts at 0)."""
        ...

    def move_cursors(self, cursors: Cursors) -> None:
        """Set the cursors (they commit with the counters)."""
        ...


class AggregateStore(Protocol):
    """What the monitor needs: event positions, its counters, a bounded read of labels."""

    def event_horizon(self) -> Cursors:
        """Per event table, a position at or below which every row is committed and no
        row can still appear (``max(seq)`` while no writer is in flight)."""
        ...

    def monitor_transaction(self) -> AbstractContextManager[MonitorTransaction]:
        """Open one serialized fold step (see :class:`MonitorTransaction`)."""
        ...

    def evidence_counts(
        self, feature: str, phase: str, first_bucket: datetime, until: datetime
    ) -> dict[str, int]:
        """Each counter of one phase summed over the buckets starting in
        ``[first_bucket, until)``; counters never added are absent."""
        ...

    def labelled_outputs(
        self,
        feature: str,
        phase: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 5000,
    ) -> list[LabelledOutput]:
        """Up to ``limit`` outputs of one phase with their latest label in the window,
        newest label first: a bounded read for error slices."""
        ...

    def readiness_reports(self, feature: str, limit: int = 20) -> list[ReadinessRecord]:
        """A feature's readiness evaluations, newest first (the drift baseline)."""
        ...


@runtime_checkable
class Store(EventSink, EventReader, AdmissionStore, StateStore, PlanStore, LeaseStore,
            AggregateStore, Protocol):
    """Where trustramp keeps events, admissions, rollout state, plans and the audit log.

    Timestamps go in and come out timezone-aware (UTC on the way out); windows
    are half-open, ``since <= ts < until``. Reads return events oldest first.

    Example:
        >>> from trustramp.store import open_store
        >>> from trustramp.events import ExposureEvent
        >>> store = open_store("sqlite://")  # in-memory, for a quick try
        >>> event = ExposureEvent("summarize", "1", "u1", True, "beta", "in segment")
        >>> store.write([event]); store.write([event])  # a retry does not duplicate
        >>> len(store.exposures("summarize"))
        1
    """

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...
