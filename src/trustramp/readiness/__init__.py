"""Readiness: the checklist a plan writes before launch, evaluated on a held-out file.

A plan's ``readiness`` section says what "ready" means: the accuracy a labelled
held-out set must certify, how many kinds of input it must cover, the worst case in
money, the guardrails the first phase must hold and who signs. This package loads
the held-out file, evaluates every item into a :class:`ReadinessReport` (JSON for
the store, Markdown for the signers) and fingerprints what the signers vouch for.

    >>> from trustramp.plan import load_plan_file
    >>> plan = load_plan_file("examples/plans/portfolio-advice.yaml")
    >>> report = evaluate_readiness(plan, EvalSet.from_rows([0.99] * 50, [True] * 50))
    >>> report.passed, report.item("heldout_accuracy").status
    (False, <ItemStatus.FAIL: 'fail'>)
    >>> ReadinessReport.from_json(report.to_json()) == report
    True
"""

from trustramp.readiness.checklist import BASELINE_SIZE, enabled_guardrails, evaluate_readiness
from trustramp.readiness.evaluation import (
    MAX_BYTES,
    MAX_ROWS,
    EvalFileError,
    EvalProblem,
    EvalSet,
    load_eval_file,
)
from trustramp.readiness.fingerprint import checklist_document, checklist_fingerprint
from trustramp.readiness.records import (
    Baseline,
    Calibration,
    ChecklistItem,
    GuardrailCheck,
    ItemStatus,
    PhaseThreshold,
    ReadinessReport,
    ReliabilityRow,
    SliceRow,
    Slices,
    WorstCaseEstimate,
)
from trustramp.readiness.report import render_markdown

__all__ = [
    "BASELINE_SIZE",
    "MAX_BYTES",
    "MAX_ROWS",
    "Baseline",
    "Calibration",
    "ChecklistItem",
    "EvalFileError",
    "EvalProblem",
    "EvalSet",
    "GuardrailCheck",
    "ItemStatus",
    "PhaseThreshold",
    "ReadinessReport",
    "ReliabilityRow",
    "SliceRow",
    "Slices",
    "WorstCaseEstimate",
    "checklist_document",
    "checklist_fingerprint",
    "enabled_guardrails",
    "evaluate_readiness",
    "load_eval_file",
    "render_markdown",
]
