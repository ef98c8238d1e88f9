"""Learn-then-Test confidence threshold vs the naive empirical threshold, on known score models.

For each score model and calibration-set size, draw 1,000 calibration sets, pick a
threshold on each with `select_threshold` (target accuracy 0.90 among shown answers,
delta = 0.10) and with the naive rule (lowest grid threshold
whose empirical accuracy above it is >= 0.90), then score each pick against the TRUE
accuracy and coverage above it, known in closed form:

    confidence C ~ Beta(a, b), P(correct | C = c) = c ** k
    coverage(lam) = P(C >= lam) = 1 - I_lam(a, b)
    accuracy(lam) = E[C ** k | C >= lam]
                  = B(a + k, b) / B(a, b) * (1 - I_lam(a + k, b)) / coverage(lam)

(I = regularized incomplete beta, B = beta function). Two grids, both fixed in advance:
the default 0.50..0.99 by 0.01, and 0.500..0.990 by 0.001 (fixed-sequence testing pays
nothing for a finer grid, and a fine grid shows the naive rule's coin flip without the
luck of where the grid points fall). The oracle is the lowest grid
threshold whose true accuracy is >= 0.90. "viol" is the fraction of draws whose chosen
threshold has true accuracy < 0.90 (must be <= delta for LTT), with its 95% Clopper-Pearson
upper bound; "cov/oracle" is the mean of coverage(chosen) / coverage(oracle), counting a
draw where nothing is certified as 0.

Run: .venv/bin/python benchmarks/bench_threshold.py
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import beta as beta_fn
from scipy.special import betainc

from trustramp.stats.slices import clopper_pearson
from trustramp.stats.threshold import DEFAULT_GRID, select_threshold

TARGET = 0.90
DELTA = 0.10
DRAWS = 1000
SIZES = (2000, 10_000)
GRIDS = {"0.01": np.array(DEFAULT_GRID), "0.001": np.round(0.5 + 0.001 * np.arange(491), 3)}


@dataclass(frozen=True)
class ScoreModel:
    a: float
    b: float
    k: float

    @property
    def name(self) -> str:
        return f"Beta({self.a:g},{self.b:g}), acc=c^{self.k:g}"

    def coverage(self, lam: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(1.0 - betainc(self.a, self.b, lam), dtype=np.float64)

    def accuracy(self, lam: NDArray[np.float64]) -> NDArray[np.float64]:
        scale = beta_fn(self.a + self.k, self.b) / beta_fn(self.a, self.b)
        above = 1.0 - betainc(self.a + self.k, self.b, lam)
        return np.asarray(scale * above / self.coverage(lam), dtype=np.float64)

    def draw(
        self, rng: np.random.Generator, n: int
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        conf = rng.beta(self.a, self.b, size=n)
        return conf, rng.random(n) < conf**self.k


MODELS = (ScoreModel(5.0, 1.0, 2.0), ScoreModel(4.0, 1.0, 1.5))


def naive_index(
    conf: NDArray[np.float64], correct: NDArray[np.bool_], grid: NDArray[np.float64]
) -> int | None:
    """Grid index of the lowest threshold whose empirical accuracy is >= TARGET."""
    order = np.argsort(conf)
    errors_below = np.concatenate(([0], np.cumsum(~correct[order])))
    first = np.searchsorted(conf[order], grid, side="left")
    shown = conf.size - first
    errors = errors_below[-1] - errors_below[first]
    ok = (shown > 0) & (errors <= (1.0 - TARGET) * shown)
    return int(np.flatnonzero(ok)[0]) if ok.any() else None


def upper95(violations: int) -> float:
    return float(clopper_pearson(np.array([violations]), np.array([DRAWS]), 0.95)[1][0])


def run(model: ScoreModel, n: int, step: str, rng: np.random.Generator) -> list[str]:
    grid = GRIDS[step]
    true_acc = model.accuracy(grid)
    true_cov = model.coverage(grid)
    oracle = int(np.flatnonzero(true_acc >= TARGET)[0])
    ltt_picks: list[int | None] = []
    naive_picks: list[int | None] = []
    for _ in range(DRAWS):
        conf, correct = model.draw(rng, n)
        chosen = select_threshold(conf, correct, TARGET, DELTA, grid).threshold
        ltt_picks.append(None if chosen is None else int(np.flatnonzero(chosen == grid)[0]))
        naive_picks.append(naive_index(conf, correct, grid))

    def summary(picks: list[int | None]) -> tuple[int, float, float]:
        got = [p for p in picks if p is not None]
        violations = sum(bool(true_acc[p] < TARGET) for p in got)
        ratio = sum(float(true_cov[p] / true_cov[oracle]) for p in got) / DRAWS
        return violations, ratio, float(np.median(grid[got])) if got else float("nan")

    ltt_v, ltt_ratio, ltt_median = summary(ltt_picks)
    naive_v, naive_ratio, naive_median = summary(naive_picks)
    none = sum(p is None for p in ltt_picks)
    return [
        model.name,
        f"{n:,}",
        step,
        f"{grid[oracle]:.3f} ({true_cov[oracle]:.3f})",
        f"{ltt_v / DRAWS:.3f} (<= {upper95(ltt_v):.3f})",
        f"{ltt_v / DRAWS / DELTA:.2f}",
        f"{ltt_ratio:.3f}",
        f"{ltt_median:.3f}",
        f"{none / DRAWS:.3f}",
        f"{naive_v / DRAWS:.3f}",
        f"{naive_ratio:.3f}",
        f"{naive_median:.3f}",
    ]


def main() -> None:
    started = time.perf_counter()
    rng = np.random.default_rng(20261129)
    header = [
        "score model",
        "n",
        "grid step",
        "oracle (cov)",
        "LTT viol (95% up)",
        "viol/delta",
        "LTT cov/oracle",
        "LTT med thr",
        "LTT none",
        "naive viol",
        "naive cov/oracle",
        "naive med thr",
    ]
    rows = [run(model, n, step, rng) for model in MODELS for step in GRIDS for n in SIZES]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(
        f"target accuracy {TARGET}, delta {DELTA}, thresholds from 0.5 to below 1.0, "
        f"{DRAWS} calibration sets per row"
    )
    for row in [header, *rows]:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    print(
        f"bounds: LTT viol <= delta (viol/delta <= 1); goal LTT cov/oracle >= 0.95 at n = "
        f"10,000; elapsed {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
