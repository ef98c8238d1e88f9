"""Property: whatever the plan's shape, moving to a later phase never removes a unit."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trustramp.decide import compile_policy
from trustramp.plan.schema import Plan

SEGMENTS = {name: {"condition": {"group": {"$in": groups}}}
            for name, groups in (("a", [0, 1]), ("b", [1, 2]), ("c", [3]))}
USERS = [{"id": f"p{i}", "group": i % 5} for i in range(300)]

phase_shape = st.tuples(
    st.lists(st.sampled_from(sorted(SEGMENTS)), max_size=2, unique=True),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
)


@settings(max_examples=40, deadline=None)
@given(shapes=st.lists(phase_shape, min_size=2, max_size=4),
       lift=st.integers(min_value=0, max_value=4))
def test_later_phases_keep_every_exposed_unit(shapes: list[tuple[list[str], float]],
                                               lift: int) -> None:
    names = [f"phase-{i}" for i in range(len(shapes))]
    data: dict[str, Any] = {
        "feature": {"key": "prop", "stakes": "low", "fallback": "none"},
        "segments": SEGMENTS,
        "exclusions": [{"name": "group-four", "condition": {"group": 4},
                        "until_phase": names[lift] if lift < len(names) else None}],
        "phases": [{"name": name, "audience": {"segments": segments, "percent": percent}}
                   for name, (segments, percent) in zip(names, shapes, strict=True)],
    }
    policy = compile_policy(Plan.model_validate(data))
    before: set[str] = set()
    for name in names:
        snapshot = policy.with_phase(name)
        exposed = {u["id"] for u in USERS if snapshot.exposure(u).exposed}
        assert before <= exposed, name
        before = exposed
