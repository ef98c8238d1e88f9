"""Cost of one look at the anytime-valid statistics, at n = 100 ... 1,000,000.

Run: .venv/bin/python benchmarks/bench_looks.py

A look at a stream method is "update with one outcome + read the bound(s)" after n
outcomes at rate 0.9; a look at a counts method is a bound from counts at n, with the
counts moving on by one label between looks (as a stream would), so the cache on the
counts cannot serve them; the "cold" rows clear the cache and the warm start before
every look (the first time a criterion sees a new count). Each cell is the median, over
blocks of BLOCK looks, of a block's mean cost per look (LOOKS looks after WARMUP), in
µs. The peer is a two-sided Clopper-Pearson interval (``scipy.stats.beta.ppf`` twice)
at counts of the same size. Each cell is the best of ROUNDS rounds, measured in turn
with the peer at the same n (this machine's speed drifts by up to 2x over seconds),
and the ratio table divides each cell by its own peer. The "before" line times the
64-step bisection the fast paths replaced (:mod:`trustramp.stats.reference`) at
n = 1,000.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from scipy.stats import beta

from trustramp.stats import PromotionCriterion, breach_test, poisson_bounds
from trustramp.stats import confidence_sequence as cs_module
from trustramp.stats.confidence_sequence import ConfidenceSequence
from trustramp.stats.cusum import calibrate_cusum
from trustramp.stats.cusum_estimated import design_from_burn_in
from trustramp.stats.forecast import forecast_graduation
from trustramp.stats.reference import reference_betting_bounds, reference_bounds

SIZES = (100, 1_000, 10_000, 100_000, 1_000_000)
RATE, WARMUP, LOOKS, BLOCK, ROUNDS, GOAL_US = 0.9, 50, 400, 10, 3, 50.0
Look = Callable[[], object]


def median_us(make: Callable[[int], Look], n: int, looks: int = LOOKS) -> float:
    """Median over blocks of BLOCK consecutive looks of the mean cost of a look.

    Timing blocks rather than single looks keeps the clock's own cost and this shared
    machine's jitter out of the figure; the median keeps out the slowest blocks.
    """
    look = make(n)
    for _ in range(WARMUP):
        look()
    times = []
    gc.disable()
    try:
        for _ in range(looks // BLOCK):
            start = time.perf_counter_ns()
            for _ in range(BLOCK):
                look()
            times.append((time.perf_counter_ns() - start) / BLOCK)
    finally:
        gc.enable()
    return statistics.median(times) / 1000


_INSTANCES = itertools.count()


class Counts:
    """Counts of a stream at RATE that move on by one label per look."""

    def __init__(self, n: int, seed: int = 1) -> None:
        # A fresh stream for every measurement: a repeated round must not meet its own
        # earlier counts in the cache.
        self.rng = np.random.default_rng([seed, next(_INSTANCES)])
        self.n = n
        self.s = int(self.rng.binomial(n, RATE))
        self.next_outcomes = iter((self.rng.random(10 * (WARMUP + LOOKS)) < RATE).tolist())

    def step(self) -> tuple[int, int]:
        self.s += next(self.next_outcomes)
        self.n += 1
        return self.s, self.n

    def outcome(self) -> bool:
        return bool(next(self.next_outcomes))


def stream(method: str, side: str, seed: int) -> Callable[[int], Look]:
    def make(n: int) -> Look:
        counts = Counts(n, seed)
        cs = ConfidenceSequence(method=method, side=side, design_rate=RATE)  # type: ignore[arg-type]
        if method == "betting":
            cs.update(np.random.default_rng(2).random(n) < RATE)
        else:
            cs = ConfidenceSequence.from_counts(counts.s, n, method=method,  # type: ignore[arg-type]
                                                side=side, design_rate=RATE)
        assert 0 <= cs.lower <= cs.upper <= 1

        def look() -> object:
            cs.update(counts.outcome())
            return cs.bounds

        return look

    return make


def counts_look(
    call: Callable[[int, int], object], seed: int, cold: bool = False
) -> Callable[[int], Look]:
    """Looks at counts that no other row visits (own seed), so no cache entry is shared."""

    def make(n: int) -> Look:
        counts = Counts(n, seed)

        def look() -> object:
            if cold:
                cs_module._bounds.cache_clear()
                cs_module._WARM.clear()
            return call(*counts.step())

        return look

    return make


def two_features(call: Callable[[int, int], object], seed: int) -> Callable[[int], Look]:
    """Looks that alternate between two features with the same settings, at n and 10 n.

    The controller checks every feature's criteria on each tick; criteria with the same
    settings share their warm starts, kept per binary order of n.
    """

    def make(n: int) -> Look:
        streams = itertools.cycle([Counts(n, seed), Counts(10 * n, seed + 100)])

        def look() -> object:
            return call(*next(streams).step())

        return look

    return make


CRITERION = PromotionCriterion(target=RATE)
LONG_AGO = timedelta(days=30)
ROWS: list[tuple[str, Callable[[int], Look]]] = [
    ("beta_binomial both (stream)", stream("beta_binomial", "both", 1)),
    ("beta_binomial lower (stream)", stream("beta_binomial", "lower", 2)),
    ("logit_mixture lower (stream)", stream("logit_mixture", "lower", 3)),
    ("logit_mixture both (stream)", stream("logit_mixture", "both", 4)),
    ("betting lower (stream)", stream("betting", "lower", 5)),
    ("betting both (stream)", stream("betting", "both", 6)),
    ("PromotionCriterion.check",
     counts_look(lambda s, n: CRITERION.check(s, n, LONG_AGO), seed=7)),
    ("breach_test", counts_look(lambda s, n: breach_test(s, n, floor=RATE), seed=8)),
    ("check, 2 features at n and 10 n",
     two_features(lambda s, n: CRITERION.check(s, n, LONG_AGO), seed=13)),
    ("poisson_bounds (events, exposure)",
     counts_look(lambda s, n: poisson_bounds(n - s, n / 1000, prior=(1.0, 0.01)), seed=9)),
]
COLD_ROWS: list[tuple[str, Callable[[int], Look]]] = [
    ("PromotionCriterion.check, cold", counts_look(
        lambda s, n: CRITERION.check(s, n, LONG_AGO), seed=10, cold=True)),
    ("breach_test, cold",
     counts_look(lambda s, n: breach_test(s, n, floor=RATE), seed=11, cold=True)),
]
PEER = counts_look(lambda s, n: (beta.ppf(0.025, s, n - s + 1), beta.ppf(0.975, s + 1, n - s)),
                   seed=12)


def table(title: str, rows: list[tuple[str, list[float]]], fmt: str) -> None:
    header = f"{title:38}" + "".join(f"{n:>11,}" for n in SIZES)
    print(header)
    print("-" * len(header))
    for name, values in rows:
        print(f"{name:38}" + "".join(f"{v:>11{fmt}}" for v in values))
    print()


def before_line() -> None:
    x = np.random.default_rng(2).random(1000) < RATE
    s = int(x.sum())
    old = {
        "beta_binomial both": lambda: reference_bounds(s, 1000),
        "logit_mixture lower": lambda: reference_bounds(s, 1000, method="logit_mixture",
                                                        side="lower", design_rate=RATE),
        "betting both": lambda: reference_betting_bounds(x),
    }
    parts = []
    for name, call in old.items():
        start = time.perf_counter()
        for _ in range(5):
            call()
        parts.append(f"{name} {(time.perf_counter() - start) / 5 * 1e6:,.0f} µs")
    print("before (64-step bisection, n = 1,000): " + "; ".join(parts))


def other_costs() -> None:
    start = time.perf_counter()
    forecast_graduation(CRITERION, traffic_per_day=1500, label_rate=0.01, estimate=0.92)
    first = time.perf_counter() - start
    start = time.perf_counter()
    forecast_graduation(CRITERION, traffic_per_day=1500, label_rate=0.01, successes=552,
                        n=600, estimate=0.92)
    moved = time.perf_counter() - start
    start = time.perf_counter()
    forecast_graduation(CRITERION, traffic_per_day=1500, label_rate=0.01, successes=553,
                        n=601, estimate=553 / 601)
    again = time.perf_counter() - start
    start = time.perf_counter()
    calibrate_cusum(0.92, 0.8701, 1e6)
    cusum = time.perf_counter() - start
    start = time.perf_counter()
    design_from_burn_in(4601, 5000, 0.05, 1e6)
    design = time.perf_counter() - start
    print(f"forecast_graduation (paths=2000): {first * 1e3:.1f} ms from scratch, "
          f"{moved * 1e3:.1f} ms at new counts, {again * 1e3:.2f} ms one label later")
    print(f"calibrate_cusum (new rates): {cusum * 1e3:.1f} ms; design_from_burn_in (new burn-in):"
          f" {design * 1e3:.1f} ms; both are cached on their arguments")


def cell(make: Callable[[int], Look], n: int, looks: int) -> tuple[float, float]:
    """(look, peer) at n: the best of ROUNDS rounds each, the two measured alternately.

    This machine's speed drifts by up to 2x over seconds; alternating with the peer and
    keeping each one's best round compares them in the same conditions.
    """
    ours, peer = [], []
    for _ in range(ROUNDS):
        ours.append(median_us(make, n, looks))
        peer.append(median_us(PEER, n, looks))
    return min(ours), min(peer)


def main() -> None:
    start = time.time()
    rows = [(name, make, LOOKS) for name, make in ROWS]
    rows += [(name, make, 100) for name, make in COLD_ROWS]
    cells = {name: [cell(make, n, looks) for n in SIZES] for name, make, looks in rows}
    measured = [(name, [c[0] for c in cells[name]]) for name, _ in ROWS]
    cold = [(name, [c[0] for c in cells[name]]) for name, _ in COLD_ROWS]
    peer = [min(cells[name][i][1] for name in cells) for i in range(len(SIZES))]
    print(f"µs per look at n labels (rate {RATE}; median over {LOOKS // BLOCK} blocks of "
          f"{BLOCK} looks after {WARMUP}, best of {ROUNDS} rounds)\n")
    table("look", [*measured, *cold, ("peer: Clopper-Pearson, beta.ppf x2", peer)], ",.1f")
    table("ratio to Clopper-Pearson (same round)",
          [(name, [c[0] / c[1] for c in cells[name]]) for name, _, _ in rows], ".3f")
    worst = max(max(values) for _, values in measured)
    worst_cold = max(max(values) for _, values in cold)
    verdict = "PASS" if worst <= GOAL_US else "FAIL"
    print(f"{verdict}: slowest look {worst:.1f} µs (goal <= {GOAL_US:.0f} µs at every n and "
          f"method); cold counts look {worst_cold:.1f} µs "
          f"({'within' if worst_cold <= GOAL_US else 'above'} the goal)")
    before_line()
    other_costs()
    print(f"\n({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
