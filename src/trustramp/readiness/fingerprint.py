"""The readiness checklist's fingerprint: what the signers vouch for, hashed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from trustramp.plan.schema import Plan


def checklist_fingerprint(plan: Plan) -> str:
    """SHA-256 hex of the canonical JSON of the readiness section and each phase's
    name, guardrails and success and stop criteria.

    A change to any threshold, review rate, criterion or checklist entry changes it
    (and voids the signatures); descriptions, audience percents and segment
    conditions do not.
    """
    document: dict[str, Any] = {
        "readiness": plan.readiness.model_dump(mode="json") if plan.readiness else None,
        "phases": [
            {
                "name": phase.name,
                "guardrails": phase.guardrails.model_dump(mode="json"),
                "success": [c.model_dump(mode="json") for c in phase.success],
                "stop": [c.model_dump(mode="json") for c in phase.stop],
            }
            for phase in plan.phases
        ],
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
