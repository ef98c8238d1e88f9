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
it the same series as above. The bets of a stream decrease, so wild bets arrive sorted
by switch point, each appended with its 64 powers in O(64); at a rate p only the wild
bets with ``c < b <= c / p`` are untruncated (few for any stream: for a nearly
error-free one p is near 1), so a look costs one 64-term polynomial plus those,
whatever n is (memory is O(wild bets)). The upper side is the lower side of
the mirrored stream (``1 - x`` against ``1 - p``).

The bound is the largest rate the capital rejects, found by a safeguarded Newton
iteration warm-started from the previous look (the capital is monotone in p, not convex,
so the reported bound is always a point evaluated as rejected).
"""

from __future__ import annotations

import bisect
import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

BET_CAP = 0.5  # WSR's truncation c: bets never risk more than half the capital
_TERMS = 64
_POWERS = np.arange(1, _TERMS + 1, dtype=np.float64)
_INV = 1.0 / _POWERS
_POWERS_BELOW = _POWERS - 1.0
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
        self._wild: _WildIndex | None = _WildIndex()
        # (j, wild bets, rows, constant): the series coefficients over k and as they are,
        # for the bets untruncated at rates between wild switch points j - 1 and j.
        self._series: tuple[int, int, FloatArray, float] | None = None
        self.last: tuple[float, float, float] | None = None  # (p, f, f') of the last eval

    def add_one(self, x: bool, bet: float) -> None:
        """Add one outcome (True = success for this side) with its bet."""
        if bet > BET_CAP:
            self._add_wild(x, bet)
        else:
            self.sums += np.power(bet / (1 + bet) if x else bet, _POWERS)
            self.constant += math.log1p(bet) if x else 0.0
            self.tame += 1
            self._series = None
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
        self._series = None
        if self.last is not None:
            self.last = (self.last[0], *self.capital(self.last[0]))

    def _add_wild(self, x: bool, bet: float) -> None:
        self.wild_b.append(bet)
        self.wild_x.append(1.0 if x else 0.0)
        self.wild_at_zero += math.log1p(bet) if x else 0.0
        if self._wild is not None and not self._wild.add(bet, x):
            self._wild = None  # rebuilt in order at the next evaluation

    def _index(self) -> _WildIndex:
        if self._wild is None:  # a bet arrived out of order (never from one stream)
            order = sorted(range(len(self.wild_b)), key=lambda i: BET_CAP / self.wild_b[i])
            self._wild = _WildIndex()
            for i in order:
                self._wild.add(self.wild_b[i], self.wild_x[i] > 0)
        return self._wild

    def capital(self, p: float) -> tuple[float, float]:
        """Log capital at ``p`` in (0, 1] and its derivative in p (a lower bound on it)."""
        wild = self._index()
        j = bisect.bisect_left(wild.switch, p)  # wild bets before j are truncated at p
        rows, constant = self._rows(wild, j)
        scaled, plain = (rows @ np.power(p, _POWERS_BELOW)).tolist()
        value = constant - p * scaled - (self.tame + len(wild.switch) - j) * _TAIL
        slope = -plain
        wins, losses = wild.wins[j], j - wild.wins[j]
        if wins:
            value += wins * math.log1p(BET_CAP * (1 - p) / p)
            slope += wins * ((1 - BET_CAP) / (BET_CAP + (1 - BET_CAP) * p) - 1 / p)
        value += losses * _TRUNCATED_X0
        return value, slope

    def _rows(self, wild: _WildIndex, j: int) -> tuple[FloatArray, float]:
        """Coefficients ``(sum_k / k, sum_k)`` of the series at rates past switch ``j``."""
        series = self._series
        if series is None or series[0] != j or series[1] != len(wild.switch):
            sums, constant = wild.untruncated(j)
            rows = np.empty((2, _TERMS))
            np.add(self.sums, sums, out=rows[1])
            np.multiply(rows[1], _INV, out=rows[0])
            series = self._series = (j, len(wild.switch), rows, self.constant + constant)
        return series[2], series[3]

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
            if x < 0:  # the carried-forward point is rejected and within tolerance
                return lo
        for _ in range(200):
            f, d = self.capital(x)
            self.last = (x, f, d)
            lo, hi, x = _step(x, f - threshold, d, lo, hi)
            if x < 0:
                break
        return lo


class _WildIndex:
    """Wild bets in order of switch point ``c / b``, each with its series powers.

    The bets of a stream strictly decrease (``t * prev_var = 0.25 + sum of squares``
    never decreases and ``log(1 + t)`` grows), so their switch points arrive in
    increasing order and a new bet is appended in O(64). Bets ``j`` on (switch point at
    or above the rate) are untruncated; their sums are added up directly rather than
    as a difference of prefix sums, which the early bets' huge powers would swamp.
    Only bets with ``c < b <= c / p`` are untruncated at p, few for any stream, and the
    sums are cached until the next bet or another ``j``.
    """

    def __init__(self) -> None:
        self.switch: list[float] = []
        self.powers = np.zeros((16, _TERMS))
        self.gains: list[float] = []  # log(1 + b) for a success, 0 for a failure
        self.wins = [0]
        self._cached: tuple[int, int, FloatArray, float] | None = None

    def add(self, b: float, x: bool) -> bool:
        """Append one bet; False (and nothing changed) if it is out of order."""
        switch = BET_CAP / b
        size = len(self.switch)
        if size and switch < self.switch[-1]:
            return False
        if size >= self.powers.shape[0]:
            self.powers = np.concatenate([self.powers, np.zeros_like(self.powers)])
        np.power(b / (1 + b) if x else b, _POWERS, out=self.powers[size])
        self.switch.append(switch)
        self.gains.append(math.log1p(b) if x else 0.0)
        self.wins.append(self.wins[-1] + int(x))
        return True

    def untruncated(self, j: int) -> tuple[FloatArray, float]:
        """Series sums and constant of the bets from ``j`` on."""
        size = len(self.switch)
        if self._cached is None or self._cached[:2] != (j, size):
            sums = self.powers[j:size].sum(axis=0)
            self._cached = (j, size, sums, math.fsum(self.gains[j:]))
        return self._cached[2], self._cached[3]


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
