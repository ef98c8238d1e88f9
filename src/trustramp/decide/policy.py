"""The policy: one immutable snapshot of a plan, a phase and a state, and the decision path.

``exposure`` and ``gate`` are pure functions of the snapshot and their arguments:
no I/O, no clock, nothing shared is mutated (the only exception is the decision
id counter, when the caller lets the gate draw an id). The embedded client, the
remote SDK and the server all call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any, NoReturn

import mmh3

from trustramp.decide.compiled import CompiledPhase, CompiledPlan, Members
from trustramp.decide.explain import Explanation, explain
from trustramp.decide.records import Action, Decision, Exposure, Status, Usage, User
from trustramp.decide.sampling import review_hash
from trustramp.decide.snapshot import GateTexts, OpenEntry, active_exclusions, open_audience
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
    status: Status
    reason: str
    _current: CompiledPhase
    _blocked: Action | None
    _exclusions: tuple[tuple[Members, str], ...]
    _open: tuple[OpenEntry, ...]
    _capped: tuple[tuple[CompiledPhase, bool], ...]
    _not_in_audience: str
    _prefix: str
    _texts: GateTexts

    def __init__(
        self, compiled: CompiledPlan, phase: str, status: Status | str, reason: str = ""
    ) -> None:
        try:
            state = Status(status)
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise ValueError(f"status must be one of {allowed}, got {status!r}") from None
        current = compiled.phases[compiled.index_of(phase)]
        values: dict[str, Any] = {
            "compiled": compiled,
            "feature": compiled.feature,
            "version": compiled.version,
            "phase": current.name,
            "status": state,
            "reason": reason,
            "_current": current,
            "_blocked": None if state is Status.ACTIVE else Action(state.value),
            "_exclusions": active_exclusions(compiled, current),
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

    def with_status(self, status: Status | str, reason: str = "") -> Policy:
        """The same plan and phase with another status (active, paused, killed)."""
        return Policy(self.compiled, self.phase, status, reason)

    def exposure(
        self,
        user: Mapping[str, Any] | User,
        *,
        admitted: AbstractSet[str] = _EMPTY,
        admitted_count: int = 0,
    ) -> Exposure:
        """Whether ``user`` is in the rollout now, decided before any model call.

        In order: a paused or killed rollout exposes nobody; an exclusion keeps its
        units out until its ``until_phase`` (forever without one); then the unit
        is exposed if it is in the audience of the current phase *or of any
        earlier one* (widening never takes the feature away). A phase's audience
        is "member of one of its segments (condition or allow list; no segment
        means everyone) and ``bucket(feature, id) < percent / 100``". A phase with
        an absolute cap (``max_users``) also needs an admission: ``admitted`` is
        the set of units admitted under the caps of this and earlier phases,
        ``admitted_count`` how many the current phase's cap admitted; a new unit
        gets ``admit=True`` while places remain in the current phase (earlier
        phases' caps are closed).

        ``user`` is a mapping whose ``"id"`` is the unit id (or a :class:`User`).
        """
        try:
            uid = user["id"]  # type: ignore[index]
            attributes: Mapping[str, Any] = user  # type: ignore[assignment]
        except (KeyError, TypeError):
            attributes, uid = _unpack(user)
        if uid.__class__ is not str or not uid:
            uid = _unit_id(uid)
        feature, version, phase = self.feature, self.version, self.phase
        if self._blocked is not None:
            return Exposure(False, uid, phase, self._texts.blocked, None, None, False, feature,
                            version)
        for members, reason in self._exclusions:
            if members.contains(attributes, uid):
                return Exposure(False, uid, phase, reason, None, None, False, feature, version)
        # trustramp.targeting.bucket's documented hash, inlined: it is a third of the
        # cost of the call (argument checks the compiled plan already made).
        try:
            share = mmh3.hash((self._prefix + uid).encode(), 0, False) * _SCALE
        except UnicodeEncodeError:  # mmh3 crashes the process on a lone surrogate
            _bad_text("user[\"id\"]", uid)
        for fraction, users, test, name, reason in self._open:
            if share < fraction and (uid in users or test is None or test(attributes)):
                return _new(Exposure, (True, uid, phase, reason, name, share, False, feature,
                                       version))
        if self._capped:
            return self._capped_exposure(attributes, uid, share, admitted, admitted_count)
        return _new(Exposure, (False, uid, phase, self._not_in_audience, None, share, False,
                               feature, version))

    def _capped_exposure(
        self,
        attributes: Mapping[str, Any],
        uid: str,
        share: float,
        admitted: AbstractSet[str],
        admitted_count: int,
    ) -> Exposure:
        reason = self._not_in_audience
        for phase, current in self._capped:
            if share >= phase.fraction:
                continue
            member = next((m for m in phase.segments if m.contains(attributes, uid)), None)
            if member is None:
                continue
            cap = phase.cap or 0
            if uid in admitted:
                reason = f"admitted under the cap of {cap} units of phase {phase.name!r}"
                return Exposure(True, uid, self.phase, reason, member.name, share, False,
                                self.feature, self.version)
            if current and admitted_count < cap:
                reason = (f"admitted under the cap of phase {phase.name!r} "
                          f"(place {admitted_count + 1} of {cap})")
                return Exposure(True, uid, self.phase, reason, member.name, share, True,
                                self.feature, self.version)
            reason = f"the cap of {cap} units of phase {phase.name!r} is full"
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
    ) -> Decision:
        """What the user sees for one model answer; the first rule that applies decides.

        1. rollout paused or killed: ``paused`` / ``killed`` (the fallback);
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

        ``confidence`` must be in [0, 1]; None is allowed only when rule 1 or 2
        decides (no model answer). A missing ``decision_id`` is drawn fresh; pass
        the logged one to replay a decision.
        """
        if confidence is not None:
            try:
                if not 0.0 <= confidence <= 1.0:  # also False for NaN
                    _bad_confidence(confidence)
            except TypeError:
                _bad_confidence(confidence)
        if exposure.feature != self.feature:
            raise ValueError(f"exposure is for feature {exposure.feature!r}, "
                             f"this policy for {self.feature!r}")
        did = new_event_id() if decision_id is None else _checked_decision_id(decision_id)
        ph, t = self._current, self._texts
        uid, feature, version = exposure.unit_id, self.feature, self.version
        if self._blocked is not None:
            return _new(Decision, (self._blocked, t.blocked, ph.name, None, did, uid, confidence,
                                   ph.threshold, False, None, None, feature, version))
        if not exposure.exposed:
            return _new(Decision, (_FALLBACK, exposure.reason, ph.name, None, did, uid,
                                   confidence, ph.threshold, False, None, None, feature,
                                   version))
        if confidence is None:
            raise ValueError(f"confidence is required for exposed unit {uid!r}: "
                             "pass the model's confidence in [0, 1]")
        action, reason, message = _SHOW, t.show, None
        if ph.task_filter is not None and not ph.task_filter(_input_attributes(input)):
            action, reason = _FALLBACK, t.task
        elif usage is not None and (limited := _rate_limited(ph, usage)):
            action, reason = _RATE_LIMITED, limited
        elif ph.threshold is not None and confidence < ph.threshold:
            action, reason = t.below_action, t.below
            message = t.below_message
        if action is _SHOW or action is _SHOW_FLAGGED:
            cut = ph.review_cut
            if cut and (cut > _LAST_HASH or review_hash(did) < cut):
                return _new(Decision, (_HOLD_FOR_REVIEW,
                                       t.review_flagged if message else t.review, ph.name,
                                       ph.label, did, uid, confidence, ph.threshold, True,
                                       t.pending, ph.while_pending, feature, version))
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

        Slower than :meth:`exposure` + :meth:`gate` (it builds the trace); for
        people, the CLI and tests, not the request path.
        """
        return explain(self, user, confidence, input, admitted=admitted,
                       admitted_count=admitted_count, usage=usage, decision_id=decision_id)


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
        raise ValueError(f"input must be a mapping of input attributes (e.g. "
                         f"{{'task': 'summarize'}}) or None, got {type(input).__name__}")
    return input


def _bad_text(name: str, value: str) -> NoReturn:
    raise ValueError(f"{name} must be valid Unicode text, got {value!r} (a lone surrogate, "
                     "e.g. from an invalid byte or an escaped half of a character in JSON)")


def _checked_decision_id(decision_id: object) -> str:
    if not isinstance(decision_id, str) or not decision_id:
        raise ValueError(f"decision_id must be a non-empty string, got {decision_id!r}")
    try:
        decision_id.encode()
    except UnicodeEncodeError:  # the review hash would crash the process
        _bad_text("decision_id", decision_id)
    return decision_id


def _bad_confidence(confidence: object) -> NoReturn:
    raise ValueError(f"confidence must be a number in [0, 1] (the model's), got {confidence!r}")


def _unpack(user: object) -> tuple[Mapping[str, Any], Any]:
    if isinstance(user, User):
        return user.as_attributes(), user.id
    if isinstance(user, Mapping):
        raise ValueError('user has no "id": pass the unit id as user["id"] (a non-empty string)')
    raise ValueError(f"user must be a mapping of attributes or a User, got {type(user).__name__}")


def _unit_id(uid: object) -> str:
    if isinstance(uid, int) and not isinstance(uid, bool):
        return str(uid)
    if isinstance(uid, str) and uid:
        return uid
    raise ValueError(f'user["id"] must be a non-empty string (the unit id), got {uid!r}')
