"""The store: events, admissions, rollout state and the audit log, behind one seam.

Everything above this layer uses :class:`Store` (a protocol) and the event
dataclasses; :class:`SqlStore` implements it on SQLite (the default, a file under
``.trustramp/``) or PostgreSQL. :class:`EventWriter` records events from the
request path without blocking it.

Example:
    >>> from trustramp.events import ExposureEvent
    >>> from trustramp.store import EventWriter, open_store
    >>> store = open_store("sqlite://")  # default: sqlite:///.trustramp/trustramp.db
    >>> writer = EventWriter(store)
    >>> writer.submit(ExposureEvent("summarize", "1", "u1", True, "beta", "in segment"))
    True
    >>> writer.close()
    True
    >>> [e.unit_id for e in store.exposures("summarize")]
    ['u1']
"""

from __future__ import annotations

from trustramp.store.database import default_database_url
from trustramp.store.migrate import UpgradeResult, head_revision, upgrade
from trustramp.store.opening import open_store
from trustramp.store.protocol import (
    AdmissionStore,
    AggregateStore,
    EventReader,
    EventSink,
    Lease,
    LeaseStore,
    MonitorTransaction,
    PlanStore,
    StateReader,
    StateStore,
    StateTransaction,
    Store,
)
from trustramp.store.records import (
    AuditRecord,
    FeatureState,
    OutcomeCounts,
    PlanRecord,
    ReadinessRecord,
    Signature,
    StoreError,
)
from trustramp.store.sequenced import (
    CounterKey,
    Cursors,
    ExposureFact,
    LabelledOutput,
    NewEvents,
    OutcomeFact,
    OutputFact,
)
from trustramp.store.sql import SqlStore
from trustramp.store.writer import EventWriter

__all__ = [
    "AdmissionStore",
    "AggregateStore",
    "AuditRecord",
    "CounterKey",
    "Cursors",
    "EventReader",
    "EventSink",
    "EventWriter",
    "ExposureFact",
    "FeatureState",
    "LabelledOutput",
    "Lease",
    "LeaseStore",
    "MonitorTransaction",
    "NewEvents",
    "OutcomeCounts",
    "OutcomeFact",
    "OutputFact",
    "PlanRecord",
    "PlanStore",
    "ReadinessRecord",
    "Signature",
    "SqlStore",
    "StateReader",
    "StateStore",
    "StateTransaction",
    "Store",
    "StoreError",
    "UpgradeResult",
    "default_database_url",
    "head_revision",
    "open_store",
    "upgrade",
]
