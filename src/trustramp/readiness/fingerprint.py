"""The checklist fingerprint: what the signers vouch for, as one SHA-256.

A signature is recorded against this hash, so it must change with anything the
signers judged (the readiness section; every phase's guardrails, task filter,
targeted segments and success and stop criteria) and must not change with what
they did not (descriptions, audience percents and caps, segment conditions and
shares, the revision number): widening the audience is the controller's job,
under the criteria the signers saw.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from trustramp.plan.schema import Plan, Readiness

FINGERPRINT_FORMAT = 1
"""Part of the hashed document, so that a change of what is hashed changes every hash."""


def require_readiness(plan: Plan) -> Readiness:
    """The plan's readiness section; ValueError saying to add one when there is none."""
    if plan.readiness is None:
        raise ValueError(
            f"readiness: the plan of feature {plan.feature.key!r} has no readiness section; "
            "add one (heldout, min_input_patterns, worst_case, required_guardrails, "
            "sign_off) as in the templates of trustramp init"
        )
    return plan.readiness


def checklist_document(plan: Plan) -> dict[str, Any]:
    """The JSON document :func:`checklist_fingerprint` hashes.

    A plan without a readiness section still has guardrails and criteria the
    controller holds it to: its fingerprint covers those, with ``readiness`` null.
    """
    readiness = plan.readiness
    return {
        "fingerprint_format": FINGERPRINT_FORMAT,
        "readiness": readiness.model_dump(mode="json") if readiness is not None else None,
        "phases": [
            {
                "name": phase.name,
                "segments": list(phase.audience.segments),
                "task_filter": phase.task_filter,
                "guardrails": phase.guardrails.model_dump(mode="json"),
                "success": [c.model_dump(mode="json") for c in phase.success],
                "stop": [c.model_dump(mode="json") for c in phase.stop],
            }
            for phase in plan.phases
        ],
    }


def checklist_fingerprint(plan: Plan) -> str:
    """SHA-256 hex of the canonical JSON (sorted keys, no whitespace) of the checklist.

    >>> from trustramp.plan import load_plan_file
    >>> plan = load_plan_file("examples/plans/portfolio-advice.yaml")
    >>> wider = plan.model_copy(update={"phases": (
    ...     plan.phases[0].model_copy(update={"description": "reworded"}), *plan.phases[1:])})
    >>> checklist_fingerprint(wider) == checklist_fingerprint(plan)
    True
    >>> len(checklist_fingerprint(plan))
    64
    """
    canonical = json.dumps(checklist_document(plan), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
