"""Time-uniform coverage and mechanics of the Bernoulli confidence sequences."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy.stats import binom

from trustramp.stats.confidence_sequence import (
    ConfidenceSequence,
    betting_log_capital,
    bounds_from_counts,
    log_evidence,
    logit_scale,
    lower_crossing_boundary,
    prpl_bets,
)

STREAMS, STEPS, ALPHA = 2000, 2000, 0.05


def mc_limit(alpha: float, trials: int) -> float:
    """Largest miss fraction a procedure with true miss rate alpha shows 99.9% of the time."""
    return float(binom.ppf(0.999, trials, alpha)) / trials


@functools.cache
def streams(p: float) -> np.ndarray:
    return np.random.default_rng(int(p * 1000)).random((STREAMS, STEPS)) < p


def evidence_on_paths(x: np.ndarray, p: float, **kw: object) -> np.ndarray:
    """Evidence at every step of every path, from a table over the counts reached."""
    s = np.cumsum(x, axis=1, dtype=np.int64)
    n = np.arange(1, x.shape[1] + 1)
    low = s.min(axis=0)
    width = int((s.max(axis=0) - low).max()) + 1
    table_s = low[:, None] + np.arange(width)[None, :]
    table = np.concatenate([  # in row blocks: the mixture grid multiplies memory by 64
        log_evidence(table_s[i : i + 250], n[i : i + 250, None], p, **kw)  # type: ignore[arg-type]
        for i in range(0, n.size, 250)
    ])
    return table[n - 1, s - low]


def ever_excluded(x: np.ndarray, p: float, method: str, side: str) -> float:
    """Fraction of paths whose CS excludes p at SOME step (the peeking error)."""
    a_side = ALPHA if method == "beta_binomial" or side != "both" else ALPHA / 2
    thr = math.log(1 / a_side)
    sides = ["lower", "upper"] if side == "both" else [side]
    hit = np.zeros(x.shape[0], dtype=bool)
    for which in sides:
        if method == "betting":
            bets, _ = prpl_bets(x, a_side)
            ev = np.cumsum(betting_log_capital(x, bets, p, which), axis=1)  # type: ignore[arg-type]
        else:
            sigma = logit_scale(0.5, 1000, a_side)
            ev = evidence_on_paths(x, p, method=method, side=which, sigma=sigma)
        hit |= (ev >= thr).any(axis=1)
    return float(hit.mean())


@pytest.mark.parametrize("p", [0.005, 0.3, 0.9, 0.995])
@pytest.mark.parametrize(
    ("method", "side"),
    [("beta_binomial", "both"), ("logit_mixture", "both"), ("logit_mixture", "lower"),
     ("logit_mixture", "upper"), ("betting", "both"), ("betting", "lower"),
     ("betting", "upper")],
)
def test_time_uniform_coverage(p: float, method: str, side: str) -> None:
    x = streams(p)
    miss = ever_excluded(x, p, method, side)
    assert miss <= mc_limit(ALPHA, STREAMS), (method, side, p, miss)


def test_coverage_check_catches_a_pointwise_interval() -> None:
    # The same check must fail for an interval that is only valid at a fixed n: the
    # 95% Wald interval looked at after every label (n >= 30 so it is a fair one).
    p = 0.3
    x = streams(p)
    n = np.arange(1, STEPS + 1)
    est = np.cumsum(x, axis=1) / n
    half = 1.96 * np.sqrt(est * (1 - est) / n)
    miss = (np.abs(est - p) > half)[:, 29:].any(axis=1).mean()
    assert miss > mc_limit(ALPHA, STREAMS)


@pytest.mark.parametrize(
    ("method", "side"),
    [("beta_binomial", "both"), ("logit_mixture", "both"), ("logit_mixture", "upper")],
)
def test_bounds_are_the_edges_of_the_unrejected_set(method: str, side: str) -> None:
    rng = np.random.default_rng(11)
    a_side = ALPHA if method == "beta_binomial" or side != "both" else ALPHA / 2
    sigma = logit_scale(0.7, 1000, a_side)
    for n in (1, 5, 40, 300, 5000):
        for s in {0, n, int(rng.integers(0, n + 1)), int(0.7 * n)}:
            lo, hi = bounds_from_counts(s, n, method=method, side=side,  # type: ignore[arg-type]
                                        design_rate=0.7)
            grid = np.linspace(0, 1, 2001)
            grid = grid[(np.abs(grid - lo) > 1e-9) & (np.abs(grid - hi) > 1e-9)]
            rejected = np.zeros(grid.size, dtype=bool)
            for which in (["lower", "upper"] if side == "both" else [side]):
                ev = log_evidence(s, n, grid, method=method, side=which, sigma=sigma)  # type: ignore[arg-type]
                below_hat = grid < s / n if which == "lower" else grid > s / n
                if method == "beta_binomial":
                    ev = np.where(below_hat, ev, -np.inf)
                rejected |= ev >= math.log(1 / a_side)
            outside = (grid < lo) | (grid > hi)
            np.testing.assert_array_equal(outside, rejected, err_msg=f"{method} {s}/{n}")


def test_betting_bounds_match_its_capital_and_batching() -> None:
    x = np.random.default_rng(3).random(1500) < 0.8
    one = ConfidenceSequence(method="betting")
    for v in x[:300]:
        one.update(bool(v))
    one.update(x[300:])
    whole = ConfidenceSequence(method="betting").update(x)
    assert one.bounds == pytest.approx(whole.bounds, abs=1e-12)
    bets, _ = prpl_bets(x, ALPHA / 2)
    thr = math.log(2 / ALPHA)
    lo, hi = whole.bounds
    for p, inside in ((lo - 1e-6, False), (lo + 1e-6, True), (hi - 1e-6, True), (hi + 1e-6, False)):
        cap = max(betting_log_capital(x, bets, p, "lower").sum(),
                  betting_log_capital(x, bets, p, "upper").sum())
        assert (cap < thr) == inside


def test_beta_binomial_boundary_matches_direct_evaluation() -> None:
    # The boundary's binary search assumes the evidence is monotone in the count above
    # n p; check it against every count, with a flat and a concentrated prior.
    n = np.arange(1, 3001)
    thr = math.log(1 / ALPHA)
    for prior in ((1.0, 1.0), (9.0, 1.0), (45.0, 5.0)):
        need = lower_crossing_boundary(n, 0.9, method="beta_binomial", side="both", prior=prior)
        for k in (0, 5, 40, 200, 999, 2999):
            nn = int(n[k])
            s = np.arange(nn + 1)
            ev = log_evidence(s, nn, 0.9, method="beta_binomial", prior=prior)
            certified = (ev >= thr) & (s > 0.9 * nn)
            first = int(np.argmax(certified)) if certified.any() else nn + 1
            assert need[k] == first
            assert certified[first:].all()


def test_running_state_and_one_sided_outputs() -> None:
    cs = ConfidenceSequence(method="logit_mixture", side="lower", design_rate=0.9)
    assert cs.bounds == (0.0, 1.0)
    assert math.isnan(cs.estimate)
    cs.update(True).update([True, False]).update(np.array([True, True, False]))
    assert (cs.n, cs.successes, cs.estimate) == (6, 4, 4 / 6)
    assert cs.upper == 1.0
    batch = ConfidenceSequence.from_counts(4, 6, method="logit_mixture", side="lower",
                                           design_rate=0.9)
    assert batch.lower == cs.lower
    cs.update([])
    assert cs.n == 6


def test_narrows_with_data() -> None:
    widths = [np.subtract(*bounds_from_counts(int(0.9 * n), n)[::-1]) for n in (100, 1000, 10000)]
    assert widths[0] > widths[1] > widths[2]


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, "0.05", True])
def test_bad_alpha(alpha: object) -> None:
    with pytest.raises(ValueError, match="alpha"):
        ConfidenceSequence(alpha=alpha)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("update", "match"),
    [(1, "x must be a bool"), ([True, 1], r"x\[1\]"), (np.array([0, 1]), "dtype"),
     ("TT", "x must be"), (0.5, "x must be")],
)
def test_non_bool_updates(update: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ConfidenceSequence().update(update)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("s", "n", "match"), [(-1, 5, "successes"), (3, -1, "n must"), (6, 5, "cannot exceed"),
                          (1.5, 5, "successes")],
)
def test_bad_counts(s: object, n: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        bounds_from_counts(s, n)  # type: ignore[arg-type]


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="method"):
        ConfidenceSequence(method="wald")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="side"):
        ConfidenceSequence(side="left")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prior"):
        ConfidenceSequence(prior=(0.0, 1.0))
    with pytest.raises(ValueError, match="design_rate"):
        ConfidenceSequence(design_rate=1.2)
    with pytest.raises(ValueError, match="betting"):
        ConfidenceSequence.from_counts(3, 5, method="betting")
