"""What the held-out confidences say: certified thresholds, the worst case, calibration.

Thresholds: for each phase, :func:`trustramp.stats.select_threshold` (Learn-then-Test
at ``delta``) certifies the lowest threshold at which accuracy among shown answers is
at least the phase's accuracy target; the plan's own threshold should not be lower.
The grid is the default 0.50, 0.51, ..., 0.99 plus the plan's own thresholds: all of
it is fixed before the labels are read, as the method requires.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trustramp.plan.schema import Comparison, Metric, Phase, Plan, Readiness
from trustramp.readiness.evaluation import EvalSet
from trustramp.readiness.records import (
    Calibration,
    ChecklistItem,
    ItemStatus,
    PhaseThreshold,
    ReliabilityRow,
    WorstCaseEstimate,
)
from trustramp.stats import (
    DEFAULT_THRESHOLD_GRID,
    ReliabilityBin,
    ThresholdSelection,
    calibration_report,
    clopper_pearson,
    select_threshold,
)
from trustramp.stats.slices import clopper_pearson_one_sided


def accuracy_target(phase: Phase, readiness: Readiness) -> tuple[float, str]:
    """The accuracy a phase promises: its success target, else its stop floor, else the bar."""
    targets = [c.target for c in phase.success
               if c.metric is Metric.ACCURACY and c.op in (Comparison.GE, Comparison.GT)]
    if targets:
        return max(targets), "success"
    floors = [c.floor for c in phase.stop if c.metric is Metric.ACCURACY]
    if floors:
        return max(floors), "stop"
    return readiness.heldout.min_accuracy, "readiness"


def _threshold(phase: Phase) -> float | None:
    guard = phase.guardrails.confidence
    return guard.threshold if guard is not None else None


def _shown(eval_set: EvalSet, threshold: float | None) -> tuple[int, int]:
    """Held-out answers at or above ``threshold`` (all of them without one), and the right ones."""
    mask = eval_set.confidence >= threshold if threshold is not None else slice(None)
    return int(eval_set.correct[mask].size), int(eval_set.correct[mask].sum())


def _certify(eval_set: EvalSet, target: float, delta: float, grid: Sequence[float]
             ) -> ThresholdSelection | str:
    if target >= 1.0:
        return "an accuracy of 1 cannot be certified from a sample"
    if target <= 0.0:
        return "an accuracy target of 0 certifies nothing"
    return select_threshold(eval_set.confidence, eval_set.correct, target, delta, grid)


def phase_thresholds(plan: Plan, readiness: Readiness, eval_set: EvalSet, delta: float,
                     level: float) -> tuple[PhaseThreshold, ...]:
    own = {t for t in map(_threshold, plan.phases) if t is not None}
    grid = sorted(set(DEFAULT_THRESHOLD_GRID) | own)
    rows = []
    for phase in plan.phases:
        target, source = accuracy_target(phase, readiness)
        selection = _certify(eval_set, target, delta, grid)
        mine = _threshold(phase)
        shown, right = _shown(eval_set, mine)
        low, high = clopper_pearson(np.array([right]), np.array([shown]), level)
        certified = selection.threshold if isinstance(selection, ThresholdSelection) else None
        ok = certified is not None and mine is not None and mine >= certified
        rows.append(PhaseThreshold(
            phase=phase.name,
            target=target,
            target_from=source,
            certified=certified,
            certified_coverage=(selection.coverage if isinstance(selection, ThresholdSelection)
                                else 0.0),
            plan_threshold=mine,
            plan_coverage=shown / eval_set.n,
            plan_n_shown=shown,
            plan_accuracy=right / shown if shown else None,
            plan_accuracy_interval=(float(low[0]), float(high[0])),
            ok=ok,
            note=_note(mine, certified, target, delta),
            reason=(selection if isinstance(selection, str) else selection.reason),
        ))
    return tuple(rows)


def _note(mine: float | None, certified: float | None, target: float, delta: float) -> str:
    goal = f"accuracy >= {target:g} at delta {delta:g}"
    if certified is None:
        return f"no threshold certifies {goal}"
    if mine is None:
        return f"no confidence threshold, where {certified:g} is certified for {goal}"
    if mine < certified:
        return f"the plan's threshold {mine:g} is below the {certified:g} certified for {goal}"
    return f"the plan's threshold {mine:g} is at or above the {certified:g} certified for {goal}"


def thresholds_item(rows: Sequence[PhaseThreshold], delta: float) -> ChecklistItem:
    short = [row for row in rows if not row.ok]
    if not short:
        return ChecklistItem("thresholds", ItemStatus.PASS, "every phase's confidence threshold is "
                             "at or above the one Learn-then-Test certifies for its accuracy "
                             f"target (delta {delta:g}).")
    listed = "; ".join(f"phase {row.phase!r}: {row.note}" for row in short)
    return ChecklistItem("thresholds", ItemStatus.WARN, f"{listed}: raise the threshold, or expect "
                         "lower accuracy among the answers shown there.")


def worst_case(plan: Plan, readiness: Readiness, eval_set: EvalSet, level: float
               ) -> tuple[WorstCaseEstimate, ChecklistItem]:
    """The plan's worst case, with the share of wrong answers the first phase would show."""
    worst, phase = readiness.worst_case, plan.phases[0]
    threshold = _threshold(phase)
    shown, right = _shown(eval_set, threshold)
    errors = shown - right
    _, upper = clopper_pearson_one_sided(errors, shown, 1.0 - level)
    low, high = clopper_pearson(np.array([errors]), np.array([shown]), level)
    bound = float(upper)
    estimate = WorstCaseEstimate(
        description=worst.description, amount=worst.amount, unit=worst.unit, phase=phase.name,
        threshold=threshold, n_shown=shown, errors=errors,
        error_rate=errors / shown if shown else None, upper_bound=bound,
        cost_per_1000=worst.amount * bound * 1000.0,
    )
    where = (f"confidence >= {threshold:g}" if threshold is not None else "no threshold")
    summary = (f'worst case "{worst.description}" costs up to'
               f" {worst.amount:,.0f} {worst.unit}; "
               f"{errors} of the {shown:,} held-out answers phase {phase.name!r} would show "
               f"({where}) were wrong, at most {bound:.2%} at {level:.0%}: expected cost per "
               f"1,000 shown answers <= {worst.amount:,.0f} x {bound:.4g} x 1,000 = "
               f"{estimate.cost_per_1000:,.0f} {worst.unit} before human review.")
    status = ItemStatus.PASS if worst.description.strip() else ItemStatus.INFO
    item = ChecklistItem("worst_case", status, summary, estimate=estimate.error_rate,
                         interval=(float(low[0]), float(high[0])), n=shown, bound=bound)
    return estimate, item


def calibration(eval_set: EvalSet, level: float) -> tuple[Calibration, ChecklistItem]:
    """ECE, Brier and the reliability table (10 equal-width bins); informative only."""
    report = calibration_report(eval_set.confidence, eval_set.correct, n_bins=10, level=level)
    bins = tuple(
        ReliabilityRow(b.lower, b.upper, b.count, b.mean_confidence, b.accuracy,
                       (b.accuracy_low, b.accuracy_high))
        for b in report.bins
    )
    summary = (f"ECE {report.ece:.3f}, Brier {report.brier:.3f} on {report.n:,} answers"
               f"{_largest_gap(report.bins)}.")
    item = ChecklistItem("calibration", ItemStatus.INFO, summary, estimate=report.ece, n=report.n)
    return Calibration(report.ece, report.mce, report.brier, bins), item


def _largest_gap(bins: Sequence[ReliabilityBin]) -> str:
    # The bin contributing most to the ECE is what a reader should look at first.
    top: tuple[float, ReliabilityBin, float, float] | None = None
    for b in bins:
        if b.accuracy is None or b.mean_confidence is None or b.accuracy == b.mean_confidence:
            continue
        weight = b.count * abs(b.accuracy - b.mean_confidence)
        if top is None or weight > top[0]:
            top = (weight, b, b.accuracy, b.mean_confidence)
    if top is None:
        return ""
    _, b, accuracy, mean = top
    kind = "overconfident" if accuracy < mean else "underconfident"
    return (f"; largest gap in [{b.lower:.1f}, {b.upper:.1f}]: mean confidence {mean:.3f}, "
            f"accuracy {accuracy:.3f} over {b.count:,} answers ({kind})")
