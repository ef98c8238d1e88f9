"""Exposure semantics: segments, allow lists, exclusions, the union of phases, caps, state."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from trustramp.decide import Policy, RolloutStatus, User, compile_policy
from trustramp.errors import TrustrampError
from trustramp.plan.schema import Plan
from trustramp.targeting import ConditionError, bucket

from .plans import make_policy, plan_dict

FEATURE = "portfolio-advice"


def population(n: int, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"id": f"u{i}-{rng.getrandbits(32):x}", "staff": rng.random() < 0.05,
             "beta_opt_in": rng.random() < 0.4, "portfolio_usd": rng.choice([800, 4000, 90000]),
             "followers": rng.choice([10, 500, 250000])} for i in range(n)]


def test_segment_condition_and_allow_list(policy: Policy) -> None:
    staff = policy.exposure({"id": "s1", "staff": True})
    assert staff.exposed
    assert staff.segment == "staff"
    assert staff.admit
    listed = policy.exposure({"id": "allow-1"})  # on the allow list, no attributes at all
    assert listed.exposed
    assert listed.segment == "staff"
    outsider = policy.exposure({"id": "o1", "staff": False, "beta_opt_in": True})
    assert not outsider.exposed
    assert outsider.segment is None
    assert outsider.reason == "not in the audience of any phase up to 'beta'"


def test_exclusion_holds_until_its_phase_and_forever_without_one() -> None:
    vip = {"id": "vip-1", "staff": True, "beta_opt_in": True, "followers": 500000}
    for phase in ("beta", "early-access", "gradual"):
        exposure = make_policy(phase).exposure(vip)
        assert not exposure.exposed
        assert exposure.reason == "excluded by 'vip' until phase 'full'"
    assert make_policy("full").exposure(vip).exposed
    banned = make_policy("full").exposure({"id": "banned-1", "staff": True})
    assert not banned.exposed
    assert "for the whole rollout" in banned.reason


def expected_exposure(phase: str, user: dict[str, Any], admitted: set[str]) -> bool:
    """The documented semantics, written independently of the policy code."""
    if user["followers"] >= 100000 and phase != "full":
        return False
    b = bucket(FEATURE, user["id"])
    staff = user["staff"] or user["id"] in ("allow-1", "allow-2")
    audiences = {
        "beta": staff and user["id"] in admitted,
        "early-access": user["beta_opt_in"] and b < 0.05,
        "gradual": (user["beta_opt_in"] or user["portfolio_usd"] < 5000) and b < 0.25,
        "full": True,
    }
    order = ["beta", "early-access", "gradual", "full"]
    return any(audiences[p] for p in order[: order.index(phase) + 1])


@pytest.mark.parametrize("phase", ["early-access", "gradual", "full"])
def test_union_of_earlier_phases_matches_the_documented_rule(phase: str) -> None:
    users = population(3000)
    admitted = {u["id"] for u in users if u["staff"]}  # staff admitted during beta
    policy = make_policy(phase)
    got = [policy.exposure(u, admitted=admitted, admitted_count=len(admitted)).exposed
           for u in users]
    want = [expected_exposure(phase, u, admitted) for u in users]
    assert got == want


def test_widening_never_takes_the_feature_away() -> None:
    users = population(3000, seed=9)
    admitted = {u["id"] for u in users if u["staff"]}
    exposed_before: set[str] = set()
    for phase in ("beta", "early-access", "gradual", "full"):
        policy = make_policy(phase)
        exposed = {u["id"] for u in users
                   if policy.exposure(u, admitted=admitted, admitted_count=0).exposed}
        vips = {u["id"] for u in users if u["followers"] >= 100000}
        # Only the lifted exclusion may add; nothing that was in drops out.
        assert exposed_before <= exposed, phase
        assert not (exposed - exposed_before) & vips or phase == "full"
        exposed_before = exposed


def test_percent_share_is_within_a_binomial_bound() -> None:
    users = [{"id": f"b{i}", "beta_opt_in": True, "followers": 0} for i in range(20000)]
    policy = make_policy("early-access")
    share = sum(policy.exposure(u).exposed for u in users) / len(users)
    sigma = math.sqrt(0.05 * 0.95 / len(users))
    assert abs(share - 0.05) < 4.5 * sigma


def test_absolute_cap_first_come_first_served_and_sticky(policy: Policy) -> None:
    user = {"id": "s9", "staff": True}
    free = policy.exposure(user, admitted=frozenset(), admitted_count=99)
    assert free.exposed
    assert free.admit
    assert "place 100 of 100" in free.reason
    full = policy.exposure(user, admitted=frozenset(), admitted_count=100)
    assert not full.exposed
    assert not full.admit
    assert full.reason == "the cap of 100 units of phase 'beta' is full"
    sticky = policy.exposure(user, admitted=frozenset({"s9"}), admitted_count=100)
    assert sticky.exposed
    assert not sticky.admit


def test_cap_of_an_earlier_phase_is_closed() -> None:
    later = make_policy("early-access")
    staff = {"id": "s5", "staff": True, "beta_opt_in": False}
    assert not later.exposure(staff, admitted_count=0).exposed  # no new beta admissions
    kept = later.exposure(staff, admitted=frozenset({"s5"}))
    assert kept.exposed
    assert not kept.admit
    assert kept.segment == "staff"


@pytest.mark.parametrize("status", [RolloutStatus.PAUSED, RolloutStatus.KILLED])
def test_paused_or_killed_exposes_nobody(policy: Policy, status: RolloutStatus) -> None:
    stopped = policy.with_phase("full").with_status(status, "accuracy breach")
    exposure = stopped.exposure({"id": "x", "staff": True})
    assert not exposure.exposed
    assert exposure.bucket is None
    assert exposure.reason == f"rollout is {status.value}: accuracy breach"


def test_bucket_is_the_targeting_bucket() -> None:
    policy = make_policy("full")
    for uid in ["a", "user-42", "ünïcødé-ø", "日本", "x" * 300]:
        assert policy.exposure({"id": uid}).bucket == bucket(FEATURE, uid)


@pytest.mark.parametrize(
    ("user", "error", "message"),
    [({"staff": True}, ValueError, 'user has no "id"'),
     ({"id": ""}, ValueError, "non-empty string"),
     ({"id": "a\x00b"}, ValueError, "without NUL"),
     ({"id": None}, TypeError, "must be a string"),
     ({"id": 17}, TypeError, "got int 17; pass str"),
     ({"id": True}, TypeError, "got bool True"),
     (["u1"], TypeError, "mapping of attributes or a User")],
)
def test_bad_users_are_refused_with_a_reason(policy: Policy, user: Any,
                                             error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as raised:
        policy.exposure(user)
    assert isinstance(raised.value, TrustrampError)


def test_typed_user(policy: Policy) -> None:
    typed = policy.exposure(User("s1", {"staff": True}))
    assert typed == policy.exposure({"id": "s1", "staff": True})


def test_snapshots_are_immutable(policy: Policy) -> None:
    with pytest.raises(AttributeError):
        policy.phase = "full"  # type: ignore[misc]
    exposure = policy.exposure({"id": "s1", "staff": True})
    with pytest.raises(AttributeError):
        exposure.exposed = False  # type: ignore[misc]
    later = policy.with_phase("full")
    assert (policy.phase, later.phase) == ("beta", "full")
    assert later.version == policy.version
    with pytest.raises(ValueError, match="phase 'nope' is not in plan"):
        policy.with_phase("nope")
    with pytest.raises(ValueError, match="status must be one of"):
        policy.with_status("stopped")


def test_plan_edits_change_the_version() -> None:
    data = plan_dict()
    first = compile_policy(Plan.model_validate(data)).version
    data["phases"][1]["audience"]["percent"] = 6
    second = compile_policy(Plan.model_validate(data)).version
    assert first.startswith("3-")
    assert second.startswith("3-")
    assert first != second


def test_invalid_condition_names_the_plan_field() -> None:
    data = plan_dict()
    data["segments"]["beta"]["condition"] = {"age": {"$gte": []}}
    with pytest.raises(ConditionError, match=r"segments\.beta\.condition\.age"):
        compile_policy(Plan.model_validate(data))
