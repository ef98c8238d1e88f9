"""outcome_counts against an independent count in Python over a seeded random history."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from trustramp.events import OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store import OutcomeCounts, SqlStore

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PHASES = ("beta", "early", "gradual")
ACTIONS = ("show", "show_flagged", "fallback", "hold_for_review")


def history(seed: int) -> tuple[list[OutputEvent], list[OutcomeEvent]]:
    """Outputs over three phases and outcomes that repeat and overwrite each other."""
    rng = random.Random(seed)
    outputs = [
        OutputEvent(
            decision_id=f"d{i}",
            feature="advice",
            plan_version="1",
            unit_id=f"u{rng.randrange(40)}",
            phase=rng.choice(PHASES),
            action=rng.choice(ACTIONS),
            reason="r",
            confidence=rng.random(),
            review=False,
            ts=T0 + timedelta(minutes=rng.randrange(600)),
        )
        for i in range(150)
    ]
    outcomes = []
    for _ in range(400):
        # Some outcomes refer to outputs never recorded (lost, or another feature's).
        decision = f"d{rng.randrange(170)}"
        kind = rng.choice(list(OutcomeKind))
        value = None if kind is OutcomeKind.TICKET else rng.random() < 0.7
        outcomes.append(
            OutcomeEvent(
                decision,
                "advice",
                kind,
                value,
                critical=rng.random() < 0.05,
                ts=T0 + timedelta(minutes=rng.randrange(600)),
            )
        )
    return outputs, outcomes


def expected(
    outputs: list[OutputEvent],
    outcomes: list[OutcomeEvent],
    phase: str | None,
    since: datetime,
    until: datetime,
) -> OutcomeCounts:
    phase_of = {o.decision_id: o.phase for o in outputs}
    chosen = [
        o
        for o in outcomes
        if since <= o.ts < until and (phase is None or phase_of.get(o.decision_id) == phase)
    ]
    latest: dict[tuple[str, OutcomeKind], OutcomeEvent] = {}
    for o in sorted(chosen, key=lambda o: (o.ts, o.event_id)):
        latest[(o.decision_id, o.kind)] = o

    def tally(kind: OutcomeKind) -> tuple[int, int]:
        values = [o.value for (_, k), o in latest.items() if k is kind]
        return sum(v is True for v in values), len(values)

    labels, feedback, reviews = (
        tally(k) for k in (OutcomeKind.LABEL, OutcomeKind.FEEDBACK, OutcomeKind.REVIEW)
    )
    actions = Counter(
        o.action for o in outputs if since <= o.ts < until and (phase is None or o.phase == phase)
    )
    return OutcomeCounts(
        labels_correct=labels[0],
        labels_total=labels[1],
        feedback_helpful=feedback[0],
        feedback_total=feedback[1],
        reviews_approved=reviews[0],
        reviews_total=reviews[1],
        tickets=sum(o.kind is OutcomeKind.TICKET for o in chosen),
        critical_errors=len({o.decision_id for o in chosen if o.critical}),
        outputs_by_action=dict(actions),
    )


def test_counts_match_an_independent_tally_per_phase_and_window(store: SqlStore) -> None:
    outputs, outcomes = history(seed=20260301)
    store.write(outputs)
    store.write(outcomes)
    # An output written twice under another event id must not double its outcomes.
    duplicate = replace(outputs[0], event_id="dup")
    store.write([duplicate])
    outputs_with_dup = [*outputs, duplicate]
    windows = [(T0, T0 + timedelta(hours=10)), (T0 + timedelta(hours=2), T0 + timedelta(hours=7))]
    for since, until in windows:
        for phase in (None, *PHASES):
            got = store.outcome_counts("advice", phase=phase, since=since, until=until)
            assert got == expected(outputs_with_dup, outcomes, phase, since, until), (phase, since)
            in_window = [
                o
                for o in outputs_with_dup
                if since <= o.ts < until and (phase is None or o.phase == phase)
            ]
            assert got.outputs == len(in_window) > 0, (phase, since)
    everything = store.outcome_counts("advice")
    assert everything.labels_total > 0
    assert everything.tickets > 0
    assert everything.critical_errors > 0
    assert store.outcome_counts("another-feature") == OutcomeCounts()


def test_a_changed_thumb_counts_once_and_the_latest_wins(store: SqlStore) -> None:
    store.write([OutputEvent("d1", "f", "1", "u", "beta", "show", "r", 0.9, False, ts=T0)])
    store.write(
        [
            OutcomeEvent("d1", "f", OutcomeKind.FEEDBACK, True, ts=T0 + timedelta(seconds=1)),
            OutcomeEvent("d1", "f", OutcomeKind.FEEDBACK, False, ts=T0 + timedelta(seconds=2)),
            OutcomeEvent("d1", "f", OutcomeKind.TICKET, None, ts=T0 + timedelta(seconds=3)),
            OutcomeEvent("d1", "f", OutcomeKind.TICKET, None, ts=T0 + timedelta(seconds=4)),
        ]
    )
    counts = store.outcome_counts("f", phase="beta")
    assert (counts.feedback_helpful, counts.feedback_total, counts.tickets) == (0, 1, 2)
    assert counts.thumbs_up_rate == 0.0
    assert store.outcome_counts("f", phase="ga").feedback_total == 0
