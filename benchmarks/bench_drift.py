"""PSI false alarms: the 0.1 / 0.25 rule of thumb against thresholds from PSI's null.

Run: .venv/bin/python benchmarks/bench_drift.py

Both samples are drawn from one confidence distribution (Beta(8, 2)), so every alarm
is false. Table 1 measures how often each rule fires, with 10 baseline-quantile bins;
table 2 does the same for tied (rounded) confidences at small n, where the asymptotic
threshold is replaced by the permutation calibration; table 3 shows the detection
rate of the rule, our thresholds and KS for real shifts of the mean confidence.
"""

from __future__ import annotations

import math
import time

import numpy as np

from trustramp.stats.drift import _psi_batch, ks_drift, psi_drift, psi_threshold

BINS, SMOOTHING = 10, 0.5
WARN, ALARM = 0.05, 0.001


def null_psi(rng: np.random.Generator, n: int, m: int, runs: int) -> np.ndarray:
    """PSI of `runs` same-distribution pairs, computed in memory-sized chunks."""
    rows = max(1, 20_000_000 // ((n + m) * (BINS - 1)))
    values = []
    for start in range(0, runs, rows):
        size = min(rows, runs - start)
        psi, bins, *_ = _psi_batch(
            rng.beta(8, 2, (size, n)), rng.beta(8, 2, (size, m)), BINS, SMOOTHING
        )
        assert (bins == BINS).all()
        values.append(psi)
    return np.concatenate(values)


def rate_cell(hits: int, runs: int, nominal: float | None = None) -> str:
    rate = hits / runs
    half = 1.96 * math.sqrt(max(rate * (1 - rate), 1 / runs) / runs)
    text = f"{rate:.4f} ±{half:.4f}"
    return f"{text} ({rate / nominal:.2f}x)" if nominal else text


def main() -> None:
    rng = np.random.default_rng(2026)
    started = time.perf_counter()
    # The batch path is the one psi_drift uses; check they agree before relying on it.
    base, cur = rng.beta(8, 2, 100), rng.beta(8, 2, 100)
    assert math.isclose(
        psi_drift(base, cur).psi, float(_psi_batch(base[None], cur[None], BINS, SMOOTHING)[0][0])
    )
    print("Table 1: false-alarm rate under H0 (10 bins; ratio = measured / nominal)")
    print(
        f"{'n':>5} {'m':>5} {'runs':>6} | {'PSI > 0.1':>15} {'PSI > 0.25':>15} | "
        f"{'ours warn (5%)':>24} {'ours alarm (0.1%)':>24}"
    )
    for n, m, runs in [
        (50, 50, 50_000),
        (100, 100, 50_000),
        (300, 300, 50_000),
        (1000, 500, 50_000),
        (5000, 5000, 10_000),
    ]:
        psi = null_psi(rng, n, m, runs)
        warn, alarm = (psi_threshold(n, m, BINS, a) for a in (WARN, ALARM))
        print(
            f"{n:>5} {m:>5} {runs:>6} | {rate_cell(int((psi > 0.1).sum()), runs):>15} "
            f"{rate_cell(int((psi > 0.25).sum()), runs):>15} | "
            f"{rate_cell(int((psi > warn).sum()), runs, WARN):>24} "
            f"{rate_cell(int((psi > alarm).sum()), runs, ALARM):>24}"
        )

    print("\nTable 2: tied confidences (rounded to 0.05), warn level 5%")
    print(f"{'n':>5} {'m':>5} {'runs':>6} | {'asymptotic':>24} {'permutation (199)':>24}")
    for n, m, runs in [(30, 30, 1000), (100, 100, 1000)]:
        asym = perm = 0
        for _ in range(runs):
            base = np.round(rng.beta(8, 2, n) * 20) / 20
            cur = np.round(rng.beta(8, 2, m) * 20) / 20
            asym += psi_drift(base, cur, warn=WARN).warning
            perm += psi_drift(
                base, cur, warn=WARN, calibration="permutation", n_resamples=199, seed=_seed(rng)
            ).warning
        print(
            f"{n:>5} {m:>5} {runs:>6} | {rate_cell(asym, runs, WARN):>24} "
            f"{rate_cell(perm, runs, WARN):>24}"
        )

    print("\nTable 3: detection rate for a shift of the mean confidence")
    print(
        f"{'n':>5} {'m':>5} {'runs':>6} {'shift':>11} | {'PSI > 0.1':>16} "
        f"{'ours warn':>16} {'ours alarm':>16} {'KS 5%':>16}"
    )
    for n, m, runs, a in [
        (100, 100, 1000, 6),
        (300, 300, 1000, 6),
        (1000, 500, 1000, 6),
        (5000, 5000, 200, 7),
    ]:
        rule_hits = warn_hits = alarm_hits = ks_hits = 0
        for _ in range(runs):
            base, cur = rng.beta(8, 2, n), rng.beta(a, 2, m)
            result = psi_drift(base, cur)
            rule_hits += result.psi > 0.1
            warn_hits += result.warning
            alarm_hits += result.drifted
            ks_hits += ks_drift(base, cur).drifted
        shift = f"0.80->{a / (a + 2):.2f}"
        print(
            f"{n:>5} {m:>5} {runs:>6} {shift:>11} | {rate_cell(rule_hits, runs):>16} "
            f"{rate_cell(warn_hits, runs):>16} {rate_cell(alarm_hits, runs):>16} "
            f"{rate_cell(ks_hits, runs):>16}"
        )
    print(f"\n({time.perf_counter() - started:.1f} s)")


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**32))


if __name__ == "__main__":
    main()
