"""Load a plan file: YAML with positions, the pydantic schema, and every targeting condition.

Whatever goes wrong surfaces as one :class:`~trustramp.plan.errors.PlanError`
listing each problem as ``file:line:column: field.path: what was expected``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trustramp.plan.document import Positions, read_yaml
from trustramp.plan.errors import FieldPath, PlanError, PlanProblem, format_path
from trustramp.plan.messages import describe_error
from trustramp.plan.schema import Plan
from trustramp.targeting import ConditionError, compile_condition


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """A validated plan with the position of each of its fields in the file it came from."""

    plan: Plan
    positions: Positions
    source: str


def parse_plan_document(text: str, source: str = "<string>") -> PlanDocument:
    """Validate plan text, keeping field positions (what :func:`trustramp.plan.lint` uses).

    >>> doc = parse_plan_document(
    ...     "feature: {key: demo, stakes: low, fallback: rules}\\n"
    ...     "phases:\\n  - name: all\\n    audience: {percent: 100}\\n", "demo.yaml")
    >>> doc.plan.phases[0].name, doc.positions.value_at(("phases", 0, "name"))
    ('all', (3, 11))
    """
    data, positions = read_yaml(text, source)
    problems = list(_condition_problems(data, positions, source))
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(data)
    except ValidationError as error:
        problems.extend(_schema_problems(error, data, positions, source))
    if problems or plan is None:
        raise PlanError(problems)
    return PlanDocument(plan, positions, source)


def parse_plan(text: str, source: str = "<string>") -> Plan:
    """Validate plan text; ``source`` names it in error messages.

    >>> parse_plan("feature: {key: demo, stakes: hihg, fallback: rules}\\n"
    ...            "phases: [{name: all, audience: {}}]\\n", "demo.yaml")
    Traceback (most recent call last):
    ...
    trustramp.plan.errors.PlanError: demo.yaml:1:30: feature.stakes: expected one of 'low', \
'medium', 'high', got 'hihg'; did you mean 'high'?
    """
    return parse_plan_document(text, source).plan


def load_plan_document(path: str | PathLike[str]) -> PlanDocument:
    """Read and validate a plan file, keeping field positions (for lint and messages).

    >>> doc = load_plan_document("examples/plans/portfolio-advice.yaml")
    >>> doc.plan.feature.key, doc.positions.value_at(("feature", "stakes"))
    ('portfolio-advice', (20, 11))
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise PlanError([PlanProblem(
            source, 1, 1, "(plan)",
            "no such file; expected the path of a plan YAML file "
            "(write one with: trustramp init --scenario summarization)",
        )]) from None
    except OSError as error:
        raise PlanError([PlanProblem(
            source, 1, 1, "(plan)", f"cannot read the file: {error.strerror or error}"
        )]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise PlanError([PlanProblem(
            source, line, column, "(plan)",
            "the file is not UTF-8 text; expected a YAML file saved as UTF-8",
        )]) from None
    return parse_plan_document(text, source)


def load_plan_file(path: str | PathLike[str]) -> Plan:
    """Read and validate a plan file; raise :class:`PlanError` with positions on any mistake.

    >>> load_plan_file("no/such/plan.yaml")
    Traceback (most recent call last):
    ...
    trustramp.plan.errors.PlanError: no/such/plan.yaml:1:1: (plan): no such file; ...
    """
    return load_plan_document(path).plan


def _schema_problems(
    error: ValidationError, data: dict[str, Any], positions: Positions, source: str
) -> Iterator[PlanProblem]:
    for item in error.errors():
        explained = describe_error(item)
        if explained is None:
            continue
        path = explained.path
        if explained.anchor == "parent":
            line, column = positions.key_at(path[:-1])
        elif explained.anchor == "key" or isinstance(_value_at(data, path), dict | list):
            # a whole mapping or list (a segment, a phase) is best shown by its key line
            line, column = positions.key_at(path)
        else:
            line, column = positions.value_at(path)
        yield PlanProblem(source, line, column, format_path(path), explained.message)


def _value_at(data: Any, path: FieldPath) -> Any:
    for part in path:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_dict or in_list):
            return None
        data = data[part]
    return data


def _conditions(data: dict[str, Any]) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Every targeting condition in the raw document: segments, exclusions, task filters.

    One that is not a mapping is left to the schema, which reports it.
    """
    segments = data.get("segments")
    if isinstance(segments, dict):
        for name, segment in segments.items():
            if isinstance(segment, dict) and isinstance(segment.get("condition"), dict):
                yield ("segments", name, "condition"), segment["condition"]
    for group, key in (("exclusions", "condition"), ("phases", "task_filter")):
        items = data.get(group)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict) and isinstance(item.get(key), dict):
                    yield (group, index, key), item[key]


def _condition_problems(
    data: dict[str, Any], positions: Positions, source: str
) -> Iterator[PlanProblem]:
    for base, condition in _conditions(data):
        try:
            compile_condition(condition)
        except ConditionError as error:
            path = (*base, *_condition_path(error.where, condition))
            line, column = positions.value_at(path)
            yield PlanProblem(
                source, line, column, format_path(path), f"invalid condition: {error.problem}"
            )


_INDEX = re.compile(r"\[(\d+)\]")


def _condition_path(where: str, condition: Any) -> FieldPath:
    """Turn ``condition.$or[1].profile.tier`` into a field path by following the document.

    Attribute paths may themselves contain dots (``profile.tier`` is one key), so
    the text is matched against the keys that exist, longest first.
    """
    rest = where.removeprefix("condition")
    path: list[str | int] = []
    node = condition
    while rest:
        index = _INDEX.match(rest)
        if index and isinstance(node, list) and int(index.group(1)) < len(node):
            path.append(int(index.group(1)))
            node = node[int(index.group(1))]
            rest = rest[index.end():]
            continue
        rest = rest.removeprefix(".")
        keys = [
            key for key in node if isinstance(key, str) and rest.startswith(key)
            and rest[len(key):len(key) + 1] in ("", ".", "[")
        ] if isinstance(node, dict) else []
        if not keys:
            break
        key = max(keys, key=len)
        path.append(key)
        node = node[key]
        rest = rest[len(key):]
    return tuple(path)
