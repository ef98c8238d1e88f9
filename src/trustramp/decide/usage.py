"""Sliding-window counters behind the rate-limit guardrail.

The gate itself only reads a :class:`~trustramp.decide.records.Usage` snapshot;
whoever calls it counts. :class:`RateCounter` is the counter the embedded client
keeps, in memory and per process: with N processes behind a load balancer each
one enforces the limit on its own share of the traffic.
"""

from __future__ import annotations

import threading
from collections import deque


class RateCounter:
    """Events per key in a sliding window of ``window`` seconds, counted up to ``limit``.

    Each key keeps at most ``limit`` timestamps (the limit is all the gate needs to
    know), so memory is bounded by ``limit`` per active key; keys idle for a whole
    window are dropped every ``prune_every`` hits. Thread-safe. Time is passed in
    (``now``, seconds on a monotonic clock), so tests need no sleeping.

    >>> counter = RateCounter(limit=2, window=60.0)
    >>> counter.hit("u1", now=0.0); counter.hit("u1", now=1.0)
    >>> counter.count("u1", now=30.0), counter.count("u1", now=60.5)
    (2, 1)
    """

    __slots__ = ("_hits", "_keys", "_lock", "limit", "prune_every", "window")

    def __init__(self, limit: int, window: float, prune_every: int = 4096) -> None:
        if limit < 1:
            raise ValueError(f"RateCounter limit must be >= 1, got {limit}")
        if window <= 0:
            raise ValueError(f"RateCounter window must be > 0 seconds, got {window}")
        self.limit = limit
        self.window = window
        self.prune_every = prune_every
        self._keys: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._hits = 0

    def count(self, key: str, now: float) -> int:
        """Hits of ``key`` in ``(now - window, now]``, at most ``limit``."""
        times = self._keys.get(key)
        if not times:
            return 0
        start = now - self.window
        with self._lock:
            while times and times[0] <= start:
                times.popleft()
            return len(times)

    def hit(self, key: str, now: float) -> None:
        """Record one event of ``key`` at ``now``."""
        with self._lock:
            times = self._keys.get(key)
            if times is None:
                times = self._keys[key] = deque(maxlen=self.limit)
            times.append(now)
            self._hits += 1
            if self._hits % self.prune_every == 0:
                self._prune(now)

    def __len__(self) -> int:
        """How many keys are tracked (idle ones go at the next prune)."""
        return len(self._keys)

    def _prune(self, now: float) -> None:
        start = now - self.window
        idle = [key for key, times in self._keys.items() if not times or times[-1] <= start]
        for key in idle:
            del self._keys[key]
