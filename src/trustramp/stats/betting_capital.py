"""The betting CS's log capital at any rate, in O(1) memory for all but the early bets.

The capital against rate ``p`` (lower side) is ``sum_i log(1 + lam_i (x_i - p))`` with
``lam_i = min(b_i, c / p)``. A bet with ``b_i <= c`` is never truncated for p in (0, 1],
so its term is an analytic function of p with a power series that converges fast
(``b_i p <= c = 1/2``)::

    x = 0:  log(1 - b p)                    = -sum_k (b p)^k / k
    x = 1:  log(1 + b (1 - p)) = log(1 + b)  - sum_k (beta p)^k / k,  beta = b / (1 + b)

so the sums ``sum_i r_i^k`` (k = 1..64) over those bets give the capital exactly at any
p; the 64-term truncation is bounded (at most 8.4e-22 per bet) and subtracted, which
keeps the capital a lower bound. A bet above ``c`` ("wild": the first few dozen labels
for rates in (0.01, 0.99); more when failures are very rare, as the variance estimate
then stays tiny) is truncated exactly when p exceeds its switch point ``c / b``: above
it the term is ``log(1 + c(1 - p)/p)`` (a success) or ``log(1 - c)`` (a failure), below
it the same series as above. So the wild bets, sorted by switch point, carry suffix sums
of the series and prefix counts, rebuilt when a wild bet arrives (O(wild bets)), and a
look costs one 64-term polynomial whatever n is. The upper side is the lower side of
the mirrored stream (``1 - x`` against ``1 - p``).

The bound is the largest rate the capital rejects, found by a safeguarded Newton
iteration warm-started from the previous look (the capital is monotone in p, not convex,
so the reported bound is always a point evaluated as rejected).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

BET_CAP = 0.5  # WSR's truncation c: bets never risk more than half the capital
_TERMS = 64
_POWERS = np.arange(1, _TERMS + 1, dtype=np.float64)
_INV = 1.0 / _POWERS
_TAIL = BET_CAP ** (_TERMS + 1) / ((_TERMS + 1) * (1 - BET_CAP))  # series tail per bet
_CHUNK = 4096
_REL_TOL = 1e-11
_TRUNCATED_X0 = math.log1p(-BET_CAP)


class CapitalSide:
    """Log capital of one side (bettor against rates below the truth) as a function of p."""

    def __init__(self) -> None:
        self.sums = np.zeros(_TERMS)  # sum_i r_i^k over the never-truncated bets
        self.constant = 0.0  # sum of log(1 + b) over their successes
        self.tame = 0
        self.wild_b: list[float] = []
        self.wild_x: list[float] = []
        self.wild_at_zero = 0.0  # sum of log(1 + b) over the wild bets' successes
        self._wild: _WildIndex | None = None
        self._scaled: FloatArray | None = None
        self.last: tuple[float, float, float] | None = None  # (p, f, f') of the last eval

    def add_one(self, x: bool, bet: float) -> None:
        """Add one outcome (True = success for this side) with its bet."""
        if bet > BET_CAP:
            self._add_wild(x, bet)
        else:
            self.sums += np.power(bet / (1 + bet) if x else bet, _POWERS)
            self.constant += math.log1p(bet) if x else 0.0
            self.tame += 1
            self._scaled = None
        self.note_outcome(x, bet)

    def add(self, x: NDArray[np.bool_], bets: FloatArray) -> None:
        """Add outcomes (True = success for this side) with their bets."""
        tame = bets <= BET_CAP
        for v, b in zip(x[~tame].tolist(), bets[~tame].tolist(), strict=True):
            self._add_wild(v, b)
        b, xt = bets[tame], x[tame]
        r = np.where(xt, b / (1 + b), b)
        for i in range(0, r.size, _CHUNK):
            self.sums += np.power(r[i : i + _CHUNK, None], _POWERS).sum(axis=0)
        self.constant += float(np.log1p(b[xt]).sum())
        self.tame += int(b.size)
        self._scaled = None
        if self.last is not None:
            self.last = (self.last[0], *self.capital(self.last[0]))

    def _add_wild(self, x: bool, bet: float) -> None:
        self.wild_b.append(bet)
        self.wild_x.append(1.0 if x else 0.0)
        self.wild_at_zero += math.log1p(bet) if x else 0.0
        self._wild = None

    def _index(self) -> _WildIndex:
        if self._wild is None:
            self._wild = _WildIndex.build(np.array(self.wild_b), np.array(self.wild_x))
        return self._wild

    def capital(self, p: float) -> tuple[float, float]:
        """Log capital at ``p`` in (0, 1] and its derivative in p (a lower bound on it)."""
        wild = self._index()
        j = bisect.bisect_left(wild.switch, p)  # wild bets before j are truncated at p
        coef = self.sums + wild.sums[j]
        pk = np.power(p, _POWERS - 1.0)
        value = (self.constant + float(wild.constant[j]) - p * float(np.dot(coef * _INV, pk))
                 - (self.tame + len(wild.switch) - j) * _TAIL)
        slope = -float(np.dot(coef, pk))
        wins, losses = int(wild.wins[j]), j - int(wild.wins[j])
        if wins:
            value += wins * math.log1p(BET_CAP * (1 - p) / p)
            slope += wins * ((1 - BET_CAP) / (BET_CAP + (1 - BET_CAP) * p) - 1 / p)
        value += losses * _TRUNCATED_X0
        return value, slope

    def at_zero(self) -> float:
        """Log capital at p = 0: no bet is truncated and every success gains log(1 + b)."""
        return self.constant + self.wild_at_zero

    def note_outcome(self, x: bool, bet: float) -> None:
        """Carry the last evaluation forward by one new outcome (exact: capital adds)."""
        if self.last is None:
            return
        p, f, d = self.last
        lam = min(bet, BET_CAP / p)
        gain = lam * ((1.0 if x else 0.0) - p)
        dlam = -BET_CAP / (p * p) if bet * p > BET_CAP else 0.0
        self.last = (p, f + math.log1p(gain), d + (dlam * ((1.0 if x else 0.0) - p) - lam)
                     / (1 + gain))

    def bound(self, threshold: float) -> float:
        """Largest p the capital rejects (0 if not even p = 0 is rejected)."""
        if self.at_zero() < threshold:
            self.last = None
            return 0.0
        lo, hi = 0.0, 1.0  # the capital against p = 1 never grows: always kept
        x = 0.5
        if self.last is not None and 0 < self.last[0] < 1:
            x, f, d = self.last
            lo, hi, x = _step(x, f - threshold, d, lo, hi)
        for _ in range(200):
            f, d = self.capital(x)
            self.last = (x, f, d)
            lo, hi, x = _step(x, f - threshold, d, lo, hi)
            if x < 0:
                break
        return lo


@dataclass(frozen=True)
class _WildIndex:
    """Wild bets sorted by switch point ``c / b``, with suffix series sums and prefix wins.

    Row ``j`` of ``sums`` and ``constant`` covers the bets from ``j`` on (untruncated at a
    rate at or below their switch point); ``wins[j]`` counts the successes before ``j``.
    """

    switch: list[float]
    sums: FloatArray
    constant: FloatArray
    wins: NDArray[np.int64]

    @classmethod
    def build(cls, b: FloatArray, x: FloatArray) -> _WildIndex:
        order = np.argsort(BET_CAP / b, kind="stable")
        b, x = b[order], x[order]
        r = np.where(x > 0, b / (1 + b), b)
        sums = np.zeros((b.size + 1, _TERMS))
        constant = np.zeros(b.size + 1)
        if b.size:
            sums[:-1] = np.cumsum(np.power(r[::-1, None], _POWERS), axis=0)[::-1]
            constant[:-1] = np.cumsum(np.where(x > 0, np.log1p(b), 0.0)[::-1])[::-1]
        wins = np.concatenate([[0], np.cumsum(x > 0)]).astype(np.int64)
        return cls((BET_CAP / b).tolist(), sums, constant, wins)


def _step(x: float, f: float, d: float, lo: float, hi: float) -> tuple[float, float, float]:
    """New bracket and next point (negative when ``lo`` is within tolerance of the root).

    From a rejected point the Newton point is shortened a hair, from a kept one moved a
    hair past, so that the iteration ends on a point evaluated as rejected.
    """
    if f >= 0:
        lo = x
    else:
        hi = x
    if hi - lo <= _REL_TOL * hi:
        return lo, hi, -1.0
    if d < 0 and math.isfinite(d) and math.isfinite(f):
        step = -f / d
        if f >= 0 and step <= _REL_TOL * x:
            return lo, hi, -1.0
        nx = x + step - abs(step) * 1e-6 - 1e-3 * _REL_TOL * x
        if lo < nx < hi:
            return lo, hi, nx
    return lo, hi, 0.5 * (lo + hi)
