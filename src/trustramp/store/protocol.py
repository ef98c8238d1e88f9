"""The one seam between trustramp and its database: the :class:`Store` protocol.

Everything above the store layer (the embedded client, the monitor, the
controller, the server) talks to this protocol only, with the event dataclasses
of :mod:`trustramp.events` and the records of :mod:`trustramp.store.records`.
Moving events to a partitioned table or a column store is a new implementation
of this protocol, not a change anywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from trustramp.events import Event, ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store.records import AuditRecord, FeatureState, OutcomeCounts


class StateTransaction(Protocol):
    """A read-decide-write of one feature's state, atomic and serialized per feature.

    ``before`` is read after the feature's lock is taken, so no other transaction
    changes it until this one ends. Everything written through the transaction
    commits together when the ``with`` block exits normally and is rolled back,
    all of it, when the block raises.
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


@runtime_checkable
class Store(Protocol):
    """Where trustramp keeps events, admissions, rollout state and the audit log.

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

    def write(self, events: Sequence[Event]) -> None:
        """Insert events, idempotent on ``event_id``: rewriting a batch adds nothing.

        Raises ValueError, before anything is written, for an event the store
        cannot keep (naive timestamp, input attributes that are not JSON).
        """
        ...

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

    def get_state(self, feature: str) -> FeatureState | None:
        """The feature's rollout state, or None when it was never set."""
        ...

    def set_state(
        self, state: FeatureState, *, actor: str, action: str, reason: str = ""
    ) -> AuditRecord:
        """Replace a feature's state and append the audit entry (before, after) in
        one transaction; returns the audit entry written."""
        ...

    def state_transaction(self, feature: str) -> AbstractContextManager[StateTransaction]:
        """Lock one feature's state for a read-decide-write (see :class:`StateTransaction`)."""
        ...

    def audit_log(self, feature: str | None = None) -> list[AuditRecord]:
        """Audit entries, oldest first, of one feature or of all."""
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...
