"""What the held-out set covers, and where its errors concentrate.

``input_patterns`` counts the distinct kinds of input the set holds (the ``pattern``
column when the file has one, else distinct combinations of the input attributes);
``error_slices`` runs :func:`trustramp.stats.find_error_slices` over the attributes
and the pattern and fails when some slice is certainly worse than the bar.
"""

from __future__ import annotations

from trustramp.plan.schema import Readiness
from trustramp.readiness.evaluation import EvalSet
from trustramp.readiness.records import ChecklistItem, ItemStatus, SliceRow, Slices
from trustramp.stats import ErrorSlice, find_error_slices

TOP_SLICES = 10
"""Slices kept in the report; the rest are counted."""
MIN_SUPPORT = 30
"""Rows a slice needs to be tested: fewer cannot make an error rate certain."""


def distinct_patterns(eval_set: EvalSet) -> tuple[int, str]:
    """How many distinct input patterns the set covers, and what was counted."""
    if eval_set.has_patterns:
        return len({p for p in eval_set.patterns if p is not None}), "named in the pattern column"
    combinations = {
        tuple(sorted((k, repr(v)) for k, v in row.items() if v is not None))
        for row in eval_set.attributes
    }
    combinations.discard(())
    return len(combinations), "distinct combinations of the input attributes"


def patterns_item(eval_set: EvalSet, readiness: Readiness) -> ChecklistItem:
    required = readiness.min_input_patterns
    count, counted = distinct_patterns(eval_set)
    passed = count >= required
    if count == 0 and not passed:
        summary = (f"the held-out file names no input pattern and no input attributes, so "
                   f"coverage of the {required} required patterns cannot be shown: add a "
                   "pattern column naming each answer's kind of input.")
    elif passed:
        summary = f"{count:,} input patterns ({counted}) cover the {required:,} required."
    else:
        summary = (f"{count:,} input patterns ({counted}) of the {required:,} required: add "
                   f"held-out answers for at least {required - count:,} more kinds of input.")
    return ChecklistItem(
        id="input_patterns",
        status=ItemStatus.PASS if passed else ItemStatus.FAIL,
        summary=summary,
        estimate=float(count),
        n=eval_set.n,
        target=float(required),
    )


def _columns(eval_set: EvalSet) -> dict[str, list[object]]:
    names = dict.fromkeys(name for row in eval_set.attributes for name in row)
    columns: dict[str, list[object]] = {
        name: [row.get(name) for row in eval_set.attributes] for name in names
    }
    if eval_set.has_patterns:
        key = "pattern" if "pattern" not in columns else "(pattern)"
        columns[key] = list(eval_set.patterns)
    return columns


def _row(found: ErrorSlice) -> SliceRow:
    return SliceRow(
        description=found.description,
        support=found.support,
        errors=found.errors,
        error_rate=found.error_rate,
        error_interval=found.error_interval,
        rest_error_rate=found.rest_error_rate,
        q_value=found.q_value,
        explained_by=found.explained_by,
    )


def slices_check(eval_set: EvalSet, readiness: Readiness, level: float
                 ) -> tuple[Slices, ChecklistItem]:
    """The slice search over the set's attributes and patterns, and its checklist item.

    The item fails when a discovered slice's error rate is certainly above the bar
    (its interval's lower end > 1 - min_accuracy), warns for other discoveries and
    passes when there are none; it is informative when there is nothing to slice on.
    """
    columns = _columns(eval_set)
    if not columns:
        return Slices((), 0, 0, 0.0, "not tested", ()), ChecklistItem(
            "error_slices", ItemStatus.INFO, "the held-out file has no input attributes or "
            "patterns to slice on: add them to see where errors concentrate.")
    report = find_error_slices(columns, eval_set.correct, min_support=MIN_SUPPORT, level=level)
    found = tuple(_row(s) for s in report.slices)
    slices = Slices(
        attributes=tuple(columns),
        tested=len(report.tested),
        discovered=len(found),
        share_explained=report.share_explained,
        verdict=report.verdict,
        top=found[:TOP_SLICES],
    )
    return slices, _slices_item(slices, found, 1.0 - readiness.heldout.min_accuracy)


def _slices_item(slices: Slices, found: tuple[SliceRow, ...], bar: float) -> ChecklistItem:
    if not found:
        return ChecklistItem(
            "error_slices", ItemStatus.PASS,
            f"errors are scattered: none of the {slices.tested:,} slices of at least "
            f"{MIN_SUPPORT} answers errs more than the rest (Benjamini-Hochberg, q 0.05).",
            target=bar)
    worst = max(found, key=lambda s: (s.error_interval[0], s.error_rate))
    certain = [s for s in found if s.error_interval[0] > bar]
    low, high = worst.error_interval
    told = (f"{worst.description}: {worst.errors} of {worst.support} wrong "
            f"({worst.error_rate:.1%} [{low:.1%}, {high:.1%}], rest {worst.rest_error_rate:.1%})")
    if certain:
        status = ItemStatus.FAIL
        summary = (f"{len(certain)} of {len(found)} discovered slices err certainly more than "
                   f"the {bar:.1%} the bar allows, worst {told}: fix these inputs or keep them "
                   "out with a task filter.")
    else:
        status = ItemStatus.WARN
        summary = (f"{len(found)} slices err more than the rest, none certainly above the "
                   f"{bar:.1%} the bar allows; worst {told}.")
    return ChecklistItem(
        id="error_slices",
        status=status,
        summary=summary,
        estimate=worst.error_rate,
        interval=worst.error_interval,
        n=worst.support,
        bound=low,
        target=bar,
    )
