"""What-if replay: logged outputs through the gate again, under other guardrail settings.

Each logged output (the model's confidence, the request's input attributes, the
decision id) goes through the real :meth:`Policy.gate` twice: under the plan as it
ran, and under the plan with the settings changed (``confidence_threshold=0.9``,
``review_rate=0.05``, ``below=show_flagged``). Review sampling hashes the decision
id, so both runs sample the same answers at the same rate. What it reports for each:
coverage (the share of answers shown) and accuracy among the answers shown, each with
a 95% Clopper-Pearson interval (one fixed look at a finished window, so no
anytime-valid penalty), the wrong answers shown and the answers held for review.

Limits, stated in the report: rate limits are not replayed (they depend on timing);
accuracy is measured on the answers with a label or a randomly sampled review
verdict, which are fewer among answers the logged run did not show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustramp.decide import Exposure, Policy, compile_policy
from trustramp.deepdive.logged import LoggedOutput, logged_outputs
from trustramp.plan.schema import BelowThreshold, ConfidenceGuard, Plan, ReviewGuard
from trustramp.stats import clopper_pearson
from trustramp.store.protocol import EventReader
from trustramp.vocabulary import SHOWS_ANSWER, Action

SETTINGS = ("confidence_threshold", "review_rate", "below")
# Outputs the gate decided on the answer itself; rate-limited, paused and killed ones
# depended on timing and state, not on the guardrails replayed here.
_REPLAYED = frozenset(a.value for a in (Action.SHOW, Action.SHOW_FLAGGED, Action.FALLBACK,
                                        Action.ASK_USER, Action.HOLD_FOR_REVIEW))


def parse_what_if(pairs: list[str]) -> dict[str, Any]:
    """``["confidence_threshold=0.9", ...]`` into settings; ValueError names the bad one."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in SETTINGS:
            raise ValueError(f"--what-if {pair!r}: expected NAME=VALUE with NAME one of "
                             f"{', '.join(SETTINGS)}")
        if name == "below":
            try:
                settings[name] = BelowThreshold(value.strip())
            except ValueError:
                allowed = ", ".join(b.value for b in BelowThreshold)
                raise ValueError(f"--what-if below={value!r}: expected one of {allowed}") \
                    from None
            continue
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--what-if {name}={value!r}: expected a number in [0, 1]") \
                from None
        if not 0.0 <= number <= 1.0:
            raise ValueError(f"--what-if {name}={value!r}: expected a number in [0, 1]")
        settings[name] = number
    if not settings:
        raise ValueError("give at least one --what-if NAME=VALUE")
    return settings


def with_settings(plan: Plan, settings: Mapping[str, Any]) -> Plan:
    """``plan`` with the guardrail settings changed in every phase."""
    phases = []
    for phase in plan.phases:
        guards = phase.guardrails
        confidence = guards.confidence or ConfidenceGuard(threshold=0.0)
        if "confidence_threshold" in settings:
            confidence = confidence.model_copy(
                update={"threshold": settings["confidence_threshold"]})
        if "below" in settings:
            confidence = confidence.model_copy(update={"below": settings["below"]})
        review = guards.review
        if "review_rate" in settings:
            review = (review or ReviewGuard(rate=0.0)).model_copy(
                update={"rate": settings["review_rate"]})
        changed = {"confidence": confidence if guards.confidence or "confidence_threshold"
                   in settings or "below" in settings else None, "review": review}
        phases.append(phase.model_copy(update={"guardrails": guards.model_copy(update=changed)}))
    return plan.model_copy(update={"phases": tuple(phases)})


@dataclass(frozen=True, slots=True)
class ReplayRun:
    """One pass of the logged outputs through the gate."""

    name: str
    outputs: int
    shown: int
    held: int
    labelled_shown: int
    correct_shown: int
    agreement: float | None  # share of outputs whose action equals the logged one

    @property
    def coverage(self) -> tuple[float, tuple[float, float]]:
        return _rate(self.shown, self.outputs)

    @property
    def accuracy(self) -> tuple[float, tuple[float, float]]:
        return _rate(self.correct_shown, self.labelled_shown)

    @property
    def wrong_shown(self) -> int:
        return self.labelled_shown - self.correct_shown

    def to_json(self) -> dict[str, Any]:
        coverage, coverage_interval = self.coverage
        accuracy, accuracy_interval = self.accuracy
        return {"name": self.name, "outputs": self.outputs, "shown": self.shown,
                "held_for_review": self.held, "coverage": coverage,
                "coverage_interval": list(coverage_interval), "accuracy_shown": accuracy,
                "accuracy_interval": list(accuracy_interval),
                "accuracy_n": self.labelled_shown, "wrong_shown": self.wrong_shown,
                "agreement_with_log": self.agreement}


def _rate(hits: int, n: int) -> tuple[float, tuple[float, float]]:
    if not n:
        return float("nan"), (0.0, 1.0)
    low, high = clopper_pearson(hits, n, 0.95)
    return hits / n, (float(low), float(high))


def replay(store: EventReader, plan: Plan, settings: Mapping[str, Any], *,
           since: datetime | None = None, until: datetime | None = None,
           phase: str | None = None) -> tuple[ReplayRun, ReplayRun]:
    """The logged run re-decided as it was, and under ``settings``."""
    names = {p.name for p in plan.phases}
    logged = [item for item in logged_outputs(store, plan.feature.key, since=since,
                                              until=until, phase=phase)
              if item.output.confidence is not None and item.output.action in _REPLAYED
              and item.output.phase in names]
    as_ran = compile_policy(plan)
    what_if = compile_policy(with_settings(plan, settings))
    described = ", ".join(f"{k}={v}" for k, v in settings.items())
    return (_run("as logged", as_ran, logged, compare=True),
            _run(f"what if {described}", what_if, logged, compare=False))


def _run(name: str, policy: Policy, logged: list[LoggedOutput], compare: bool) -> ReplayRun:
    shown = held = labelled = correct = same = 0
    phases: dict[str, Policy] = {}
    for item in logged:
        output = item.output
        phase_name = output.phase or policy.phase
        if phase_name not in phases:
            phases[phase_name] = policy.with_phase(phase_name)
        current = phases[phase_name]
        exposure = Exposure(True, output.unit_id, phase_name, "replayed", "*", None, False,
                            current.feature, current.version)
        decision = current.gate(exposure, output.confidence, output.input_attributes,
                                decision_id=output.decision_id)
        same += decision.action.value == output.action
        if decision.action is Action.HOLD_FOR_REVIEW:
            held += 1
        if decision.action in SHOWS_ANSWER:
            shown += 1
            if item.correct is not None:
                labelled += 1
                correct += item.correct
    return ReplayRun(name, len(logged), shown, held, labelled, correct,
                     same / len(logged) if compare and logged else None)
