"""Bernoulli CUSUM (Page 1954) for a drop of a success rate, calibrated exactly.

The detector works on an integer lattice: a wrong answer adds ``up``, a correct one
subtracts ``down``, the statistic is floored at 0 and alarms at ``threshold``. The
ratio ``down / up`` is the best rational approximation, on a lattice step of about
0.005 log-likelihood units, of the ratio ``log(p0/p1) / log((1-p1)/(1-p0))``, so the
detector is the CUSUM of a drop to a rate within a hair of ``p1``. Because the detector
itself runs on the lattice, the Markov chain of its states (Brook & Evans 1972;
Reynolds & Stoumbos 1999) is its *exact* law: average run lengths below are exact for
the detector that runs, not approximations of it. The threshold is the smallest lattice value whose
in-control average run length is >= the requested false-alarm interval.

CUSUM minimises Lorden's worst-case delay among rules with the same false-alarm
interval (Moustakides 1986); its worst case is a change while the statistic sits at 0,
so ``worst_case_delay`` is the exact average run length from 0 at ``p1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import solve_banded

_STEP = 0.005


def check_rates(p0: float, p1: float) -> None:
    """Raise ValueError unless 0 < p1 < p0 < 1 (names the offending argument)."""
    for name, value in (("p0", p0), ("p1", p1)):
        if not (isinstance(value, Real) and math.isfinite(value) and 0 < value < 1):
            raise ValueError(
                f"{name} must be a success rate strictly between 0 and 1, got {value!r}"
            )
    if p1 >= p0:
        raise ValueError(
            "p1 must be below p0 (the detector looks for a drop from p0 to p1),"
            f" got p0={p0}, p1={p1}"
        )


def check_interval(false_alarm_interval: float) -> None:
    """Raise ValueError unless the false-alarm interval is a finite number >= 2 events."""
    if not (
        isinstance(false_alarm_interval, Real)
        and math.isfinite(false_alarm_interval)
        and false_alarm_interval >= 2
    ):
        raise ValueError(
            "false_alarm_interval must be a finite mean number of events between false alarms"
            f" >= 2, got {false_alarm_interval!r}"
        )


def check_outcome(correct: bool) -> None:
    """Raise ValueError unless ``correct`` is one bool (was the answer right?)."""
    if not isinstance(correct, bool | np.bool_):
        raise ValueError(f"correct must be a bool (was the answer right?), got {correct!r}")


def as_outcome_batch(outcomes: ArrayLike) -> NDArray[np.bool_]:
    """``outcomes`` as a 1-D bool array, or ValueError naming its dtype and shape."""
    batch = np.asarray(outcomes)
    if batch.dtype != np.bool_ or batch.ndim != 1:
        raise ValueError(
            f"outcomes must be a 1-D sequence of bools, got dtype {batch.dtype} and shape"
            f" {batch.shape}"
        )
    return batch


@dataclass(frozen=True)
class CusumLattice:
    """Integer CUSUM: wrong adds ``up``, correct subtracts ``down``, alarm at ``threshold``.

    ``unit`` is the log-likelihood ratio of one lattice step, so ``threshold * unit`` is
    the threshold h in log-likelihood units.

    Example:
        >>> lat = CusumLattice.for_rates(0.92, 0.87).with_threshold(10)
        >>> lat.first_alarm(np.ones((1, 3), dtype=bool))[0].tolist()
        [0]
    """

    up: int
    down: int
    unit: float
    threshold: int = 1

    @classmethod
    def for_rates(cls, p0: float, p1: float, step: float = _STEP) -> CusumLattice:
        """The lattice of the CUSUM for a drop p0 -> p1 (threshold still to be chosen).

        ``down / up`` is the best rational approximation of the log-likelihood ratio
        ratio whose step ``unit`` is no finer than ``step`` log-likelihood units: the
        in-control ARL then moves by about ``step`` (relatively) per threshold step,
        and the chain has about ``h / step`` states.
        """
        check_rates(p0, p1)
        wrong_llr = math.log((1 - p1) / (1 - p0))
        ratio = math.log(p0 / p1) / wrong_llr
        frac = Fraction(ratio).limit_denominator(max(1, math.ceil(wrong_llr / step)))
        if frac.numerator == 0:
            frac = Fraction(ratio).limit_denominator(math.ceil(2 / ratio))
        return cls(up=frac.denominator, down=frac.numerator, unit=wrong_llr / frac.denominator)

    def with_threshold(self, threshold: int) -> CusumLattice:
        """The same lattice alarming at ``threshold`` (an integer >= 1)."""
        return CusumLattice(self.up, self.down, self.unit, max(1, int(threshold)))

    def run_lengths(self, p: float) -> NDArray[np.float64]:
        """Exact average run length from every state 0..threshold-1 when the success rate is p.

        Solves ``(I - P) L = 1`` for the transient states of the chain; the matrix is
        banded (``down`` below, ``up`` above the diagonal), so this is O(states * band^2).
        """
        n, lo, hi = self.threshold, self.down, self.up
        bands = np.zeros((lo + hi + 1, n))
        bands[hi, :] = 1.0
        states = np.arange(n)
        rises = states + hi < n
        # solve_banded layout: A[i, j] is stored at bands[hi + i - j, j].
        bands[0, states[rises] + hi] -= 1.0 - p
        falls_to = np.maximum(states - lo, 0)
        np.subtract.at(bands, (hi + states - falls_to, falls_to), p)
        result: NDArray[np.float64] = solve_banded((lo, hi), bands, np.ones(n))
        return result

    def first_alarm(
        self, wrong: NDArray[np.bool_], start: NDArray[np.int64] | int = 0
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Run the detector over a streams x events array of wrong-answer indicators.

        Returns, per stream, the 0-based index of the first alarm (-1 if none) and the
        statistic at that alarm (after the last event if none). Uses Lindley's form
        ``S_t = X_t - min(-S_0, min_{s<=t} X_s)`` so a whole block is a cumsum.
        """
        wrong = np.atleast_2d(wrong)
        steps = np.where(wrong, np.int64(self.up), np.int64(-self.down))
        walk: NDArray[np.int64] = np.cumsum(steps, axis=1)
        reflect_at = -np.asarray(start, dtype=np.int64).reshape(-1, 1)
        stat: NDArray[np.int64] = walk - np.minimum(np.minimum.accumulate(walk, axis=1), reflect_at)
        hit = stat >= self.threshold
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1).astype(np.int64)
        at = np.where(first >= 0, first, stat.shape[1] - 1)
        return first, stat[np.arange(stat.shape[0]), at].astype(np.int64)


@dataclass(frozen=True)
class CusumDesign:
    """A calibrated CUSUM: its lattice and its exact operating characteristics.

    ``false_alarm_interval`` is the exact in-control average run length achieved
    (>= ``requested_interval``); ``worst_case_delay`` is the exact average number of
    events from a drop to the alarm, counting the alarming event, when the drop finds
    the statistic at 0 (Lorden's worst case for CUSUM).
    """

    p0: float
    p1: float
    requested_interval: float
    lattice: CusumLattice
    false_alarm_interval: float
    worst_case_delay: float

    @property
    def h(self) -> float:
        """Threshold in log-likelihood-ratio units."""
        return self.lattice.threshold * self.lattice.unit


def _smallest_threshold(base: CusumLattice, p0: float, target: float) -> int:
    """Smallest integer threshold with in-control ARL >= target.

    The ARL is increasing in the threshold and log(ARL) is close to linear in it, so
    interpolating log(ARL) inside the bracket and probing the neighbour usually closes
    the bracket in two or three Markov-chain solves instead of a dozen for bisection.
    """
    log_arl: dict[int, float] = {0: 0.0}

    def f(threshold: int) -> float:
        if threshold not in log_arl:
            log_arl[threshold] = math.log(base.with_threshold(threshold).run_lengths(p0)[0])
        return log_arl[threshold]

    goal = math.log(target)
    lo, hi = 0, 0  # f(lo) < goal <= f(hi) once hi > lo; hi == 0 means "not found yet"
    prev = max(1, math.ceil(0.5 / base.unit))
    last = 2 * prev
    for threshold in (prev, last):
        lo, hi = (lo, hi or threshold) if f(threshold) >= goal else (threshold, hi)
    while hi == 0 or hi - lo > 1:
        # Secant through the two latest evaluations, not the bracket ends: small
        # thresholds are cheap to solve, and log(ARL) is nearly straight, so this lands
        # within a step or two of the answer.
        slope = max((f(last) - f(prev)) / (last - prev), 1e-12)
        guess = max(last + math.ceil((goal - f(last)) / slope), lo + 1)
        # Thresholds up to ``up`` all alarm on the first wrong answer, so the slope can
        # be flat (high p0: ``up`` exceeds the first probes); unbracketed, grow at most
        # 4x per step instead of extrapolating a flat slope to an astronomic threshold.
        guess = min(guess, hi - 1) if hi else min(guess, 4 * last)
        probe = guess - 1 if f(guess) >= goal else guess + 1
        lo, hi = (lo, guess) if f(guess) >= goal else (guess, hi)
        if lo < probe and (hi == 0 or probe < hi):
            lo, hi = (lo, probe) if f(probe) >= goal else (probe, hi)
        prev, last = last, guess
    return hi


@lru_cache(maxsize=1024)
def calibrate_cusum(p0: float, p1: float, false_alarm_interval: float) -> CusumDesign:
    """Smallest CUSUM threshold whose exact in-control ARL is >= false_alarm_interval.

    Example:
        >>> d = calibrate_cusum(0.92, 0.87, 10_000)
        >>> round(d.worst_case_delay)
        269
    """
    check_rates(p0, p1)
    check_interval(false_alarm_interval)
    base = CusumLattice.for_rates(p0, p1)
    threshold = _smallest_threshold(base, p0, false_alarm_interval)
    lattice = base.with_threshold(threshold)
    return CusumDesign(
        p0=p0,
        p1=p1,
        requested_interval=false_alarm_interval,
        lattice=lattice,
        false_alarm_interval=float(lattice.run_lengths(p0)[0]),
        worst_case_delay=float(lattice.run_lengths(p1)[0]),
    )


def cusum_average_run_length(p0: float, p1: float, h: float, p: float, start: float = 0.0) -> float:
    """Exact mean number of events to alarm of the (p0 -> p1) CUSUM with threshold h.

    ``p`` is the true success rate: ``p = p0`` gives the false-alarm interval, ``p = p1``
    from ``start = 0`` the worst-case (Lorden) delay. ``h`` and ``start`` are in
    log-likelihood units and are rounded to the lattice the detector runs on.

    Raises ValueError unless h is finite and at least half a lattice step, and when
    the chain would exceed 20,000,000 banded-matrix cells (states x (up + down + 1),
    about 160 MB), so h = 1e9 is refused instead of exhausting memory. For 0.92 -> 0.87
    the bound allows h up to about 1,100, a false-alarm interval far beyond any rollout.

    Example:
        >>> d = calibrate_cusum(0.92, 0.87, 500)
        >>> cusum_average_run_length(0.92, 0.87, d.h, 0.92) == d.false_alarm_interval
        True
    """
    check_rates(p0, p1)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a success rate in [0, 1], got {p!r}")
    if isinstance(h, bool) or not (isinstance(h, Real) and math.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite threshold > 0 in log-likelihood units, got {h!r}")
    base = CusumLattice.for_rates(p0, p1)
    states = round(h / base.unit)
    if states < 1:
        raise ValueError(
            f"h must be at least half a lattice step ({base.unit / 2:.3g} log-likelihood "
            f"units for p0={p0}, p1={p1}), got {h!r}"
        )
    max_cells, band = 20_000_000, base.up + base.down + 1
    if states * band > max_cells:
        raise ValueError(
            f"h={h!r} needs a chain of {states:,} states x {band} bands, more than the "
            f"{max_cells:,} matrix cells this function solves; for p0={p0}, p1={p1} h must "
            f"be <= {max_cells // band * base.unit:.6g}"
        )
    lattice = base.with_threshold(states)
    state = round(start / base.unit)
    if not 0 <= state < lattice.threshold:
        raise ValueError(
            f"start must be in [0, h) (the CUSUM statistic is floored at 0 and alarms at h={h}),"
            f" got {start!r}"
        )
    return float(lattice.run_lengths(p)[state])


class CusumDetector:
    """Page's CUSUM for a drop of a success rate from p0 to p1, exactly calibrated.

    ``update`` returns True once the detector has alarmed. After an alarm the detector
    is latched: further outcomes are ignored and ``update`` keeps returning True until
    ``reset()`` (the controller pauses on the first alarm; a resume starts a new run).

    Guarantee (exact, assuming independent outcomes with constant success rate p0):
    the mean number of events between false alarms is ``false_alarm_interval`` (the
    achieved value, >= the requested one); after a drop to p1 the mean number of events
    to the alarm is at most ``worst_case_delay``, wherever the drop falls. That is the
    minimum possible at this false-alarm rate up to the lattice (CUSUM is optimal in
    Lorden's sense, Moustakides 1986; for 0.92 -> 0.87 the lattice costs about 0.1%).

    Example:
        >>> det = CusumDetector(p0=0.92, p1=0.87, false_alarm_interval=10_000)
        >>> det.update(True)
        False
        >>> det.n, det.statistic
        (1, 0.0)
    """

    def __init__(self, p0: float, p1: float, false_alarm_interval: float) -> None:
        self.design = calibrate_cusum(p0, p1, false_alarm_interval)
        self._lattice = self.design.lattice
        self._state = 0
        self._n = 0
        self._alarm_at: int | None = None

    @property
    def h(self) -> float:
        """Alarm threshold in log-likelihood-ratio units."""
        return self.design.h

    @property
    def statistic(self) -> float:
        """Current CUSUM statistic in log-likelihood-ratio units (0 after a reset)."""
        return self._state * self._lattice.unit

    @property
    def n(self) -> int:
        """Outcomes processed since the last reset, up to and including the alarm."""
        return self._n

    @property
    def alarmed(self) -> bool:
        """Whether the detector has alarmed since the last reset."""
        return self._alarm_at is not None

    @property
    def alarm_at(self) -> int | None:
        """``n`` at the alarming outcome, or None."""
        return self._alarm_at

    @property
    def false_alarm_interval(self) -> float:
        """Exact in-control mean number of events between false alarms (>= requested)."""
        return self.design.false_alarm_interval

    @property
    def worst_case_delay(self) -> float:
        """Exact mean events from a drop to p1 to the alarm, drop found at statistic 0."""
        return self.design.worst_case_delay

    def reset(self) -> None:
        """Start a new run: statistic 0, n 0, not alarmed."""
        self._state, self._n, self._alarm_at = 0, 0, None

    def update(self, correct: bool) -> bool:
        """Add one labelled outcome; True if the detector has alarmed."""
        check_outcome(correct)
        if self._alarm_at is not None:
            return True
        lat = self._lattice
        self._state = self._state + lat.up if not correct else max(0, self._state - lat.down)
        self._n += 1
        if self._state >= lat.threshold:
            self._alarm_at = self._n
        return self._alarm_at is not None

    def update_many(self, outcomes: ArrayLike) -> bool:
        """Add a batch of outcomes (1-D bools, in order), vectorized; True if alarmed."""
        batch = as_outcome_batch(outcomes)
        if self._alarm_at is not None or batch.size == 0:
            return self.alarmed
        first, state = self._lattice.first_alarm(~batch[None, :], self._state)
        self._state = int(state[0])
        if first[0] >= 0:
            self._n += int(first[0]) + 1
            self._alarm_at = self._n
        else:
            self._n += batch.size
        return self.alarmed
