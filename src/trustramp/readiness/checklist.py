"""Evaluate a plan's readiness checklist on a held-out set: one report, item by item.

Items, in order: ``heldout_accuracy``, ``input_patterns``, ``error_slices``,
``worst_case``, ``guardrails``, ``thresholds``, ``calibration``, ``sign_off``. The
report passes when no item failed; warnings and information do not block.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from trustramp.decide import plan_version
from trustramp.events import utc_now
from trustramp.plan.schema import Guardrail, Phase, Plan, Readiness
from trustramp.readiness.accuracy import accuracy_item
from trustramp.readiness.confidence import (
    calibration,
    phase_thresholds,
    thresholds_item,
    worst_case,
)
from trustramp.readiness.coverage import patterns_item, slices_check
from trustramp.readiness.evaluation import EvalSet
from trustramp.readiness.fingerprint import checklist_fingerprint, require_readiness
from trustramp.readiness.records import (
    Baseline,
    ChecklistItem,
    GuardrailCheck,
    ItemStatus,
    ReadinessReport,
)

BASELINE_SIZE = 10_000
"""Held-out answers kept as the monitor's baseline for drift and overconfidence."""


def enabled_guardrails(phase: Phase) -> tuple[Guardrail, ...]:
    """The guardrail kinds a phase enables, in the order of :class:`Guardrail`.

    Targeting means the phase names segments; a task filter must be a non-empty
    condition; a confidence threshold must be above 0 and review needs a rate above 0,
    since a threshold of 0 or a review rate of 0 guard nothing.
    """
    guards = phase.guardrails
    on = {
        Guardrail.TARGETING: bool(phase.audience.segments),
        Guardrail.TASK_FILTER: bool(phase.task_filter),
        Guardrail.CONFIDENCE: guards.confidence is not None and guards.confidence.threshold > 0,
        Guardrail.REVIEW: guards.review is not None and guards.review.rate > 0,
        Guardrail.RATE_LIMIT: guards.rate_limit is not None,
        Guardrail.LABEL: guards.label is not None,
    }
    return tuple(kind for kind in Guardrail if on[kind])


def guardrails_check(plan: Plan, readiness: Readiness) -> tuple[GuardrailCheck, ChecklistItem]:
    """The first phase's guardrails against ``required_guardrails``."""
    phase, required = plan.phases[0], readiness.required_guardrails
    enabled = enabled_guardrails(phase)
    absent = [kind for kind in required.must_include if kind not in enabled]
    short = max(required.min_count - len(enabled), 0)
    others = [kind for kind in Guardrail if kind not in enabled and kind not in absent]
    names = ", ".join(kind.value for kind in enabled) or "none"
    told = (f"the first phase {phase.name!r} enables {len(enabled)} guardrail kinds "
            f"({names}); the checklist requires at least {required.min_count}")
    if required.must_include:
        told += " including " + ", ".join(kind.value for kind in required.must_include)
    lacking = []
    if absent:
        lacking.append("missing " + ", ".join(kind.value for kind in absent))
    if short > len(absent):
        extra = short - len(absent)
        among = ", ".join(kind.value for kind in others)
        lacking.append(f"{extra} more kind{'s' if extra > 1 else ''} among {among}")
    check = GuardrailCheck(phase.name, tuple(k.value for k in enabled), required.min_count,
                           tuple(k.value for k in required.must_include),
                           tuple(k.value for k in absent))
    status = ItemStatus.FAIL if lacking else ItemStatus.PASS
    summary = f"{told}: {' and '.join(lacking)}." if lacking else f"{told}: all there."
    item = ChecklistItem("guardrails", status, summary, estimate=float(len(enabled)),
                         target=float(required.min_count))
    return check, item


def sign_off_item(readiness: Readiness) -> ChecklistItem:
    roles = readiness.sign_off
    if not roles:
        return ChecklistItem("sign_off", ItemStatus.INFO, "the checklist names no role that must "
                             "sign it.")
    listed = ", ".join(roles[:-1]) + (" and " if len(roles) > 1 else "") + roles[-1]
    return ChecklistItem("sign_off", ItemStatus.INFO, f"to be signed by {listed} "
                         "(trustramp sign PLAN --role ROLE --name NAME).")


def baseline(eval_set: EvalSet, size: int = BASELINE_SIZE) -> Baseline:
    """All held-out answers up to ``size``, else ``size`` evenly spaced ones in file order.

    >>> b = baseline(EvalSet.from_rows([0.1 * k for k in range(10)], [True] * 10), size=4)
    >>> b.confidence, b.total
    ((0.0, 0.30000000000000004, 0.6000000000000001, 0.9), 10)
    """
    n = eval_set.n
    # Evenly spaced, not random: the same file always gives the same baseline.
    index = np.arange(n) if n <= size else np.linspace(0, n - 1, size).round().astype(np.int64)
    return Baseline(
        confidence=tuple(float(c) for c in eval_set.confidence[index]),
        correct=tuple(bool(c) for c in eval_set.correct[index]),
        total=n,
    )


def _check_probability(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
        raise ValueError(f"{name}: expected a number strictly between 0 and 1, got {value!r}")
    return float(value)


def evaluate_readiness(
    plan: Plan,
    eval_set: EvalSet,
    *,
    delta: float = 0.10,
    level: float = 0.95,
    now: datetime | None = None,
) -> ReadinessReport:
    """Evaluate ``plan``'s readiness checklist on ``eval_set``.

    ``delta`` is the Learn-then-Test risk of the certified thresholds, ``level`` the
    confidence level of every interval and one-sided bound; ``now`` the report's time
    (default: the current UTC time). Raises ValueError when the plan has no readiness
    section or an argument is out of range.

    >>> from trustramp.plan import load_plan_file
    >>> plan = load_plan_file("examples/plans/portfolio-advice.yaml")
    >>> rows = EvalSet.from_rows([0.97] * 1200, [True] * 1190 + [False] * 10)
    >>> report = evaluate_readiness(plan, rows)
    >>> report.item("heldout_accuracy").status.value, report.passed
    ('pass', False)
    >>> print(report.missing[0])
    the held-out file names no input pattern and no input attributes, so coverage ...
    """
    readiness = require_readiness(plan)
    delta, level = _check_probability("delta", delta), _check_probability("level", level)
    accuracy = accuracy_item(eval_set.correct, readiness.heldout, level)
    slices, slices_found = slices_check(eval_set, readiness, level)
    worst, worst_item = worst_case(plan, readiness, eval_set, level)
    guards, guards_item = guardrails_check(plan, readiness)
    thresholds = phase_thresholds(plan, readiness, eval_set, delta, level)
    calibrated, calibration_item = calibration(eval_set, level)
    items = (accuracy, patterns_item(eval_set, readiness), slices_found, worst_item,
             guards_item, thresholds_item(thresholds, delta), calibration_item,
             sign_off_item(readiness))
    return ReadinessReport(
        feature=plan.feature.key,
        plan_version=plan_version(plan),
        fingerprint=checklist_fingerprint(plan),
        eval_path=eval_set.path,
        eval_sha256=eval_set.sha256,
        n=eval_set.n,
        created_at=now if now is not None else utc_now(),
        delta=delta,
        level=level,
        items=items,
        thresholds=thresholds,
        calibration=calibrated,
        slices=slices,
        worst_case=worst,
        guardrails=guards,
        sign_off=readiness.sign_off,
        baseline=baseline(eval_set),
    )
