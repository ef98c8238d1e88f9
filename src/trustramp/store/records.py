"""The store's own records: rollout state, audit entries and aggregated outcome counts.

Events (exposures, outputs, outcomes) are defined in :mod:`trustramp.events`; the
records here are what the store adds around them. They are plain frozen
dataclasses so the monitor and the controller never see a database row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trustramp.errors import TrustrampError
from trustramp.events import new_event_id, utc_now
from trustramp.vocabulary import RolloutStatus


class StoreError(TrustrampError, RuntimeError):
    """The database could not be reached, is not migrated, or refused an operation.

    The message is one line meant for a person: what failed, on which database
    (password hidden), and what to do. ``rejected`` is True when the database
    answered and refused the data itself (a constraint, a value it cannot
    store): sending the same data again fails again, a subset without the
    offending row may succeed. False means the database could not be used (an
    outage, a lock timeout), whatever the data.

    Example:
        >>> StoreError("could not write events on database sqlite://: ...").rejected
        False
    """

    code = "store_unavailable"

    def __init__(self, message: str, *, rejected: bool = False) -> None:
        super().__init__(message)
        self.rejected = rejected
        if rejected:
            self.code = "store_rejected"


def require_aware(value: datetime, name: str) -> None:
    """Raise ValueError unless ``value`` is a timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name}={value.isoformat()} is naive; pass a timezone-aware datetime "
            "(e.g. datetime.now(UTC)) so windows are unambiguous"
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class FeatureState:
    """The rollout state of one feature: plan version, phase, status and how it got there.

    ``version`` counts the changes (a process that follows the state reads it
    cheaply and reloads only when it moved); ``phase_started_at`` is when the
    current phase started running (its evidence and ``min_duration`` count from
    there); ``resume_to`` is the status a ``resume`` returns to (set while paused or
    killed); ``changed_by`` who made the last change (``controller`` for the
    automatic ones).

    Example:
        >>> FeatureState("summarize", plan_version="3", phase="beta").status
        <RolloutStatus.DRAFT: 'draft'>
    """

    feature: str
    plan_version: str
    phase: str
    status: RolloutStatus = RolloutStatus.DRAFT
    reason: str = ""
    updated_at: datetime = field(default_factory=utc_now)
    version: int = 0
    phase_started_at: datetime | None = None
    resume_to: RolloutStatus | None = None
    changed_by: str = ""

    def __post_init__(self) -> None:
        if not self.feature:
            raise ValueError("FeatureState.feature must be a non-empty feature key")
        if not self.phase:
            raise ValueError(f"FeatureState.phase of feature {self.feature!r} must be non-empty")
        for name in ("status", "resume_to"):
            value = getattr(self, name)
            if value is None and name == "resume_to":
                continue
            try:
                object.__setattr__(self, name, RolloutStatus(value))
            except ValueError:
                allowed = ", ".join(s.value for s in RolloutStatus)
                raise ValueError(
                    f"FeatureState.{name} of feature {self.feature!r} is {value!r}; "
                    f"expected one of: {allowed}"
                ) from None
        where = f"of feature {self.feature!r}"
        require_aware(self.updated_at, f"FeatureState.updated_at {where}")
        if self.phase_started_at is not None:
            require_aware(self.phase_started_at, f"FeatureState.phase_started_at {where}")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 0:
            raise ValueError(f"FeatureState.version {where} must be an integer >= 0")

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON-ready dict (what the audit log stores as before/after)."""
        return {
            "feature": self.feature,
            "plan_version": self.plan_version,
            "phase": self.phase,
            "status": self.status.value,
            "reason": self.reason,
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
            "phase_started_at": _iso(self.phase_started_at),
            "resume_to": self.resume_to.value if self.resume_to is not None else None,
            "changed_by": self.changed_by,
        }


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the audit log: who did what to a feature, why, and the change.

    ``before`` and ``after`` are JSON objects (for state changes, the
    :meth:`FeatureState.to_json` of the old and new state; None when absent).
    ``evidence`` is what triggered the change (the criterion, its statistic, bound,
    threshold and n; the checklist items for a sign-off), ``plan_version`` the plan
    version the change was made under.

    Example:
        >>> AuditRecord("summarize", actor="ana", action="pause", reason="spike").before is None
        True
    """

    feature: str
    actor: str
    action: str
    reason: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    id: str = field(default_factory=new_event_id)
    ts: datetime = field(default_factory=utc_now)
    plan_version: str | None = None
    evidence: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("feature", "actor", "action"):
            if not getattr(self, name):
                raise ValueError(f"AuditRecord.{name} must be non-empty (feature {self.feature!r})")
        require_aware(self.ts, f"AuditRecord.ts of feature {self.feature!r}")

    @classmethod
    def of_change(
        cls,
        before: FeatureState | None,
        after: FeatureState,
        *,
        actor: str,
        action: str,
        reason: str = "",
        evidence: dict[str, Any] | None = None,
        ts: datetime | None = None,
    ) -> AuditRecord:
        """The entry for a state change from ``before`` (None: never set) to ``after``.

        Example:
            >>> after = FeatureState("summarize", plan_version="3", phase="beta")
            >>> AuditRecord.of_change(None, after, actor="ana", action="start").after["phase"]
            'beta'
        """
        return cls(
            after.feature,
            actor=actor,
            action=action,
            reason=reason,
            before=before.to_json() if before is not None else None,
            after=after.to_json(),
            ts=ts if ts is not None else after.updated_at,
            plan_version=after.plan_version,
            evidence=evidence,
        )


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """One stored version of a feature's plan: its YAML text and what identifies it.

    ``version`` is :func:`trustramp.decide.plan_version` of the plan
    (``<revision>-<hash>``), ``fingerprint`` the readiness checklist's hash that
    signatures are made against.
    """

    feature: str
    version: str
    revision: int
    text: str
    fingerprint: str
    created_by: str
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        require_aware(self.created_at, f"PlanRecord.created_at of feature {self.feature!r}")


@dataclass(frozen=True, slots=True)
class Signature:
    """A sign-off: ``name`` signed as ``role`` against the checklist ``fingerprint``.

    A signature is void (``voided_at`` set, with the reason) once the plan's
    checklist or thresholds change: the signer vouched for the old ones.
    """

    feature: str
    role: str
    name: str
    fingerprint: str
    plan_version: str
    ts: datetime = field(default_factory=utc_now)
    id: str = field(default_factory=new_event_id)
    voided_at: datetime | None = None
    void_reason: str = ""

    @property
    def valid(self) -> bool:
        return self.voided_at is None


@dataclass(frozen=True, slots=True)
class ReadinessRecord:
    """A readiness checklist evaluation as stored: passed or not, and the whole report."""

    feature: str
    plan_version: str
    fingerprint: str
    passed: bool
    report: dict[str, Any]
    ts: datetime = field(default_factory=utc_now)
    id: str = field(default_factory=new_event_id)


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """Outcome evidence of one feature (optionally one phase) over a time window.

    Feedback, labels and reviews count once per output and kind: when the same
    output got several (a user changed a thumbs up to down, a label was corrected),
    only the latest in the window counts, so each output is one observation.
    Tickets count every ticket. ``critical_errors`` counts outputs with at least
    one outcome marked critical. ``outputs`` and ``outputs_by_action`` count the
    output events themselves (by their own timestamp) in the same window.

    Example:
        >>> OutcomeCounts(labels_correct=9, labels_total=10).accuracy
        0.9
    """

    labels_correct: int = 0
    labels_total: int = 0
    feedback_helpful: int = 0
    feedback_total: int = 0
    reviews_approved: int = 0
    reviews_total: int = 0
    tickets: int = 0
    critical_errors: int = 0
    outputs_by_action: dict[str, int] = field(default_factory=dict)

    @property
    def outputs(self) -> int:
        """Output events in the window, all actions together."""
        return sum(self.outputs_by_action.values())

    @property
    def accuracy(self) -> float:
        """labels_correct / labels_total (NaN without labels)."""
        return _ratio(self.labels_correct, self.labels_total)

    @property
    def thumbs_up_rate(self) -> float:
        """feedback_helpful / feedback_total (NaN without feedback)."""
        return _ratio(self.feedback_helpful, self.feedback_total)

    @property
    def review_approval_rate(self) -> float:
        """reviews_approved / reviews_total (NaN without reviews)."""
        return _ratio(self.reviews_approved, self.reviews_total)


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else math.nan
