"""Labels needed to certify accuracy > 0.90 when the truth is 0.92, and false promotions.

Run: .venv/bin/python benchmarks/bench_promotion.py

Every method is checked after every label (continuous peeking). For each method the
table prints the median and 10th/90th percentile of the labels needed before the lower
bound clears 0.90 when the true accuracy is 0.92, the fraction of streams ever promoted
within the horizon when the truth is exactly 0.90 and 0.89 (must be <= alpha), and the
median as a ratio to the Beta(1, 1) mixture measured in the same run. The oracle SPRT
knows the true rate 0.92 in advance (no real gate can), so it shows what is achievable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from trustramp.stats.confidence_sequence import betting_log_capital, prpl_bets
from trustramp.stats.criteria import PromotionCriterion

TARGET, ALPHA, TRUTH = 0.90, 0.05, 0.92
PATHS, HORIZON, CHUNK = 4000, 10_000, 400

Crossing = Callable[[np.ndarray], np.ndarray]  # outcomes (paths, steps) -> first step


def first(hit: np.ndarray) -> np.ndarray:
    return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, np.inf)


def boundary_rule(crit: PromotionCriterion) -> Crossing:
    need = crit.crossing_boundary(np.arange(1, HORIZON + 1))
    return lambda x: first(np.cumsum(x, axis=1) >= need)


def betting_rule(x: np.ndarray) -> np.ndarray:
    bets, _ = prpl_bets(x, ALPHA)
    capital = np.cumsum(betting_log_capital(x, bets, TARGET, "lower"), axis=1)
    return first(capital >= math.log(1 / ALPHA))


def oracle_sprt(x: np.ndarray) -> np.ndarray:
    s = np.cumsum(x, axis=1)
    n = np.arange(1, x.shape[1] + 1)
    llr = s * math.log(TRUTH / TARGET) + (n - s) * math.log((1 - TRUTH) / (1 - TARGET))
    return first(llr >= math.log(1 / ALPHA))


def run(rule: Crossing, p: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = [rule(rng.random((CHUNK, HORIZON)) < p) for _ in range(PATHS // CHUNK)]
    return np.concatenate(out)


def main() -> None:
    start = time.time()
    rules: list[tuple[str, Crossing]] = [
        ("Beta(1,1) mixture, two-sided", boundary_rule(
            PromotionCriterion(TARGET, method="beta_binomial"))),
        ("default: one-sided logit mixture, design 1000",
         boundary_rule(PromotionCriterion(TARGET))),
    ]
    for design in (250, 4000, 16000):
        rules.append((f"one-sided logit mixture, design {design}",
                      boundary_rule(PromotionCriterion(TARGET, design_samples=design))))
    rules.append(("Beta(90,10) mixture (centred), two-sided",
                  boundary_rule(PromotionCriterion(TARGET, method="beta_binomial",
                                                   prior=(90.0, 10.0)))))
    rules.append(("betting PrPl, one-sided", betting_rule))
    rules.append(("oracle SPRT 0.90 vs 0.92 (not a CS)", oracle_sprt))

    print(f"certify accuracy > {TARGET} at alpha={ALPHA}; truth {TRUTH}; {PATHS} streams; "
          f"false promotions over {HORIZON} labels, checked after every label\n")
    header = (f"{'method':48} {'median':>7} {'p10':>6} {'p90':>7} {'FP@0.90':>8} "
              f"{'FP@0.89':>8} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    baseline = math.nan
    for i, (name, rule) in enumerate(rules):
        labels = run(rule, TRUTH, seed=1)
        fp90 = np.isfinite(run(rule, 0.90, seed=2)).mean()
        fp89 = np.isfinite(run(rule, 0.89, seed=3)).mean()
        p10, med, p90 = np.percentile(labels, [10, 50, 90], method="inverted_cdf")
        if i == 0:
            baseline = med
        print(f"{name:48} {med:7.0f} {p10:6.0f} {p90:7.0f} {fp90:8.4f} {fp89:8.4f} "
              f"{med / baseline:6.2f}")
    print(f"\n({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
