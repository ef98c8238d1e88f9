"""The readiness baseline the monitor compares production with: held-out confidences and
whether each answer was correct, from the latest stored readiness report."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustramp.store import AggregateStore


@dataclass(frozen=True, slots=True)
class ReadinessBaseline:
    """The held-out answers of one readiness evaluation (``report.baseline``).

    >>> b = ReadinessBaseline((0.9, 0.7), (True, False), "1-abc", None)
    >>> b.n, b.correct_count, round(b.mean_confidence, 2)
    (2, 1, 0.8)
    """

    confidence: tuple[float, ...]
    correct: tuple[bool, ...]
    plan_version: str
    ts: datetime | None

    @property
    def n(self) -> int:
        return len(self.confidence)

    @property
    def correct_count(self) -> int:
        return sum(self.correct)

    @property
    def mean_confidence(self) -> float:
        return math.fsum(self.confidence) / self.n

    @property
    def binnable(self) -> bool:
        """True when the confidences differ (PSI needs at least two bins)."""
        return min(self.confidence) < max(self.confidence)

    def overconfidence_arguments(self) -> dict[str, Any]:
        """The baseline keywords of :func:`trustramp.stats.drift.overconfidence_from_counts`."""
        return {"baseline_n": self.n, "baseline_correct": self.correct_count,
                "baseline_mean_confidence": self.mean_confidence}

    def summary(self) -> dict[str, Any]:
        return {"n": self.n, "correct": self.correct_count,
                "mean_confidence": self.mean_confidence, "plan_version": self.plan_version,
                "ts": self.ts.isoformat() if self.ts else None}


def readiness_baseline(store: AggregateStore, feature: str) -> tuple[ReadinessBaseline | None, str]:
    """The latest readiness report's baseline, or None and why there is none."""
    reports = store.readiness_reports(feature, limit=1)
    if not reports:
        return None, "no readiness report is stored for this feature"
    record = reports[0]
    raw = record.report.get("baseline") if isinstance(record.report, dict) else None
    confidence = raw.get("confidence") if isinstance(raw, dict) else None
    correct = raw.get("correct") if isinstance(raw, dict) else None
    if not isinstance(confidence, list) or not isinstance(correct, list) or not confidence:
        return None, "the latest readiness report holds no baseline"
    if len(confidence) != len(correct) or not all(
        isinstance(c, int | float) and not isinstance(c, bool) and 0.0 <= c <= 1.0
        for c in confidence
    ) or not all(isinstance(c, bool) for c in correct):
        return None, ("the latest readiness report's baseline is malformed (confidences in "
                      "[0, 1] and one correct flag each expected)")
    baseline = ReadinessBaseline(tuple(float(c) for c in confidence), tuple(correct),
                                 record.plan_version, record.ts)
    return baseline, (f"readiness report of plan {record.plan_version}: "
                      f"{baseline.n} held-out answers")
