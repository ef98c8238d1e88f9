"""The weekly look at the worst outputs: what went most wrong, and where it concentrates.

Ranking, most harmful first: a critical error; an answer a reviewer rejected; a
wrong answer given with high confidence (the confidently wrong ones, by confidence);
a thumbs down; a support ticket. Each worst output comes with the error slices it
falls in (``trustramp.stats.find_error_slices`` over the window's labelled outputs),
so a reader sees at once whether the failures are scattered or share a kind of input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustramp.deepdive.logged import LoggedOutput, logged_outputs
from trustramp.stats import ErrorSlice, SliceReport, find_error_slices
from trustramp.store.protocol import EventReader

_MIN_SLICE_ROWS = 60  # below this, a slice search has no power: say so instead


@dataclass(frozen=True, slots=True)
class WorstOutput:
    """One of the worst outputs: the output, what was learned, why it ranks, its slices."""

    logged: LoggedOutput
    why: str
    slices: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        out = self.logged.output
        return {
            "decision_id": out.decision_id, "ts": out.ts.isoformat(), "phase": out.phase,
            "unit_id": out.unit_id, "action": out.action, "confidence": out.confidence,
            "input": out.input_attributes, "label": self.logged.label,
            "thumbs_up": self.logged.thumbs_up, "approved": self.logged.approved,
            "reviewer": self.logged.reviewer, "critical": self.logged.critical,
            "tickets": list(self.logged.tickets), "comments": list(self.logged.comments),
            "why": self.why, "slices": list(self.slices),
        }


@dataclass(frozen=True, slots=True)
class WorstReport:
    feature: str
    since: datetime | None
    until: datetime | None
    outputs: int
    with_outcome: int
    worst: tuple[WorstOutput, ...]
    slices: SliceReport | None
    slices_note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "outputs": self.outputs, "with_outcome": self.with_outcome,
            "worst": [w.to_json() for w in self.worst],
            "slices": [_slice_json(s) for s in self.slices.slices] if self.slices else [],
            "slices_verdict": self.slices.verdict if self.slices else None,
            "slices_note": self.slices_note,
        }


def _slice_json(item: ErrorSlice) -> dict[str, Any]:
    return {"slice": item.description, "support": item.support, "errors": item.errors,
            "error_rate": item.error_rate, "interval": list(item.error_interval),
            "rest_error_rate": item.rest_error_rate, "q_value": item.q_value,
            "excess_errors": item.excess_errors}


def harm(item: LoggedOutput, high_confidence: float) -> tuple[float, ...] | None:
    """The sort key of an output (larger is worse), or None when nothing went wrong."""
    confidence = item.output.confidence or 0.0
    wrong = item.correct is False
    key = (
        float(item.critical),
        float(item.approved is False),
        float(wrong and confidence >= high_confidence),
        float(item.thumbs_up is False),
        float(len(item.tickets) > 0),
        float(wrong),
        confidence if wrong else 0.0,
    )
    return key if any(key[:6]) else None


def _why(item: LoggedOutput, high_confidence: float) -> str:
    confidence = item.output.confidence
    parts = []
    if item.critical:
        parts.append("critical error")
    if item.approved is False:
        parts.append(f"rejected by {item.reviewer or 'a reviewer'}")
    if item.correct is False and item.label is not None:
        sure = confidence is not None and confidence >= high_confidence
        parts.append(f"wrong at confidence {confidence:.2f}" + (" (confidently wrong)"
                                                                if sure else ""))
    if item.thumbs_up is False:
        parts.append("thumbs down")
    if item.tickets:
        parts.append(f"{len(item.tickets)} support ticket(s)")
    return "; ".join(parts)


def worst_outputs(store: EventReader, feature: str, *, since: datetime | None = None,
                  until: datetime | None = None, limit: int = 20,
                  high_confidence: float = 0.9) -> WorstReport:
    """The ``limit`` worst outputs of ``feature`` in the window, with the error slices."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    logged = logged_outputs(store, feature, since=since, until=until)
    labelled = [item for item in logged if item.correct is not None]
    report, note = _slices(labelled)
    ranked = sorted(((key, index) for index, item in enumerate(logged)
                     if (key := harm(item, high_confidence)) is not None), reverse=True)
    worst = []
    for _, index in ranked[:limit]:
        item = logged[index]
        matches = tuple(s.description for s in (report.slices if report else ())
                        if s.explained_by is None and s.matches(item.attributes))
        worst.append(WorstOutput(item, _why(item, high_confidence), matches))
    with_outcome = sum(1 for item in logged if item.correct is not None
                       or item.thumbs_up is not None or item.tickets)
    return WorstReport(feature, since, until, len(logged), with_outcome, tuple(worst),
                       report, note)


def _slices(labelled: list[LoggedOutput]) -> tuple[SliceReport | None, str]:
    if len(labelled) < _MIN_SLICE_ROWS:
        return None, (f"{len(labelled)} labelled or sampled-review outputs in the window; "
                      f"error slices need at least {_MIN_SLICE_ROWS}")
    rows = [item.attributes for item in labelled]
    if not any(rows):
        return None, "the outputs carry no input attributes to slice by"
    report = find_error_slices(rows, [bool(item.correct) for item in labelled],
                               min_support=max(10, len(labelled) // 50))
    return report, f"errors are {report.verdict} over {report.rows} labelled outputs"
