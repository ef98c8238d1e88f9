"""The controller: every change of a rollout's state, one locked store transaction each.

Each method opens :meth:`StateStore.state_transaction` for the feature, reads the
state after the lock is taken, applies a rule of
:mod:`trustramp.controller.transitions`, and writes the new state and its audit
entry (who, what, why, when, plan version, evidence) in that same transaction. A
refused change raises :class:`~trustramp.errors.TransitionRefusedError`; a change
that would change nothing returns a :class:`Change` with ``changed=False`` and
writes nothing.

Example:
    >>> from trustramp.store import open_store
    >>> from trustramp.plan import parse_plan
    >>> text = '''
    ... feature: {key: demo, stakes: low, fallback: none}
    ... segments: {staff: {condition: {staff: true}, why_forgiving: they built it}}
    ... phases:
    ...   - name: all
    ...     audience: {segments: [staff]}
    ...     guardrails: {confidence: {threshold: 0.9}}
    ...     stop: [{metric: accuracy, floor: 0.8, action: pause, min_samples: 50}]
    ... '''
    >>> controller = Controller(open_store("sqlite://"))
    >>> controller.register(parse_plan(text), text, actor="ana").after.status.value
    'draft'
    >>> controller.start("demo", actor="ana", reason="go").after.status.value
    'running'
    >>> controller.kill("demo", actor="ana", reason="wrong tickers").after.status.value
    'killed'
    >>> controller.kill("demo", actor="bob", reason="again").changed
    False
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from trustramp.controller import transitions as rules
from trustramp.controller.readiness_gate import start_blockers
from trustramp.controller.transitions import CONTROLLER, Transition
from trustramp.decide.compiled import plan_version
from trustramp.errors import (
    InvalidInputError,
    NotFoundError,
    TransitionRefusedError,
    UnchangedError,
)
from trustramp.events import utc_now
from trustramp.plan import parse_plan
from trustramp.plan.schema import Plan
from trustramp.readiness.fingerprint import checklist_fingerprint
from trustramp.store.protocol import PlanStore, StateStore, StateTransaction
from trustramp.store.records import (
    AuditRecord,
    FeatureState,
    PlanRecord,
    ReadinessRecord,
    Signature,
)
from trustramp.vocabulary import RolloutStatus

Evidence = dict[str, Any]


class ControllerStore(StateStore, PlanStore, Protocol):
    """What the controller needs of a store: states and audit, plans and sign-offs."""


@dataclass(frozen=True, slots=True)
class Change:
    """What one request did: the state before and after, and the audit entry written.

    ``changed`` is False when the request changed nothing (``message`` says why);
    nothing was written then.
    """

    feature: str
    transition: Transition
    before: FeatureState | None
    after: FeatureState
    changed: bool
    message: str
    audit: AuditRecord | None = None


class Controller:
    """Applies state changes to rollouts in ``store``; see the module docstring.

    ``clock`` gives the time written into states and audit entries (a simulation
    passes its simulated clock).
    """

    def __init__(self, store: ControllerStore,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._plans: dict[tuple[str, str], Plan] = {}

    # ------------------------------------------------------------------ plans

    def plan(self, feature: str, version: str | None = None) -> Plan:
        """The stored plan ``version`` of ``feature`` (default: the one its state runs)."""
        if version is None:
            state = self.store.get_state(feature)
            if state is None:
                raise NotFoundError(f"no plan registered for feature {feature!r}: run "
                                    "`trustramp start PLAN` or open a Rollout on it")
            version = state.plan_version
        key = (feature, version)
        if key not in self._plans:
            record = self.store.plan(feature, version)
            if record is None:
                raise NotFoundError(f"plan version {version} of {feature!r} is not stored")
            self._plans[key] = parse_plan(record.text, f"<stored plan {feature} {version}>")
        return self._plans[key]

    def register(self, plan: Plan, text: str, *, actor: str) -> Change:
        """Store a plan version; the first one creates the feature's state in ``draft``.

        A new version replaces the draft's (voiding signatures made against another
        checklist); a rollout that already started keeps running its version until
        ``start`` applies the new one.
        """
        feature, version = plan.feature.key, plan_version(plan)
        fingerprint = checklist_fingerprint(plan)
        now = self.clock()
        record = PlanRecord(feature, version, plan.revision, text, fingerprint, actor, now)
        with self._transaction(feature) as tx:
            stored = tx.add_plan(record)
            self._plans[(feature, version)] = plan
            before = tx.before
            if before is None:
                after = FeatureState(feature, version, plan.phases[0].name, updated_at=now,
                                     version=1, changed_by=actor)
                return self._write(tx, Transition.REGISTER, None, after, actor,
                                   f"plan version {version} registered", {"plan": version})
            if before.plan_version == version:
                if stored:  # a state written before plans were stored: keep the text now
                    return Change(feature, Transition.REGISTER, before, before, False,
                                  f"plan version {version} stored")
                return Change(feature, Transition.REGISTER, before, before, False,
                              f"plan version {version} is already registered")
            if before.status.started:
                return self._write(
                    tx, Transition.REGISTER, before, before, actor,
                    f"plan version {version} stored; the rollout runs {before.plan_version} "
                    "until `trustramp start` applies the new one", {"plan": version},
                )
            after = replace(before, plan_version=version, phase=plan.phases[0].name,
                            updated_at=now, version=before.version + 1, changed_by=actor,
                            status=RolloutStatus.DRAFT)
            voided = tx.void_signatures(fingerprint, f"the checklist changed in plan version "
                                        f"{version}", now)
            change = self._write(tx, Transition.REGISTER, before, after, actor,
                                 f"plan version {version} replaces {before.plan_version}"
                                 + (f"; {voided} signature(s) voided" if voided else ""),
                                 {"plan": version, "voided_signatures": voided})
            return self._settle_readiness(tx, change, plan, version, actor)

    # ------------------------------------------------------------ transitions

    def start(self, feature: str, *, actor: str, reason: str = "",
              plan_version: str | None = None) -> Change:
        """draft/ready -> running(first phase), refused while anything blocks the start.

        On a rollout that already started, ``plan_version`` (a registered version
        other than the running one) is applied instead: same checks, same phase.
        """
        with self._transaction(feature) as tx:
            before = self._existing(tx, feature, Transition.START)
            version = plan_version or before.plan_version
            plan = self._stored(tx, feature, version, Transition.START)
            blockers = start_blockers(plan, tx)
            if before.status.started and version != before.plan_version:
                return self._apply(tx, before, plan, version, blockers, actor, reason)
            if version != before.plan_version:
                raise TransitionRefusedError(Transition.START.value, f"plan version {version} "
                                             "is not the registered draft; register it first")
            if blockers:
                raise TransitionRefusedError(
                    Transition.START.value, f"{feature!r} is not ready to start", blockers)
            after = rules.start(before, plan.phases[0].name, now=self.clock(), actor=actor,
                                reason=reason)
            return self._write(tx, Transition.START, before, after, actor, reason,
                               {"checks": "lint clean, checklist passed, every role signed"})

    def _apply(self, tx: StateTransaction, before: FeatureState, plan: Plan, version: str,
               blockers: tuple[str, ...], actor: str, reason: str) -> Change:
        if blockers:
            raise TransitionRefusedError(
                Transition.APPLY.value, f"plan version {version} cannot replace the running "
                f"{before.plan_version}", blockers)
        phases = tuple(phase.name for phase in plan.phases)
        if before.phase not in phases:
            raise TransitionRefusedError(
                Transition.APPLY.value, f"plan version {version} has no phase "
                f"{before.phase!r}, where the rollout is; keep the phase names")
        after = replace(before, plan_version=version, updated_at=self.clock(),
                        version=before.version + 1, changed_by=actor, reason=reason)
        return self._write(tx, Transition.APPLY, before, after, actor, reason,
                           {"from": before.plan_version, "to": version})

    def promote(self, feature: str, *, actor: str, reason: str = "",
                evidence: Evidence | None = None) -> Change:
        """running(k) -> running(k + 1)."""
        return self._phase_change(feature, Transition.PROMOTE, actor, reason, evidence,
                                  lambda b, p: rules.promote(b, p, now=self.clock(),
                                                             actor=actor, reason=reason))

    def complete(self, feature: str, *, actor: str, reason: str = "",
                 evidence: Evidence | None = None) -> Change:
        """running(last phase) -> complete."""
        return self._phase_change(feature, Transition.COMPLETE, actor, reason, evidence,
                                  lambda b, p: rules.complete(b, p, now=self.clock(),
                                                              actor=actor, reason=reason))

    def rollback(self, feature: str, *, actor: str, reason: str = "", to_phase: str | None = None,
                 evidence: Evidence | None = None) -> Change:
        """Back to an earlier phase (default: the previous one); a pause or kill stays."""
        return self._phase_change(feature, Transition.ROLLBACK, actor, reason, evidence,
                                  lambda b, p: rules.rollback(b, p, to_phase, now=self.clock(),
                                                              actor=actor, reason=reason))

    def pause(self, feature: str, *, actor: str, reason: str,
              evidence: Evidence | None = None) -> Change:
        """Everyone gets the fallback until a person resumes."""
        return self._status_change(feature, Transition.PAUSE, actor, reason, evidence,
                                   rules.pause)

    def kill(self, feature: str, *, actor: str, reason: str,
             evidence: Evidence | None = None) -> Change:
        """The kill switch: everyone gets the fallback; only ``resume`` undoes it."""
        return self._status_change(feature, Transition.KILL, actor, reason, evidence,
                                   rules.kill)

    def resume(self, feature: str, *, actor: str, reason: str) -> Change:
        """Back to serving after a pause or a kill: a person, with a written reason."""
        return self._status_change(feature, Transition.RESUME, actor, reason, None,
                                   rules.resume)

    # ------------------------------------------------------- readiness, sign-off

    def sign(self, feature: str, *, plan_version: str, role: str, name: str,
             actor: str) -> Change:
        """Record that ``name`` signed the checklist of ``plan_version`` as ``role``."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError("sign needs the signer's name (--name)")
        with self._transaction(feature) as tx:
            before = self._existing(tx, feature, Transition.SIGN)
            plan = self._stored(tx, feature, plan_version, Transition.SIGN)
            roles = plan.readiness.sign_off if plan.readiness else ()
            if role not in roles:
                listed = ", ".join(roles) or "none"
                raise TransitionRefusedError("sign", f"role {role!r} is not among the sign-off "
                                             f"roles of plan version {plan_version} ({listed})")
            fingerprint = checklist_fingerprint(plan)
            if any(s.valid and s.role == role and s.name == name.strip()
                   and s.fingerprint == fingerprint for s in tx.signatures()):
                return Change(feature, Transition.SIGN, before, before, False,
                              f"{name.strip()} already signed as {role} against this checklist")
            signature = Signature(feature, role, name.strip(), fingerprint, plan_version,
                                  ts=self.clock())
            tx.add_signature(signature)
            record = AuditRecord(
                feature, actor=actor, action=Transition.SIGN.value,
                reason=f"{name.strip()} signed as {role}", before=before.to_json(),
                after=before.to_json(), ts=self.clock(), plan_version=plan_version,
                evidence={"role": role, "name": name.strip(), "fingerprint": fingerprint})
            tx.append_audit(record)
            signed = Change(feature, Transition.SIGN, before, before, True, record.reason, record)
            return self._settle_readiness(tx, signed, plan, plan_version, actor)

    def record_readiness(self, feature: str, *, plan_version: str, report: dict[str, Any],
                         passed: bool, actor: str) -> Change:
        """Store a readiness evaluation of ``plan_version``'s checklist."""
        with self._transaction(feature) as tx:
            before = self._existing(tx, feature, Transition.READINESS)
            plan = self._stored(tx, feature, plan_version, Transition.READINESS)
            fingerprint = checklist_fingerprint(plan)
            if report.get("fingerprint", fingerprint) != fingerprint:
                raise TransitionRefusedError("readiness", "the report was made for another "
                                             "checklist than plan version " + plan_version)
            tx.add_readiness(ReadinessRecord(feature, plan_version, fingerprint, passed, report,
                                             ts=self.clock()))
            verdict = "passed" if passed else "failed"
            record = AuditRecord(
                feature, actor=actor, action=Transition.READINESS.value,
                reason=f"readiness checklist {verdict}", before=before.to_json(),
                after=before.to_json(), ts=self.clock(), plan_version=plan_version,
                evidence={"passed": passed, "fingerprint": fingerprint,
                          "missing": list(report.get("missing", []))})
            tx.append_audit(record)
            recorded = Change(feature, Transition.READINESS, before, before, True, record.reason,
                              record)
            return self._settle_readiness(tx, recorded, plan, plan_version, actor)

    def blockers(self, feature: str) -> tuple[str, ...]:
        """What keeps the registered plan of ``feature`` from starting now."""
        with self._transaction(feature) as tx:
            before = self._existing(tx, feature, Transition.START)
            return start_blockers(self._stored(tx, feature, before.plan_version,
                                               Transition.START), tx)

    # ---------------------------------------------------------------- plumbing

    @contextmanager
    def _transaction(self, feature: str) -> Iterator[StateTransaction]:
        if not isinstance(feature, str) or not feature:
            raise InvalidInputError(f"feature must be a non-empty feature key, got {feature!r}")
        with self.store.state_transaction(feature) as tx:
            yield tx

    def _existing(self, tx: StateTransaction, feature: str, transition: Transition
                  ) -> FeatureState:
        if tx.before is None:
            raise NotFoundError(f"{transition.value}: no rollout of {feature!r} is registered; "
                                "`trustramp start PLAN` registers and starts one")
        return tx.before

    def _stored(self, tx: StateTransaction, feature: str, version: str,
                transition: Transition) -> Plan:
        key = (feature, version)
        if key not in self._plans:
            record = tx.plan(version)
            if record is None:
                raise NotFoundError(f"{transition.value}: plan version {version} of "
                                    f"{feature!r} is not stored")
            self._plans[key] = parse_plan(record.text, f"<stored plan {feature} {version}>")
        return self._plans[key]

    def _phase_change(
        self, feature: str, transition: Transition, actor: str, reason: str,
        evidence: Evidence | None,
        rule: Callable[[FeatureState, tuple[str, ...]], FeatureState],
    ) -> Change:
        with self._transaction(feature) as tx:
            before = self._existing(tx, feature, transition)
            plan = self._stored(tx, feature, before.plan_version, transition)
            after = rule(before, tuple(phase.name for phase in plan.phases))
            return self._write(tx, transition, before, after, actor, reason, evidence)

    def _status_change(
        self, feature: str, transition: Transition, actor: str, reason: str,
        evidence: Evidence | None, rule: Callable[..., FeatureState],
    ) -> Change:
        _require_reason(transition, reason)
        with self._transaction(feature) as tx:
            before = self._existing(tx, feature, transition)
            try:
                after = rule(before, now=self.clock(), actor=actor, reason=reason)
            except UnchangedError as unchanged:
                return Change(feature, transition, before, before, False, unchanged.why)
            return self._write(tx, transition, before, after, actor, reason, evidence)

    def _settle_readiness(self, tx: StateTransaction, done: Change, plan: Plan,
                          version: str, actor: str) -> Change:
        """After ``done``: draft -> ready when nothing blocks the start any more, ready ->
        draft when something does again. Returns the state change, else ``done``."""
        state = done.after
        if version != state.plan_version or state.status.started:
            return done
        blocked = bool(start_blockers(plan, tx))
        if state.status is RolloutStatus.DRAFT and not blocked:
            after = rules.ready(state, now=self.clock(), actor=actor, reason=done.message)
            return self._write(tx, Transition.READY, state, after, actor,
                               "readiness checklist passed and every role signed", None)
        if state.status is RolloutStatus.READY and blocked:
            after = rules.unready(state, now=self.clock(), actor=actor, reason=done.message)
            return self._write(tx, Transition.UNREADY, state, after, actor,
                               "the checklist no longer passes or lacks a sign-off", None)
        return done

    def _write(self, tx: StateTransaction, transition: Transition, before: FeatureState | None,
               after: FeatureState, actor: str, reason: str, evidence: Evidence | None
               ) -> Change:
        tx.set_state(after)
        record = AuditRecord.of_change(before, after, actor=actor, action=transition.value,
                                       reason=reason, evidence=evidence, ts=self.clock())
        tx.append_audit(record)
        return Change(after.feature, transition, before, after, True, reason, record)


def _require_reason(transition: Transition, reason: object) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInputError(f"{transition.value} needs a reason (who decided and why), "
                                f"got {reason!r}")


__all__ = ["CONTROLLER", "Change", "Controller", "ControllerStore"]
