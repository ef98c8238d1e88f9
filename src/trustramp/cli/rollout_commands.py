"""The controller's verbs: ``start``, ``promote``, ``pause``, ``resume``, ``kill``, ``rollback``,
``complete``, ``sign``, and the views ``status`` and ``audit``.

Each change goes through :class:`trustramp.controller.Controller`, which writes the
state and its audit entry in one transaction. Exit codes: 0 when the change was made
or there was nothing to change (the line says which); 1 when the controller refused
it (the lines say why and what is missing); 2 for an unusable request (bad plan,
unknown feature, unreachable database).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from trustramp.cli.app import app, fail
from trustramp.cli.health_view import current_health, print_health
from trustramp.cli.store_access import (
    DatabaseOption,
    JsonOption,
    controller_errors,
    opened_controller,
    opened_store,
)
from trustramp.controller import Change, Controller
from trustramp.decide import plan_version
from trustramp.events import utc_now
from trustramp.plan import Plan, PlanError, load_plan_file
from trustramp.readiness import checklist_fingerprint
from trustramp.store import Store

__all__ = ["app"]

FeatureArgument = Annotated[str, typer.Argument(help="The feature key.", show_default=False)]
PlanArgument = Annotated[Path, typer.Argument(help="The plan file (YAML).", show_default=False)]
RequiredReason = Annotated[str, typer.Option("--reason", help="Who decided and why (required).",
                                             show_default=False)]
OptionalReason = Annotated[str, typer.Option("--reason", help="Who decided and why.")]
ActorOption = Annotated[str | None, typer.Option(
    "--actor", help="Who you are, for the audit log (default: $USER).", show_default=False)]


def _actor(actor: str | None) -> str:
    import getpass

    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def load_plan_or_exit(path: Path) -> tuple[Plan, str]:
    """The plan and its text, or its positioned problems on stderr and exit 2."""
    try:
        plan = load_plan_file(path)
        text = path.read_text(encoding="utf-8")
    except PlanError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        fail(f"{path}: the plan is not valid", 2)
    return plan, text


def report(change: Change) -> None:
    """One line for the change, or for why nothing changed."""
    after = change.after
    if not change.changed:
        typer.echo(f"unchanged: {change.message}")
        return
    typer.echo(f"{change.transition.value}: {after.feature} is {after.status.value} in phase "
               f"{after.phase!r} (plan {after.plan_version}, state version {after.version})")


@app.command()
def start(plan: PlanArgument, database: DatabaseOption = None, reason: OptionalReason = "",
          actor: ActorOption = None) -> None:
    """Register the plan and start its rollout (or apply it to one already running).

    Refused, with everything missing listed, while lint finds errors, the readiness
    checklist has not passed, or a required role has not signed.
    """
    spec, text = load_plan_or_exit(plan)
    with opened_controller(database) as controller:
        who = _actor(actor)
        registered = controller.register(spec, text, actor=who)
        if registered.changed:
            report(registered)
        report(controller.start(spec.feature.key, actor=who, reason=reason,
                                plan_version=plan_version(spec)))


def _change(name: str, database: str | None, actor: str | None, **options: Any) -> None:
    with opened_controller(database) as controller:
        method = getattr(controller, name)
        report(method(actor=_actor(actor), **options))


@app.command()
def promote(feature: FeatureArgument, database: DatabaseOption = None,
            reason: OptionalReason = "", actor: ActorOption = None) -> None:
    """Move a running rollout to its next phase (what `approval: required` waits for)."""
    _change("promote", database, actor, feature=feature, reason=reason)


@app.command()
def pause(feature: FeatureArgument, reason: RequiredReason, database: DatabaseOption = None,
          actor: ActorOption = None) -> None:
    """Serve the fallback to everyone until a person resumes."""
    _change("pause", database, actor, feature=feature, reason=reason)


@app.command()
def resume(feature: FeatureArgument, reason: RequiredReason, database: DatabaseOption = None,
           actor: ActorOption = None) -> None:
    """Serve the AI path again after a pause or a kill (needs a written reason)."""
    _change("resume", database, actor, feature=feature, reason=reason)


@app.command()
def kill(feature: FeatureArgument, reason: RequiredReason, database: DatabaseOption = None,
         actor: ActorOption = None) -> None:
    """The kill switch: the fallback for everyone, in every process, until `resume`."""
    _change("kill", database, actor, feature=feature, reason=reason)


@app.command()
def rollback(feature: FeatureArgument, database: DatabaseOption = None,
             to: Annotated[str | None, typer.Option(
                 "--to", help="The earlier phase (default: the previous one).",
                 show_default=False)] = None,
             reason: OptionalReason = "", actor: ActorOption = None) -> None:
    """Go back to an earlier phase; a pause or kill stays in place."""
    _change("rollback", database, actor, feature=feature, reason=reason, to_phase=to)


@app.command()
def complete(feature: FeatureArgument, database: DatabaseOption = None,
             reason: OptionalReason = "", actor: ActorOption = None) -> None:
    """End a rollout that runs its last phase: the feature stays on for its audience."""
    _change("complete", database, actor, feature=feature, reason=reason)


@app.command()
def sign(plan: PlanArgument,
         role: Annotated[str, typer.Option("--role", help="The sign-off role (one of the "
                                           "plan's readiness.sign_off).", show_default=False)],
         name: Annotated[str, typer.Option("--name", help="Who signs.", show_default=False)],
         database: DatabaseOption = None, actor: ActorOption = None) -> None:
    """Sign the plan's readiness checklist as ROLE; a later change to it voids the signature."""
    spec, text = load_plan_or_exit(plan)
    with opened_controller(database) as controller:
        who = _actor(actor)
        controller.register(spec, text, actor=who)
        change = controller.sign(spec.feature.key, plan_version=plan_version(spec), role=role,
                                 name=name, actor=who)
        fingerprint = checklist_fingerprint(spec)[:8]
        if not change.changed:
            typer.echo(f"unchanged: {change.message}")
            return
        ready = "; it is ready to start" if change.transition.value == "ready" else ""
        typer.echo(f"signed: {name} as {role} (checklist {fingerprint}){ready}")


# ---------------------------------------------------------------- views


def status_of(store: Store, controller: Controller, feature: str) -> dict[str, Any]:
    """Everything ``status`` shows of one feature, JSON-ready."""
    state = store.get_state(feature)
    if state is None:
        fail(f"error: no rollout of {feature!r} is registered in this database", 2)
    phases: list[str] = []
    blockers: tuple[str, ...] = ()
    try:
        plan = controller.plan(feature, state.plan_version)
        phases = [phase.name for phase in plan.phases]
        fingerprint = checklist_fingerprint(plan)
        if not state.status.started:
            blockers = controller.blockers(feature)
    except LookupError:
        fingerprint = ""
    signatures = store.signatures(feature)
    reports = store.readiness_reports(feature, limit=1)
    return {
        **state.to_json(),
        "phase_number": phases.index(state.phase) + 1 if state.phase in phases else None,
        "phases": phases,
        "blockers": list(blockers),
        "readiness": ({"passed": reports[0].passed, "ts": reports[0].ts.isoformat(),
                       "fingerprint": reports[0].fingerprint} if reports else None),
        "signatures": [
            {"role": s.role, "name": s.name, "ts": s.ts.isoformat(),
             "valid": s.valid and s.fingerprint == fingerprint,
             "void_reason": s.void_reason or ("signed an older checklist"
                                              if s.valid and s.fingerprint != fingerprint
                                              else "")}
            for s in signatures
        ],
    }


def _when(text: str | None) -> str:
    if not text:
        return "-"
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")


@app.command()
def status(feature: Annotated[str | None, typer.Argument(
               help="One feature (default: all).", show_default=False)] = None,
           database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Each rollout's state: status, phase, why, readiness and sign-offs; with FEATURE,
    also the health of its current phase (new events are folded first)."""
    with opened_store(database) as store, controller_errors():
        controller = Controller(store)
        features = [feature] if feature else [s.feature for s in store.states()]
        rows = [status_of(store, controller, name) for name in features]
        state = store.get_state(feature) if feature else None
        healths = current_health(store, [state], utc_now()) if state is not None else {}
    for row in rows:
        if feature is not None:
            health = healths.get(row["feature"])
            row["health"] = health.to_json() if health is not None else None
    if as_json:
        typer.echo(json.dumps(rows[0] if feature else rows, indent=2, allow_nan=False))
        return
    if not rows:
        typer.echo("no rollout is registered in this database")
        return
    table = Table(title="rollouts", show_lines=True)
    for column in ("feature", "status", "phase", "since", "reason", "readiness", "sign-offs"):
        table.add_column(column, overflow="fold")
    for row in rows:
        number = f"{row['phase_number']} of {len(row['phases'])}" if row["phase_number"] else ""
        readiness = row["readiness"]
        signs = "\n".join(f"{s['role']}: {s['name']}" + ("" if s["valid"] else
                                                          f" (void: {s['void_reason']})")
                          for s in row["signatures"]) or "-"
        blockers = "\n".join(f"- {b}" for b in row["blockers"])
        table.add_row(Text(row["feature"]), Text(row["status"]),
                      Text(f"{row['phase']} {number}".strip()),
                      Text(_when(row["updated_at"])),
                      Text(row["reason"] + (f"\nblocked by:\n{blockers}" if blockers else "")),
                      Text("-" if readiness is None else
                           ("passed" if readiness["passed"] else "failed")),
                      Text(signs))
    console = Console(highlight=False)
    console.print(table)
    for health in healths.values():
        print_health(health, console)
    if feature is not None and not healths:
        console.print(Text("health: the rollout has not started, so no phase has evidence yet"))


@app.command()
def audit(feature: FeatureArgument, database: DatabaseOption = None,
          as_json: JsonOption = False) -> None:
    """The audit log of one feature: who did what, when, why, and the evidence."""
    with opened_store(database) as store, controller_errors():
        entries = store.audit_log(feature)
    rows: list[dict[str, Any]] = [
        {"ts": e.ts.isoformat(), "actor": e.actor, "action": e.action, "reason": e.reason,
             "plan_version": e.plan_version,
             "status": (e.after or {}).get("status"), "phase": (e.after or {}).get("phase"),
             "evidence": e.evidence} for e in entries
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"no audit entries for {feature!r}")
        return
    table = Table(title=Text(f"audit log of {feature}"), show_lines=True)
    for column in ("when", "who", "action", "state after", "why"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(Text(_when(row["ts"])), Text(row["actor"]), Text(row["action"]),
                      Text(f"{row['status']} / {row['phase']}"), Text(row["reason"]))
    Console(highlight=False).print(table)
