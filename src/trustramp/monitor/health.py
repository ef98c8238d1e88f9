"""Health: what people read about one phase, each figure with its interval and sample size.

Windows are the last hour, day and week and the whole phase, all clipped to the
phase start, all ending at the ``now`` the caller passes (the monitor never reads a
clock: the simulator runs on its own). Counts come from hour buckets, so a window
counts every hour it touches (``counted_since`` is the start of the first).

Rates carry an anytime-valid two-sided 95% interval (the beta-binomial confidence
sequence of :func:`trustramp.stats.bounds_from_counts`): it holds however often
someone looks. Tickets per week carry the gamma-Poisson one of
:func:`trustramp.stats.poisson.poisson_bounds`. Counts (critical errors,
tickets, rate-limit hits, the review backlog) are exact and have no interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from trustramp.monitor.baseline import ReadinessBaseline, readiness_baseline
from trustramp.monitor.evidence import PhaseEvidence, Rate
from trustramp.monitor.fold import bucket_of
from trustramp.stats import SliceReport, bounds_from_counts, find_error_slices
from trustramp.stats.drift import (
    OverconfidenceResult,
    PsiResult,
    overconfidence_from_counts,
    psi_from_counts,
)
from trustramp.stats.poisson import poisson_bounds
from trustramp.store import AggregateStore
from trustramp.store.records import require_aware
from trustramp.vocabulary import FORCED_FALLBACK, SHOWS_ANSWER, Action

if TYPE_CHECKING:
    from trustramp.monitor.monitor import Monitor

ALPHA = 0.05
SLICE_ROWS = 5000
SLICE_MIN_SUPPORT = 30
WEEK = timedelta(weeks=1)
DEFAULT_WINDOWS: Mapping[str, timedelta | None] = {
    "last hour": timedelta(hours=1),
    "last day": timedelta(days=1),
    "last week": WEEK,
    "phase": None,  # since the phase started
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One number a person reads: its estimate, interval (None: exact) and sample size.

    ``unit`` is ``rate``, ``count``, ``per week``, ``difference`` or ``psi``.
    """

    metric: str
    window: str
    estimate: float
    lower: float | None = None
    upper: float | None = None
    n: int = 0
    unit: str = "rate"

    def to_json(self) -> dict[str, Any]:
        plain: dict[str, Any] = _plain(asdict(self))
        return plain


@dataclass(frozen=True, slots=True)
class WindowHealth:
    """One window's evidence and figures, its confidence drift and its calibration test."""

    name: str
    since: datetime
    until: datetime
    counted_since: datetime
    evidence: PhaseEvidence
    figures: tuple[Figure, ...]
    drift: PsiResult | None
    overconfidence: OverconfidenceResult | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "since": self.since.isoformat(), "until": self.until.isoformat(),
            "counted_since": self.counted_since.isoformat(),
            "figures": [figure.to_json() for figure in self.figures],
            "drift": _plain(asdict(self.drift)) if self.drift else None,
            "overconfidence": _plain(asdict(self.overconfidence)) if self.overconfidence
            else None,
        }


@dataclass(frozen=True, slots=True)
class Health:
    """The health of one phase over several windows, plus error slices over the phase."""

    feature: str
    phase: str
    now: datetime
    phase_started_at: datetime
    alpha: float
    windows: tuple[WindowHealth, ...]
    baseline: ReadinessBaseline | None
    baseline_note: str
    slices: SliceReport | None
    slice_rows: int
    slice_note: str

    def figures(self) -> list[Figure]:
        """Every figure, window by window."""
        return [figure for window in self.windows for figure in window.figures]

    def figure(self, metric: str, window: str) -> Figure:
        """One figure by metric and window name; LookupError names what exists."""
        for figure in self.figures():
            if figure.metric == metric and figure.window == window:
                return figure
        raise LookupError(f"no figure {metric!r} in window {window!r}")

    def to_json(self) -> dict[str, Any]:
        """JSON values for the API and the dashboard (NaN and infinity as null)."""
        return {
            "feature": self.feature, "phase": self.phase, "now": self.now.isoformat(),
            "phase_started_at": self.phase_started_at.isoformat(), "alpha": self.alpha,
            "windows": [window.to_json() for window in self.windows],
            "baseline": self.baseline.summary() if self.baseline else None,
            "baseline_note": self.baseline_note,
            "slices": _slices_json(self.slices), "slice_rows": self.slice_rows,
            "slice_note": self.slice_note,
        }


def phase_health(
    monitor: Monitor,
    store: AggregateStore,
    feature: str,
    phase: str,
    *,
    now: datetime,
    phase_started_at: datetime,
    windows: Mapping[str, timedelta | None] = DEFAULT_WINDOWS,
    slices: bool = True,
) -> Health:
    """Health of one phase at ``now`` (see the module docstring); reads aggregates only,
    plus the latest readiness report and (``slices``) at most :data:`SLICE_ROWS`
    labelled outputs for the error slices of the whole phase."""
    require_aware(now, "now")
    require_aware(phase_started_at, "phase_started_at")
    if phase_started_at > now:
        raise ValueError(f"phase_started_at={phase_started_at.isoformat()} is after "
                         f"now={now.isoformat()}")
    baseline, baseline_note = readiness_baseline(store, feature)
    parts = []
    for name, length in windows.items():
        if length is not None and length <= timedelta(0):
            raise ValueError(f"windows[{name!r}] = {length}: must be a positive duration")
        since = phase_started_at if length is None else max(now - length, phase_started_at)
        parts.append(_window(monitor, feature, phase, name, (since, now, phase_started_at),
                             baseline))
    report, rows, slice_note = (_error_slices(store, feature, phase, phase_started_at, now)
                                if slices else (None, 0, "not asked for"))
    return Health(feature, phase, now, phase_started_at, ALPHA, tuple(parts), baseline,
                  baseline_note, report, rows, slice_note)


def _window(monitor: Monitor, feature: str, phase: str, name: str,
            span: tuple[datetime, datetime, datetime],
            baseline: ReadinessBaseline | None) -> WindowHealth:
    since, until, phase_started_at = span
    evidence = (monitor.evidence(feature, phase, since, until) if since < until
                else PhaseEvidence(feature, phase, since, until))
    counted_since = bucket_of(since)
    # The first hour counts whole, except before the phase started (nothing to count).
    weeks = (until - max(counted_since, phase_started_at)) / WEEK
    figures = [*_rates(evidence, name), *_counts(evidence, name, weeks)]
    calibration = evidence.calibration or evidence.accuracy
    mean = evidence.mean_confidence_labelled
    lower, upper = bounds_from_counts(calibration.successes, calibration.n, alpha=ALPHA)
    figures.append(Figure("calibration gap", name, mean - calibration.estimate,
                          mean - upper if calibration.n else None,
                          mean - lower if calibration.n else None, calibration.n,
                          "difference"))
    drift = _drift(evidence, baseline)
    if drift is not None:
        figures.append(Figure("confidence drift (PSI)", name, drift.psi, n=drift.m, unit="psi"))
    over = None
    if calibration.n:
        over = overconfidence_from_counts(
            calibration.n, calibration.successes, mean, alpha=ALPHA,
            **(baseline.overconfidence_arguments() if baseline else {}))
    return WindowHealth(name, since, until, counted_since, evidence, tuple(figures), drift, over)


def rate_figure(metric: str, window: str, rate: Rate, alpha: float = ALPHA) -> Figure:
    """A rate with its anytime-valid two-sided interval (None without observations)."""
    if not rate.n:
        return Figure(metric, window, math.nan, None, None, 0)
    lower, upper = bounds_from_counts(rate.successes, rate.n, alpha=alpha)
    return Figure(metric, window, rate.estimate, lower, upper, rate.n)


def _rates(evidence: PhaseEvidence, window: str) -> list[Figure]:
    outputs = evidence.outputs
    shown = Rate(evidence.outputs_of(*SHOWS_ANSWER), outputs)
    fallback = Rate(evidence.outputs_of(*FORCED_FALLBACK), outputs)
    return [rate_figure(metric, window, rate) for metric, rate in (
        ("accuracy", evidence.accuracy),
        ("accuracy from labels", evidence.labels),
        ("accuracy from sampled reviews", evidence.sampled_reviews),
        ("thumbs-up rate", evidence.thumbs),
        ("review approval rate", evidence.reviews),
        ("critical error rate", evidence.critical),
        ("coverage", shown),
        ("fallback rate", fallback),
    )]


def _counts(evidence: PhaseEvidence, window: str, weeks: float) -> list[Figure]:
    outputs = evidence.outputs
    held = evidence.outputs_of(Action.HOLD_FOR_REVIEW)
    lower, upper = poisson_bounds(evidence.tickets, weeks, alpha=ALPHA)
    per_week = evidence.tickets / weeks if weeks > 0 else math.nan
    return [
        Figure("critical errors", window, evidence.critical_errors, n=outputs, unit="count"),
        Figure("support tickets", window, evidence.tickets, n=outputs, unit="count"),
        Figure("support tickets per week", window, per_week, lower, upper, evidence.tickets,
               "per week"),
        Figure("rate-limit hits", window, evidence.outputs_of(Action.RATE_LIMITED), n=outputs,
               unit="count"),
        Figure("review backlog", window, evidence.review_backlog, n=held, unit="count"),
    ]


def _drift(evidence: PhaseEvidence, baseline: ReadinessBaseline | None) -> PsiResult | None:
    if baseline is None or not baseline.binnable or not any(evidence.confidence_histogram):
        return None
    return psi_from_counts(baseline.confidence, evidence.confidence_histogram)


def _error_slices(store: AggregateStore, feature: str, phase: str, since: datetime,
                  until: datetime) -> tuple[SliceReport | None, int, str]:
    if since >= until:
        return None, 0, "the phase has just started"
    rows = store.labelled_outputs(feature, phase, since=since, until=until, limit=SLICE_ROWS)
    if len(rows) < 2 * SLICE_MIN_SUPPORT:
        return None, len(rows), f"{len(rows)} labelled outputs; slices need {2 * SLICE_MIN_SUPPORT}"
    if not any(row.input_attributes for row in rows):
        return None, len(rows), "the labelled outputs carry no input attributes"
    report = find_error_slices([row.input_attributes for row in rows],
                               [row.correct for row in rows], min_support=SLICE_MIN_SUPPORT)
    return report, len(rows), f"the latest {len(rows)} labelled outputs of the phase"


def _slices_json(report: SliceReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    plain: dict[str, Any] = _plain({
        "rows": report.rows, "errors": report.errors, "error_rate": report.error_rate,
        "error_interval": list(report.error_interval), "verdict": report.verdict,
        "share_explained": report.share_explained,
        "slices": [{"slice": s.description, "support": s.support, "errors": s.errors,
                    "error_rate": s.error_rate, "error_interval": list(s.error_interval),
                    "rest_error_rate": s.rest_error_rate, "q_value": s.q_value,
                    "excess_errors": s.excess_errors, "explained_by": s.explained_by}
                   for s in report.slices],
    })
    return plain


def _plain(value: Any) -> Any:
    """JSON-ready: NaN and infinity become None, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value
