"""The outcome aggregation behind ``Store.outcome_counts``, as one SQL query per table.

One observation per output and kind: a window function keeps the latest
feedback, label and review of each output, so a user who changes a thumbs up to
a thumbs down is one thumbs down, not one of each. The phase comes from the
output an outcome refers to, through a semi-join on ``decision_id`` that cannot
double count when an output row was written twice under different event ids.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, case, distinct, func, select

from trustramp.events import OutcomeKind
from trustramp.store.models import OutcomeRow, OutputRow
from trustramp.store.records import OutcomeCounts
from trustramp.store.state import window


def outcome_counts(
    connection: Connection,
    feature: str,
    phase: str | None,
    since: datetime | None,
    until: datetime | None,
) -> OutcomeCounts:
    outcomes, outputs = OutcomeRow.__table__, OutputRow.__table__
    conditions = [outcomes.c.feature == feature, *window(outcomes, since, until)]
    if phase is not None:
        in_phase = select(outputs.c.decision_id).where(
            outputs.c.feature == feature, outputs.c.phase == phase
        )
        conditions.append(outcomes.c.decision_id.in_(in_phase))
    newest_first = func.row_number().over(
        partition_by=(outcomes.c.decision_id, outcomes.c.kind),
        order_by=(outcomes.c.ts.desc(), outcomes.c.event_id.desc()),
    )
    evidence = (
        select(
            outcomes.c.decision_id,
            outcomes.c.kind,
            outcomes.c.value,
            outcomes.c.critical,
            newest_first.label("rank"),
        )
        .where(*conditions)
        .subquery()
    )
    latest = evidence.c.rank == 1

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def latest_of(kind: OutcomeKind, good: bool | None = None) -> ColumnElement[int]:
        condition = and_(latest, evidence.c.kind == kind.value)
        if good is not None:
            condition = and_(condition, evidence.c.value.is_(good))
        return count(condition)

    totals = connection.execute(
        select(
            latest_of(OutcomeKind.LABEL, True),
            latest_of(OutcomeKind.LABEL),
            latest_of(OutcomeKind.FEEDBACK, True),
            latest_of(OutcomeKind.FEEDBACK),
            latest_of(OutcomeKind.REVIEW, True),
            latest_of(OutcomeKind.REVIEW),
            count(evidence.c.kind == OutcomeKind.TICKET.value),
            func.count(distinct(case((evidence.c.critical.is_(True), evidence.c.decision_id)))),
        )
    ).one()

    output_conditions = [outputs.c.feature == feature, *window(outputs, since, until)]
    if phase is not None:
        output_conditions.append(outputs.c.phase == phase)
    by_action = {
        str(action): int(n)
        for action, n in connection.execute(
            select(outputs.c.action, func.count())
            .where(*output_conditions)
            .group_by(outputs.c.action)
        )
    }
    numbers = [int(n) for n in totals]
    return OutcomeCounts(
        labels_correct=numbers[0],
        labels_total=numbers[1],
        feedback_helpful=numbers[2],
        feedback_total=numbers[3],
        reviews_approved=numbers[4],
        reviews_total=numbers[5],
        tickets=numbers[6],
        critical_errors=numbers[7],
        outputs_by_action=by_action,
    )
