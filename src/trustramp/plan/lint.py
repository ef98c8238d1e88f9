"""Lint: the rollout anti-patterns a valid plan can still contain.

Severity: ``error`` when the plan, run as written, can show unguarded or
unmonitored AI output to more people than the team has evidence for (too wide a
start, a blind jump, no threshold, no stop rule, guardrails dropped at once,
criteria that pass on a handful of outputs, contradictory criteria);
``warning`` when the plan is weaker or less explained than it should be but
what it enforces is still sound (missing reasons, sizes lint cannot estimate,
a likely typo, a phase narrower than the one before). ``trustramp lint`` exits non-zero on
any error. Every rule and its reason are listed in :data:`RULES`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

from trustramp.plan.audience import (
    estimate_audience,
    exposure_growth,
    growth,
    nested,
    restricts,
)
from trustramp.plan.document import Positions
from trustramp.plan.errors import FieldPath, format_path
from trustramp.plan.schema import HIGHER_IS_BETTER, KEY_PATTERN, Plan, Stakes

Severity = Literal["error", "warning"]

FIRST_PHASE_MAX_FRACTION = 0.05
MAX_GROWTH = 5.0
_SLACK = 1e-9  # relative: 0.25 / 0.05 must count as exactly 5x, not 5.000000000000001x
_KEY_LIKE = re.compile(KEY_PATTERN)  # a label spelled like a feature.labels key


@dataclass(frozen=True, slots=True)
class LintRule:
    """A lint rule: its id, severity, a short name and why it matters (one sentence)."""

    id: str
    severity: Severity
    name: str
    why: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One anti-pattern found in a plan, at a place in the file.

    ``line`` and ``column`` are 1-based, None when lint ran without positions.

    >>> finding = Finding("TR007", "error", "phases[2]", "phase 'full' has no stop criteria",
    ...                   RULES["TR007"].why, 40, 5)
    >>> finding.to_dict()["line"], has_errors([finding])
    (40, True)
    """

    rule: str
    severity: Severity
    field_path: str
    message: str
    why: str
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


RULES: dict[str, LintRule] = {rule.id: rule for rule in (
    LintRule("TR001", "error", "first-phase-too-wide",
         "Mistakes in the first phase should reach few people; past 5% of users a "
         "confidently wrong answer becomes a public incident."),
    LintRule("TR002", "error", "first-phase-unrestricted",
         "The first audience should be chosen for tolerance of mistakes, which a random "
         "slice of everyone is not."),
    LintRule("TR003", "error", "audience-jump",
         "Evidence from a phase covers audiences of similar size; a jump of more than 5x "
         "exposes many users to failure modes the smaller phase was too small to reveal."),
    LintRule("TR004", "error", "no-confidence-threshold",
         "'The model is good' is not a guardrail: without a threshold every low-confidence "
         "answer is shown as if it were certain."),
    LintRule("TR005", "error", "high-stakes-partial-review",
         "In a high-stakes feature one unreviewed wrong answer can cost a user real money "
         "or safety, so the first phase must review every output."),
    LintRule("TR006", "error", "high-stakes-external-first",
         "A high-stakes feature should fail first in front of staff, who know it is a "
         "trial, not in front of customers."),
    LintRule("TR007", "error", "no-stop-criteria",
         "Monitoring must exist before launch, not after: without a stop rule nothing "
         "pauses the phase when quality breaks."),
    LintRule("TR008", "error", "criterion-without-evidence",
         "A criterion with neither a minimum sample nor a duration can pass or fire on "
         "a handful of outputs, which is noise, not evidence."),
    LintRule("TR009", "warning", "criterion-half-bounded",
         "A success criterion needs both enough outputs and enough time: samples alone "
         "miss weekly cycles, time alone can pass on a quiet week."),
    LintRule("TR010", "error", "guardrails-removed-at-once",
         "Dropping human review and lowering the threshold to its minimum in one step "
         "removes two safety nets at once, so a regression has nothing to catch it."),
    LintRule("TR011", "error", "high-visibility-early",
         "High-visibility accounts amplify any failure; they should see the feature only "
         "in the last phase, when it has proven itself."),
    LintRule("TR012", "warning", "first-segment-without-reason",
         "The plan should record why the first audience tolerates mistakes, so the choice "
         "can be reviewed and is not just 'whoever was handy'."),
    LintRule("TR013", "error", "stop-contradicts-success",
         "A stop floor stricter than the success target pauses a phase while it meets its "
         "own graduation criterion, so the plan can never be followed."),
    LintRule("TR014", "warning", "audience-shrinks",
         "A phase smaller than the one before adds nobody new (earlier audiences keep the "
         "feature), so it gathers no new evidence and the step after it is bigger than it looks."),
    LintRule("TR015", "warning", "unknown-label-key",
         "A label that looks like a key but is not in feature.labels is shown to users "
         "verbatim, probably a typo of the intended transparency text."),
    LintRule("TR016", "warning", "audience-size-unknown",
         "Without segment shares or a population lint cannot check the 5% and 5x rules, "
         "so a too-wide start or a blind jump would go unnoticed."),
    LintRule("TR017", "error", "no-success-criteria",
         "Without success criteria nothing but opinion decides when a phase may widen; "
         "graduation criteria must be written in the plan."),
)}


class _Report:
    """Collects findings, resolving field paths to positions once."""

    def __init__(self, positions: Positions | None) -> None:
        self.positions = positions
        self.findings: list[Finding] = []

    def add(self, rule_id: str, path: FieldPath, message: str, *, at_key: bool = True) -> None:
        rule = RULES[rule_id]
        line = column = None
        if self.positions is not None:
            at = self.positions.key_at if at_key else self.positions.value_at
            line, column = at(path)
        self.findings.append(
            Finding(rule.id, rule.severity, format_path(path), message, rule.why, line, column)
        )


Check = Callable[[Plan, _Report], None]


def lint(plan: Plan, positions: Positions | None = None) -> list[Finding]:
    """Find the rollout anti-patterns in ``plan``; ordered by place in the file, then rule.

    Pass the ``positions`` of a :class:`~trustramp.plan.PlanDocument` to get
    line and column on each finding.

    >>> from trustramp.plan import load_plan_document
    >>> doc = load_plan_document("examples/plans/portfolio-advice.yaml")
    >>> lint(doc.plan, positions=doc.positions)
    []
    """
    report = _Report(positions)
    for check in _CHECKS:
        check(plan, report)
    return sorted(
        report.findings,
        key=lambda f: (f.line or 0, f.column or 0, f.rule, f.field_path),
    )


def has_errors(findings: list[Finding]) -> bool:
    """True when any finding has error severity (what makes ``trustramp lint`` fail)."""
    return any(finding.severity == "error" for finding in findings)


def _first_phase(plan: Plan, report: _Report) -> None:
    first = plan.phases[0]
    where: FieldPath = ("phases", 0, "audience")
    named = [plan.segments[name] for name in first.audience.segments]
    if not any(restricts(segment) for segment in named):
        report.add("TR002", where, f"the first phase {first.name!r} is not restricted to a "
                   "named segment; expected audience.segments naming a chosen group")
    estimate = estimate_audience(plan, first)
    if estimate.fraction is None:
        report.add("TR016", where, f"cannot size the first phase {first.name!r} "
                   f"({estimate.basis}); declare segments.<name>.share or feature.population")
    elif estimate.fraction > FIRST_PHASE_MAX_FRACTION * (1 + _SLACK):
        report.add("TR001", where, f"the first phase {first.name!r} reaches "
                   f"{estimate.describe()} ({estimate.basis}); expected at most 5% of users")
    for name in first.audience.segments:
        if not plan.segments[name].why_forgiving:
            report.add("TR012", ("segments", name), f"segment {name!r} opens the rollout but "
                       "has no why_forgiving; expected a sentence on why it tolerates mistakes")


def _audience_steps(plan: Plan, report: _Report) -> None:
    for index in range(1, len(plan.phases)):
        before, after = plan.phases[index - 1], plan.phases[index]
        where: FieldPath = ("phases", index, "audience")
        ratio = growth(plan, before, after)
        exposed = exposure_growth(plan, before, after)
        step = f"from {before.name!r} to {after.name!r}"
        if ratio is None or exposed is None:
            report.add("TR016", where, f"cannot compare the audiences {step}; declare "
                       "segments.<name>.share or feature.population")
        elif exposed > MAX_GROWTH * (1 + _SLACK):
            size = "from no users" if math.isinf(exposed) else f"{exposed:.3g}x"
            union = "" if nested(plan, before, after) else (
                ", counting the earlier audience, which keeps the feature"
            )
            report.add("TR003", where, f"exposure grows {size} {step} "
                       f"({estimate_audience(plan, before).describe()} to "
                       f"{estimate_audience(plan, after).describe()}{union}); expected at most "
                       "5x per step, add an intermediate phase")
        elif ratio < 1 - _SLACK:
            report.add("TR014", where, f"the audience shrinks to {ratio:.3g}x {step}; "
                       "expected each phase to reach at least the users of the one before")


def _guardrails(plan: Plan, report: _Report) -> None:
    thresholds = [p.guardrails.confidence.threshold for p in plan.phases if p.guardrails.confidence]
    lowest = min(thresholds, default=None)
    for index, phase in enumerate(plan.phases):
        where: FieldPath = ("phases", index, "guardrails")
        if phase.guardrails.confidence is None:
            report.add("TR004", where, f"phase {phase.name!r} has no confidence threshold; "
                       "expected guardrails.confidence.threshold")
        label = phase.guardrails.label
        if label and _KEY_LIKE.match(label) and label not in plan.feature.labels:
            known = ", ".join(plan.feature.labels) or "none defined"
            report.add("TR015", (*where, "label"), f"label {label!r} is not a key of "
                       f"feature.labels (keys: {known}); it would be shown verbatim",
                       at_key=False)
        if index == 0:
            continue
        before = plan.phases[index - 1].guardrails
        review_before = before.review.rate if before.review else 0.0
        review_after = phase.guardrails.review.rate if phase.guardrails.review else 0.0
        t_before = before.confidence.threshold if before.confidence else None
        t_after = phase.guardrails.confidence.threshold if phase.guardrails.confidence else None
        threshold_dropped = t_after is None or (
            t_before is not None and t_after < t_before and lowest is not None
            and t_after <= lowest
        )
        if review_before > 0 and review_after == 0 and threshold_dropped:
            shown = "removed" if t_after is None else f"lowered to {t_after:g}, its minimum"
            report.add("TR010", where, f"phase {phase.name!r} drops human review "
                       f"({review_before:g} to 0) and the confidence threshold ({shown}) in "
                       "the same step; expected one guardrail relaxed at a time")


def _high_stakes(plan: Plan, report: _Report) -> None:
    if plan.feature.stakes is not Stakes.HIGH:
        return
    first = plan.phases[0]
    review = first.guardrails.review
    if review is None or review.rate < 1.0:
        rate = 0.0 if review is None else review.rate
        where: FieldPath = ("phases", 0, "guardrails")
        if review is not None:
            where = (*where, "review", "rate")
        report.add("TR005", where, f"high-stakes feature: the first "
                   f"phase {first.name!r} reviews {rate:.0%} of outputs; expected "
                   "guardrails.review.rate: 1.0", at_key=review is None)
    external = [n for n in first.audience.segments if plan.segments[n].external]
    if not first.audience.segments or external:
        who = ", ".join(external) if external else "every user (no segment)"
        report.add("TR006", ("phases", 0, "audience"), f"high-stakes feature: the first "
                   f"phase {first.name!r} includes external users ({who}); expected staff "
                   "only (segments with external: false)")


def _criteria(plan: Plan, report: _Report) -> None:
    last = len(plan.phases) - 1
    for index, phase in enumerate(plan.phases):
        where: FieldPath = ("phases", index)
        if not phase.stop:
            report.add("TR007", where, f"phase {phase.name!r} has no stop criteria; expected "
                       "at least one 'stop:' rule that warns, pauses or kills")
        if not phase.success and index < last:
            report.add("TR017", where, f"phase {phase.name!r} has no success criteria; "
                       "expected 'success:' rules that must hold before the next phase")
        for number, success in enumerate(phase.success):
            path = (*where, "success", number)
            if success.min_samples is None and success.min_duration is None:
                report.add("TR008", path, f"success criterion on {success.metric.value} has "
                           "neither min_samples nor min_duration; expected both")
            elif success.min_samples is None or success.min_duration is None:
                missing = "min_samples" if success.min_samples is None else "min_duration"
                report.add("TR009", path, f"success criterion on {success.metric.value} has "
                           f"no {missing}; expected both min_samples and min_duration")
        for number, stop in enumerate(phase.stop):
            if stop.min_samples is None and stop.window is None:
                report.add("TR008", (*where, "stop", number), f"stop criterion on "
                           f"{stop.metric.value} has neither min_samples nor window; "
                           "expected at least one")
            for success in phase.success:
                if success.metric != stop.metric:
                    continue
                higher = stop.metric in HIGHER_IS_BETTER
                if (stop.floor > success.target) if higher else (stop.floor < success.target):
                    report.add("TR013", (*where, "stop", number, "floor"), f"stop floor "
                               f"{stop.floor:g} on {stop.metric.value} is stricter than the "
                               f"success target {success.target:g}; expected the floor "
                               f"{'below' if higher else 'above'} the target", at_key=False)


def _exclusions(plan: Plan, report: _Report) -> None:
    last = plan.phases[-1].name
    for index, exclusion in enumerate(plan.exclusions):
        if not exclusion.high_visibility or exclusion.until_phase is None:
            continue
        if plan.phase_index(exclusion.until_phase) < len(plan.phases) - 1:
            report.add("TR011", ("exclusions", index, "until_phase"), f"high-visibility "
                       f"accounts {exclusion.name!r} are reachable from phase "
                       f"{exclusion.until_phase!r}; expected until_phase: {last} (the last "
                       "phase) or none", at_key=False)


_CHECKS: tuple[Check, ...] = (_first_phase, _audience_steps, _guardrails, _high_stakes,
                              _criteria, _exclusions)
