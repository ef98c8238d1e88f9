"""trustramp embedded, end to end: the example plan, 4,000 synthetic users, four phases.

What ``make run`` shows. For each phase of examples/plans/portfolio-advice.yaml
it decides, for every synthetic user and request, whether the user is in the
rollout and what they see of a simulated model answer, records every exposure,
output and outcome (feedback, labels, reviews, tickets) into SQLite under
``.trustramp/``, and prints what each phase and guardrail did. At the end it
pulls the kill switch and shows that everyone gets the fallback.

No server, no network; runs in seconds. Everything is seeded: two runs print
the same numbers.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from trustramp import Decision, Rollout, load_plan
from trustramp.controller import Controller
from trustramp.plan import load_plan_file
from trustramp.readiness import EvalSet, evaluate_readiness
from trustramp.stats import ConfidenceSequence
from trustramp.store import EventWriter, Store, open_store

ROOT = Path(__file__).resolve().parent
PLAN = ROOT / "plans" / "portfolio-advice.yaml"
DATABASE = Path(".trustramp") / "embedded-example.db"
USERS = 4000
TASKS = ["explain_allocation", "summarize_holdings", "rebalance_plan", "tax_lot_harvest"]
TASK_WEIGHTS = [0.35, 0.30, 0.25, 0.10]


@dataclass
class SimClock:
    """Simulated seconds: requests of a phase spread over hours, so rate limits see real gaps."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class PhaseStats:
    exposed: set[str] = field(default_factory=set)
    high_visibility_exposed: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    task_filtered: int = 0
    reviewed: int = 0
    feedback: list[bool] = field(default_factory=list)
    labels: list[bool] = field(default_factory=list)


def synthetic_users(rng: random.Random) -> list[dict[str, Any]]:
    users = []
    for i in range(USERS):
        employee = rng.random() < 0.05
        flags = ["press"] if rng.random() < 0.01 else ["vip"] if rng.random() < 0.01 else []
        users.append({
            "id": f"user-{i:05d}",
            "is_employee": employee,
            "power_user": rng.random() < (0.75 if employee else 0.10),
            "beta_opt_in": rng.random() < (0.85 if employee else 0.15),
            "tier": rng.choices(["free", "plus", "premium"], [0.6, 0.3, 0.1])[0],
            "portfolio_value": round(rng.lognormvariate(9.5, 1.4)),
            "account_flags": flags,
        })
    return users


def model_answer(rng: random.Random, task: str) -> tuple[float, bool]:
    """A simulated model: harder tasks get lower confidence; calibrated (P(right) = confidence)."""
    difficulty = {"explain_allocation": 40, "summarize_holdings": 45, "rebalance_plan": 25,
                  "tax_lot_harvest": 18}[task]
    confidence = rng.betavariate(difficulty, 1.0)
    return confidence, rng.random() < confidence


def held_out_set(rng: random.Random, size: int = 2500) -> EvalSet:
    """The labelled held-out answers the readiness checklist is evaluated on.

    Each answer belongs to one of 12 kinds of request per task (48 input patterns).
    """
    confidence, correct, patterns = [], [], []
    for _ in range(size):
        task = rng.choices(TASKS, TASK_WEIGHTS)[0]
        answer, right = model_answer(rng, task)
        confidence.append(answer)
        correct.append(right)
        patterns.append(f"{task}/{rng.randrange(12)}")
    return EvalSet.from_rows(confidence, correct, patterns=patterns,
                             attributes=[{"task": p.split("/")[0]} for p in patterns],
                             path="<simulated held-out set>")


def launch(store: Store, rng: random.Random, console: Console) -> Controller:
    """The readiness checklist, the three sign-offs, then the start: the controller's gate."""
    plan = load_plan_file(PLAN)
    controller = Controller(store)
    controller.register(plan, PLAN.read_text(encoding="utf-8"), actor="example")
    report = evaluate_readiness(plan, held_out_set(rng))
    controller.record_readiness(plan.feature.key, plan_version=report.plan_version,
                                report=report.to_json(), passed=report.passed, actor="example")
    verdict = "passed" if report.passed else "FAILED: " + "; ".join(report.missing)
    console.print(f"readiness checklist on {report.n:,} held-out answers: {verdict}")
    for role, name in (("product", "Priya (product)"), ("legal", "Lee (legal)"),
                       ("compliance", "Chen (compliance)")):
        controller.sign(plan.feature.key, plan_version=report.plan_version, role=role,
                        name=name, actor="example")
    change = controller.start(plan.feature.key, actor="example", reason="checklist signed")
    console.print(f"{change.transition.value}: {change.after.status.value} in phase "
                  f"{change.after.phase!r}")
    return controller


def run_phase(rollout: Rollout, users: list[dict[str, Any]], rng: random.Random,
              clock: SimClock) -> PhaseStats:
    stats = PhaseStats()
    sessions = [(user, rng.choice([1, 1, 2, 3, 8])) for user in users]
    rng.shuffle(sessions)
    requests = []
    for user, count in sessions:
        clock.now += rng.expovariate(1 / 15.0)  # a new session about every 15 s
        requests += [(user, clock.now + rng.uniform(0, 600)) for _ in range(count)]
    requests.sort(key=lambda request: request[1])  # a session's requests within 10 minutes
    for number, (user, at) in enumerate(requests):
        clock.now = at
        exposure = rollout.exposure(user)
        if not exposure.exposed:
            continue
        stats.exposed.add(exposure.unit_id)
        task = rng.choices(TASKS, TASK_WEIGHTS)[0]
        confidence, correct = model_answer(rng, task)
        # Fixed decision ids make the review sample, and so the whole run, repeatable.
        decision = rollout.gate(exposure, confidence, input={"task": task},
                                decision_id=f"example-{rollout.policy.phase}-{number}")
        record_outcomes(rollout, decision, correct, rng, stats)
    stats.high_visibility_exposed = sum(
        1 for u in users if u["id"] in stats.exposed
        and (u["account_flags"] or u["portfolio_value"] >= 1_000_000))
    return stats


def record_outcomes(rollout: Rollout, decision: Decision, correct: bool, rng: random.Random,
                    stats: PhaseStats) -> None:
    stats.actions[decision.action.value] += 1
    stats.task_filtered += decision.reason == "task outside the phase's task filter"
    did = decision.decision_id
    if decision.review:
        stats.reviewed += 1
        rollout.review(did, approved=correct if rng.random() < 0.95 else not correct,
                       reviewer="specialist")
    if not decision.shows_answer:
        return
    if rng.random() < 0.3:
        helpful = rng.random() < (0.92 if correct else 0.25)
        stats.feedback.append(helpful)
        rollout.feedback(did, helpful=helpful)
    if rng.random() < 0.1:
        stats.labels.append(correct)
        rollout.label(did, correct=correct, critical=not correct and decision.confidence is not
                      None and decision.confidence > 0.9)
    if not correct and rng.random() < 0.05:
        rollout.ticket(did, comment="the suggested allocation does not match my risk profile")


def share(values: list[bool]) -> str:
    """The rate with its anytime-valid 95% interval and sample size."""
    if not values:
        return "-"
    sequence = ConfidenceSequence(alpha=0.05)
    sequence.update(values)
    return (
        f"{sequence.estimate:.1%} [{sequence.lower:.1%}, {sequence.upper:.1%}]"
        f" n={sequence.n}"
    )


def main() -> None:
    started = time.perf_counter()
    console = Console()
    rng = random.Random(2024)
    users = synthetic_users(rng)
    DATABASE.parent.mkdir(exist_ok=True)
    DATABASE.unlink(missing_ok=True)  # a fresh example database on every run
    store = open_store(f"sqlite:///{DATABASE}")
    writer = EventWriter(store, max_queue=200_000)
    policy = load_plan(PLAN)
    controller = launch(store, rng, console)
    rows: dict[str, list[str]] = {}
    previous: set[str] = set()
    clock = SimClock()
    phases = [p.name for p in policy.compiled.phases]
    for number in range(len(phases)):
        if number:  # the team reviewed the phase's numbers and widens the audience
            controller.promote(policy.feature, actor="example",
                               reason=f"phase {phases[number - 1]!r} met its criteria")
        with Rollout(PLAN, store, writer=writer, clock=clock) as rollout:
            stats = run_phase(rollout, users, rng, clock)
        a = stats.actions
        column = {
            "users exposed": f"{len(stats.exposed):,}",
            "kept from the previous phase": (f"{len(previous & stats.exposed)}/{len(previous)}"
                                             if previous else "-"),
            "high-visibility users exposed": str(stats.high_visibility_exposed),
            "answers shown": str(a["show"]),
            "shown flagged (low confidence)": str(a["show_flagged"]),
            "fallback (all reasons)": str(a["fallback"]),
            "  of which task filter": str(stats.task_filtered),
            "asked the user": str(a["ask_user"]),
            "held for review": str(a["hold_for_review"]),
            "rate-limited": str(a["rate_limited"]),
            "thumbs up": share(stats.feedback),
            "labelled accuracy": share(stats.labels),
        }
        for name, value in column.items():
            rows.setdefault(name, []).append(value)
        previous = stats.exposed
    table = Table(title=f"{policy.feature}: {USERS:,} synthetic users, plan {policy.version}")
    table.add_column("what happened")
    for phase in phases:
        table.add_column(phase, justify="right")
    for name, values in rows.items():
        table.add_row(name, *values)
    console.print(table)
    with Rollout(PLAN, store, writer=writer, clock=clock) as rollout:
        rollout.kill("example: critical errors spiked")
        killed = Counter(rollout.gate(rollout.exposure(u), 0.99).action.value
                         for u in users[:500])
        rollout.resume("example: root cause fixed")
    console.print(f"kill switch: {dict(killed)} for 500 requests; then resumed")
    writer.close()
    counts = (len(store.exposures(policy.feature)), len(store.outputs(policy.feature)),
              len(store.outcomes(policy.feature)))
    console.print(f"recorded in {DATABASE}: {counts[0]:,} exposures, {counts[1]:,} outputs, "
                  f"{counts[2]:,} outcomes; dropped {writer.dropped}, failed {writer.failed}; "
                  f"audit log: {[r.action for r in store.audit_log(policy.feature)]}")
    store.close()
    gradual = policy.with_phase("gradual")
    sample = next(u for u in users if gradual.exposure(u).exposed)
    console.print(f"done in {time.perf_counter() - started:.1f} s. Explain one decision:\n"
                  f"  .venv/bin/trustramp explain {PLAN.relative_to(ROOT.parent)} --phase gradual "
                  f"--confidence 0.83 --user '{{\"id\": \"{sample['id']}\"}}'", soft_wrap=True)


if __name__ == "__main__":
    main()
