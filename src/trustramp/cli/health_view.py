"""The health part of ``trustramp status``: fold the new events, then one table per feature
of metric, window, estimate [interval] and n."""

from __future__ import annotations

import math
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trustramp.monitor import Figure, Health, Monitor, WindowHealth
from trustramp.store import FeatureState, Store


def current_health(store: Store, states: list[FeatureState], now: datetime) -> dict[str, Health]:
    """Fold what is new once, then the health of each started rollout's current phase."""
    monitor = Monitor(store)
    while not monitor.fold().caught_up:
        pass
    return {
        state.feature: monitor.health(state.feature, state.phase, now=now,
                                      phase_started_at=min(state.phase_started_at, now))
        for state in states
        if state.status.started and state.phase_started_at is not None
    }


def _number(value: float | None, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def figure_text(figure: Figure, window: WindowHealth) -> str:
    """The estimate and its interval as people read them."""
    if figure.unit == "count":
        return f"{int(figure.estimate):,}"
    if figure.unit == "psi" and window.drift is not None:
        drift = window.drift
        verdict = "drifted" if drift.drifted else "warning" if drift.warning else "stable"
        return (f"{drift.psi:.3f} ({verdict}; warn > {drift.warn_threshold:.3f}, "
                f"alarm > {drift.alarm_threshold:.3f})")
    if figure.n == 0 and figure.unit != "per week":
        return "-"
    signed = figure.unit == "difference"
    estimate = _number(figure.estimate, signed)
    if figure.lower is None or figure.upper is None:
        return estimate
    interval = f"[{_number(figure.lower, signed)}, {_number(figure.upper, signed)}]"
    return f"{estimate} {interval}" + ("/week" if figure.unit == "per week" else "")


def print_health(health: Health, console: Console) -> None:
    table = Table(title=Text(f"health of {health.feature}, phase {health.phase} "
                             f"(anytime-valid {1 - health.alpha:.0%} intervals)"))
    for column in ("metric", "window", "estimate [interval]", "n"):
        table.add_column(column, overflow="fold", justify="right" if column == "n" else "left")
    by_window = {window.name: window for window in health.windows}
    metrics = list(dict.fromkeys(figure.metric for figure in health.figures()))
    for metric in metrics:
        for window in health.windows:
            for figure in window.figures:
                if figure.metric == metric:
                    table.add_row(Text(metric), Text(window.name),
                                  Text(figure_text(figure, by_window[window.name])),
                                  Text(f"{figure.n:,}"))
    console.print(table)
    console.print(Text(f"drift baseline: {health.baseline_note}"))
    if health.slices is None:
        console.print(Text(f"error slices: none computed ({health.slice_note})"))
        return
    report = health.slices
    top = [s for s in report.slices if s.explained_by is None][:3]
    listed = "; ".join(f"{s.description}: {s.errors}/{s.support} wrong" for s in top)
    console.print(Text(f"error slices over {health.slice_note}: {report.verdict}"
                       + (f" ({listed})" if listed else "")))
