"""The readiness report as Markdown: what an exec reads before signing.

The verdict first, then what blocks the launch, the checklist, and the evidence
behind each item (thresholds per phase, the worst case, the guardrails, the error
slices, the reliability table), ending with the fingerprint the signatures are
recorded against and the hash of the held-out file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from trustramp.readiness.records import ItemStatus, ReadinessReport

_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # what a Markdown renderer would take for HTML
TITLES = {
    "heldout_accuracy": "Held-out accuracy",
    "input_patterns": "Input patterns covered",
    "error_slices": "Error slices",
    "worst_case": "Worst case",
    "guardrails": "Guardrails of the first phase",
    "thresholds": "Confidence thresholds",
    "calibration": "Calibration",
    "sign_off": "Sign-off",
}


def _cell(text: object) -> str:
    """Text that stays on one line inside one table cell and is not taken for HTML."""
    value = " ".join(str(text).split())
    value = value.replace("\\", "\\\\").replace("|", "\\|")
    return _TAG.sub("&lt;", value)


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _interval(low: float, high: float, digits: int = 3) -> str:
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def _verdict(report: ReadinessReport) -> list[str]:
    counts = {s: sum(1 for i in report.items if i.status is s) for s in ItemStatus}
    if report.passed:
        head = "**Verdict: READY** - no checklist item fails"
        if counts[ItemStatus.WARN]:
            warnings = counts[ItemStatus.WARN]
            head += f" ({warnings} warning{'s' * (warnings > 1)} to read)"
        lines = [head + ". The rollout may start once every required role has signed.", ""]
    else:
        lines = [f"**Verdict: NOT READY** - {counts[ItemStatus.FAIL]} of {len(report.items)} "
                 "checklist items fail; `trustramp start` refuses the plan until they pass.", "",
                 "What blocks the launch:", ""]
        lines += [f"- {_cell(sentence)}" for sentence in report.missing] + [""]
    return lines


def _thresholds(report: ReadinessReport) -> list[str]:
    rows = []
    for t in report.thresholds:
        certified = (f"{t.certified:g} ({t.certified_coverage:.1%} shown)"
                     if t.certified is not None else "none")
        accuracy = ("no answer" if t.plan_accuracy is None else
                    f"{t.plan_accuracy:.3f} {_interval(*t.plan_accuracy_interval)}")
        mine = f"{t.plan_threshold:g}" if t.plan_threshold is not None else "none"
        rows.append((t.phase, f"{t.target:g} ({t.target_from})", certified, mine,
                     f"{t.plan_coverage:.1%} ({t.plan_n_shown:,})", accuracy,
                     "ok" if t.ok else "WARN: " + t.note))
    lines = ["## Confidence thresholds per phase", "",
             f"Learn-then-Test at delta {report.delta:g}: with probability at least "
             f"{1 - report.delta:.0%}, accuracy among the answers shown at or above the "
             "certified threshold is at least the target.", ""]
    lines += _table(("phase", "accuracy target", "certified threshold", "plan's threshold",
                     "shown at the plan's", "accuracy there", "verdict"), rows)
    for t in report.thresholds:
        if t.reason:
            lines.append(f"- {_cell(t.phase)}: {_cell(t.reason)}")
    return [*lines, ""] if any(t.reason for t in report.thresholds) else lines


def _worst_case(report: ReadinessReport) -> list[str]:
    w = report.worst_case
    where = f"confidence >= {w.threshold:g}" if w.threshold is not None else "no threshold"
    rate = f"{w.error_rate:.2%}" if w.error_rate is not None else "none shown"
    return [
        "## Worst case", "", f"> {_cell(w.description)}", "",
        f"- cost of one such answer: {w.amount:,.0f} {_cell(w.unit)}",
        f"- answers the first phase ({_cell(w.phase)}, {where}) would show: {w.n_shown:,} of "
        f"the held-out answers, {w.errors:,} wrong ({rate}; at most {w.upper_bound:.2%} at "
        f"{report.level:.0%})",
        f"- expected cost per 1,000 shown answers <= {w.amount:,.0f} x {w.upper_bound:.4g} x "
        f"1,000 = **{w.cost_per_1000:,.0f} {_cell(w.unit)}**, before human review", "",
    ]


def _guardrails(report: ReadinessReport) -> list[str]:
    g = report.guardrails
    return [
        "## Guardrails of the first phase", "",
        f"- phase: {_cell(g.phase)}",
        f"- enabled: {', '.join(g.enabled) or 'none'} ({len(g.enabled)})",
        f"- required: at least {g.min_count}, including {', '.join(g.must_include) or '-'}",
        f"- missing: {', '.join(g.missing) or 'nothing'}", "",
    ]


def _slices(report: ReadinessReport) -> list[str]:
    s = report.slices
    lines = ["## Where errors concentrate", ""]
    if not s.attributes:
        return [*lines, "The held-out file has no input attributes or patterns to slice on.", ""]
    lines += [f"Sliced on {_cell(', '.join(s.attributes))}: {s.tested:,} slices tested, "
              f"{s.discovered:,} discovered (errors {s.verdict}; the standing slices hold "
              f"{s.share_explained:.0%} of the excess errors).", ""]
    if s.top:
        lines += _table(("slice", "answers", "wrong", "error rate", "rest", "q", "explained by"),
                        ((r.description, f"{r.support:,}", f"{r.errors:,}",
                          f"{r.error_rate:.1%} [{r.error_interval[0]:.1%}, "
                          f"{r.error_interval[1]:.1%}]",
                          f"{r.rest_error_rate:.1%}", f"{r.q_value:.2g}", r.explained_by or "")
                         for r in s.top))
    return lines


def _calibration(report: ReadinessReport) -> list[str]:
    c = report.calibration
    rows = [(f"[{b.lower:.1f}, {b.upper:.1f}{']' if b.upper == 1.0 else ')'}", f"{b.count:,}",
             "" if b.mean_confidence is None else f"{b.mean_confidence:.3f}",
             "" if b.accuracy is None else f"{b.accuracy:.3f} {_interval(*b.accuracy_interval)}",
             "" if b.accuracy is None or b.mean_confidence is None
             else f"{b.accuracy - b.mean_confidence:+.3f}")
            for b in c.bins]
    return ["## Calibration", "",
            f"ECE {c.ece:.3f}, MCE {c.mce:.3f}, Brier {c.brier:.3f} on {report.n:,} answers. "
            "A negative gap means the model is more confident than it is right.", "",
            *_table(("confidence", "answers", "mean confidence", "accuracy", "gap"), rows)]


def render_markdown(report: ReadinessReport) -> str:
    """The report as a Markdown document for the people who sign it.

    >>> from trustramp.plan import load_plan_file
    >>> from trustramp.readiness import EvalSet, evaluate_readiness
    >>> plan = load_plan_file("examples/plans/portfolio-advice.yaml")
    >>> text = render_markdown(evaluate_readiness(plan, EvalSet.from_rows([0.9], [True])))
    >>> text.splitlines()[2]
    '**Verdict: NOT READY** - 2 of 8 checklist items fail; `trustramp start` refuses ...'
    """
    lines = [f"# Readiness of {_cell(report.feature)}", ""]
    lines += _verdict(report)
    lines += ["## Checklist", ""]
    lines += _table(("status", "item", "summary"),
                    ((i.status.value.upper(), TITLES.get(i.id, i.id), i.summary)
                     for i in report.items))
    lines += _thresholds(report) + _worst_case(report) + _guardrails(report)
    lines += _slices(report) + _calibration(report)
    roles = report.sign_off
    lines += ["## Sign-off", ""]
    lines += (_table(("role", "name", "signed"), ((role, "", "") for role in roles)) if roles
              else ["No role is required to sign.", ""])
    b = report.baseline
    kept = "all of them" if len(b.confidence) == b.total else "evenly spaced in file order"
    lines += [
        "## Evidence", "",
        f"- plan version: {_cell(report.plan_version)}",
        f"- checklist fingerprint (what the signatures cover): `{report.fingerprint}`",
        f"- held-out file: {_cell(report.eval_path)}, {report.n:,} answers, SHA-256 "
        f"`{report.eval_sha256}`",
        f"- baseline for production monitoring: {len(b.confidence):,} of the {b.total:,} "
        f"held-out answers ({kept})",
        f"- intervals at {report.level:.0%}; made {report.created_at.isoformat()}",
    ]
    return "\n".join(lines) + "\n"
