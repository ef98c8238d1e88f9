"""Targeting speed: compiled conditions and bucketing against GrowthBook's Python SDK.

One command: ``.venv/bin/python benchmarks/bench_targeting.py``. Prints the median
microseconds per call (median over repeats of timed batches) and our ratio to
GrowthBook's ``evalCondition`` / ``gbhash`` on the same input (< 1 means faster).
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from typing import Any

from growthbook.core import evalCondition, gbhash

from trustramp.targeting import bucket, compile_condition, in_rollout, matches

USER: dict[str, Any] = {
    "id": "user-123", "tier": "pro", "country": "DE", "age": 34, "email": "ana@acme.com",
    "app": {"version": "2.10.1"}, "tags": ["beta", "power"],
    "portfolio": {"value": 4200, "positions": [{"kind": "etf"}, {"kind": "stock"}]},
}
CONDITIONS: dict[str, dict[str, Any]] = {
    "implicit equality": {"tier": "pro"},
    "one comparison": {"age": {"$gte": 18}},
    "segment (3 keys, $in)": {"tier": {"$in": ["pro", "team"]},
                              "country": {"$in": ["DE", "FR", "NL"]}, "age": {"$gte": 18}},
    "nested $or/regex/version": {"$or": [
        {"email": {"$regex": "@example\\.org$"}},
        {"app.version": {"$vgte": "2.4.0"}, "tags": {"$elemMatch": {"$eq": "beta"}}},
    ]},
    "elemMatch on objects": {"portfolio.positions": {"$elemMatch": {"kind": "stock"}},
                             "portfolio.value": {"$lt": 5000}},
}


def median_us(fn: Callable[[], object], number: int = 20_000, repeat: int = 7) -> float:
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main() -> None:
    rows: list[tuple[str, float, float]] = []
    for name, condition in CONDITIONS.items():
        compiled = compile_condition(condition)
        assert compiled(USER) is evalCondition(USER, condition), name
        ours = median_us(lambda c=compiled: c(USER))
        peer = median_us(lambda cond=condition: evalCondition(USER, cond))
        rows.append((f"condition: {name}", ours, peer))
    segment = CONDITIONS["segment (3 keys, $in)"]
    rows.append(("matches() (cached compile): segment", median_us(lambda: matches(segment, USER)),
                 median_us(lambda: evalCondition(USER, segment))))
    rows.append(("bucket() vs gbhash v2", median_us(lambda: bucket("portfolio-advice", "user-123")),
                 median_us(lambda: gbhash("portfolio-advice", "user-123", 2))))
    rows.append(("in_rollout(10%) vs gbhash v2 < 0.1",
                 median_us(lambda: in_rollout("portfolio-advice", "user-123", 10.0)),
                 median_us(lambda: (gbhash("portfolio-advice", "user-123", 2) or 1.0) < 0.1)))
    rows.append(("compile_condition(segment), once per policy",
                 median_us(lambda: compile_condition(segment), number=2_000),
                 median_us(lambda: evalCondition(USER, segment))))

    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'trustramp us':>12}  {'growthbook us':>13}  {'ratio':>6}")
    for name, ours, peer in rows:
        print(f"{name:<{width}}  {ours:>12.3f}  {peer:>13.3f}  {ours / peer:>6.2f}")
    print("ratio = trustramp / growthbook (Python SDK, same input); < 1 is faster. The last row "
          "compares a one-off compile with one GrowthBook evaluation.")


if __name__ == "__main__":
    main()
