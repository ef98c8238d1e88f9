"""Explain one decision: the rules the decision path checked, in order, with their results.

There is one implementation of the decision path, in :class:`~trustramp.decide.Policy`.
Given a ``trace`` list, :meth:`Policy.exposure` and :meth:`Policy.gate` append a
:class:`RuleResult` at each step they take; :meth:`Policy.explain` runs them that
way. The helpers here only word the gate's steps (task filter, rate limits,
confidence, review) from the values the gate already computed; they decide nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from trustramp.decide.compiled import CompiledPhase
from trustramp.decide.records import Action, Decision, Exposure, RolloutStatus, Usage
from trustramp.decide.sampling import review_hash
from trustramp.decide.trace import RuleResult


class Explanation(NamedTuple):
    """A decision and the rules behind it, in the order they were checked."""

    exposure: Exposure
    decision: Decision
    rules: tuple[RuleResult, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``trustramp explain --json`` prints)."""
        return {
            "exposure": {k: _plain(v) for k, v in self.exposure._asdict().items()},
            "decision": {k: _plain(v) for k, v in self.decision._asdict().items()},
            "rules": [rule._asdict() for rule in self.rules],
        }


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Action | RolloutStatus) else value


def trace_gate_start(trace: list[RuleResult], phase: CompiledPhase) -> None:
    trace.append(RuleResult("gate", "status", "pass", "rollout is serving"))
    trace.append(RuleResult("gate", "exposure", "pass", f"exposed in phase {phase.name!r}"))


def trace_gate_guards(
    trace: list[RuleResult],
    phase: CompiledPhase,
    input: Mapping[str, Any] | None,
    usage: Usage | None,
    confidence: float,
    action: Action,
) -> None:
    """The task filter, rate limits and confidence steps, up to the one that decided.

    ``action`` is what the gate concluded from them (show, show_flagged, or the
    action of the guard that stopped the answer).
    """
    if phase.task_filter is None:
        trace.append(RuleResult("gate", "task filter", "skip", "no task filter in this phase"))
    else:
        stopped = action is Action.FALLBACK
        detail = f"input {dict(input or {})!r} vs {phase.task_filter_source!r}"
        trace.append(RuleResult("gate", "task filter", "fail" if stopped else "pass", detail,
                                stopped))
        if stopped:
            return
    for name, limit, used in (
        ("rate limit per user per hour", phase.per_user_per_hour,
         usage.user_last_hour if usage else None),
        ("rate limit per feature per minute", phase.per_feature_per_minute,
         usage.feature_last_minute if usage else None),
    ):
        if limit is None:
            trace.append(RuleResult("gate", name, "skip", "no limit in this phase"))
        elif used is None:
            trace.append(RuleResult("gate", name, "skip", f"limit {limit}, no usage counted"))
        else:
            ok = used < limit
            trace.append(RuleResult("gate", name, "pass" if ok else "fail",
                                    f"{used} used of {limit}", not ok))
            if not ok:
                return
    threshold = phase.threshold
    if threshold is None:
        trace.append(RuleResult("gate", "confidence", "skip",
                                "no confidence threshold in this phase"))
    elif confidence >= threshold:
        trace.append(RuleResult("gate", "confidence", "pass",
                                f"{confidence:.3f} >= {threshold:g}"))
    else:
        stops = action not in (Action.SHOW, Action.SHOW_FLAGGED)
        trace.append(RuleResult("gate", "confidence", "fail",
                                f"{confidence:.3f} < {threshold:g}: {phase.below}", stops))


def review_rule(phase: CompiledPhase, decision_id: str, sampled: bool) -> RuleResult:
    """The human-review step; ``sampled`` is what the gate decided."""
    if not phase.review_cut:
        return RuleResult("gate", "human review", "skip", "no review in this phase")
    value = review_hash(decision_id) / 2**32
    detail = (f"hash({decision_id!r}) = {value:.6f} {'<' if sampled else '>='} "
              f"rate {phase.review_rate:g}")
    if sampled:
        detail += f"; user sees: {phase.while_pending}"
    return RuleResult("gate", "human review", "fail" if sampled else "pass", detail, sampled)


def trace_gate_result(trace: list[RuleResult], phase: CompiledPhase, decision_id: str,
                      action: Action, reason: str) -> None:
    trace.append(review_rule(phase, decision_id, False))
    label = phase.label
    trace.append(RuleResult("gate", "label", "pass" if label else "skip",
                            f"show with label {label!r}" if label else "no label in this phase"))
    trace.append(RuleResult("gate", "result", "pass", f"{action.value}: {reason}", True))
