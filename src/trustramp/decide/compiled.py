"""A plan compiled for the decision path: conditions compiled, texts resolved, tuples precomputed.

Nothing here is evaluated per request except through the closures it builds;
:class:`trustramp.decide.policy.Policy` walks these structures.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trustramp.decide.sampling import review_cut
from trustramp.plan.schema import Phase, Plan
from trustramp.targeting import ConditionError, compile_condition

Test = Callable[[Mapping[str, Any]], bool]
EVERYONE = "*"
"""The segment name reported for a phase whose audience names no segment."""


@dataclass(frozen=True, slots=True)
class Members:
    """A named set of units: a condition on attributes, an explicit list of ids, or both.

    ``test`` is None when the set is given by its list alone; ``everyone`` is True
    for a phase that names no segment (and for a segment with neither).
    """

    name: str
    test: Test | None
    users: frozenset[str]
    everyone: bool

    def contains(self, attributes: Mapping[str, Any], unit_id: str) -> bool:
        if self.everyone or unit_id in self.users:
            return True
        return self.test is not None and self.test(attributes)


@dataclass(frozen=True, slots=True)
class CompiledExclusion:
    members: Members
    until_index: int | None  # first phase index in which the units may see the feature
    until_phase: str | None
    high_visibility: bool


@dataclass(frozen=True, slots=True)
class CompiledPhase:
    """One phase with its guardrails flattened for the gate."""

    index: int
    name: str
    segments: tuple[Members, ...]
    percent: float
    fraction: float
    cap: int | None
    task_filter: Test | None
    task_filter_source: dict[str, Any] | None
    threshold: float | None
    below: str  # fallback | ask_user | show_flagged
    flag_text: str
    question: str
    review_rate: float
    review_cut: int
    while_pending: str  # hold | fallback
    pending_message: str
    per_user_per_hour: int | None
    per_feature_per_minute: int | None
    label: str | None


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    """Everything of a plan the decision path needs, compiled once per plan version."""

    plan: Plan
    feature: str
    version: str
    fallback: str
    phases: tuple[CompiledPhase, ...]
    exclusions: tuple[CompiledExclusion, ...]

    def index_of(self, phase: str) -> int:
        for compiled in self.phases:
            if compiled.name == phase:
                return compiled.index
        names = ", ".join(p.name for p in self.phases)
        raise ValueError(f"phase {phase!r} is not in plan {self.feature!r} (phases: {names})")


def plan_version(plan: Plan) -> str:
    """``<revision>-<8 hex digits of the SHA-256 of the plan's canonical JSON>``.

    Two plans with the same revision but different content get different versions,
    so a forgotten revision bump still shows up in the recorded events.
    """
    canonical = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return f"{plan.revision}-{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


def _compile(condition: Mapping[str, Any], where: str) -> Test:
    try:
        return compile_condition(condition).evaluate
    except ConditionError as error:
        # Name the plan field, not just the place inside the condition document.
        inside = error.where.removeprefix("condition")
        raise ConditionError(f"{where}{inside}", error.problem) from None


def _members(
    name: str, condition: Mapping[str, Any], users: tuple[str, ...], where: str
) -> Members:
    # An empty condition matches everybody in GrowthBook semantics; next to an
    # explicit list of ids it means "just these ids", which is what a plan author means.
    test = _compile(condition, where) if condition else None
    return Members(name, test, frozenset(users), everyone=test is None and not users)


def _phase(plan: Plan, index: int, phase: Phase, segments: Mapping[str, Members]) -> CompiledPhase:
    guards = phase.guardrails
    confidence, review, limits = guards.confidence, guards.review, guards.rate_limit
    everyone = Members(EVERYONE, None, frozenset(), everyone=True)
    rate = review.rate if review else 0.0
    task_filter = phase.task_filter
    return CompiledPhase(
        index=index,
        name=phase.name,
        segments=tuple(segments[s] for s in phase.audience.segments) or (everyone,),
        percent=phase.audience.percent,
        fraction=phase.audience.percent / 100.0,
        cap=phase.audience.max_users,
        task_filter=(
            _compile(task_filter, f"phases[{index}].task_filter") if task_filter else None
        ),
        task_filter_source=dict(task_filter) if task_filter else None,
        threshold=confidence.threshold if confidence else None,
        below=confidence.below.value if confidence else "fallback",
        flag_text=confidence.flag_text if confidence else "",
        question=confidence.question if confidence else "",
        review_rate=rate,
        review_cut=review_cut(rate),
        while_pending=review.while_pending.value if review else "hold",
        pending_message=review.pending_message if review else "",
        per_user_per_hour=limits.per_user_per_hour if limits else None,
        per_feature_per_minute=limits.per_feature_per_minute if limits else None,
        label=plan.label_text(guards.label),
    )


def compile_plan(plan: Plan) -> CompiledPlan:
    """Compile every condition and resolve every text of ``plan`` once.

    Raises :class:`trustramp.targeting.ConditionError` (a ValueError naming the
    place in the condition) for a condition that cannot be compiled.
    """
    segments = {
        name: _members(name, seg.condition, seg.users, f"segments.{name}.condition")
        for name, seg in plan.segments.items()
    }
    phases = tuple(_phase(plan, i, p, segments) for i, p in enumerate(plan.phases))
    index = {p.name: p.index for p in phases}
    exclusions = tuple(
        CompiledExclusion(
            members=_members(ex.name, ex.condition, ex.users, f"exclusions[{i}].condition"),
            until_index=index[ex.until_phase] if ex.until_phase is not None else None,
            until_phase=ex.until_phase,
            high_visibility=ex.high_visibility,
        )
        for i, ex in enumerate(plan.exclusions)
    )
    return CompiledPlan(
        plan=plan,
        feature=plan.feature.key,
        version=plan_version(plan),
        fallback=plan.feature.fallback,
        phases=phases,
        exclusions=exclusions,
    )
