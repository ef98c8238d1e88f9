"""Leaf operators: each factory checks its argument once and returns a closure.

A closure takes the attribute value (``None`` when the attribute is missing)
and answers True or False. Argument errors raise :class:`ConditionError` at
compile time, naming where in the condition the operator sits.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from trustramp.errors import TrustrampError
from trustramp.targeting.comparison import (
    JSON_TYPES,
    describe_type,
    is_number,
    json_type,
    numeric_string,
    padded_version,
    strict_deep_equal,
    utf16_order,
)

ValueTest = Callable[[Any], bool]


class ConditionError(TrustrampError, ValueError):
    """A targeting condition that cannot be compiled (code ``condition_invalid``).

    ``where`` is the JSON path inside the condition, e.g. ``condition.$or[1].age``.
    """

    code = "condition_invalid"

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem

    def __reduce__(self) -> tuple[type[ConditionError], tuple[str, str]]:
        # Exceptions pickle their args (the joined message) by default; keep both parts.
        return (type(self), (self.where, self.problem))


def equal_to(expected: Any, insensitive: bool = False) -> ValueTest:
    """Implicit equality and ``$eq`` for one literal, specialised by its type."""
    if isinstance(expected, str):
        if insensitive:
            folded = expected.lower()
            return lambda v: isinstance(v, str) and v.lower() == folded
        return lambda v: isinstance(v, str) and v == expected
    if isinstance(expected, bool):
        return lambda v: isinstance(v, bool) and v == expected
    if is_number(expected):
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v == expected
    if expected is None:
        return lambda v: v is None
    return lambda v: strict_deep_equal(expected, v)


def scalar_equality(op: str, expected: Any, where: str) -> ValueTest:
    """``$eq`` / ``$ne``: JavaScript ``===`` on scalars."""
    if isinstance(expected, list | Mapping):
        # GrowthBook compares containers by reference here, so $eq could never match
        # and $ne always would; refuse rather than compile a constant.
        raise ConditionError(where, f"{op} expects a string, number, boolean or null, got "
                             f"{describe_type(expected)} (use implicit equality to compare "
                             "lists or objects)")
    check_json(expected, f"{where}.{op}")
    test = equal_to(expected)
    if op == "$eq":
        return test
    return lambda v: not test(v)


_ORDER = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}


def ordering(op: str, bound: Any, where: str) -> ValueTest:
    """``$gt $gte $lt $lte``: numbers with numbers, strings with strings (UTF-16 order),
    and a number with a decimal numeric string by its numeric value."""
    cmp = _ORDER[op]
    if is_number(bound):
        def against_number(v: Any) -> bool:
            if type(v) is int or type(v) is float:  # the hot case, and never a bool
                return bool(cmp(v, bound))
            if isinstance(v, int | float) and not isinstance(v, bool):
                return bool(cmp(v, bound))
            if isinstance(v, str):
                parsed = numeric_string(v)
                return parsed is not None and bool(cmp(parsed, bound))
            return False
        return against_number
    if isinstance(bound, str):
        bound_number = numeric_string(bound)
        ascii_bound = bound.isascii()

        def against_string(v: Any) -> bool:
            if isinstance(v, str):
                if ascii_bound and v.isascii():
                    return bool(cmp(v, bound))
                return bool(cmp(utf16_order(v, bound), 0))
            if bound_number is not None and is_number(v):
                return bool(cmp(v, bound_number))
            return False
        return against_string
    raise ConditionError(where, f"{op} expects a number, string or version, got "
                         f"{describe_type(bound)}")


_VERSION_ORDER = {"$veq": operator.eq, "$vne": operator.ne, "$vgt": operator.gt,
                  "$vgte": operator.ge, "$vlt": operator.lt, "$vlte": operator.le}


def version(op: str, bound: Any, where: str) -> ValueTest:
    """``$veq $vne $vgt $vgte $vlt $vlte`` on GrowthBook's padded version strings."""
    if not (is_number(bound) or isinstance(bound, str)):
        raise ConditionError(where, f"{op} expects a version string (or number), got "
                             f"{describe_type(bound)}")
    cmp = _VERSION_ORDER[op]
    padded_bound = padded_version(bound)
    bound_is_number = is_number(bound)
    # GrowthBook only orders two numbers or two strings; $vne is the negation of $veq,
    # so a type mismatch passes it and fails every other version operator.
    mismatch = op == "$vne"

    def test(v: Any) -> bool:
        if isinstance(v, str) and not bound_is_number:
            return bool(cmp(padded_version(v), padded_bound))
        if bound_is_number and is_number(v):
            return bool(cmp(padded_version(v), padded_bound))
        return mismatch
    return test


def membership(op: str, values: Any, where: str) -> ValueTest:
    """``$in $nin $ini $nini``: the value (or any element of a list value) is one of ``values``.

    Comparison is JavaScript ``===``: by type and value, so ``1`` is not ``"1"`` nor
    ``True``; lists and objects inside ``values`` never match anything.
    """
    if not isinstance(values, list):
        raise ConditionError(where, f"{op} expects a list, got {describe_type(values)}")
    check_json(values, f"{where}.{op}")
    insensitive = op in ("$ini", "$nini")
    strings = frozenset(v.lower() if insensitive else v for v in values if isinstance(v, str))
    numbers = frozenset(v for v in values if is_number(v))
    booleans = frozenset(v for v in values if isinstance(v, bool))
    has_null = any(v is None for v in values)

    def one(v: Any) -> bool:
        if isinstance(v, str):
            return (v.lower() if insensitive else v) in strings
        if isinstance(v, bool):
            return v in booleans
        if isinstance(v, int | float):
            return v in numbers
        return v is None and has_null

    def contains(v: Any) -> bool:
        if type(v) is str and not insensitive:  # the hot case first
            return v in strings
        if isinstance(v, list):
            return any(one(item) for item in v)
        return one(v)

    if op in ("$in", "$ini"):
        return contains
    return lambda v: not contains(v)


def exists(flag: Any, where: str) -> ValueTest:
    """``$exists``: True means present and not null; False means missing or null."""
    if not isinstance(flag, bool):
        raise ConditionError(where, f"$exists expects true or false, got {describe_type(flag)}")
    if flag:
        return lambda v: v is not None
    return lambda v: v is None


def type_is(name: Any, where: str) -> ValueTest:
    """``$type``: the JSON type of the value is ``name``."""
    if name not in JSON_TYPES:
        raise ConditionError(where, f"$type expects one of {', '.join(JSON_TYPES)}, got "
                             f"{name!r}")
    return lambda v: json_type(v) == name


def regex(op: str, pattern: Any, where: str) -> ValueTest:
    """``$regex $regexi $notRegex $notRegexi``: Python ``re.search`` (compiled now).

    A non-string value never matches, so it passes the ``$not...`` forms.
    """
    if not isinstance(pattern, str):
        raise ConditionError(where, f"{op} expects a regular expression string, got "
                             f"{describe_type(pattern)}")
    flags = re.IGNORECASE if op.endswith("i") else 0
    try:
        compiled = re.compile(pattern, flags)
    except re.error as error:
        raise ConditionError(where, f"{op} has an invalid regular expression "
                             f"{pattern!r}: {error}") from None
    search = compiled.search
    if op.startswith("$not"):
        return lambda v: not (isinstance(v, str) and search(v) is not None)
    return lambda v: isinstance(v, str) and search(v) is not None


def check_json(value: Any, where: str) -> None:
    """Reject values that are not JSON (tuples, sets, objects): they have no meaning here."""
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConditionError(where, f"object keys must be strings, got {key!r}")
            check_json(item, f"{where}.{key}")
        return
    raise ConditionError(where, f"expects a JSON value, got {describe_type(value)}")
