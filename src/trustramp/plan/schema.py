"""The plan file's schema: one feature's rollout, validated with pydantic 2.

A plan is what a team writes down before launch: who sees the feature first and
why they are forgiving, which guardrails hold in each phase, what must be proven
to widen the audience, what pauses or kills it, and what "ready" means. The
models here are immutable; :mod:`trustramp.plan.loader` turns YAML into them with
error positions, :mod:`trustramp.decide` compiles them into a fast policy.

Example (the smallest useful plan)::

    feature: {key: summarize, stakes: low, fallback: extractive-summary}
    segments:
      power_users:
        condition: {beta_opt_in: true}
        share: 0.2  # of all users; lets lint size the audience
        why_forgiving: They asked for early access and report problems.
    phases:
      - name: beta
        audience: {segments: [power_users], percent: 5}
        guardrails: {confidence: {threshold: 0.8}}
        success:
          - {metric: thumbs_up_rate, op: ">=", target: 0.9, min_samples: 200, min_duration: 14d}
        stop:
          - {metric: thumbs_up_rate, floor: 0.7, action: pause, min_samples: 50}
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from trustramp.plan.errors import did_you_mean

PLAN_FORMAT: Literal[1] = 1

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
"""Names of features, phases, segments and exclusions (also what lint calls key-like)."""
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> timedelta:
    """Parse ``"14d"``, ``"2w"``, ``"36h"``, ``"30m"`` (or a timedelta) into a timedelta.

    >>> parse_duration("2w")
    datetime.timedelta(days=14)
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            try:
                return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
            except OverflowError:
                raise ValueError(
                    f"expected a duration such as '30m', '36h', '14d' or '2w' of at most "
                    f"{timedelta.max.days}d, got {value!r}"
                ) from None
    raise ValueError(
        f"expected a duration such as '30m', '36h', '14d' or '2w', got {value!r}"
    )


def format_duration(value: timedelta) -> str:
    """The inverse of :func:`parse_duration` for whole minutes, hours, days, weeks."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h"):
        size = _UNIT_SECONDS[unit]
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]
Key = Annotated[str, Field(pattern=KEY_PATTERN, min_length=1, max_length=64)]
ConditionDocument = dict[str, Any]
"""A MongoDB-style targeting condition (GrowthBook semantics, see trustramp.targeting)."""


class PlanFieldError(ValueError):
    """A cross-field error with the path of the field at fault.

    Raised inside model validators, where pydantic would otherwise report the
    error at the model's own location; the loader reads ``path`` (from the error's
    ``ctx["error"]``) to point at the right line of the YAML file.
    """

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Stakes(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class BelowThreshold(StrEnum):
    """What the user gets when the model's confidence is below the phase's threshold."""

    FALLBACK = "fallback"  # the non-AI path
    ASK_USER = "ask_user"  # a clarifying question back to the user
    SHOW_FLAGGED = "show_flagged"  # the answer, visibly flagged as low confidence


class WhilePending(StrEnum):
    """What the user sees while an output waits for a reviewer."""

    HOLD = "hold"  # nothing until a reviewer approved it ("we'll get back to you")
    FALLBACK = "fallback"  # the non-AI answer now, the AI answer if approved later


class Comparison(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"
    EQ = "=="


class Metric(StrEnum):
    """Health metrics a criterion can name.

    Rates are fractions in [0, 1] over the outcomes of outputs shown in the phase;
    counts are totals over the criterion's window; ``*_per_week`` are rates per
    7 days of the window.
    """

    ACCURACY = "accuracy"  # ground-truth labels: correct / labelled
    THUMBS_UP_RATE = "thumbs_up_rate"  # user feedback: helpful / rated
    THUMBS_DOWN_RATE = "thumbs_down_rate"
    REVIEW_APPROVAL_RATE = "review_approval_rate"  # reviewer verdicts: approved / reviewed
    ERROR_RATE = "error_rate"  # 1 - accuracy
    CRITICAL_ERROR_RATE = "critical_error_rate"  # critical errors / labelled
    CRITICAL_ERRORS = "critical_errors"  # count
    SUPPORT_TICKETS = "support_tickets"  # count
    SUPPORT_TICKETS_PER_WEEK = "support_tickets_per_week"
    FALLBACK_RATE = "fallback_rate"  # outputs replaced by the fallback / outputs


RATE_METRICS = frozenset(
    {
        Metric.ACCURACY,
        Metric.THUMBS_UP_RATE,
        Metric.THUMBS_DOWN_RATE,
        Metric.REVIEW_APPROVAL_RATE,
        Metric.ERROR_RATE,
        Metric.CRITICAL_ERROR_RATE,
        Metric.FALLBACK_RATE,
    }
)
HIGHER_IS_BETTER = frozenset(
    {Metric.ACCURACY, Metric.THUMBS_UP_RATE, Metric.REVIEW_APPROVAL_RATE}
)


class StopAction(StrEnum):
    WARN = "warn"  # alert only; never acts by itself
    PAUSE = "pause"  # every request gets the fallback until a person resumes
    KILL = "kill"  # kill switch: fallback for everyone, resume needs a reason


class Guardrail(StrEnum):
    """The guardrail kinds a readiness checklist can require (DESIGN.md vocabulary)."""

    TARGETING = "targeting"
    TASK_FILTER = "task_filter"
    CONFIDENCE = "confidence"
    REVIEW = "review"
    RATE_LIMIT = "rate_limit"
    LABEL = "label"


class Feature(_Model):
    key: Key
    description: str = ""
    stakes: Stakes
    fallback: str = Field(min_length=1, description="name of the non-AI path")
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="named transparency labels, e.g. {verify: 'AI-generated - verify thoroughly'}",
    )
    population: int | None = Field(
        default=None,
        ge=1,
        description="estimated number of users who could ever see the feature; "
        "lint uses it to size audiences given as user counts",
    )


class Segment(_Model):
    condition: ConditionDocument = Field(default_factory=dict)
    users: tuple[str, ...] = Field(default=(), description="explicit allow list of unit ids")
    why_forgiving: str | None = None
    external: bool = Field(
        default=True, description="false when every member is staff (internal users)"
    )
    description: str = ""
    share: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description="estimated fraction of all users in this segment (0.02 = 2%); "
        "lint uses it to size audiences",
    )


class Exclusion(_Model):
    """Units kept out of the rollout, e.g. high-visibility accounts who can amplify a failure."""

    name: Key
    condition: ConditionDocument = Field(default_factory=dict)
    users: tuple[str, ...] = ()
    until_phase: str | None = Field(
        default=None,
        description="the first phase in which these units may see the feature (None: never)",
    )
    high_visibility: bool = False
    why: str = ""

    @model_validator(mode="after")
    def _has_members(self) -> Self:
        if not self.condition and not self.users:
            raise ValueError("an exclusion needs a condition or a list of users")
        return self


class Audience(_Model):
    """Who is in a phase: members of the segments, then a sticky percent, then a cap."""

    segments: tuple[str, ...] = ()
    percent: float = Field(default=100.0, ge=0.0, le=100.0)
    min_users: int | None = Field(default=None, ge=0)
    max_users: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _cap_order(self) -> Self:
        if (
            self.min_users is not None
            and self.max_users is not None
            and self.min_users > self.max_users
        ):
            raise ValueError(
                f"min_users ({self.min_users}) must not exceed max_users ({self.max_users})"
            )
        return self


class ConfidenceGuard(_Model):
    threshold: float = Field(ge=0.0, le=1.0)
    below: BelowThreshold = BelowThreshold.FALLBACK
    flag_text: str = "Low confidence - please double-check this answer."
    question: str = "Can you tell me more about what you need?"


class ReviewGuard(_Model):
    rate: float = Field(ge=0.0, le=1.0, description="1.0 = every output, 0.05 = a sample")
    while_pending: WhilePending = WhilePending.HOLD
    pending_message: str = "A specialist is checking this answer; you will see it shortly."


class RateLimit(_Model):
    per_user_per_hour: int | None = Field(default=None, ge=1)
    per_feature_per_minute: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _some_limit(self) -> Self:
        if self.per_user_per_hour is None and self.per_feature_per_minute is None:
            raise ValueError("set per_user_per_hour, per_feature_per_minute or both")
        return self


class Guardrails(_Model):
    confidence: ConfidenceGuard | None = None
    review: ReviewGuard | None = None
    rate_limit: RateLimit | None = None
    label: str | None = Field(
        default=None,
        description="a key of feature.labels, or the literal text to show with every answer",
    )


def _check_scale(metric: Metric, value: float, field: str) -> None:
    """A rate target outside [0, 1] is almost always a percent written as 90, not 0.9."""
    if metric in RATE_METRICS and not 0.0 <= value <= 1.0:
        raise PlanFieldError(
            (field,),
            f"{metric.value} is a rate; expected a {field} between 0 and 1 "
            f"(write 90% as 0.9), got {value:g}",
        )
    if metric not in RATE_METRICS and value < 0:
        raise PlanFieldError(
            (field,), f"{metric.value} is a count; expected a {field} >= 0, got {value:g}"
        )


class SuccessCriterion(_Model):
    """A rule that must hold to graduate: ``metric op target`` over enough data and time."""

    metric: Metric
    op: Comparison
    target: float
    min_samples: int | None = Field(default=None, ge=1)
    min_duration: Duration | None = None
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _target_scale(self) -> Self:
        _check_scale(self.metric, self.target, "target")
        return self


class StopCriterion(_Model):
    """A rule that acts when breached: for rates, ``metric`` worse than ``floor``.

    ``floor`` is the bound the metric must not cross: a minimum for
    higher-is-better metrics (accuracy) and a maximum for the others (error rate,
    tickets per week, critical errors).
    """

    metric: Metric
    floor: float
    action: StopAction
    min_samples: int | None = Field(default=None, ge=1)
    window: Duration | None = None
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _floor_scale(self) -> Self:
        _check_scale(self.metric, self.floor, "floor")
        return self


class Phase(_Model):
    name: Key
    description: str = ""
    audience: Audience
    task_filter: ConditionDocument | None = None
    guardrails: Guardrails = Field(default_factory=Guardrails)
    success: tuple[SuccessCriterion, ...] = ()
    stop: tuple[StopCriterion, ...] = ()


class HeldOutSet(_Model):
    path: str = Field(min_length=1)
    min_accuracy: float = Field(gt=0.0, le=1.0)
    min_examples: int = Field(default=1, ge=1)


class WorstCase(_Model):
    description: str = Field(min_length=1)
    amount: float = Field(ge=0.0)
    unit: str = "USD"


class RequiredGuardrails(_Model):
    min_count: int = Field(ge=0, le=len(Guardrail))
    must_include: tuple[Guardrail, ...] = ()


class Readiness(_Model):
    heldout: HeldOutSet
    min_input_patterns: int = Field(ge=0, description="distinct input patterns to cover")
    worst_case: WorstCase
    required_guardrails: RequiredGuardrails
    sign_off: tuple[str, ...] = Field(default=(), description="roles that must sign")


class Plan(_Model):
    """One feature's rollout plan (the root of the YAML file)."""

    format: Literal[1] = PLAN_FORMAT
    revision: int = Field(default=1, ge=1, description="bumped by the team on every change")
    feature: Feature
    segments: dict[str, Segment] = Field(default_factory=dict)
    exclusions: tuple[Exclusion, ...] = ()
    phases: tuple[Phase, ...] = Field(min_length=1)
    readiness: Readiness | None = None

    @model_validator(mode="after")
    def _references(self) -> Self:
        names = [phase.name for phase in self.phases]
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                raise PlanFieldError(
                    ("phases", index, "name"), f"phase {name!r} is defined twice"
                )
            seen.add(name)
        for key in self.segments:
            if not re.match(KEY_PATTERN, key):
                raise PlanFieldError(
                    ("segments", key),
                    "a segment name uses lowercase letters, digits, '_', '-' and '.'",
                )
        for index, phase in enumerate(self.phases):
            for position, segment in enumerate(phase.audience.segments):
                if segment not in self.segments:
                    known = ", ".join(sorted(self.segments)) or "none defined"
                    raise PlanFieldError(
                        ("phases", index, "audience", "segments", position),
                        f"unknown segment {segment!r} (defined: {known})"
                        + did_you_mean(segment, self.segments),
                    )
            label = phase.guardrails.label
            if label is not None and not label.strip():
                raise PlanFieldError(("phases", index, "guardrails", "label"), "empty label")
        exclusion_names: set[str] = set()
        for index, exclusion in enumerate(self.exclusions):
            if exclusion.name in exclusion_names:
                raise PlanFieldError(
                    ("exclusions", index, "name"),
                    f"exclusion {exclusion.name!r} is defined twice",
                )
            exclusion_names.add(exclusion.name)
            if exclusion.until_phase is not None and exclusion.until_phase not in seen:
                raise PlanFieldError(
                    ("exclusions", index, "until_phase"),
                    f"unknown phase {exclusion.until_phase!r} (phases: {', '.join(names)})"
                    + did_you_mean(exclusion.until_phase, names),
                )
        return self

    def phase(self, name: str) -> Phase:
        """The phase called ``name``; KeyError when there is none."""
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise KeyError(name)

    def phase_index(self, name: str) -> int:
        return [phase.name for phase in self.phases].index(name)

    def label_text(self, label: str | None) -> str | None:
        """Resolve a guardrail label: a key of ``feature.labels`` or literal text."""
        if label is None:
            return None
        return self.feature.labels.get(label, label)
