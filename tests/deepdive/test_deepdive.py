"""The worst outputs and the what-if replay, on events written to a real store."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from trustramp.cli import app
from trustramp.controller import Controller
from trustramp.deepdive import parse_what_if, replay, worst_outputs
from trustramp.events import OutcomeEvent, OutcomeKind, OutputEvent
from trustramp.plan import parse_plan
from trustramp.plan.schema import Plan
from trustramp.stats import clopper_pearson
from trustramp.store import SqlStore, open_store

from ..decide.plans import lint_clean_plan_dict

FEATURE = "portfolio-advice"
T0 = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()


def output(i: int, confidence: float, *, phase: str = "gradual", task: str = "explain",
           review: bool = False, action: str = "show") -> OutputEvent:
    return OutputEvent(f"d{i}", FEATURE, "3-x", f"u{i}", phase, action, "r", confidence,
                       review, None, {"task": task}, ts=T0 + timedelta(minutes=i))


def outcome(i: int, kind: OutcomeKind, value: bool | None, *, critical: bool = False,
            comment: str | None = None, minute: int = 0) -> OutcomeEvent:
    return OutcomeEvent(f"d{i}", FEATURE, kind, value, critical, comment, "test",
                        ts=T0 + timedelta(minutes=i + 1 + minute))


def test_worst_ranks_harm_and_keeps_the_latest_outcome(store: SqlStore) -> None:
    store.write([output(i, 0.5 + i / 20) for i in range(10)])
    store.write([
        outcome(1, OutcomeKind.FEEDBACK, False), outcome(1, OutcomeKind.FEEDBACK, True,
                                                         minute=5),  # changed its mind
        outcome(2, OutcomeKind.LABEL, False),  # wrong at 0.60
        outcome(8, OutcomeKind.LABEL, False),  # wrong at 0.90: confidently wrong
        outcome(3, OutcomeKind.REVIEW, False, comment="made-up ticker"),
        outcome(4, OutcomeKind.TICKET, None, comment="lost money"),
        outcome(5, OutcomeKind.LABEL, False, critical=True),
        outcome(6, OutcomeKind.FEEDBACK, False),
        outcome(7, OutcomeKind.LABEL, True),
    ])
    report = worst_outputs(store, FEATURE, since=T0, until=T0 + timedelta(days=1))
    order = [w.logged.output.decision_id for w in report.worst]
    # critical, rejected, confidently wrong, thumbs down, ticket, wrong at low confidence
    assert order == ["d5", "d3", "d8", "d6", "d4", "d2"]
    assert report.worst[1].why == "rejected by test"
    assert "confidently wrong" in report.worst[2].why
    assert "d1" not in order
    assert "d7" not in order
    assert report.slices is None
    assert "need at least 60" in report.slices_note
    assert worst_outputs(store, FEATURE, since=T0, until=T0 + timedelta(days=1),
                         limit=2).worst[1].logged.output.decision_id == "d3"


def test_worst_names_the_slice_where_errors_concentrate(store: SqlStore) -> None:
    rng = random.Random(5)
    events: list[OutputEvent | OutcomeEvent] = []
    for i in range(400):
        task = "tax" if i % 5 == 0 else "explain"
        events.append(output(i, 0.9, task=task))
        wrong = rng.random() < (0.5 if task == "tax" else 0.03)
        events.append(outcome(i, OutcomeKind.LABEL, not wrong))
    store.write(events)
    report = worst_outputs(store, FEATURE, since=T0, until=T0 + timedelta(days=2))
    assert report.slices is not None
    assert report.slices.slices[0].description == "task = tax"
    tax = [w for w in report.worst if w.logged.output.input_attributes["task"] == "tax"]
    assert tax
    assert all(w.slices == ("task = tax",) for w in tax)


def plan() -> Plan:
    return parse_plan(yaml.safe_dump(lint_clean_plan_dict()))


def test_replay_re_decides_through_the_gate_and_counts_what_would_show(store: SqlStore) -> None:
    rng = random.Random(11)
    events: list[OutputEvent | OutcomeEvent] = []
    confidences = []
    for i in range(300):
        confidence = round(rng.uniform(0.5, 1.0), 3)
        confidences.append(confidence)
        # gradual: threshold 0.85, below -> show_flagged: every answer is shown as logged
        events.append(output(i, confidence, action="show" if confidence >= 0.85
                             else "show_flagged"))
        events.append(outcome(i, OutcomeKind.LABEL, rng.random() < confidence))
    store.write(events)
    labels = {e.decision_id: e.value for e in events if isinstance(e, OutcomeEvent)}
    logged, what_if = replay(store, plan(), parse_what_if(
        ["confidence_threshold=0.9", "below=fallback"]), since=T0)
    assert logged.agreement == 1.0  # the gate re-decides exactly what was logged
    assert (logged.outputs, logged.shown) == (300, 300)
    expected = [f"d{i}" for i, c in enumerate(confidences) if c >= 0.9]
    assert what_if.shown == len(expected)
    assert what_if.correct_shown == sum(bool(labels[d]) for d in expected)
    low, high = clopper_pearson(what_if.correct_shown, what_if.labelled_shown, 0.95)
    assert what_if.accuracy[1] == pytest.approx((float(low), float(high)))
    assert what_if.coverage[0] == pytest.approx(len(expected) / 300)


def test_replay_review_rate_samples_by_decision_id(store: SqlStore) -> None:
    store.write([output(i, 0.99) for i in range(400)])
    _, what_if = replay(store, plan(), {"review_rate": 0.25}, since=T0)
    assert 60 < what_if.held < 140  # a quarter, by the decision-id hash
    _, again = replay(store, plan(), {"review_rate": 0.25}, since=T0)
    assert again.held == what_if.held  # deterministic in the ids


@pytest.mark.parametrize(("pairs", "message"), [
    (["threshold=0.9"], "NAME one of confidence_threshold"),
    (["confidence_threshold=high"], "expected a number"),
    (["confidence_threshold=1.5"], "expected a number in [0, 1]"),
    (["below=hide"], "expected one of fallback"),
    ([], "at least one"),
])
def test_bad_what_if_settings_are_named(pairs: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_what_if(pairs)


def test_the_commands(store: SqlStore, tmp_path: Path) -> None:
    text = yaml.safe_dump(lint_clean_plan_dict())
    Controller(store).register(parse_plan(text), text, actor="t")
    now = datetime.now(UTC)
    store.write([OutputEvent(f"n{i}", FEATURE, "3-x", f"u{i}", "gradual", "show", "r", 0.95,
                             False, None, {"task": "explain"}, ts=now - timedelta(hours=1))
                 for i in range(5)])
    store.write([OutcomeEvent("n0", FEATURE, OutcomeKind.LABEL, False, True, "bad", "t")])
    runner = CliRunner()
    result = runner.invoke(app, ["worst", FEATURE, "--database", store.url, "--json"])
    assert result.exit_code == 0, result.stderr
    worst = json.loads(result.stdout)["worst"]
    assert [w["decision_id"] for w in worst] == ["n0"]
    result = runner.invoke(app, ["replay", FEATURE, "--database", store.url, "--what-if",
                                 "confidence_threshold=0.99", "--json"])
    assert result.exit_code == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert (runs[0]["shown"], runs[1]["shown"]) == (5, 5)  # below the bar: shown flagged
    result = runner.invoke(app, ["replay", FEATURE, "--database", store.url, "--what-if",
                                 "confidence_threshold=0.99", "--what-if", "below=fallback",
                                 "--json"])
    assert result.exit_code == 0, result.stderr
    strict = json.loads(result.stdout)["runs"][1]
    assert (strict["name"], strict["shown"]) == (
        "what if confidence_threshold=0.99, below=fallback", 0)
    table = runner.invoke(app, ["replay", FEATURE, "--database", store.url, "--what-if",
                                "review_rate=1"])
    assert table.exit_code == 0
    assert "rate limits are not replayed" in table.stdout
    result = runner.invoke(app, ["replay", FEATURE, "--database", store.url, "--what-if",
                                 "nope=1"])
    assert result.exit_code == 2
    assert "NAME one of" in result.stderr
    result = runner.invoke(app, ["worst", FEATURE, "--database", store.url, "--last", "7x"])
    assert result.exit_code == 2
    assert "--last" in result.stderr
