"""Value comparisons with GrowthBook's (JavaScript-flavoured) semantics.

These are the leaf rules the compiled conditions rest on: which JSON type a
value has, when two values are equal, how strings order (UTF-16 code units,
as JavaScript does), how numbers and numeric strings compare, and how version
strings are padded so that plain string comparison orders them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, time
from functools import lru_cache
from typing import Any

JSON_TYPES = ("null", "boolean", "number", "string", "array", "object")


def json_type(value: Any) -> str:
    """GrowthBook's ``getType``: the JSON type name of an attribute value.

    >>> json_type(True), json_type(1.5), json_type([1]), json_type(None)
    ('boolean', 'number', 'array', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | set):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


def describe_type(value: Any) -> str:
    """The type name used in error messages (Python words people recognise)."""
    names = {"null": "null", "boolean": "boolean", "number": "number", "string": "string",
             "array": "list", "object": "object"}
    if isinstance(value, date | time):
        # YAML turns an unquoted 2024-05-01 into a date; say how to keep the string.
        return f"{type(value).__name__} (quote it in YAML to keep it a string)"
    return names.get(json_type(value), type(value).__name__)


def is_number(value: Any) -> bool:
    """A JSON number: int or float, but not bool (a subclass of int in Python)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_value(value: Any) -> Any:
    # JSON.stringify writes NaN and +-Infinity as null, so nested ones compare as null.
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _js_key_order(obj: Mapping[Any, Any]) -> list[Any]:
    # JavaScript enumerates array-index-like keys first, ascending, then insertion order;
    # GrowthBook compares objects by JSON.stringify, so that order is part of equality.
    keys = list(obj.keys())
    indices = [k for k in keys if isinstance(k, str) and is_array_index(k, 2**32 - 1)]
    others = [k for k in keys if not (isinstance(k, str) and is_array_index(k, 2**32 - 1))]
    return sorted(indices, key=int) + others


def strict_deep_equal(expected: Any, actual: Any) -> bool:
    """Implicit equality: same JSON type at every level, then equal values.

    ``True`` never equals ``1``; ``1`` equals ``1.0``; objects must also list
    their keys in the same (JavaScript) order, as in GrowthBook.

    >>> strict_deep_equal({"a": [1, 2]}, {"a": [1.0, 2]}), strict_deep_equal(1, True)
    (True, False)
    """
    kind = json_type(expected)
    if kind != json_type(actual):
        return False
    if kind == "array":
        return len(expected) == len(actual) and all(
            strict_deep_equal(_json_value(x), _json_value(y))
            for x, y in zip(expected, actual, strict=False)
        )
    if kind == "object":
        return _js_key_order(expected) == _js_key_order(actual) and all(
            strict_deep_equal(_json_value(expected[k]), _json_value(actual[k])) for k in expected
        )
    return bool(expected == actual)


def is_array_index(key: str, length: int) -> bool:
    """Whether ``key`` is a canonical list index below ``length`` ("0", "12"; not "01")."""
    return (
        len(key) <= 10 and key.isascii() and key.isdigit()
        and (key == "0" or key[0] != "0") and int(key) < length
    )


def utf16_order(left: str, right: str) -> int:
    """-1, 0 or 1: JavaScript's string order (UTF-16 code units), not Python's code points.

    The two differ only for characters above U+FFFF against U+E000..U+FFFF.
    """
    if left.isascii() and right.isascii():
        return (left > right) - (left < right)
    a = left.encode("utf-16-be", "surrogatepass")
    b = right.encode("utf-16-be", "surrogatepass")
    return (a > b) - (a < b)


_NUMERIC_STRING = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*\Z")


def numeric_string(value: str) -> float | None:
    """The number a decimal string spells ("8", " -1.5e3 "), else None.

    Narrower than JavaScript's ``Number()``: "", "0x10" and "Infinity" are not numbers here.
    """
    if _NUMERIC_STRING.match(value) is None:
        return None
    return float(value)


def js_number_to_string(value: float) -> str:
    """JavaScript's ``String(number)``: shortest round-trip digits, fixed notation for
    decimal exponents from -6 to 21, otherwise ``1e+21`` / ``1.5e-7`` style."""
    try:
        x = float(value)
    except OverflowError:
        x = math.inf if value > 0 else -math.inf
    if math.isnan(x):
        return "NaN"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number_to_string(-x)
    if math.isinf(x):
        return "Infinity"
    mantissa, _, exponent = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    leading_zeros = len(all_digits) - len(significant)
    digits = significant.rstrip("0")
    k = len(digits)
    # x = 0.<digits> * 10**n
    n = len(whole) - leading_zeros + int(exponent or "0")
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{'+' if n > 0 else '-'}{abs(n - 1)}"


_VERSION_STRIP = re.compile(r"(^v|\+.*$)")
_VERSION_SPLIT = re.compile(r"[-.]")


def padded_version(value: Any) -> str:
    """GrowthBook's ``paddedVersionString``: a string whose plain order is version order.

    A leading ``v`` and ``+build`` metadata are dropped; parts split on ``.`` and ``-``;
    a plain ``X.Y.Z`` gets a ``~`` part so that it sorts after its prereleases
    (``1.0.0-beta`` < ``1.0.0``); numeric parts are left-padded to width 5.

    >>> padded_version("1.2.3") > padded_version("1.2.3-rc.1") > padded_version("1.2.2")
    True
    """
    if is_number(value):
        value = js_number_to_string(value)
    if not value or not isinstance(value, str):
        value = "0"
    return _padded(value)


@lru_cache(maxsize=4096)
def _padded(value: str) -> str:
    parts = _VERSION_SPLIT.split(_VERSION_STRIP.sub("", value))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(part.rjust(5, " ") if part.isdigit() else part for part in parts)
