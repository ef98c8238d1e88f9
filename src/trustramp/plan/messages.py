"""Pydantic's validation errors rewritten as sentences about the plan file.

Pydantic says "Input should be less than or equal to 1"; a person editing YAML
needs "expected a number between 0 and 1, got 1.5". The schema itself is the
source of the expectation (bounds, enum members, field names, descriptions), so
the sentences stay true when the schema changes.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from trustramp.plan.errors import FieldPath, did_you_mean
from trustramp.plan.schema import KEY_PATTERN, Plan, PlanFieldError


@dataclass(frozen=True, slots=True)
class Explained:
    """One validation error: its field path, a sentence, and what in the file to point at.

    ``parent`` (a missing field) points at the mapping that lacks it, ``key`` at the
    field's key (unknown fields, whole mappings or lists), ``value`` at the value.
    """

    path: FieldPath
    message: str
    anchor: Literal["key", "value", "parent"]


def describe_error(error: Any, root: type[BaseModel] = Plan) -> Explained | None:
    """Rewrite one entry of ``ValidationError.errors()``; None for an error that only
    echoes another (a list reported too short because its items failed)."""
    kind: str = error["type"]
    loc: FieldPath = tuple(part for part in error["loc"] if part != "[key]")
    ctx: dict[str, Any] = error.get("ctx") or {}
    given = error.get("input")
    field, owner = field_at(root, loc)
    if kind == "too_short" and isinstance(given, Sequence) and not isinstance(given, str) \
            and len(given) >= ctx.get("min_length", 0):
        return None
    if kind == "missing":
        return Explained(
            loc, f"missing required field {loc[-1]!r}; expected {_expect(field)}", "parent"
        )
    if kind == "extra_forbidden":
        return Explained(loc, _unknown_field(str(loc[-1]), owner), "key")
    if kind == "value_error":
        cause = ctx.get("error")
        if isinstance(cause, PlanFieldError):
            return Explained((*loc, *cause.path), cause.message, "value")
        text = str(cause) if cause is not None else error["msg"]
        return Explained(loc, text, _anchor(given))
    sentence = _SENTENCES.get(kind)
    if sentence is None:
        return Explained(loc, f"{error['msg']}, got {show(given)}", _anchor(given))
    message = f"expected {sentence(field, ctx)}, got {show(given)}"
    if kind == "enum" and isinstance(given, str):
        message += did_you_mean(given, [m.value for m in _enum_of(field)])
    if field is not None and field.description:
        message += f" ({field.description})"
    return Explained(loc, message, _anchor(given))


def _anchor(given: Any) -> Literal["key", "value"]:
    # A whole mapping or list is best shown by its key line; a scalar by itself.
    return "key" if isinstance(given, dict | list) else "value"


def show(value: Any) -> str:
    """A value as the user wrote it in YAML.

    >>> show(True), show("hihg"), show([1]), show(None)
    ('true', "'hihg'", 'a list', 'nothing (null)')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def field_at(root: type[BaseModel], loc: FieldPath) -> tuple[FieldInfo | None, type | None]:
    """The schema field at ``loc`` and the model that owns its last step (if any)."""
    current: Any = root
    field: FieldInfo | None = None
    owner: type | None = None
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            owner = current
            field = current.model_fields.get(part)
            if field is None:
                return None, owner
            current = field.annotation
        elif origin in (tuple, list) and isinstance(part, int):
            current, field, owner = typing.get_args(current)[0], None, None
        elif origin is dict:
            current, field, owner = typing.get_args(current)[1], None, None
        else:
            return None, None
    return field, owner


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional so the walk sees the model, tuple or dict inside."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _enum_of(field: FieldInfo | None) -> list[enum.Enum]:
    if field is None:
        return []
    inner = _unwrap(field.annotation)
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return list(inner)
    return []


def _number(value: float) -> str:
    return f"{value:g}"


def _kind(field: FieldInfo | None) -> str:
    return "a whole number" if field is not None and _unwrap(field.annotation) is int \
        else "a number"


def _bounds(field: FieldInfo | None) -> str:
    """' between 0 and 1', ' >= 1', ' greater than 0 and below 1' or ''."""
    if field is None:
        return ""
    low = high = ""
    lo_value: float | None = None
    hi_value: float | None = None
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            lo_value, low = float(item.ge), ">="  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Gt):
            lo_value, low = float(item.gt), ">"  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Le):
            hi_value, high = float(item.le), "<="  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Lt):
            hi_value, high = float(item.lt), "<"  # type: ignore[arg-type]
    if lo_value is not None and hi_value is not None:
        if low == ">=" and high == "<=":
            return f" between {_number(lo_value)} and {_number(hi_value)}"
        return f" {low} {_number(lo_value)} and {high} {_number(hi_value)}"
    if lo_value is not None:
        return f" {low} {_number(lo_value)}"
    if hi_value is not None:
        return f" {high} {_number(hi_value)}"
    return ""


def _expect(field: FieldInfo | None) -> str:
    """What a field takes, in words, for 'missing' errors."""
    if field is None:
        return "a value"
    inner = _unwrap(field.annotation)
    members = _enum_of(field)
    if members:
        return "one of " + ", ".join(repr(m.value) for m in members)
    if inner is float:
        return f"a number{_bounds(field)}"
    if inner is int:
        return f"a whole number{_bounds(field)}"
    if inner is str:
        return "text"
    if inner is timedelta:
        return "a duration such as '14d'"
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        required = [name for name, f in inner.model_fields.items() if f.is_required()]
        return "a mapping with " + (", ".join(f"'{n}:'" for n in required) or "its fields")
    if typing.get_origin(inner) in (tuple, list):
        return "a list"
    if typing.get_origin(inner) is dict:
        return "a mapping"
    return "a value"


def _unknown_field(name: str, owner: type | None) -> str:
    if not (isinstance(owner, type) and issubclass(owner, BaseModel)):
        return f"unknown field {name!r}"
    known = list(owner.model_fields)
    hint = did_you_mean(name, known)
    return f"unknown field {name!r}" + (hint or "; expected one of " + ", ".join(known))


def _sentence_enum(field: FieldInfo | None, ctx: dict[str, Any]) -> str:
    members = _enum_of(field)
    if members:
        return "one of " + ", ".join(repr(m.value) for m in members)
    return f"one of {ctx.get('expected', 'the allowed values')}"


def _sentence_pattern(field: FieldInfo | None, ctx: dict[str, Any]) -> str:
    if ctx.get("pattern") == KEY_PATTERN:
        return "a name of lowercase letters, digits, '_', '-' and '.' starting with a " \
               "letter or digit"
    return f"text matching {ctx.get('pattern')!r}"


_SENTENCES: dict[str, typing.Callable[[FieldInfo | None, dict[str, Any]], str]] = {
    "enum": _sentence_enum,
    "literal_error": lambda f, c: f"{c.get('expected')}",
    "greater_than": lambda f, c: f"{_kind(f)}{_bounds(f) or ' > ' + _number(c['gt'])}",
    "greater_than_equal": lambda f, c: f"{_kind(f)}{_bounds(f) or ' >= ' + _number(c['ge'])}",
    "less_than": lambda f, c: f"{_kind(f)}{_bounds(f) or ' < ' + _number(c['lt'])}",
    "less_than_equal": lambda f, c: f"{_kind(f)}{_bounds(f) or ' <= ' + _number(c['le'])}",
    "float_parsing": lambda f, c: f"a number{_bounds(f)}",
    "float_type": lambda f, c: f"a number{_bounds(f)}",
    "int_parsing": lambda f, c: f"a whole number{_bounds(f)}",
    "int_type": lambda f, c: f"a whole number{_bounds(f)}",
    "int_from_float": lambda f, c: f"a whole number{_bounds(f)}",
    "string_pattern_mismatch": _sentence_pattern,
    "string_too_short": lambda f, c: "non-empty text",
    "string_too_long": lambda f, c: f"at most {c.get('max_length')} characters",
    "too_short": lambda f, c: f"at least {c.get('min_length')} item(s) in the list",
    "string_type": lambda f, c: "text (quote it if it looks like a number or true/false)",
    "bool_type": lambda f, c: "true or false",
    "bool_parsing": lambda f, c: "true or false",
    "dict_type": lambda f, c: "a mapping of 'key: value' lines",
    "model_type": lambda f, c: "a mapping of 'key: value' lines",
    "model_attributes_type": lambda f, c: "a mapping of 'key: value' lines",
    "tuple_type": lambda f, c: "a list (lines starting with '- ')",
    "list_type": lambda f, c: "a list (lines starting with '- ')",
}
