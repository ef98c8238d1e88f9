"""``trustramp status FEATURE`` folds the new events and shows the current phase's health."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from trustramp.cli import app
from trustramp.events import OutcomeEvent, OutcomeKind, OutputEvent, utc_now
from trustramp.store import FeatureState, open_store
from trustramp.vocabulary import RolloutStatus

runner = CliRunner()


def prepare(tmp_path: Path, status: RolloutStatus) -> str:
    url = f"sqlite:///{tmp_path / 'status.db'}"
    store = open_store(url)
    now = utc_now()
    started = now - timedelta(hours=2) if status.started else None
    with store.state_transaction("advice") as transaction:
        transaction.set_state(FeatureState("advice", "1", "beta", status,
                                           phase_started_at=started, updated_at=now))
    events: list[OutputEvent | OutcomeEvent] = []
    for i in range(40):
        ts = now - timedelta(minutes=30)
        events.append(OutputEvent(f"d{i}", "advice", "1", "u", "beta", "show", "r", 0.9,
                                  False, ts=ts))
        events.append(OutcomeEvent(f"d{i}", "advice", OutcomeKind.LABEL, i % 10 != 0, ts=ts))
    store.write(events)
    store.close()
    return url


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["status", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout


def test_status_prints_the_health_of_the_current_phase(tmp_path: Path) -> None:
    url = prepare(tmp_path, RolloutStatus.RUNNING)
    code, out = run("advice", "--database", url)
    assert code == 0
    assert "health of advice, phase beta" in out
    assert "0.900 [" in out  # accuracy 36/40 with its interval
    for metric in ("accuracy", "thumbs-up rate", "coverage", "support tickets per week",
                   "review backlog", "calibration gap"):
        assert metric in out
    assert "drift baseline: no readiness report" in out


def test_status_json_adds_health(tmp_path: Path) -> None:
    url = prepare(tmp_path, RolloutStatus.RUNNING)
    code, out = run("advice", "--database", url, "--json")
    assert code == 0
    health = json.loads(out)["health"]
    phase = next(w for w in health["windows"] if w["name"] == "phase")
    accuracy = next(f for f in phase["figures"] if f["metric"] == "accuracy")
    assert (accuracy["n"], accuracy["estimate"]) == (40, 0.9)
    assert accuracy["lower"] < 0.9 < accuracy["upper"]
    # Folding again finds nothing new and counts nothing twice.
    again = json.loads(run("advice", "--database", url, "--json")[1])["health"]

    def counts(document: dict[str, object]) -> list[tuple[object, ...]]:
        return [(w["name"], f["metric"], f["n"], f["estimate"])  # type: ignore[index]
                for w in document["windows"] for f in w["figures"]  # type: ignore[attr-defined]
                if f["unit"] != "per week"]

    assert counts(again) == counts(health)


def test_a_rollout_not_started_has_no_health(tmp_path: Path) -> None:
    url = prepare(tmp_path, RolloutStatus.DRAFT)
    code, out = run("advice", "--database", url)
    assert code == 0
    assert "the rollout has not started" in out
    assert json.loads(run("advice", "--database", url, "--json")[1])["health"] is None
