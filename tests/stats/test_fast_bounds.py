"""The fast edges against the 64-step bisection they replaced (stats/reference.py)."""

from __future__ import annotations

import itertools
import math
import sys

import numpy as np
import pytest

from trustramp.stats import confidence_sequence as cs_module
from trustramp.stats.confidence_sequence import ConfidenceSequence, bounds_from_counts, prpl_bets
from trustramp.stats.reference import reference_betting_bounds, reference_bounds

# Both implementations evaluate the evidence in floating point (lgamma vs betaln); a
# bound may differ from the bisection by that rounding, far below 1e-12.
ROUNDING = 1e-12
AGREE = 1e-9


def counts_grid() -> list[tuple[int, int]]:
    out = []
    for n in (1, 2, 7, 40, 300, 5000, 100_000, 1_000_000):
        for frac in (0.0, 0.005, 0.3, 0.5, 0.9, 0.995, 1.0):
            out.append((round(frac * n), n))
    return sorted(set(out))


CASES = [  # method, side, prior, design_rate
    ("beta_binomial", "both", (1.0, 1.0), 0.5), ("beta_binomial", "lower", (9.0, 1.0), 0.5),
    ("beta_binomial", "upper", (0.5, 0.5), 0.5), ("logit_mixture", "both", (1.0, 1.0), 0.9),
    ("logit_mixture", "lower", (1.0, 1.0), 0.9), ("logit_mixture", "upper", (1.0, 1.0), 0.9),
    ("logit_mixture", "lower", (1.0, 1.0), 0.3),
]


@pytest.mark.parametrize(("method", "side", "prior", "design_rate"), CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.001])
def test_fast_edges_match_bisection(
    method: str, side: str, prior: tuple[float, float], design_rate: float, alpha: float
) -> None:
    kw = {"alpha": alpha, "method": method, "side": side, "prior": prior,
          "design_rate": design_rate}
    grid = counts_grid()
    refs = [reference_bounds(s, n, **kw) for s, n in grid]  # type: ignore[arg-type]
    for warm_start in (False, True):
        for (s, n), ref in zip(grid, refs, strict=True):
            if not warm_start:  # cold: no cached result and no previous solve to start from
                cs_module._bounds.cache_clear()
                cs_module._WARM.clear()
            else:  # started from the previous grid point's solve, not served by the cache
                cs_module._bounds.cache_clear()
            fast = bounds_from_counts(s, n, **kw)  # type: ignore[arg-type]
            where = f"{method} {side} {s}/{n} alpha={alpha} warm={warm_start}"
            assert fast[0] == pytest.approx(ref[0], abs=AGREE), where
            assert fast[1] == pytest.approx(ref[1], abs=AGREE), where
            # Conservative: never inside the bisection's interval beyond rounding.
            assert fast[0] <= ref[0] + ROUNDING, where
            assert fast[1] >= ref[1] - ROUNDING, where


def test_stream_warm_starts_match_bisection() -> None:
    # A stream warm-starts every solve from the previous one: compare along the way.
    x = np.random.default_rng(5).random(3000) < 0.9
    for method, side in itertools.product(("beta_binomial", "logit_mixture"), ("both", "lower")):
        cs = ConfidenceSequence(method=method, side=side, design_rate=0.9)  # type: ignore[arg-type]
        for i, v in enumerate(x.tolist(), start=1):
            cs.update(v)
            if i % 331 == 0 or i < 12:
                ref = reference_bounds(cs.successes, i, method=method, side=side,  # type: ignore[arg-type]
                                       design_rate=0.9)
                assert cs.bounds == pytest.approx(ref, abs=AGREE), (method, side, i)


@pytest.mark.parametrize(("p", "steps"), [(0.9, 2000), (0.3, 1000), (0.995, 2000), (1.0, 1500)])
@pytest.mark.parametrize("side", ["both", "lower", "upper"])
def test_betting_matches_bisection_over_the_stream(p: float, steps: int, side: str) -> None:
    x = np.random.default_rng(int(p * 1000)).random(steps) < p
    one = ConfidenceSequence(method="betting", side=side)  # type: ignore[arg-type]
    batched = ConfidenceSequence(method="betting", side=side)  # type: ignore[arg-type]
    for i, v in enumerate(x.tolist(), start=1):
        one.update(v)
        if i % 500 == 0 or i in (1, 2, 5, 30):
            batched.update(x[batched.n : i])
            ref = reference_betting_bounds(x[:i], side=side)  # type: ignore[arg-type]
            for got in (one.bounds, batched.bounds):
                assert got == pytest.approx(ref, abs=AGREE), (p, side, i)
                assert got[0] <= ref[0] + ROUNDING
                assert got[1] >= ref[1] - ROUNDING


def test_betting_capital_is_exact_at_any_rate() -> None:
    from trustramp.stats.confidence_sequence import betting_log_capital, prpl_bets

    x = np.random.default_rng(8).random(5000) < 0.97
    cs = ConfidenceSequence(method="betting").update(x[:1000])
    for v in x[1000:].tolist():
        cs.update(v)
    bets, _ = prpl_bets(x, 0.025)
    for p in (1e-4, 0.05, 0.3, 0.5, 0.9, 0.95, 0.97, 0.99, 1.0):
        for which, capital in (("lower", cs._capital[0]), ("upper", cs._capital[1])):
            q = p if which == "lower" else 1 - p
            if q <= 0:
                continue
            exact = float(betting_log_capital(x, bets, p, which).sum())  # type: ignore[arg-type]
            assert capital.capital(q)[0] == pytest.approx(exact, abs=1e-9 * (1 + abs(exact)))
            assert math.isfinite(capital.capital(q)[1])


def test_betting_capital_with_bets_out_of_order() -> None:
    # A stream's bets decrease, so the index of large bets grows by appending; bets
    # given in another order must still give the exact capital (the index is rebuilt).
    from trustramp.stats.betting_capital import CapitalSide

    rng = np.random.default_rng(12)
    x = rng.random(300) < 0.7
    bets = rng.uniform(0.01, 4.0, size=300)  # increasing and decreasing, tame and wild
    side = CapitalSide()
    for v, b in zip(x[:200].tolist(), bets[:200].tolist(), strict=True):
        side.add_one(v, b)
    side.add(x[200:], bets[200:])
    for p in (0.05, 0.2, 0.5, 0.69, 0.9, 1.0):
        lam = np.minimum(bets, 0.5 / p)
        exact = float(np.log1p(lam * (x - p)).sum())
        assert side.capital(p)[0] == pytest.approx(exact, abs=1e-9 * (1 + abs(exact)))


def _check_against_bisection(s: int, n: int, **kw: object) -> None:
    ref = reference_bounds(s, n, **kw)  # type: ignore[arg-type]
    fast = bounds_from_counts(s, n, **kw)  # type: ignore[arg-type]
    where = f"{s}/{n} {kw}"
    assert fast == pytest.approx(ref, abs=AGREE), where
    assert fast[0] <= ref[0] + ROUNDING, where
    assert fast[1] >= ref[1] - ROUNDING, where


def test_warm_starts_from_other_counts_with_the_same_settings() -> None:
    # Several criteria with the same settings looked at in turn (one controller, many
    # features): each solve starts from whatever solve of those settings is nearest
    # in n, at another rate, n up to 2x away, or falls back to the cold start.
    rng = np.random.default_rng(31)
    cs_module._WARM.clear()
    for _ in range(60):
        n = int(rng.choice([37, 500, 900, 1800, 40_000, 70_000, 2_000_000]))
        rate = float(rng.choice([0.002, 0.3, 0.85, 0.9, 0.95, 0.999]))
        s = int(rng.binomial(n, rate))
        cs_module._bounds.cache_clear()  # a solve, not a cached answer
        _check_against_bisection(s, n, method="logit_mixture", side="both", design_rate=0.9)
    assert len(cs_module._WARM) > 2  # kept per order of n, not one per settings


@pytest.mark.parametrize(("design_rate", "design_samples"), [
    (0.5, 1), (0.001, 50), (0.999, 10**7), (0.9, 10**9),
])
@pytest.mark.parametrize("alpha", [0.3, 1e-6])
def test_extreme_counts_and_designs_match_bisection(
    design_rate: float, design_samples: int, alpha: float
) -> None:
    # Far from the root the terms are capped or underflow and the shifted evaluation
    # takes over; near 0 and 1 only a few of the 64 mixture terms carry the evidence.
    counts = [(1, 1), (1, 2), (3, 10**7), (10**7 - 3, 10**7), (1, 10**6),
              (999_999, 10**6), (5 * 10**6, 10**7), (0, 10**7), (10**7, 10**7)]
    for side in ("both", "lower", "upper"):
        for s, n in counts:
            cs_module._bounds.cache_clear()
            cs_module._WARM.clear()
            _check_against_bisection(s, n, alpha=alpha, method="logit_mixture", side=side,
                                     design_rate=design_rate, design_samples=design_samples)


def test_two_sided_solves_in_lockstep_match_one_sided_ones() -> None:
    # The two edges of a two-sided bound are solved side by side in one work area;
    # they must be exactly the one-sided edges at alpha / 2, also when one side is
    # done before the other (a warm side beside a cold one).
    for s, n in ((3, 40), (37, 40), (20, 40), (901, 1000), (12, 100_000)):
        cs_module._bounds.cache_clear()
        cs_module._WARM.clear()
        lower = bounds_from_counts(s, n, alpha=0.025, method="logit_mixture", side="lower")[0]
        cs_module._bounds.cache_clear()  # the lower side is now warm, the upper side cold
        both = bounds_from_counts(s, n, alpha=0.05, method="logit_mixture", side="both")
        cs_module._bounds.cache_clear()
        cs_module._WARM.clear()
        upper = bounds_from_counts(s, n, alpha=0.025, method="logit_mixture", side="upper")[1]
        assert both == pytest.approx((lower, upper), abs=AGREE)


def test_solves_in_threads_do_not_share_work_areas() -> None:
    # The work arrays are reused across solves, one set per thread: concurrent solves
    # must give the answers of solves one at a time.
    from concurrent.futures import ThreadPoolExecutor

    counts = [(int(0.8 * n) + k, n) for n in (200, 5000, 300_000) for k in range(40)]

    def solve(s_n: tuple[int, int]) -> tuple[float, float]:
        cs_module._bounds.cache_clear()
        return bounds_from_counts(*s_n, method="logit_mixture", design_rate=0.9)

    alone = [reference_bounds(s, n, method="logit_mixture", design_rate=0.9)
             for s, n in counts]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads in the middle of solves
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            together = list(pool.map(solve, counts * 3))
    finally:
        sys.setswitchinterval(switch)
    for got, ref, where in zip(together, alone * 3, counts * 3, strict=True):
        assert got == pytest.approx(ref, abs=AGREE), where


def test_betting_bound_returns_a_carried_forward_point_within_tolerance() -> None:
    # When the last evaluation, carried forward by the new outcome, is already a
    # rejected point within tolerance of the edge, it is the bound (no evaluation).
    from trustramp.stats.betting_capital import CapitalSide

    x = np.random.default_rng(4).random(800) < 0.9
    bets, _ = prpl_bets(x, 0.05)
    side = CapitalSide()
    side.add(x, bets)
    threshold = math.log(20)
    edge = side.bound(threshold)
    value, slope = side.capital(edge)
    assert value >= threshold
    side.last = (edge, value, slope)
    assert side.bound(threshold) == edge
    ref = reference_betting_bounds(x, alpha=0.05, side="lower")[0]
    assert edge == pytest.approx(ref, abs=AGREE)
    assert edge <= ref + ROUNDING


@pytest.mark.parametrize("k", [1, 2])
def test_evidence_and_its_moments_far_from_the_root(k: int) -> None:
    # Far below the edge the terms are capped (huge evidence), far above it every term
    # underflows: both take the shifted evaluation, which must give the same evidence
    # and derivatives as a direct log-sum-exp.
    from trustramp.stats import logit_mixture
    from trustramp.stats.confidence_sequence import log_evidence, logit_scale

    sigma = logit_scale(0.9, 1000, 0.05)
    grid, threshold = logit_mixture.logit_grid(sigma), math.log(20)
    s, n = [900_000, 100_000][:k], 1_000_000
    for p in (1e-9, 1e-3, 0.5, 0.899, 0.9, 0.999):
        evidence = logit_mixture._evidence(grid, s, n, threshold)
        moments = [evidence.one(p)] if k == 1 else evidence.two([p, 1 - p])
        for r, m in enumerate(moments):
            q = p if r == 0 else 1 - p
            want = float(log_evidence(s[r], n, q, method="logit_mixture", sigma=sigma))
            got = evidence.shifts[r] + math.log(m[0][0]) + threshold
            assert got == pytest.approx(want, rel=1e-12, abs=1e-9), (p, r)
            y = 1 + q * grid.growth
            t = grid.log_weights + s[r] * grid.lam - n * np.log(y)
            w = np.exp(t - t.max())
            mean_ratio = float((w * grid.growth / y).sum() / w.sum())
            assert m[0][3] / m[0][0] == pytest.approx(mean_ratio, rel=1e-10), (p, r)
