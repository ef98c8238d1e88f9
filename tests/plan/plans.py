"""Small plans the plan tests start from and break one field at a time."""

from __future__ import annotations

import copy
from typing import Any

# Line numbers matter: the error-position tests count on this layout.
BASE_YAML = """\
feature:
  key: demo
  stakes: low
  fallback: rules
segments:
  beta:
    condition: {beta: true}
    share: 0.02
    why_forgiving: They asked for it.
phases:
  - name: pilot
    audience: {segments: [beta], percent: 10}
    guardrails:
      confidence: {threshold: 0.9}
    success:
      - {metric: accuracy, op: ">=", target: 0.9, min_samples: 100, min_duration: 14d}
    stop:
      - {metric: accuracy, floor: 0.8, action: pause, min_samples: 50}
  - name: wider
    audience: {segments: [beta], percent: 40}
    guardrails:
      confidence:
        threshold: 0.85
    stop:
      - {metric: accuracy, floor: 0.8, action: pause, min_samples: 50}
"""


def broken(old: str, new: str) -> str:
    """BASE_YAML with one exact, unique piece of text replaced."""
    assert BASE_YAML.count(old) == 1, old
    return BASE_YAML.replace(old, new)


def _phase(name: str, percent: float, segments: list[str] | None = None,
           threshold: float = 0.9, **extra: Any) -> dict[str, Any]:
    phase: dict[str, Any] = {
        "name": name,
        "audience": {"segments": segments or [], "percent": percent},
        "guardrails": {"confidence": {"threshold": threshold}, "label": "ai"},
        "success": [{"metric": "accuracy", "op": ">=", "target": 0.9, "min_samples": 200,
                     "min_duration": "14d"}],
        "stop": [{"metric": "accuracy", "floor": 0.8, "action": "pause", "min_samples": 50}],
    }
    phase.update(extra)
    return phase


_CLEAN: dict[str, Any] = {
    "feature": {"key": "demo", "stakes": "low", "fallback": "rules", "population": 10000,
                "labels": {"ai": "AI-generated - verify thoroughly"}},
    "segments": {"beta": {"condition": {"beta": True}, "share": 0.1,
                          "why_forgiving": "They asked for early access."}},
    "phases": [
        _phase("pilot", 10, ["beta"]),  # 1% of users, 100 users
        _phase("beta", 50, ["beta"]),  # 5%: 5x
        _phase("general", 20),  # 20% plus the 5% who keep it from 'beta': at most 5x
        _phase("full", 100),  # 100%, containing 'general': 5x
    ],
}


def clean_plan() -> dict[str, Any]:
    """A plan dict with no lint finding at all; tests change one thing in a copy."""
    return copy.deepcopy(_CLEAN)
