"""The policy: one immutable snapshot of a plan, a phase and a state, and the decision path.

``exposure`` and ``gate`` are pure functions of the snapshot and their arguments:
no I/O, no clock, nothing shared is mutated (the only exception is the decision
id counter, when the caller lets the gate draw an id). The embedded client, the
remote SDK and the server all call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from numbers import Real
from typing import Any, NoReturn

import mmh3

from trustramp.decide.compiled import EVERYONE, CompiledPhase, CompiledPlan, Members
from trustramp.decide.explain import (
    Explanation,
    review_rule,
    trace_gate_guards,
    trace_gate_result,
    trace_gate_start,
)
from trustramp.decide.records import Action, Decision, Exposure, RolloutStatus, Usage, User
from trustramp.decide.sampling import review_hash
from trustramp.decide.snapshot import (
    GateTexts,
    OpenEntry,
    active_exclusions,
    blocked_action,
    lifted_exclusions,
    open_audience,
)
from trustramp.decide.trace import RuleResult, Trace
from trustramp.errors import InvalidInputError, WrongTypeError
from trustramp.events import new_event_id
from trustramp.targeting.bucketing import SEPARATOR

_EMPTY: frozenset[str] = frozenset()
_SCALE = 2.0**-32
_LAST_HASH = 2**32 - 1
_NO_INPUT: Mapping[str, Any] = {}
_new = tuple.__new__  # skips NamedTuple's Python-level __new__ on the request path
# Enum members as plain globals: ``Action.SHOW`` is a class attribute lookup through
# the enum machinery, several times slower than a global on the request path.
_SHOW, _SHOW_FLAGGED, _FALLBACK = Action.SHOW, Action.SHOW_FLAGGED, Action.FALLBACK
_RATE_LIMITED, _HOLD_FOR_REVIEW = Action.RATE_LIMITED, Action.HOLD_FOR_REVIEW


class Policy:
    """A compiled, immutable snapshot: plan version, current phase and status.

    Build one with :func:`trustramp.load_plan` or :func:`compile_policy`; derive
    others with :meth:`with_phase` and :meth:`with_status` (the controller
    publishes new snapshots this way; a running request keeps the one it read).

    >>> from trustramp.decide import compile_policy
    >>> from trustramp.plan.schema import Plan
    >>> plan = Plan.model_validate({
    ...     "feature": {"key": "f", "stakes": "low", "fallback": "none"},
    ...     "segments": {"staff": {"condition": {"staff": True}}},
    ...     "phases": [{"name": "beta", "audience": {"segments": ["staff"]},
    ...                 "guardrails": {"confidence": {"threshold": 0.9}}}]})
    >>> policy = compile_policy(plan)
    >>> exposure = policy.exposure({"id": "u1", "staff": True})
    >>> policy.gate(exposure, 0.95).action, policy.gate(exposure, 0.5).action
    (<Action.SHOW: 'show'>, <Action.FALLBACK: 'fallback'>)
    """

    __slots__ = (
        "_blocked",
        "_capped",
        "_current",
        "_exclusions",
        "_lifted",
        "_not_in_audience",
        "_open",
        "_prefix",
        "_texts",
        "compiled",
        "feature",
        "phase",
        "reason",
        "status",
        "version",
    )

    compiled: CompiledPlan
    feature: str
    version: str
    phase: str
    status: RolloutStatus
    reason: str
    _current: CompiledPhase
    _blocked: Action | None
    _exclusions: tuple[tuple[Members, str], ...]
    _lifted: tuple[tuple[str, str], ...]
    _open: tuple[OpenEntry, ...]
    _capped: tuple[tuple[CompiledPhase, bool], ...]
    _not_in_audience: str
    _prefix: str
    _texts: GateTexts

    def __init__(
        self,
        compiled: CompiledPlan,
        phase: str,
        status: RolloutStatus | str = RolloutStatus.RUNNING,
        reason: str = "",
    ) -> None:
        try:
            state = RolloutStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in RolloutStatus)
            raise InvalidInputError(f"status must be one of {allowed}, got {status!r}") from None
        current = compiled.phases[compiled.index_of(phase)]
        values: dict[str, Any] = {
            "compiled": compiled,
            "feature": compiled.feature,
            "version": compiled.version,
            "phase": current.name,
            "status": state,
            "reason": reason,
            "_current": current,
            "_blocked": blocked_action(state),
            "_exclusions": active_exclusions(compiled, current),
            "_lifted": lifted_exclusions(compiled, current),
            "_open": open_audience(compiled, current),
            "_capped": tuple(
                (p, p is current) for p in compiled.phases[: current.index + 1] if p.cap
            ),
            "_not_in_audience": f"not in the audience of any phase up to {current.name!r}",
            "_prefix": compiled.feature + SEPARATOR,
            "_texts": GateTexts.of(current, state, reason),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def current(self) -> CompiledPhase:
        """The current phase as compiled: its audience, guardrails and texts."""
        return self._current

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Policy is immutable; use with_phase/with_status, not .{name}=")

    def __repr__(self) -> str:
        return f"Policy({self.feature!r}, version={self.version!r}, phase={self.phase!r}, " \
            f"status={self.status.value!r})"

    def with_phase(self, phase: str) -> Policy:
        """The same plan and state in another phase (ValueError for an unknown phase)."""
        return Policy(self.compiled, phase, self.status, self.reason)

    def with_status(self, status: RolloutStatus | str, reason: str = "") -> Policy:
        """The same plan and phase with another status (see :class:`RolloutStatus`)."""
        return Policy(self.compiled, self.phase, status, reason)

    def exposure(
        self,
        user: Mapping[str, Any] | User,
        *,
        admitted: AbstractSet[str] = _EMPTY,
        admitted_count: int = 0,
        trace: Trace = None,
    ) -> Exposure:
        """Whether ``user`` is in the rollout now, decided before any model call.

        In order: a rollout that is not serving (draft, ready, paused, killed) exposes
        nobody; an exclusion keeps its units out until its ``until_phase`` (forever
        without one); then the unit is exposed if it is in the audience of the current
        phase *or of any earlier one* (widening never takes the feature away). A
        phase's audience is "member of one of its segments (condition or allow list;
        no segment means everyone) and ``bucket(feature, id) < percent / 100``". A
        phase with an absolute cap (``max_users``) also needs an admission:
        ``admitted`` is the set of units admitted under the caps of this and earlier
        phases, ``admitted_count`` how many the current phase's cap admitted; a new
        unit gets ``admit=True`` while places remain in the current phase (earlier
        phases' caps are closed).

        ``user`` is a mapping whose ``"id"`` is the unit id (or a :class:`User`).
        ``trace``, when a list, receives every rule checked (what :meth:`explain`
        shows); the request path leaves it None.
        """
        try:
            uid = user["id"]  # type: ignore[index]
            attributes: Mapping[str, Any] = user  # type: ignore[assignment]
        except (KeyError, TypeError):
            attributes, uid = _unpack(user)
        if uid.__class__ is not str or not uid or "\x00" in uid:
            uid = _unit_id(uid)
        feature, version, phase = self.feature, self.version, self.phase
        if self._blocked is not None:
            if trace is not None:
                trace.append(RuleResult("exposure", "status", "fail", self._texts.blocked, True))
            return Exposure(False, uid, phase, self._texts.blocked, None, None, False, feature,
                            version)
        if trace is not None:
            self._trace_open(trace)
        for members, reason in self._exclusions:
            if members.contains(attributes, uid):
                if trace is not None:
                    trace.append(RuleResult("exposure", f"exclusion {members.name!r}", "fail",
                                            f"unit is a member: {reason}", True))
                return Exposure(False, uid, phase, reason, None, None, False, feature, version)
            if trace is not None:
                trace.append(RuleResult("exposure", f"exclusion {members.name!r}", "pass",
                                        "unit is not a member"))
        # trustramp.targeting.bucket's documented hash, inlined: it is a third of the
        # cost of the call (argument checks the compiled plan already made).
        try:
            share = mmh3.hash((self._prefix + uid).encode(), 0, False) * _SCALE
        except UnicodeEncodeError:  # mmh3 crashes the process on a lone surrogate
            _bad_text("user[\"id\"]", uid)
        if trace is not None:
            trace.append(RuleResult("exposure", "bucket", "pass",
                                    f"bucket({feature!r}, {uid!r}) = {share:.6f}"))
        for fraction, users, test, name, reason in self._open:
            if share < fraction and (uid in users or test is None or test(attributes)):
                if trace is not None:
                    trace.append(RuleResult("exposure", _entry_name(name, reason), "pass",
                                            f"member and bucket {share:.6f} < {reason}", True))
                return _new(Exposure, (True, uid, phase, reason, name, share, False, feature,
                                       version))
            if trace is not None:
                trace.append(_open_miss(fraction, users, test, name, reason, share, uid,
                                        attributes))
        if self._capped:
            return self._capped_exposure(attributes, uid, share, admitted, admitted_count, trace)
        if trace is not None:
            trace.append(RuleResult("exposure", "audience", "fail", self._not_in_audience, True))
        return _new(Exposure, (False, uid, phase, self._not_in_audience, None, share, False,
                               feature, version))

    def _trace_open(self, trace: list[RuleResult]) -> None:
        status = self.status.value + (f": {self.reason}" if self.reason else "")
        trace.append(RuleResult("exposure", "status", "pass", f"rollout is {status}"))
        trace.extend(RuleResult("exposure", f"exclusion {name!r}", "skip",
                                f"lifted from phase {until!r}") for name, until in self._lifted)

    def _capped_exposure(
        self,
        attributes: Mapping[str, Any],
        uid: str,
        share: float,
        admitted: AbstractSet[str],
        admitted_count: int,
        trace: Trace,
    ) -> Exposure:
        reason = self._not_in_audience
        for phase, current in self._capped:
            where = f"cap of phase {phase.name!r}"
            if share >= phase.fraction:
                if trace is not None:
                    trace.append(RuleResult("exposure", where, "fail",
                                            f"bucket {share:.6f} >= {phase.percent:g}%"))
                continue
            member = next((m for m in phase.segments if m.contains(attributes, uid)), None)
            if member is None:
                if trace is not None:
                    trace.append(RuleResult("exposure", where, "fail",
                                            "not a member of its segments"))
                continue
            cap = phase.cap or 0
            if uid in admitted:
                reason = f"admitted under the cap of {cap} units of phase {phase.name!r}"
                if trace is not None:
                    trace.append(RuleResult("exposure", where, "pass", reason, True))
                return Exposure(True, uid, self.phase, reason, member.name, share, False,
                                self.feature, self.version)
            if current and admitted_count < cap:
                reason = (f"admitted under the cap of phase {phase.name!r} "
                          f"(place {admitted_count + 1} of {cap})")
                if trace is not None:
                    trace.append(RuleResult("exposure", where, "pass", reason, True))
                return Exposure(True, uid, self.phase, reason, member.name, share, True,
                                self.feature, self.version)
            reason = f"the cap of {cap} units of phase {phase.name!r} is full"
            if trace is not None:
                closed = reason if current else f"member, but the cap of {cap} closed with " \
                    "its phase"
                trace.append(RuleResult("exposure", where, "fail", closed))
        if trace is not None:
            trace.append(RuleResult("exposure", "audience", "fail", reason, True))
        return Exposure(False, uid, self.phase, reason, None, share, False, self.feature,
                        self.version)

    def gate(
        self,
        exposure: Exposure,
        confidence: float | None,
        input: Mapping[str, Any] | None = None,
        *,
        decision_id: str | None = None,
        usage: Usage | None = None,
        trace: Trace = None,
    ) -> Decision:
        """What the user sees for one model answer; the first rule that applies decides.

        1. rollout not serving (draft, ready, paused, killed): ``fallback``, ``paused``
           or ``killed`` (the fallback in every case);
        2. unit not exposed: ``fallback`` (no model call should have happened);
        3. ``input`` fails the phase's task filter: ``fallback``;
        4. a rate limit reached per ``usage`` (counts before this request):
           ``rate_limited`` (the fallback); without ``usage`` limits are not checked;
        5. confidence below the phase's threshold: the configured ``fallback`` or
           ``ask_user`` (with the question); ``show_flagged`` goes on to rule 6;
        6. review sampled (``hash(decision_id) < rate``, see
           :mod:`trustramp.decide.sampling`): ``hold_for_review`` with what the
           user sees meanwhile: every answer a user could see is reviewable, so a
           flagged answer is sampled too;
        7. otherwise ``show`` (or ``show_flagged``) with the phase's label.

        ``confidence`` must be a number in [0, 1]; None is allowed only when rule 1
        or 2 decides (no model answer). A missing ``decision_id`` is drawn fresh;
        pass the logged one to replay a decision. ``trace`` as in :meth:`exposure`.
        """
        if confidence is not None:
            confidence = _checked_confidence(confidence)
        if exposure.__class__ is not Exposure:
            _bad_exposure(exposure)
        if exposure.feature != self.feature:
            raise InvalidInputError(f"exposure is for feature {exposure.feature!r}, "
                                    f"this policy for {self.feature!r}")
        did = new_event_id() if decision_id is None else _checked_decision_id(decision_id)
        ph, t = self._current, self._texts
        uid, feature, version = exposure.unit_id, self.feature, self.version
        if self._blocked is not None:
            if trace is not None:
                trace.append(RuleResult("gate", "status", "fail", t.blocked, True))
            return _new(Decision, (self._blocked, t.blocked, ph.name, None, did, uid, confidence,
                                   ph.threshold, False, None, None, feature, version))
        if not exposure.exposed:
            if trace is not None:
                trace.append(RuleResult("gate", "status", "pass", "rollout is serving"))
                trace.append(RuleResult("gate", "exposure", "fail",
                                        "unit not exposed: fallback", True))
            return _new(Decision, (_FALLBACK, exposure.reason, ph.name, None, did, uid,
                                   confidence, ph.threshold, False, None, None, feature,
                                   version))
        if confidence is None:
            raise InvalidInputError(f"confidence is required for exposed unit {uid!r}: "
                                    "pass the model's confidence in [0, 1]")
        if trace is not None:
            trace_gate_start(trace, ph)
        action, reason, message = _SHOW, t.show, None
        if ph.task_filter is not None and not ph.task_filter(_input_attributes(input)):
            action, reason = _FALLBACK, t.task
        elif usage is not None and (limited := _rate_limited(ph, usage)):
            action, reason = _RATE_LIMITED, limited
        elif ph.threshold is not None and confidence < ph.threshold:
            action, reason = t.below_action, t.below
            message = t.below_message
        if trace is not None:
            trace_gate_guards(trace, ph, input, usage, confidence, action)
        if action is _SHOW or action is _SHOW_FLAGGED:
            cut = ph.review_cut
            if cut and (cut > _LAST_HASH or review_hash(did) < cut):
                if trace is not None:
                    trace.append(review_rule(ph, did, True))
                return _new(Decision, (_HOLD_FOR_REVIEW,
                                       t.review_flagged if message else t.review, ph.name,
                                       ph.label, did, uid, confidence, ph.threshold, True,
                                       t.pending, ph.while_pending, feature, version))
            if trace is not None:
                trace_gate_result(trace, ph, did, action, reason)
            return _new(Decision, (action, reason, ph.name, ph.label, did, uid, confidence,
                                   ph.threshold, False, message, None, feature, version))
        return _new(Decision, (action, reason, ph.name, None, did, uid, confidence, ph.threshold,
                               False, message, None, feature, version))

    def explain(
        self,
        user: Mapping[str, Any] | User,
        confidence: float | None,
        input: Mapping[str, Any] | None = None,
        *,
        admitted: AbstractSet[str] = _EMPTY,
        admitted_count: int = 0,
        usage: Usage | None = None,
        decision_id: str | None = None,
    ) -> Explanation:
        """The exposure, the decision and every rule checked on the way, in order.

        The same code as :meth:`exposure` + :meth:`gate`, run with a trace: slower
        (it records each rule), for people, the CLI and tests, not the request path.
        """
        rules: list[RuleResult] = []
        exposure = self.exposure(user, admitted=admitted, admitted_count=admitted_count,
                                 trace=rules)
        decision = self.gate(exposure, confidence, input, decision_id=decision_id,
                             usage=usage, trace=rules)
        return Explanation(exposure, decision, tuple(rules))


def _entry_name(segment: str, reason: str) -> str:
    return "everyone" if segment == EVERYONE else f"segment {segment!r}"


def _open_miss(fraction: float, users: frozenset[str], test: Any, name: str, reason: str,
               share: float, uid: str, attributes: Mapping[str, Any]) -> RuleResult:
    # Only for the trace: why the entry the fast path just tested did not admit the unit.
    member = uid in users or test is None or bool(test(attributes))
    detail = (f"member, but bucket {share:.6f} >= {fraction * 100:g}%" if member
              else "not a member (condition and allow list)")
    return RuleResult("exposure", _entry_name(name, reason), "fail", detail + f" ({reason})")


def _rate_limited(phase: CompiledPhase, usage: Usage) -> str | None:
    per_user, per_feature = phase.per_user_per_hour, phase.per_feature_per_minute
    if per_user is not None and usage.user_last_hour >= per_user:
        return f"rate limit of {per_user} answers per user per hour reached"
    if per_feature is not None and usage.feature_last_minute >= per_feature:
        return f"rate limit of {per_feature} answers per minute for the feature reached"
    return None


def _input_attributes(input: object) -> Mapping[str, Any]:
    if input is None:
        return _NO_INPUT
    if not isinstance(input, Mapping):
        raise WrongTypeError(f"input must be a mapping of input attributes (e.g. "
                             f"{{'task': 'summarize'}}) or None, got {type(input).__name__}")
    return input


def _bad_text(name: str, value: str) -> NoReturn:
    raise InvalidInputError(f"{name} must be valid Unicode text, got {value!r} (a lone "
                            "surrogate, e.g. from an invalid byte or an escaped half of a "
                            "character in JSON)")


def _checked_decision_id(decision_id: object) -> str:
    if not isinstance(decision_id, str):
        raise WrongTypeError(f"decision_id must be a string, got {type(decision_id).__name__} "
                             f"{decision_id!r}")
    if not decision_id or "\x00" in decision_id:
        raise InvalidInputError(f"decision_id must be a non-empty string without NUL, got "
                                f"{decision_id!r}")
    try:
        decision_id.encode()
    except UnicodeEncodeError:  # the review hash would crash the process
        _bad_text("decision_id", decision_id)
    return decision_id


def _checked_confidence(confidence: object) -> float:
    # bool is an int: True would pass as a confidence of 1.0, hiding a caller's bug.
    if confidence.__class__ is not float and (
        isinstance(confidence, bool) or not isinstance(confidence, Real)
    ):
        raise WrongTypeError(f"confidence must be a number in [0, 1] (the model's), got "
                             f"{type(confidence).__name__} {confidence!r}")
    value = float(confidence)
    if not 0.0 <= value <= 1.0:  # also False for NaN
        raise InvalidInputError(f"confidence must be a number in [0, 1] (the model's), got "
                                f"{confidence!r}")
    return value


def _bad_exposure(exposure: object) -> NoReturn:
    raise WrongTypeError(f"exposure must be the Exposure that exposure() returned, got "
                         f"{type(exposure).__name__} {exposure!r}")


def _unpack(user: object) -> tuple[Mapping[str, Any], Any]:
    if isinstance(user, User):
        return user.as_attributes(), user.id
    if isinstance(user, Mapping):
        raise InvalidInputError('user has no "id": pass the unit id as user["id"] (a '
                                'non-empty string)')
    raise WrongTypeError(f"user must be a mapping of attributes or a User, got "
                         f"{type(user).__name__}")


def _unit_id(uid: object) -> str:
    if not isinstance(uid, str):
        # An int id silently turned into text would match nothing that stores "5" as 5
        # and collide with the string "5": the caller decides how ids are spelled.
        raise WrongTypeError(f'user["id"] must be a string (the unit id), got '
                             f"{type(uid).__name__} {uid!r}; pass str(...) if your ids are "
                             "numbers")
    if not uid or "\x00" in uid:
        raise InvalidInputError(f'user["id"] must be a non-empty string without NUL (the '
                                f"unit id), got {uid!r}")
    return uid
