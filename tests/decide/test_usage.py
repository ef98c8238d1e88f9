"""RateCounter: the sliding window behind the rate-limit guardrail."""

from __future__ import annotations

import random
import threading

import pytest

from trustramp.decide import RateCounter


def test_window_slides_and_counts_up_to_the_limit() -> None:
    counter = RateCounter(limit=3, window=60.0)
    for t in (0.0, 10.0, 20.0, 30.0):
        counter.hit("u", t)
    assert counter.count("u", 30.0) == 3  # capped at the limit: all the gate needs
    assert counter.count("u", 70.5) == 2  # 10.0 left the window (70.5 - 60 > 10)
    assert counter.count("u", 90.0) == 0  # (30, 90]: nothing, 30.0 is out
    assert counter.count("other", 30.0) == 0


def test_matches_a_brute_force_count_on_random_traffic() -> None:
    rng = random.Random(3)
    limit, window = 5, 100.0
    counter = RateCounter(limit, window)
    times: dict[str, list[float]] = {}
    now = 0.0
    for _ in range(3000):
        now += rng.expovariate(0.2)
        key = rng.choice("abc")
        expected = sum(1 for t in times.get(key, []) if t > now - window)
        assert counter.count(key, now) == min(expected, limit)
        counter.hit(key, now)
        times.setdefault(key, []).append(now)


def test_idle_keys_are_pruned() -> None:
    counter = RateCounter(limit=2, window=10.0, prune_every=100)
    for i in range(99):
        counter.hit(f"k{i}", float(i) * 0.01)
    assert len(counter) == 99
    counter.hit("late", 100.0)  # the 100th hit prunes keys idle for a whole window
    assert len(counter) == 1


def test_concurrent_hits_are_all_counted() -> None:
    counter = RateCounter(limit=100_000, window=1e9)

    def work() -> None:
        for _ in range(5000):
            counter.hit("shared", 1.0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.count("shared", 2.0) == 20000


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit must be >= 1"):
        RateCounter(0, 60.0)
    with pytest.raises(ValueError, match="window must be > 0"):
        RateCounter(1, 0.0)
