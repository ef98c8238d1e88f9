"""Synthetic users and requests that fit a plan: who is in which segment, which inputs pass.

A plan's segments and task filters are MongoDB-style conditions; the simulator needs
users in each segment at its declared ``share`` and inputs on both sides of each
task filter. :func:`satisfying` builds attribute values that satisfy a condition
(and :func:`violating` values that do not) for the operators plans use in practice
(equality, ``$eq $ne $in $nin $gt $gte $lt $lte $exists $and $or $not``, dotted
paths); anything else is left alone, and membership is always decided afterwards
by the real compiled condition, so a value this module gets wrong only changes who is
counted where, never a decision.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustramp.plan.schema import Plan
from trustramp.targeting import compile_condition

DEFAULT_SHARE = 0.05
"""The share of users put in a segment that declares none."""
EXCLUDED_SHARE = 0.01
"""The share of users put in each exclusion (press, VIPs, large accounts)."""


def _number_near(bound: float, above: bool, rng: random.Random) -> float:
    step = max(abs(bound) * rng.uniform(0.05, 0.5), 1.0)
    value = bound + step if above else bound - step
    return round(value) if float(bound).is_integer() else value


def _operator_value(op: str, arg: Any, rng: random.Random) -> tuple[bool, Any]:
    """(ok, value) satisfying ``{op: arg}``; ok is False for an operator left alone."""
    if op == "$eq":
        return True, arg
    if op == "$in" and isinstance(arg, list) and arg:
        return True, rng.choice(arg)
    if op in ("$gt", "$gte") and isinstance(arg, int | float) and not isinstance(arg, bool):
        return True, arg if op == "$gte" and rng.random() < 0.2 else _number_near(arg, True,
                                                                                    rng)
    if op in ("$lt", "$lte") and isinstance(arg, int | float) and not isinstance(arg, bool):
        return True, _number_near(arg, False, rng)
    if op == "$ne":
        return True, (not arg) if isinstance(arg, bool) else f"not-{arg}"
    if op == "$nin" and isinstance(arg, list):
        return True, "other"
    if op == "$exists":
        return True, "present" if arg else None
    return False, None


def _violating_value(op: str, arg: Any, rng: random.Random) -> tuple[bool, Any]:
    if op == "$eq" or op == "$in":
        return True, "other"
    if op in ("$gt", "$gte") and isinstance(arg, int | float) and not isinstance(arg, bool):
        return True, _number_near(arg, False, rng)
    if op in ("$lt", "$lte") and isinstance(arg, int | float) and not isinstance(arg, bool):
        return True, arg if op == "$lt" else _number_near(arg, True, rng)
    if op == "$ne":
        return True, arg
    if op == "$nin" and isinstance(arg, list) and arg:
        return True, rng.choice(arg)
    return False, None


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = value


def satisfying(condition: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """Attributes that satisfy ``condition`` (best effort, see the module docstring)."""
    out: dict[str, Any] = {}
    for key, value in condition.items():
        if key == "$and" and isinstance(value, list):
            for part in value:
                out.update(satisfying(part, rng))
        elif key == "$or" and isinstance(value, list) and value:
            out.update(satisfying(rng.choice(value), rng))
        elif key in ("$not", "$nor"):
            branches = value if isinstance(value, list) else [value]
            for part in branches:
                out.update(violating(part, rng))
        elif key.startswith("$"):
            continue
        elif isinstance(value, Mapping) and value and all(k.startswith("$") for k in value):
            for op, arg in value.items():
                ok, found = _operator_value(op, arg, rng)
                if ok:
                    _set_path(out, key, found)
        else:
            _set_path(out, key, value)
    return out


def violating(condition: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """Attributes that make ``condition`` fail (one clause broken, best effort)."""
    out = satisfying(condition, rng)
    plain = [k for k in condition if not k.startswith("$")]
    branches = condition.get("$or")
    if isinstance(branches, list) and (not plain or rng.random() < 0.5):
        for branch in branches:  # an $or fails only when every branch does
            out.update(violating(branch, rng))
        return out
    parts = condition.get("$and")
    if isinstance(parts, list) and parts and (not plain or rng.random() < 0.5):
        out.update(violating(rng.choice(parts), rng))
        return out
    if not plain:
        return out
    key = rng.choice(plain)
    value = condition[key]
    if isinstance(value, Mapping) and value and all(k.startswith("$") for k in value):
        op, arg = rng.choice(list(value.items()))
        ok, found = _violating_value(op, arg, rng)
        _set_path(out, key, found if ok else "other")
    else:
        _set_path(out, key, (not value) if isinstance(value, bool) else "other")
    return out


@dataclass(frozen=True, slots=True)
class Population:
    """Users (attribute dicts with an ``"id"``) built for a plan's segments and exclusions."""

    users: tuple[dict[str, Any], ...]
    members: Mapping[str, frozenset[str]]  # segment name -> unit ids (by the real condition)

    @classmethod
    def for_plan(cls, plan: Plan, size: int, seed: int) -> Population:
        rng = random.Random(seed)
        users = []
        for i in range(size):
            user: dict[str, Any] = {"tier": rng.choices(["free", "plus", "premium"],
                                                        [0.6, 0.3, 0.1])[0]}
            # The first segment to set an attribute keeps it, so a member of one segment
            # is not silently moved out of it by another's values.
            for segment in plan.segments.values():
                if segment.condition and rng.random() < (segment.share or DEFAULT_SHARE):
                    for key, value in satisfying(segment.condition, rng).items():
                        user.setdefault(key, value)
            for exclusion in plan.exclusions:
                if exclusion.condition and rng.random() < EXCLUDED_SHARE:
                    user.update(satisfying(exclusion.condition, rng))
            user["id"] = f"user-{i:06d}"
            users.append(user)
        members = {}
        for name, segment in plan.segments.items():
            test = compile_condition(segment.condition) if segment.condition else None
            members[name] = frozenset(
                u["id"] for u in users
                if u["id"] in segment.users or (test is not None and test(u)))
        return cls(tuple(users), members)


class InputSampler:
    """Request inputs on both sides of the plan's task filters, with a ``task`` attribute."""

    def __init__(self, plan: Plan, seed: int, inside: float = 0.8) -> None:
        self._rng = random.Random(seed)
        self._filters = [dict(p.task_filter) for p in plan.phases if p.task_filter]
        self._inside = inside

    def sample(self) -> dict[str, Any]:
        rng = self._rng
        attributes: dict[str, Any] = {}
        if self._filters:
            condition = rng.choice(self._filters)
            make = satisfying if rng.random() < self._inside else violating
            attributes.update(make(condition, rng))
        attributes.setdefault("task", rng.choice(["routine", "routine", "routine", "hard"]))
        return attributes
