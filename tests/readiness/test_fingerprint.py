"""The checklist fingerprint moves with what the signers vouch for, and only with that."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.readiness.heldout import make_plan, plan_dict
from trustramp.readiness import checklist_document, checklist_fingerprint

Edit = Callable[[dict[str, Any]], None]


def pilot(data: dict[str, Any]) -> dict[str, Any]:
    phase: dict[str, Any] = data["phases"][0]
    return phase


def readiness(data: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = data["readiness"]
    return section


def fingerprint_after(edit: Edit) -> str:
    data = plan_dict()
    edit(data)
    return checklist_fingerprint(make_plan(data))


BASE = checklist_fingerprint(make_plan())

CHANGES: dict[str, Edit] = {
    "a confidence threshold": lambda d: pilot(d)["guardrails"]["confidence"].update(
        threshold=0.96),
    "what happens below it": lambda d: pilot(d)["guardrails"]["confidence"].update(
        below="ask_user"),
    "a review rate": lambda d: pilot(d)["guardrails"]["review"].update(rate=0.5),
    "a rate limit": lambda d: pilot(d)["guardrails"]["rate_limit"].update(per_user_per_hour=6),
    "a label": lambda d: pilot(d)["guardrails"].update(label="other text"),
    "a later phase's threshold": lambda d: d["phases"][1]["guardrails"]["confidence"].update(
        threshold=0.91),
    "a success target": lambda d: pilot(d)["success"][0].update(target=0.91),
    "a success min_samples": lambda d: pilot(d)["success"][0].update(min_samples=301),
    "a success duration": lambda d: pilot(d)["success"][0].update(min_duration="15d"),
    "a stop floor": lambda d: d["phases"][1]["stop"][0].update(floor=0.84),
    "a stop action": lambda d: d["phases"][1]["stop"][0].update(action="kill"),
    "an added stop criterion": lambda d: pilot(d)["stop"].append(
        {"metric": "critical_errors", "floor": 0, "action": "kill", "window": "14d"}),
    "the task filter": lambda d: pilot(d).update(task_filter={"task": "explain_allocation"}),
    "the targeted segments": lambda d: d["phases"][1]["audience"].update(segments=["staff"]),
    "a phase name": lambda d: d["phases"][1].update(name="wider"),
    "min_accuracy": lambda d: readiness(d)["heldout"].update(min_accuracy=0.91),
    "min_examples": lambda d: readiness(d)["heldout"].update(min_examples=501),
    "the held-out path": lambda d: readiness(d)["heldout"].update(path="evals/other.jsonl"),
    "min_input_patterns": lambda d: readiness(d).update(min_input_patterns=31),
    "the worst case amount": lambda d: readiness(d)["worst_case"].update(amount=2001),
    "the worst case words": lambda d: readiness(d)["worst_case"].update(description="Other."),
    "min_count": lambda d: readiness(d)["required_guardrails"].update(min_count=4),
    "must_include": lambda d: readiness(d)["required_guardrails"].update(
        must_include=["targeting"]),
    "a sign-off role": lambda d: readiness(d).update(sign_off=["product", "legal", "cfo"]),
}

KEPT: dict[str, Edit] = {
    "the feature's description": lambda d: d["feature"].update(description="Reworded."),
    "a phase's description": lambda d: pilot(d).update(description="Staff only."),
    "an audience percent": lambda d: d["phases"][1]["audience"].update(percent=10),
    "audience caps": lambda d: pilot(d)["audience"].update(min_users=10, max_users=80),
    "a segment's condition": lambda d: d["segments"]["staff"].update(
        condition={"staff": True, "country": "US"}),
    "a segment's share and description": lambda d: d["segments"]["staff"].update(
        share=0.02, description="All staff."),
    "the revision": lambda d: d.update(revision=7),
    "the population": lambda d: d["feature"].update(population=9000),
}


@pytest.mark.parametrize("edit", CHANGES.values(), ids=CHANGES.keys())
def test_the_fingerprint_changes_with_what_the_signers_vouch_for(edit: Edit) -> None:
    assert fingerprint_after(edit) != BASE


@pytest.mark.parametrize("edit", KEPT.values(), ids=KEPT.keys())
def test_the_fingerprint_ignores_the_rest(edit: Edit) -> None:
    assert fingerprint_after(edit) == BASE


def test_it_is_the_sha256_of_the_canonical_document() -> None:
    plan = make_plan()
    canonical = json.dumps(checklist_document(plan), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == BASE


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


def test_key_order_and_number_spelling_do_not_matter() -> None:
    assert checklist_fingerprint(make_plan(reversed_keys(plan_dict()))) == BASE
    data = plan_dict()
    data["readiness"]["worst_case"]["amount"] = 2000.0  # written 2000 in the plan dict
    pilot(data)["success"][0]["min_duration"] = "2w"  # 14d
    assert checklist_fingerprint(make_plan(data)) == BASE


def test_a_plan_without_readiness_is_fingerprinted_on_its_guardrails() -> None:
    data = plan_dict()
    del data["readiness"]
    bare = checklist_fingerprint(make_plan(data))
    assert bare != BASE
    pilot(data)["guardrails"]["confidence"]["threshold"] = 0.5
    assert checklist_fingerprint(make_plan(data)) != bare
