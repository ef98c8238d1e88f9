"""The fast edges against the 64-step bisection they replaced (stats/reference.py)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from trustramp.stats import confidence_sequence as cs_module
from trustramp.stats.confidence_sequence import ConfidenceSequence, bounds_from_counts
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
