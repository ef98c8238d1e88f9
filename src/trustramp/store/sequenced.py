"""Event rows as the monitor folds them: the fields it counts, with their ingestion position.

``seq`` is a row's position in its event table (see :mod:`trustramp.store.models`);
:class:`Cursors` holds one position per table. These are plain named tuples, cheap to
build by the thousand, so the monitor never sees a database row and its folding
logic can be tested on lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class Cursors(NamedTuple):
    """One position per event table: every row with ``seq`` at most this one.

    >>> Cursors(3, 5, 8).outputs
    5
    """

    exposures: int = 0
    outputs: int = 0
    outcomes: int = 0


class ExposureFact(NamedTuple):
    seq: int
    feature: str
    phase: str | None
    exposed: bool
    ts: datetime


class OutputFact(NamedTuple):
    seq: int
    decision_id: str
    feature: str
    phase: str | None
    action: str
    confidence: float | None
    review: bool
    ts: datetime


class OutcomeFact(NamedTuple):
    seq: int
    event_id: str
    decision_id: str
    feature: str
    kind: str
    value: bool | None
    critical: bool
    ts: datetime


class NewEvents(NamedTuple):
    """The rows after the cursors, oldest first per table, and the cursors after them."""

    exposures: list[ExposureFact]
    outputs: list[OutputFact]
    outcomes: list[OutcomeFact]
    cursors: Cursors

    @property
    def rows(self) -> int:
        return len(self.exposures) + len(self.outputs) + len(self.outcomes)


class LabelledOutput(NamedTuple):
    """An output's input attributes and its latest label (for error slices)."""

    decision_id: str
    input_attributes: dict[str, Any]
    correct: bool
    ts: datetime


CounterKey = tuple[str, str, datetime, str]
"""(feature, phase, bucket start, counter name): one aggregate counter."""
