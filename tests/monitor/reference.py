"""Random event histories and a count from scratch, written apart from the monitor's fold.

The count follows the rules the monitor documents, in the plainest code: group every
outcome by the output it refers to, keep the latest of each kind, count once.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from trustramp.events import Event, ExposureEvent, OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store import SqlStore
from trustramp.store.models import EvidenceCountRow, ExposureRow, OutcomeRow, OutputRow
from trustramp.vocabulary import Action

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
FEATURES = ("advice", "summary")
PHASES = ("beta", "early")
Key = tuple[str, str, datetime, str]


def hour(ts: datetime) -> datetime:
    return datetime(ts.year, ts.month, ts.day, ts.hour, tzinfo=UTC)


def history(seed: int, outputs: int = 120, *, twin_outputs: bool = True) -> list[Event]:
    """Outputs, exposures and outcomes over three days, in no particular order.

    Outcomes repeat (changed thumbs, corrected labels, older timestamps arriving
    late), refer to outputs never written or of another feature, and some events
    are written twice (a retried batch). With ``twin_outputs`` a few decisions get a
    second output row under another event id (the first one written counts).
    """
    rng = random.Random(seed)
    events: list[Event] = []
    written: list[OutputEvent] = []
    for i in range(outputs):
        action = rng.choice(list(Action)).value
        output = OutputEvent(
            f"d{seed}-{i}", rng.choice(FEATURES), "1", f"u{rng.randrange(30)}",
            rng.choice([*PHASES, *PHASES, None]), action, "r",
            None if rng.random() < 0.08 else round(rng.random(), rng.choice([2, 6])),
            action == Action.HOLD_FOR_REVIEW or rng.random() < 0.1,
            ts=T0 + timedelta(minutes=rng.randrange(3 * 24 * 60)),
        )
        written.append(output)
        events.append(output)
        if twin_outputs and rng.random() < 0.04:
            events.append(replace(output, event_id=f"twin-{seed}-{i}",
                                  phase=rng.choice(PHASES), action="show"))
    for _ in range(outputs // 2):
        events.append(ExposureEvent(rng.choice(FEATURES), "1", f"u{rng.randrange(30)}",
                                    rng.random() < 0.7, rng.choice([*PHASES, None]), "r",
                                    ts=T0 + timedelta(minutes=rng.randrange(3 * 24 * 60))))
    for _ in range(outputs * 3):
        target = rng.choice(written)
        decision = target.decision_id if rng.random() < 0.9 else f"unknown-{rng.randrange(50)}"
        kind = rng.choice(list(OutcomeKind))
        feature = target.feature if rng.random() < 0.95 else "other"
        delay = timedelta(minutes=rng.randrange(-60, 24 * 60))
        # A few ties in time: the event id breaks them.
        ts = target.ts + (delay if rng.random() < 0.9 else timedelta(0))
        events.append(OutcomeEvent(decision, feature, kind,
                                   None if kind is OutcomeKind.TICKET else rng.random() < 0.7,
                                   critical=rng.random() < 0.05, ts=ts))
    rng.shuffle(events)
    events.extend(rng.sample(events, len(events) // 20))  # retried writes
    return events


def batches(events: list[Event], seed: int, largest: int = 40) -> list[list[Event]]:
    rng = random.Random(seed)
    out, start = [], 0
    while start < len(events):
        size = rng.randint(1, largest)
        out.append(events[start : start + size])
        start += size
    return out


def first_outputs(store: SqlStore) -> dict[str, dict[str, Any]]:
    """Each decision's first output row, by ingestion order."""
    table = OutputRow.__table__
    rows = select(store, table, ("decision_id", "feature", "phase", "action", "confidence",
                                 "review", "ts", "seq"))
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["decision_id"], dict(row))
    return first


def outcome_rows(store: SqlStore) -> list[dict[str, Any]]:
    return select(store, OutcomeRow.__table__, ("event_id", "decision_id", "feature", "kind",
                                                "value", "critical", "ts", "seq"))


def select(store: SqlStore, table: Any, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of an event table in ingestion order, through the models' column types."""
    statement = sa.select(*(table.c[name] for name in columns))
    if "seq" in table.c:
        statement = statement.order_by(table.c.seq)
    with store.engine.connect() as connection:
        return [dict(row) for row in connection.execute(statement).mappings()]


def aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def expected_counts(store: SqlStore) -> dict[Key, int]:
    """Every counter from scratch over everything in the store."""
    counts: dict[Key, int] = defaultdict(int)
    for row in select(store, ExposureRow.__table__, ("feature", "phase", "exposed", "ts")):
        if row["phase"] is not None:
            at = hour(aware(row["ts"]))
            counts[(row["feature"], row["phase"], at, "exposures")] += 1
            counts[(row["feature"], row["phase"], at, "exposed_units")] += bool(row["exposed"])
    outputs = first_outputs(store)
    about: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in outcome_rows(store):
        about[row["decision_id"]].append(row)
    for decision, output in outputs.items():
        if output["phase"] is not None:
            count_output(counts, output, [o for o in about[decision]
                                          if o["feature"] == output["feature"]])
    return {key: value for key, value in counts.items() if value}


def count_output(counts: dict[Key, int], output: dict[str, Any],
                 outcomes: list[dict[str, Any]]) -> None:
    feature, phase = output["feature"], output["phase"]

    def add(ts: datetime, name: str, value: int = 1) -> None:
        counts[(feature, phase, hour(aware(ts)), name)] += value

    add(output["ts"], f"outputs:{output['action']}")
    if output["confidence"] is not None:
        add(output["ts"], f"confidence:{min(99, math.floor(round(output['confidence'] * 100, 9)))}")

    def latest(kind: str) -> dict[str, Any] | None:
        rows = [o for o in outcomes if o["kind"] == kind]
        return max(rows, key=lambda o: (aware(o["ts"]), o["event_id"])) if rows else None

    for ticket in (o for o in outcomes if o["kind"] == "ticket"):
        add(ticket["ts"], "tickets")
    critical = [o for o in outcomes if o["critical"]]
    if critical:
        add(min(critical, key=lambda o: (aware(o["ts"]), o["event_id"]))["ts"], "critical_errors")
    label, thumbs, review = latest("label"), latest("feedback"), latest("review")
    for row, names in ((label, ("labels", "labels_correct")), (thumbs, ("thumbs", "thumbs_up")),
                       (review, ("reviews", "reviews_approved"))):
        if row is not None:
            add(row["ts"], names[0])
            add(row["ts"], names[1], row["value"] is True)
    if label is not None:
        add(label["ts"], "critical_labels", bool(label["critical"]))
    if review is not None and output["review"]:
        add(review["ts"], "sampled_reviews")
        add(review["ts"], "sampled_reviews_approved", review["value"] is True)
    if review is not None and output["action"] == "hold_for_review":
        add(output["ts"], "held_reviewed")
    source = label or (review if output["review"] else None)
    if source is not None:
        add(source["ts"], "accuracy")
        add(source["ts"], "accuracy_correct", source["value"] is True)
        if output["confidence"] is not None:
            add(source["ts"], "calibration")
            add(source["ts"], "calibration_correct", source["value"] is True)
            add(source["ts"], "accuracy_confidence_micros",
                round(output["confidence"] * 1_000_000))


def stored_counts(store: SqlStore) -> dict[Key, int]:
    """The monitor's counters as stored (zeros left out)."""
    rows = select(store, EvidenceCountRow.__table__,
                  ("feature", "phase", "bucket", "counter", "value"))
    return {(r["feature"], r["phase"], r["bucket"], r["counter"]): int(r["value"])
            for r in rows if r["value"]}


def expected_streams(store: SqlStore) -> tuple[dict[tuple[str, str], list[bool]],
                                                 dict[tuple[str, str], list[bool]]]:
    """Every accuracy and thumbs arrival, by ingestion order of the outcomes."""
    outputs = first_outputs(store)
    accuracy: dict[tuple[str, str], list[bool]] = defaultdict(list)
    thumbs: dict[tuple[str, str], list[bool]] = defaultdict(list)
    labelled: set[str] = set()
    for row in outcome_rows(store):
        output = outputs.get(row["decision_id"])
        if output is None or output["phase"] is None or output["feature"] != row["feature"]:
            continue
        key = (output["feature"], output["phase"])
        if row["kind"] == "feedback":
            thumbs[key].append(row["value"] is True)
        elif row["kind"] == "label":
            accuracy[key].append(row["value"] is True)
            labelled.add(row["decision_id"])
        elif row["kind"] == "review" and output["review"] and row["decision_id"] not in labelled:
            accuracy[key].append(row["value"] is True)
    return dict(accuracy), dict(thumbs)
