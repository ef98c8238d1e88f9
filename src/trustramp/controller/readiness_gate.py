"""What keeps a plan from starting: lint errors, a failing checklist, a missing sign-off.

``start`` (and ``ready``) ask :func:`start_blockers`; each blocker is one sentence
naming what is missing and the command that fixes it, so a refused start lists
exactly what to do.
"""

from __future__ import annotations

from trustramp.plan import lint
from trustramp.plan.schema import Plan
from trustramp.readiness.fingerprint import checklist_fingerprint
from trustramp.store.protocol import StateTransaction


def start_blockers(plan: Plan, transaction: StateTransaction) -> tuple[str, ...]:
    """Everything that must change before ``plan`` may start (empty: nothing)."""
    blockers = [
        f"lint {finding.rule} at {finding.field_path}: {finding.message}"
        for finding in lint(plan)
        if finding.severity == "error"
    ]
    readiness = plan.readiness
    if readiness is None:
        return tuple(blockers)
    fingerprint = checklist_fingerprint(plan)
    report = transaction.latest_readiness(fingerprint)
    if report is None:
        blockers.append(
            f"no readiness evaluation of this checklist (fingerprint {fingerprint[:8]}): run "
            "`trustramp ready PLAN --eval FILE`"
        )
    elif not report.passed:
        missing = report.report.get("missing") or ["the readiness checklist failed"]
        blockers.extend(f"readiness: {item}" for item in missing)
    signed = {
        signature.role
        for signature in transaction.signatures()
        if signature.valid and signature.fingerprint == fingerprint
    }
    blockers.extend(
        f"no sign-off by {role!r} on this checklist: run `trustramp sign PLAN --role {role} "
        "--name NAME`"
        for role in readiness.sign_off
        if role not in signed
    )
    return tuple(blockers)
