"""Compile MongoDB-style targeting conditions (GrowthBook semantics) into closures.

A condition is parsed once into a tree of small closures; evaluating it walks
no dictionaries of the condition, only the attributes. See the package
docstring for the semantics and the places where they differ from GrowthBook.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trustramp.targeting import operators as ops
from trustramp.targeting.comparison import describe_type, is_array_index, is_number
from trustramp.targeting.operators import ConditionError, ValueTest

AttributeTest = Callable[[Any], bool]

_LOGICAL = ("$or", "$nor", "$and", "$not")
_SAVED_GROUPS = ("$savedGroup", "$savedGroups", "$inGroup", "$notInGroup")


class Condition:
    """A compiled condition: call it with an attribute mapping to get True or False.

    ``evaluate`` is the bare compiled function (one call less than calling the
    object) for hot loops; ``source`` is a private copy of the condition document.

    >>> adults = compile_condition({"age": {"$gte": 18}, "country": {"$in": ["DE", "FR"]}})
    >>> adults({"age": 30, "country": "DE"}), adults({"age": 30})
    (True, False)
    """

    __slots__ = ("evaluate", "source")

    def __init__(self, evaluate: AttributeTest, source: Mapping[str, Any]) -> None:
        self.evaluate = evaluate
        self.source = source

    def __call__(self, attributes: Mapping[str, Any]) -> bool:
        return self.evaluate(attributes)

    def __repr__(self) -> str:
        return f"Condition({json.dumps(self.source, default=repr)})"


def compile_condition(condition: Mapping[str, Any]) -> Condition:
    """Compile a condition document once; raise :class:`ConditionError` if it is invalid.

    >>> compile_condition({"$or": [{"tier": "pro"}, {"beta": True}]})({"beta": True})
    True
    >>> compile_condition({"age": {"$gte": []}})
    Traceback (most recent call last):
    ...
    trustramp.targeting.operators.ConditionError: condition.age: $gte expects a number, \
string or version, got list
    """
    # A private copy: literals captured by the closures must not change if the caller
    # later mutates the document.
    source = copy.deepcopy(condition)
    return Condition(_compile(source, "condition", root=True), source)


def _compile(condition: Any, where: str, root: bool) -> AttributeTest:
    """A condition on an attribute mapping (``root``) or on any value (inside $elemMatch)."""
    if not isinstance(condition, Mapping):
        raise ConditionError(where, "a condition must be an object of attribute paths and "
                             f"logical operators, got {describe_type(condition)}")
    tests: list[AttributeTest] = []
    for key, value in condition.items():
        if not isinstance(key, str):
            raise ConditionError(where, f"keys must be strings, got {key!r}")
        here = f"{where}.{key}"
        if key in ("$or", "$nor", "$and"):
            branches = _compile_list(value, here, key, root)
            tests.append(_logical(key, branches))
        elif key == "$not":
            tests.append(_negate(_compile(value, here, root)))
        elif key.startswith("$"):
            raise _unknown_key(key, where, at_value=False)
        else:
            tests.append(_compile_path(key, value, here, root))
    return _all_of(tests)


def _negate(inner: AttributeTest) -> AttributeTest:
    return lambda a: not inner(a)


def _compile_list(value: Any, where: str, key: str, root: bool) -> list[AttributeTest]:
    if not isinstance(value, list):
        raise ConditionError(where, f"{key} expects a list of conditions, got "
                             f"{describe_type(value)}")
    return [_compile(item, f"{where}[{i}]", root) for i, item in enumerate(value)]


def _logical(key: str, branches: Sequence[AttributeTest]) -> AttributeTest:
    if key == "$and":
        return _all_of(list(branches))
    if key == "$or":
        if not branches:
            return lambda a: True  # GrowthBook: an empty $or passes
        return lambda a: any(b(a) for b in branches)
    # $nor is "not $or", so an empty $nor fails (GrowthBook does the same).
    if not branches:
        return lambda a: False
    return lambda a: not any(b(a) for b in branches)


def _all_of(tests: list[AttributeTest]) -> AttributeTest:
    if not tests:
        return lambda a: True
    if len(tests) == 1:
        return tests[0]
    # Unrolled for the usual sizes: a generator costs more than the tests themselves.
    if len(tests) == 2:
        first, second = tests
        return lambda a: first(a) and second(a)
    if len(tests) == 3:
        first, second, third = tests
        return lambda a: first(a) and second(a) and third(a)
    return lambda a: all(t(a) for t in tests)


def _compile_path(key: str, value: Any, where: str, root: bool) -> AttributeTest:
    test = compile_value(value, where)
    segments = tuple(key.split("."))
    if not (root and len(segments) == 1):
        return lambda a: test(read_path(a, segments))
    # The common case, a top-level attribute of a mapping: one dict lookup, and for
    # a literal string or number no second call.
    if isinstance(value, str):
        return lambda a: isinstance(v := a.get(key), str) and v == value
    if is_number(value):
        # Unequal values fail at once; an equal one must also have the right type (not True).
        return lambda a: bool((v := a.get(key)) == value) and test(v)
    return lambda a: test(a.get(key))


def read_path(value: Any, segments: Sequence[str]) -> Any:
    """The value at a dotted path, or None. Lists expose canonical indices and ``length``.

    >>> read_path({"a": {"b": [10, 20]}}, ["a", "b", "1"]), read_path({}, ["a", "b"])
    (20, None)
    """
    current = value
    for segment in segments:
        if isinstance(current, dict):
            if segment not in current:
                return None
            current = current[segment]
        elif isinstance(current, list):
            if segment == "length":
                current = len(current)
            elif is_array_index(segment, len(current)):
                current = current[int(segment)]
            else:
                return None
        elif isinstance(current, Mapping):
            if segment not in current:
                return None
            current = current[segment]
        else:
            return None
    return current


def compile_value(value: Any, where: str, insensitive: bool = False) -> ValueTest:
    """A test on one attribute value: an operator object or a literal (implicit equality)."""
    if isinstance(value, Mapping):
        dollar = [k for k in value if isinstance(k, str) and k.startswith("$")]
        if len(dollar) == len(value):
            # GrowthBook treats {} as an operator object with no operators: it always passes.
            return _all_of([_compile_operator(k, v, where) for k, v in value.items()])
        if dollar:
            raise ConditionError(where, f"mixes operators ({', '.join(dollar)}) with plain keys; "
                                 "use only operators, or only a literal object to compare")
    ops.check_json(value, where)
    return ops.equal_to(value, insensitive)


def _compile_operator(op: str, arg: Any, where: str) -> ValueTest:
    factory = _OPERATORS.get(op)
    if factory is None:
        raise _unknown_key(op, where, at_value=True)
    return factory(op, arg, where)


def _all_elements(op: str, arg: Any, where: str) -> ValueTest:
    """``$all``: every listed value (literal or operator object) matches some element."""
    if not isinstance(arg, list):
        raise ConditionError(where, f"{op} expects a list, got {describe_type(arg)}")
    wanted = [compile_value(item, f"{where}.{op}[{i}]", op == "$alli")
              for i, item in enumerate(arg)]

    def test(v: Any) -> bool:
        if not isinstance(v, list):
            return False
        return all(any(w(item) for item in v) for w in wanted)
    return test


def _elem_match(arg: Any, where: str) -> ValueTest:
    """``$elemMatch``: some non-null element matches. Operators test the element itself;
    attribute paths and $or/$and/$nor test the element's fields."""
    if not isinstance(arg, Mapping):
        raise ConditionError(where, f"$elemMatch expects an object, got {describe_type(arg)}")
    on_value = all(isinstance(k, str) and k.startswith("$") for k in arg) and not any(
        k in ("$or", "$nor", "$and") for k in arg)
    element = compile_value(arg, where) if on_value else _compile(arg, where, root=False)

    def test(v: Any) -> bool:
        if not isinstance(v, list):
            return False
        return any(item is not None and element(item) for item in v)
    return test


def _size(arg: Any, where: str) -> ValueTest:
    """``$size``: the value is a list whose length equals (or matches) ``arg``."""
    if not (is_number(arg) and isinstance(arg, int)) and not (
            isinstance(arg, Mapping) and arg and all(str(k).startswith("$") for k in arg)):
        raise ConditionError(where, "$size expects an integer or an operator object such as "
                             f'{{"$gte": 2}}, got {describe_type(arg)}')
    length_test = compile_value(arg, f"{where}.$size")
    return lambda v: isinstance(v, list) and length_test(len(v))


def _unknown_key(key: str, where: str, at_value: bool) -> ConditionError:
    if key in _SAVED_GROUPS:
        return ConditionError(where, f"{key}: saved groups are not supported; write the "
                              "group's condition (or an $in list) in place")
    if at_value and key in _LOGICAL:
        return ConditionError(where, f"{key} combines conditions and belongs beside attribute "
                              "paths, not on a value (use $not on a value)")
    if not at_value:
        return ConditionError(where, f"unknown logical operator {key}; expected one of "
                              f"{', '.join(_LOGICAL)} or an attribute path")
    return ConditionError(where, f"unknown operator {key}; expected one of {' '.join(_OPERATORS)}")


# Every operator a value may use, each with what compiles ``{op: arg}`` found at ``where``,
# in the order the unknown-operator message lists them.
_OPERATORS: dict[str, Callable[[str, Any, str], ValueTest]] = {
    **dict.fromkeys(("$eq", "$ne"), ops.scalar_equality),
    **dict.fromkeys(("$gt", "$gte", "$lt", "$lte"), ops.ordering),
    **dict.fromkeys(("$in", "$nin", "$ini", "$nini"), ops.membership),
    **dict.fromkeys(("$all", "$alli"), _all_elements),
    "$elemMatch": lambda op, arg, where: _elem_match(arg, f"{where}.$elemMatch"),
    "$size": lambda op, arg, where: _size(arg, where),
    "$exists": lambda op, arg, where: ops.exists(arg, where),
    "$type": lambda op, arg, where: ops.type_is(arg, where),
    **dict.fromkeys(("$regex", "$regexi", "$notRegex", "$notRegexi"), ops.regex),
    "$not": lambda op, arg, where: _negate(compile_value(arg, f"{where}.$not")),
    **dict.fromkeys(("$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"), ops.version),
}


_CACHE: dict[str, Condition] = {}
_CACHE_SIZE = 1024


def matches(condition: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """Compile (cached) and evaluate in one call.

    The cache key is the condition's ``repr``: exact for JSON documents (it tells
    ``1``, ``1.0`` and ``True`` apart, keeps key order, which GrowthBook's object
    equality depends on, and unlike JSON does not merge tuples into lists) and
    cheaper to build than a JSON text. For hot paths keep the :class:`Condition`
    from :func:`compile_condition` instead.

    >>> matches({"app.version": {"$vgte": "2.1.0"}}, {"app": {"version": "2.10.0"}})
    True
    """
    key = repr(condition)
    compiled = _CACHE.get(key)
    if compiled is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        compiled = _CACHE[key] = compile_condition(condition)
    return compiled(attributes)
