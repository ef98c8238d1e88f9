"""Logged outputs joined with what was learned about them: one record per decision.

The weekly deep dive and the what-if replay both start here: the outputs of a
window, each with its latest label, thumbs, review verdict, tickets and whether any
outcome marked it critical (the same "latest counts" rule as the monitor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trustramp.events import OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.store.protocol import EventReader


@dataclass(frozen=True, slots=True)
class LoggedOutput:
    """One output and its outcomes (None where nothing was learned of that kind)."""

    output: OutputEvent
    label: bool | None = None
    thumbs_up: bool | None = None
    approved: bool | None = None
    reviewer: str | None = None
    critical: bool = False
    tickets: tuple[str, ...] = ()
    comments: tuple[str, ...] = field(default=())

    @property
    def correct(self) -> bool | None:
        """Production accuracy's observation: the label, else a randomly sampled review."""
        if self.label is not None:
            return self.label
        return self.approved if self.output.review else None

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.output.input_attributes)


def logged_outputs(store: EventReader, feature: str, *, since: datetime | None = None,
                   until: datetime | None = None, phase: str | None = None
                   ) -> list[LoggedOutput]:
    """The outputs of ``feature`` in ``[since, until)`` with their outcomes (any time).

    Outcomes are read from ``since`` on: an outcome is recorded after its output.
    """
    outputs = store.outputs(feature, phase=phase, since=since, until=until)
    outcomes = store.outcomes(feature, since=since)
    latest: dict[tuple[str, OutcomeKind], OutcomeEvent] = {}
    tickets: dict[str, list[str]] = {}
    critical: set[str] = set()
    for outcome in outcomes:  # oldest first: later ones replace earlier ones
        if outcome.kind is OutcomeKind.TICKET:
            tickets.setdefault(outcome.decision_id, []).append(outcome.comment or "")
        else:
            latest[(outcome.decision_id, outcome.kind)] = outcome
        if outcome.critical:
            critical.add(outcome.decision_id)
    joined = []
    for output in outputs:
        did = output.decision_id
        label = latest.get((did, OutcomeKind.LABEL))
        thumbs = latest.get((did, OutcomeKind.FEEDBACK))
        review = latest.get((did, OutcomeKind.REVIEW))
        comments = tuple(o.comment for o in (label, thumbs, review)
                         if o is not None and o.comment)
        joined.append(LoggedOutput(
            output=output,
            label=label.value if label is not None else None,
            thumbs_up=thumbs.value if thumbs is not None else None,
            approved=review.value if review is not None else None,
            reviewer=review.source if review is not None else None,
            critical=did in critical,
            tickets=tuple(tickets.get(did, ())),
            comments=comments,
        ))
    return joined
