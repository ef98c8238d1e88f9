"""Explain one decision: every rule the exposure and the gate check, in order, with its result.

The exposure and the decision come from the fast path itself
(:meth:`Policy.exposure`, :meth:`Policy.gate`); the trace is rebuilt beside them
from the same compiled policy, so the request path never pays for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, NamedTuple

from trustramp.decide.compiled import CompiledPhase
from trustramp.decide.records import Action, Decision, Exposure, Status, Usage, User
from trustramp.decide.sampling import review_hash

if TYPE_CHECKING:
    from trustramp.decide.policy import Policy


class Rule(NamedTuple):
    """One rule checked: ``result`` is ``pass``, ``fail`` or ``skip`` (not applicable).

    ``decisive`` marks the rule that settled the exposure or the decision.
    """

    stage: str  # exposure | gate
    name: str
    result: str
    detail: str
    decisive: bool = False


class Explanation(NamedTuple):
    """A decision and the rules behind it, in the order they were checked."""

    exposure: Exposure
    decision: Decision
    rules: tuple[Rule, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``trustramp explain --json`` prints)."""
        return {
            "exposure": {k: _plain(v) for k, v in self.exposure._asdict().items()},
            "decision": {k: _plain(v) for k, v in self.decision._asdict().items()},
            "rules": [rule._asdict() for rule in self.rules],
        }


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Action | Status) else value


def explain(
    policy: Policy,
    user: Mapping[str, Any] | User,
    confidence: float | None,
    input: Mapping[str, Any] | None,
    *,
    admitted: AbstractSet[str],
    admitted_count: int,
    usage: Usage | None,
    decision_id: str | None,
) -> Explanation:
    exposure = policy.exposure(user, admitted=admitted, admitted_count=admitted_count)
    decision = policy.gate(exposure, confidence, input, decision_id=decision_id, usage=usage)
    attributes = user.as_attributes() if isinstance(user, User) else user
    rules = _exposure_rules(policy, attributes, exposure, admitted, admitted_count)
    rules += _gate_rules(policy, exposure, decision, input, usage)
    return Explanation(exposure, decision, tuple(rules))


def _exposure_rules(
    policy: Policy,
    attributes: Mapping[str, Any],
    exposure: Exposure,
    admitted: AbstractSet[str],
    admitted_count: int,
) -> list[Rule]:
    uid, current = exposure.unit_id, policy.current
    active = policy.status is Status.ACTIVE
    rules = [Rule("exposure", "status", "pass" if active else "fail",
                  f"rollout is {policy.status.value}" + (f": {policy.reason}" if policy.reason
                                                          else ""), decisive=not active)]
    if not active:
        return rules
    for ex in policy.compiled.exclusions:
        name = f"exclusion {ex.members.name!r}"
        if ex.until_index is not None and current.index >= ex.until_index:
            rules.append(Rule("exposure", name, "skip", f"lifted from phase {ex.until_phase!r}"))
        elif ex.members.contains(attributes, uid):
            until = f"until phase {ex.until_phase!r}" if ex.until_phase else "for good"
            rules.append(Rule("exposure", name, "fail", f"unit is a member: excluded {until}",
                              decisive=True))
            return rules
        else:
            rules.append(Rule("exposure", name, "pass", "unit is not a member"))
    share = exposure.bucket if exposure.bucket is not None else 0.0
    rules.append(Rule("exposure", "bucket", "pass", f"bucket({policy.feature!r}, {uid!r}) = "
                      f"{share:.6f}"))
    decided = False
    for phase in policy.compiled.phases[: current.index + 1]:
        for members in phase.segments:
            member = members.contains(attributes, uid)
            inside = share < phase.fraction
            result, detail = _audience_result(phase, member, inside, share, uid, admitted,
                                              admitted_count, phase is current)
            decisive = not decided and result == "pass" and exposure.exposed
            decided = decided or decisive
            rules.append(Rule("exposure", f"phase {phase.name!r} {_who(members.name)}", result,
                              detail, decisive=decisive))
    if not exposure.exposed:
        rules.append(Rule("exposure", "audience", "fail", exposure.reason, decisive=True))
    return rules


def _who(name: str) -> str:
    return "everyone" if name == "*" else f"segment {name!r}"


def _audience_result(
    phase: CompiledPhase, member: bool, inside: bool, share: float, uid: str,
    admitted: AbstractSet[str], admitted_count: int, current: bool,
) -> tuple[str, str]:
    if not member:
        return "fail", "not a member (condition and allow list)"
    if not inside:
        return "fail", f"member, but bucket {share:.6f} >= {phase.percent:g}%"
    if phase.cap is None:
        return "pass", f"member and bucket {share:.6f} < {phase.percent:g}%"
    if uid in admitted:
        return "pass", f"member, already admitted under the cap of {phase.cap}"
    if current and admitted_count < phase.cap:
        return "pass", f"member, admitted now (place {admitted_count + 1} of {phase.cap})"
    closed = "is full" if current else "closed with its phase"
    return "fail", f"member, but the cap of {phase.cap} {closed}"


def _gate_rules(
    policy: Policy, exposure: Exposure, decision: Decision,
    input: Mapping[str, Any] | None, usage: Usage | None,
) -> list[Rule]:
    phase = policy.current
    action = decision.action
    if action in (Action.PAUSED, Action.KILLED):
        return [Rule("gate", "status", "fail", decision.reason, decisive=True)]
    rules = [Rule("gate", "status", "pass", "rollout is active")]
    if not exposure.exposed:
        rules.append(Rule("gate", "exposure", "fail", "unit not exposed: fallback", True))
        return rules
    rules.append(Rule("gate", "exposure", "pass", f"exposed in phase {phase.name!r}"))
    steps = [_task_rule(phase, input, decision), *_limit_rules(phase, usage, decision),
             _confidence_rule(phase, decision), _review_rule(phase, decision)]
    for rule in steps:
        rules.append(rule)
        if rule.decisive and rule.result == "fail":
            return rules
    label = decision.label
    rules.append(Rule("gate", "label", "pass" if label else "skip",
                      f"show with label {label!r}" if label else "no label in this phase"))
    rules.append(Rule("gate", "result", "pass", f"{action.value}: {decision.reason}", True))
    return rules


def _task_rule(phase: CompiledPhase, input: Mapping[str, Any] | None,
               decision: Decision) -> Rule:
    if phase.task_filter is None:
        return Rule("gate", "task filter", "skip", "no task filter in this phase")
    ok = phase.task_filter(input or {})
    detail = f"input {dict(input or {})!r} vs {phase.task_filter_source!r}"
    return Rule("gate", "task filter", "pass" if ok else "fail", detail, decisive=not ok)


def _limit_rules(phase: CompiledPhase, usage: Usage | None, decision: Decision) -> list[Rule]:
    limits = [("rate limit per user per hour", phase.per_user_per_hour,
               usage.user_last_hour if usage else None),
              ("rate limit per feature per minute", phase.per_feature_per_minute,
               usage.feature_last_minute if usage else None)]
    rules = []
    for name, limit, used in limits:
        if limit is None:
            rules.append(Rule("gate", name, "skip", "no limit in this phase"))
        elif used is None:
            rules.append(Rule("gate", name, "skip", f"limit {limit}, no usage counted"))
        else:
            ok = used < limit
            rules.append(Rule("gate", name, "pass" if ok else "fail", f"{used} used of {limit}",
                              decisive=not ok))
            if not ok:
                break
    return rules


def _confidence_rule(phase: CompiledPhase, decision: Decision) -> Rule:
    threshold, confidence = phase.threshold, decision.confidence
    if threshold is None or confidence is None:
        return Rule("gate", "confidence", "skip", "no confidence threshold in this phase")
    if confidence >= threshold:
        return Rule("gate", "confidence", "pass", f"{confidence:.3f} >= {threshold:g}")
    stops = phase.below != "show_flagged"
    return Rule("gate", "confidence", "fail", f"{confidence:.3f} < {threshold:g}: "
                f"{phase.below}", decisive=stops)


def _review_rule(phase: CompiledPhase, decision: Decision) -> Rule:
    if not phase.review_cut:
        return Rule("gate", "human review", "skip", "no review in this phase")
    hashed = review_hash(decision.decision_id)
    sampled = hashed < phase.review_cut  # review_cut(1.0) is above every hash
    value = hashed / 2**32
    detail = (f"hash({decision.decision_id!r}) = {value:.6f} "
              f"{'<' if sampled else '>='} rate {phase.review_rate:g}")
    return Rule("gate", "human review", "fail" if sampled else "pass",
                detail + (f"; user sees: {phase.while_pending}" if sampled else ""),
                decisive=sampled)
