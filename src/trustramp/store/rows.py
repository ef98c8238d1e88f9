"""Conversions between event dataclasses and table rows, with the checks a store needs.

Column names equal field names, so a conversion is a dict of the fields; the
checks catch, before any SQL runs, what a database would reject later (naive
timestamps, attributes that are not JSON, NaN, NUL characters) and name the event
and the field that is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from trustramp.events import Event, ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store.records import (
    AuditRecord,
    FeatureState,
    PlanRecord,
    ReadinessRecord,
    Signature,
    require_aware,
)

EventType = type[ExposureEvent] | type[OutputEvent] | type[OutcomeEvent]
# PostgreSQL stores neither "\x00" in text nor "\u0000" in JSONB; SQLite would, so
# both refuse it here and a store's contents do not depend on its dialect.
_NUL_REASON = "which PostgreSQL cannot store; remove it or encode the value"
_FIELDS: dict[EventType, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind)) for kind in (ExposureEvent, OutputEvent, OutcomeEvent)
}


def event_rows(events: Sequence[Event]) -> dict[EventType, list[dict[str, Any]]]:
    """Rows to insert, grouped by event type; ValueError names the first bad event."""
    grouped: dict[EventType, list[dict[str, Any]]] = {kind: [] for kind in _FIELDS}
    for position, event in enumerate(events):
        kind = type(event)
        if kind not in _FIELDS:
            raise ValueError(
                f"events[{position}] is a {kind.__name__}; expected ExposureEvent, "
                "OutputEvent or OutcomeEvent"
            )
        where = f"events[{position}] ({kind.__name__} {event.event_id!r})"
        _check_event(event, where)
        row = {name: getattr(event, name) for name in _FIELDS[kind]}
        if isinstance(event, OutcomeEvent):
            row["kind"] = OutcomeKind(event.kind).value
        grouped[kind].append(row)
    return grouped


def _check_event(event: Event, where: str) -> None:
    if not event.event_id or not isinstance(event.event_id, str):
        raise ValueError(f"{where}: event_id must be a non-empty string")
    if not event.feature:
        raise ValueError(f"{where}: feature must be a non-empty feature key")
    require_aware(event.ts, f"{where}: ts")
    _refuse_nul_text({name: getattr(event, name) for name in _FIELDS[type(event)]}, where)
    if isinstance(event, OutputEvent):
        if event.confidence is not None and not math.isfinite(event.confidence):
            raise ValueError(f"{where}: confidence={event.confidence} must be finite or None")
        try:
            document = json.dumps(event.input_attributes, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{where}: input_attributes must be JSON (str, number, bool, None, "
                f"lists and dicts of them, no NaN): {exc}"
            ) from None
        _refuse_nul_json(event.input_attributes, document, "input_attributes", where)
    if isinstance(event, OutcomeEvent):
        try:
            OutcomeKind(event.kind)
        except ValueError:
            raise ValueError(f"{where}: kind={event.kind!r} is not an OutcomeKind") from None


def _refuse_nul_text(row: Mapping[str, Any], where: str) -> None:
    for name, value in row.items():
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(f"{where}: {name} contains a NUL character (\\x00), {_NUL_REASON}")


def _refuse_nul_json(value: object, dumped: str, path: str, where: str) -> None:
    # json.dumps escapes every NUL as \u0000: walk the document only when it may hold one.
    nul = _nul_path(value, path) if "\\u0000" in dumped else None
    if nul is not None:
        raise ValueError(f"{where}: {nul} contains a NUL character (\\x00), {_NUL_REASON}")


def _nul_path(document: object, path: str) -> str | None:
    """The path of the first key or string holding a NUL in a JSON document, or None."""
    # An explicit stack, not recursion: json.dumps accepted the document, and a
    # deeply nested one must not turn into a RecursionError here.
    stack: list[tuple[str, object]] = [(path, document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return where
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and "\x00" in key:
                    return f"{where} key {key!r}"
                stack.append((f"{where}[{key!r}]", item))
        elif isinstance(value, list | tuple):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
    return None


def exposure_from(row: Mapping[Any, Any]) -> ExposureEvent:
    return ExposureEvent(**row)


def output_from(row: Mapping[Any, Any]) -> OutputEvent:
    return OutputEvent(**row)


def outcome_from(row: Mapping[Any, Any]) -> OutcomeEvent:
    return OutcomeEvent(**{**row, "kind": OutcomeKind(row["kind"])})


def state_row(state: FeatureState) -> dict[str, Any]:
    row = {
        **state.to_json(),
        "updated_at": state.updated_at,
        "phase_started_at": state.phase_started_at,
    }
    _refuse_nul_text(row, f"FeatureState of feature {state.feature!r}")
    return row


def state_from(row: Mapping[Any, Any]) -> FeatureState:
    return FeatureState(**row)


def _json_field(record: object, name: str, where: str) -> None:
    value = getattr(record, name)
    try:
        document = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {name} must be JSON: {exc}") from None
    _refuse_nul_json(value, document, name, where)


def audit_row(record: AuditRecord) -> dict[str, Any]:
    where = f"AuditRecord of feature {record.feature!r}"
    for name in ("before", "after", "evidence"):
        _json_field(record, name, where)
    row = {f.name: getattr(record, f.name) for f in fields(AuditRecord)}
    _refuse_nul_text(row, where)
    return row


def audit_from(row: Mapping[Any, Any]) -> AuditRecord:
    return AuditRecord(**row)


def record_row(record: PlanRecord | Signature | ReadinessRecord) -> dict[str, Any]:
    """The row of a plan, signature or readiness record; ValueError names a bad field."""
    where = f"{type(record).__name__} of feature {record.feature!r}"
    if isinstance(record, ReadinessRecord):
        _json_field(record, "report", where)
    row = {f.name: getattr(record, f.name) for f in fields(record)}
    _refuse_nul_text(row, where)
    return row


def plan_from(row: Mapping[Any, Any]) -> PlanRecord:
    return PlanRecord(**row)


def signature_from(row: Mapping[Any, Any]) -> Signature:
    return Signature(**row)


def readiness_from(row: Mapping[Any, Any]) -> ReadinessRecord:
    return ReadinessRecord(**row)
