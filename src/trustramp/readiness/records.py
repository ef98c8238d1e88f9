"""The readiness report: immutable records, and their JSON form for the store.

The controller keeps a report beside the signatures: :meth:`ReadinessReport.to_json`
gives a dict of JSON values, :meth:`ReadinessReport.from_json` rebuilds the same
report from it (``from_json(to_json(r)) == r``), checking every field on the way.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

REPORT_FORMAT = 1
"""Bumped when the JSON form changes in a way an old reader would misread."""


class ItemStatus(StrEnum):
    PASS = "pass"  # the rule that makes the item pass holds
    FAIL = "fail"  # it does not: ``start`` refuses the plan
    WARN = "warn"  # worth a look before signing; does not block
    INFO = "info"  # numbers for the signers, no rule


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the checklist: its verdict, one sentence, and the numbers behind it.

    ``estimate`` is the item's main number (an accuracy, a count, an error rate) with
    its ``interval`` (two-sided, at the report's level) over ``n`` observations;
    ``bound`` is the one-sided bound the rule compares with ``target``.
    """

    id: str
    status: ItemStatus
    summary: str
    estimate: float | None = None
    interval: tuple[float, float] | None = None
    n: int | None = None
    bound: float | None = None
    target: float | None = None


@dataclass(frozen=True)
class PhaseThreshold:
    """A phase's confidence threshold beside the one Learn-then-Test certifies.

    ``target`` is the accuracy certified (``target_from`` says where it comes from:
    ``success``, ``stop`` or ``readiness``); ``certified`` is the lowest threshold at
    which accuracy among shown answers >= target holds with probability >= 1 - delta,
    None when none can be; the ``plan_*`` numbers are the held-out answers at or above
    the plan's own threshold (``plan_accuracy`` None when none reaches it). ``ok``:
    the plan's threshold is at or above the certified one; ``note`` says so in words,
    ``reason`` why nothing could be certified (None when something was).
    """

    phase: str
    target: float
    target_from: str
    certified: float | None
    certified_coverage: float
    plan_threshold: float | None
    plan_coverage: float
    plan_n_shown: int
    plan_accuracy: float | None
    plan_accuracy_interval: tuple[float, float]
    ok: bool
    note: str
    reason: str | None


@dataclass(frozen=True)
class ReliabilityRow:
    """One bin of the reliability table (accuracy None for an empty bin)."""

    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    accuracy: float | None
    accuracy_interval: tuple[float, float]


@dataclass(frozen=True)
class Calibration:
    ece: float
    mce: float
    brier: float
    bins: tuple[ReliabilityRow, ...]


@dataclass(frozen=True)
class SliceRow:
    """A discovered error slice: its error rate with interval against the rest's."""

    description: str
    support: int
    errors: int
    error_rate: float
    error_interval: tuple[float, float]
    rest_error_rate: float
    q_value: float
    explained_by: str | None


@dataclass(frozen=True)
class Slices:
    """What the slice search tested and found (``top``: at most the first ten)."""

    attributes: tuple[str, ...]
    tested: int
    discovered: int
    share_explained: float
    verdict: str
    top: tuple[SliceRow, ...]


@dataclass(frozen=True)
class WorstCaseEstimate:
    """The plan's worst case, with how often the first phase would show a wrong answer.

    ``upper_bound`` is the one-sided upper bound (at the report's level) of the error
    rate among held-out answers the first phase would show (confidence >= its
    threshold); ``cost_per_1000`` = amount x upper_bound x 1,000.
    """

    description: str
    amount: float
    unit: str
    phase: str
    threshold: float | None
    n_shown: int
    errors: int
    error_rate: float | None
    upper_bound: float
    cost_per_1000: float


@dataclass(frozen=True)
class GuardrailCheck:
    """The guardrail kinds the first phase enables against what the checklist requires."""

    phase: str
    enabled: tuple[str, ...]
    min_count: int
    must_include: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Baseline:
    """Held-out confidences and correct flags, for drift and overconfidence in production.

    All of them up to 10,000; beyond that an evenly spaced subsample of 10,000 in file
    order (``total`` is the size of the whole set).
    """

    confidence: tuple[float, ...]
    correct: tuple[bool, ...]
    total: int


@dataclass(frozen=True)
class ReadinessReport:
    """The readiness checklist of one plan, evaluated on one held-out file."""

    feature: str
    plan_version: str
    fingerprint: str
    eval_path: str
    eval_sha256: str
    n: int
    created_at: datetime
    delta: float
    level: float
    items: tuple[ChecklistItem, ...]
    thresholds: tuple[PhaseThreshold, ...]
    calibration: Calibration
    slices: Slices
    worst_case: WorstCaseEstimate
    guardrails: GuardrailCheck
    sign_off: tuple[str, ...]
    baseline: Baseline

    @property
    def passed(self) -> bool:
        """True when no item failed (warnings do not block)."""
        return all(item.status is not ItemStatus.FAIL for item in self.items)

    @property
    def missing(self) -> tuple[str, ...]:
        """One sentence per failing item: what ``start`` prints when it refuses."""
        return tuple(item.summary for item in self.items if item.status is ItemStatus.FAIL)

    def item(self, item_id: str) -> ChecklistItem:
        """The item called ``item_id``; KeyError when there is none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON values (``passed`` and ``missing`` included, for readers)."""
        data: dict[str, Any] = {"format": REPORT_FORMAT, **_dump(self)}
        data["passed"], data["missing"] = self.passed, list(self.missing)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReadinessReport:
        """Rebuild a report from :meth:`to_json`'s output; ValueError naming the bad field."""
        if not isinstance(data, dict) or data.get("format") != REPORT_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"report.format: expected {REPORT_FORMAT}, got {found!r}")
        body = {k: v for k, v in data.items() if k not in ("format", "passed", "missing")}
        report = _load(cls, body, "report")
        if not isinstance(report, cls):
            raise TypeError("report: not a ReadinessReport")  # unreachable: _load builds cls
        return report


def _dump(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


def _load(kind: Any, data: Any, where: str) -> Any:
    """``data`` (JSON values) as an instance of the annotated type ``kind``."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        arms = get_args(kind)
        if data is None and type(None) in arms:
            return None
        (arm,) = [a for a in arms if a is not type(None)]
        return _load(arm, data, where)
    if origin is tuple:
        return _load_tuple(get_args(kind), data, where)
    if isinstance(kind, type) and is_dataclass(kind):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        hints = get_type_hints(kind)
        names = [f.name for f in fields(kind)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"{where}.{unknown[0]}: unknown field")
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"{where}.{missing[0]}: missing")
        return kind(**{n: _load(hints[n], data[n], f"{where}.{n}") for n in names})
    return _load_scalar(kind, data, where)


def _load_tuple(args: tuple[Any, ...], data: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
    kinds = [args[0]] * len(data) if len(args) == 2 and args[1] is Ellipsis else list(args)
    if len(kinds) != len(data):
        raise ValueError(f"{where}: expected {len(kinds)} values, got {len(data)}")
    return tuple(_load(k, v, f"{where}[{i}]") for i, (k, v) in enumerate(zip(kinds, data,
                                                                             strict=True)))


def _load_scalar(kind: Any, data: Any, where: str) -> Any:
    if kind is datetime:
        if not isinstance(data, str):
            raise ValueError(f"{where}: expected an ISO 8601 time, got {data!r}")
        try:
            return datetime.fromisoformat(data)
        except ValueError:
            raise ValueError(f"{where}: expected an ISO 8601 time, got {data!r}") from None
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        try:
            return kind(data)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in kind)
            raise ValueError(f"{where}: expected one of {choices}, got {data!r}") from None
    if kind is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if kind in (int, str, bool) and type(data) is kind:
        return data
    raise ValueError(f"{where}: expected {kind.__name__}, got {data!r}")
