"""Seeded held-out sets and small plans the readiness tests start from.

The held-out answers imitate a portfolio assistant: four tasks, three risk profiles,
a portfolio value, a pattern per (task, risk, size band) and a confidence drawn from
Beta(a, 1) with P(correct | c) = c ** sharpness, so the true accuracy above any
threshold is known in closed form (``true_accuracy``).
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from trustramp.plan.schema import Plan
from trustramp.readiness import EvalSet

TASKS = ("explain_allocation", "summarize_holdings", "rebalance_plan", "tax_lots")
RISKS = ("conservative", "balanced", "aggressive")
BANDS = ((0, 5_000, "small"), (5_000, 50_000, "medium"), (50_000, 500_000, "large"),
         (500_000, float("inf"), "very-large"))


def heldout_rows(n: int, seed: int, *, a: float = 30.0, sharpness: float = 0.5,
                 weak_task: str | None = None, weak_penalty: float = 0.0) -> list[dict[str, Any]]:
    """``n`` labelled answers; ``weak_task`` is wrong ``weak_penalty`` more often."""
    rng = np.random.default_rng(seed)
    confidence = rng.beta(a, 1.0, n)
    tasks = rng.choice(TASKS, n)
    risks = rng.choice(RISKS, n)
    values = np.round(rng.lognormal(10.0, 1.5, n), 2)
    p_correct = confidence ** sharpness - np.where(tasks == weak_task, weak_penalty, 0.0)
    correct = rng.random(n) < p_correct
    rows = []
    for i in range(n):
        band = next(name for low, high, name in BANDS if low <= values[i] < high)
        rows.append({
            "id": f"q{i:05d}",
            "confidence": round(float(confidence[i]), 6),
            "correct": bool(correct[i]),
            "pattern": f"{tasks[i]}/{risks[i]}/{band}",
            "task": str(tasks[i]),
            "risk": str(risks[i]),
            "portfolio_value": float(values[i]),
            "output": f"Suggested allocation for a {risks[i]} profile ({tasks[i]}).",
        })
    return rows


def true_accuracy(a: float, sharpness: float, threshold: float = 0.0) -> float:
    """Accuracy among answers with confidence >= threshold when c ~ Beta(a, 1), p = c ** s."""
    # density a c^(a-1) on [0, 1]: integrals of c^(a-1+s) and c^(a-1) above the threshold
    shown = 1.0 - threshold ** a
    right = a / (a + sharpness) * (1.0 - threshold ** (a + sharpness))
    return right / shown


def as_eval_set(rows: list[dict[str, Any]], *, patterns: bool = True) -> EvalSet:
    attributes = [{k: r[k] for k in ("task", "risk", "portfolio_value")} for r in rows]
    return EvalSet.from_rows([r["confidence"] for r in rows], [r["correct"] for r in rows],
                             attributes=attributes,
                             patterns=[r["pattern"] for r in rows] if patterns else None)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "correct": "yes" if r["correct"] else "no"} for r in rows)
    return path


_PLAN: dict[str, Any] = {
    "feature": {"key": "advice", "stakes": "high", "fallback": "rules",
                "description": "Portfolio advice.", "labels": {"edu": "Educational only."}},
    "segments": {"staff": {"condition": {"staff": True}, "external": False, "share": 0.01,
                           "why_forgiving": "Staff know it is a trial."}},
    "phases": [
        {"name": "pilot", "audience": {"segments": ["staff"], "percent": 100},
         "task_filter": {"task": {"$in": ["explain_allocation", "summarize_holdings"]}},
         "guardrails": {"confidence": {"threshold": 0.95}, "review": {"rate": 1.0},
                        "rate_limit": {"per_user_per_hour": 5}, "label": "edu"},
         "success": [{"metric": "accuracy", "op": ">=", "target": 0.9, "min_samples": 300,
                      "min_duration": "14d"}],
         "stop": [{"metric": "accuracy", "floor": 0.8, "action": "pause", "min_samples": 50}]},
        {"name": "wide", "audience": {"percent": 5},
         "guardrails": {"confidence": {"threshold": 0.9, "below": "show_flagged"},
                        "label": "edu"},
         "stop": [{"metric": "accuracy", "floor": 0.85, "action": "pause",
                   "min_samples": 200}]},
    ],
    "readiness": {
        "heldout": {"path": "evals/advice.jsonl", "min_accuracy": 0.9, "min_examples": 500},
        "min_input_patterns": 30,
        "worst_case": {"description": "A user acts on a wrong allocation.", "amount": 2000,
                       "unit": "USD"},
        "required_guardrails": {"min_count": 5,
                                "must_include": ["targeting", "confidence", "review",
                                                 "rate_limit", "label"]},
        "sign_off": ["product", "legal"],
    },
}


def plan_dict() -> dict[str, Any]:
    """The test plan as a dict; tests change one thing in a copy."""
    return copy.deepcopy(_PLAN)


def make_plan(data: dict[str, Any] | None = None) -> Plan:
    return Plan.model_validate(data if data is not None else _PLAN)
