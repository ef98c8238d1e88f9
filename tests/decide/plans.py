"""The plan of the decision-engine tests, built in code so each test sees every field it uses."""

from __future__ import annotations

from typing import Any

from trustramp.decide import Policy, compile_policy
from trustramp.plan.schema import Plan


def plan_dict() -> dict[str, Any]:
    """The seed table of the issue, as a plan: beta (capped), early access, gradual, full."""
    return {
        "revision": 3,
        "feature": {
            "key": "portfolio-advice",
            "stakes": "high",
            "fallback": "human-advisor-queue",
            "labels": {"edu": "Educational only - not financial advice"},
        },
        "segments": {
            "staff": {
                "condition": {"staff": True},
                "users": ["allow-1", "allow-2"],
                "why_forgiving": "Employees know the product and report problems.",
                "external": False,
            },
            "beta": {"condition": {"beta_opt_in": True}},
            "small": {"condition": {"portfolio_usd": {"$lt": 5000}}},
        },
        "exclusions": [
            {"name": "vip", "condition": {"followers": {"$gte": 100000}},
             "until_phase": "full", "high_visibility": True},
            {"name": "banned", "users": ["banned-1"]},
        ],
        "phases": [
            {
                "name": "beta",
                "audience": {"segments": ["staff"], "percent": 100, "max_users": 100},
                "task_filter": {"task": {"$in": ["explain", "summary"]}},
                "guardrails": {
                    "confidence": {"threshold": 0.95, "below": "fallback"},
                    "review": {"rate": 1.0, "while_pending": "hold"},
                    "rate_limit": {"per_user_per_hour": 3, "per_feature_per_minute": 50},
                    "label": "edu",
                },
            },
            {
                "name": "early-access",
                "audience": {"segments": ["beta"], "percent": 5},
                "guardrails": {
                    "confidence": {"threshold": 0.90, "below": "ask_user"},
                    "review": {"rate": 0.05, "while_pending": "fallback"},
                    "label": "edu",
                },
            },
            {
                "name": "gradual",
                "audience": {"segments": ["beta", "small"], "percent": 25},
                "guardrails": {
                    "confidence": {"threshold": 0.85, "below": "show_flagged"},
                    "label": "AI-generated - verify thoroughly",
                },
            },
            {
                "name": "full",
                "audience": {"percent": 100},
                "guardrails": {"confidence": {"threshold": 0.80}},
            },
        ],
    }


SUCCESS = [{"metric": "accuracy", "op": ">=", "target": 0.9, "min_samples": 100,
            "min_duration": "7d"}]
STOP = [{"metric": "accuracy", "floor": 0.8, "action": "pause", "min_samples": 50}]


def lint_clean_plan_dict() -> dict[str, Any]:
    """:func:`plan_dict` with the criteria lint requires, so the controller may start it."""
    data = plan_dict()
    for index, phase in enumerate(data["phases"]):
        phase["stop"] = list(STOP)
        if index < len(data["phases"]) - 1:
            phase["success"] = list(SUCCESS)
    return data


def make_policy(phase: str | None = None, **changes: Any) -> Policy:
    data = plan_dict()
    data.update(changes)
    return compile_policy(Plan.model_validate(data), phase)
