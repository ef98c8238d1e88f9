"""Rows of a held-out file, CSV or JSONL, each value checked where it stands.

Both readers fill the same :class:`Rows` and report each problem with its line
and field into a :class:`Problems` that keeps the first few and counts the rest.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Attribute = str | int | float | bool | None
"""An input attribute's value; nested JSON values are kept as canonical JSON text."""
Format = Literal["csv", "jsonl"]
FORMATS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
RESERVED = ("confidence", "correct", "id", "pattern", "output")
REQUIRED = ("confidence", "correct")

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})
_CONFIDENCE = "expected a confidence in [0, 1]"
_FLAG = "expected true/false, 1/0 or yes/no"


class BadValueError(ValueError):
    """A value that cannot be used; the message says what was expected."""


@dataclass
class Problems:
    """The first ``keep`` problems as (line, field, message), and how many were found."""

    keep: int
    first: list[tuple[int, str, str]] = field(default_factory=list)
    found: int = 0

    def add(self, line: int, name: str, message: str) -> None:
        self.found += 1
        if len(self.first) < self.keep:
            self.first.append((line, name, message))


@dataclass
class Rows:
    """Columns of the rows read so far."""

    confidence: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    patterns: list[str | None] = field(default_factory=list)
    outputs: list[str | None] = field(default_factory=list)
    attributes: list[dict[str, Attribute]] = field(default_factory=list)


def read_rows(kind: Format, text: str, problems: Problems, max_rows: int) -> Rows:
    """Every valid row of ``text``; each bad value goes to ``problems`` instead."""
    rows = Rows()
    read = _csv_rows if kind == "csv" else _jsonl_rows
    for count, (line, values) in enumerate(read(text, problems), 1):
        if count > max_rows:
            problems.add(line, "(file)", f"more than {max_rows:,} rows; expected at most "
                         f"{max_rows:,} (evaluate a random sample of the held-out set)")
            break
        _add(rows, line, values, problems, kind)
    if kind == "csv":
        _numeric_columns(rows)
    return rows


def _add(rows: Rows, line: int, values: dict[str, Any], problems: Problems, kind: Format) -> None:
    parsed: dict[str, Any] = {}
    for name, convert in _CONVERTERS[kind].items():
        try:
            parsed[name] = convert(values.get(name))
        except BadValueError as error:
            problems.add(line, name, str(error))
    attributes = values.get("(attributes)", {})
    if len(parsed) < len(_CONVERTERS[kind]):
        return
    rows.confidence.append(parsed["confidence"])
    rows.correct.append(parsed["correct"])
    rows.ids.append(parsed["id"])
    rows.patterns.append(parsed["pattern"])
    rows.outputs.append(parsed["output"])
    rows.attributes.append(attributes)


# -- CSV ---------------------------------------------------------------------------------


def _csv_rows(text: str, problems: Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        if not _header_ok(names, problems):
            return
        consumed = reader.line_num
        for record in reader:
            # A record is reported at its first line, even when a quoted cell spans several.
            line, consumed = consumed + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines, also at the end of the file
            if len(record) != len(names):
                problems.add(line, "(row)", f"has {len(record)} fields; expected "
                             f"{len(names)}, one per column of the header")
                continue
            cells = dict(zip(names, (cell.strip() for cell in record), strict=True))
            values: dict[str, Any] = {name: cells.get(name) for name in RESERVED}
            values["(attributes)"] = {k: v for k, v in cells.items() if k not in RESERVED}
            yield line, values
    except csv.Error as error:
        problems.add(reader.line_num, "(row)", f"not readable as CSV ({error}); expected "
                     "comma-separated values with double-quoted text where needed")


def _header_ok(names: list[str], problems: Problems) -> bool:
    before = problems.found
    seen: set[str] = set()
    for position, name in enumerate(names, 1):
        if not name:
            problems.add(1, f"(column {position})", "empty column name; expected a header "
                         "row naming every column")
        elif name in seen:
            problems.add(1, name, "column named twice; expected each column once")
        seen.add(name)
    for name in REQUIRED:
        if name not in seen:
            listed = ", ".join(n for n in names if n) or "none"
            problems.add(1, name, f"no such column (columns: {listed}); expected a header "
                         "row naming at least confidence and correct")
    return problems.found == before


def _csv_confidence(text: str | None) -> float:
    if not text:
        raise BadValueError(f"missing value; {_CONFIDENCE}")
    if text.lower() in ("nan", "-nan", "+nan"):
        raise BadValueError(f"NaN is not a number; {_CONFIDENCE}")
    if not _NUMBER.fullmatch(text):
        raise BadValueError(f"{text!r} is not a number; {_CONFIDENCE}")
    return _in_unit_interval(float(text), text)


def _in_unit_interval(value: float, shown: str) -> float:
    if not 0.0 <= value <= 1.0:
        hint = f" (write {shown}% as {value / 100:g})" if 2.0 <= value <= 100.0 else ""
        raise BadValueError(f"{shown} is outside [0, 1]; {_CONFIDENCE}{hint}")
    return value


def _csv_correct(text: str | None) -> bool:
    word = (text or "").lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    shown = "missing value" if not word else f"{text!r} is not a correct flag"
    raise BadValueError(f"{shown}; {_FLAG}")


def _csv_text(text: str | None) -> str | None:
    return text or None


def _numeric_columns(rows: Rows) -> None:
    """Turn text attributes into numbers where every non-empty value in the column is one."""
    names = dict.fromkeys(name for row in rows.attributes for name in row)
    for name in names:
        column = [row.get(name) for row in rows.attributes]
        texts = [v for v in column if isinstance(v, str) and v]
        numeric = bool(texts) and all(_NUMBER.fullmatch(v) for v in texts)
        for row in rows.attributes:
            value = row.get(name)
            if value == "":
                row[name] = None
            elif numeric and isinstance(value, str):
                row[name] = int(value) if _INTEGER.fullmatch(value) else float(value)


# -- JSONL -------------------------------------------------------------------------------


def _jsonl_rows(text: str, problems: Problems) -> Iterator[tuple[int, dict[str, Any]]]:
    # split("\n"), not splitlines(): U+2028 and friends may sit inside JSON strings.
    for line, raw in enumerate(text.split("\n"), 1):
        body = raw.strip()
        if not body:
            continue
        try:
            value = json.loads(body)
        except json.JSONDecodeError as error:
            problems.add(line, "(line)", f"not valid JSON ({error.msg} at column "
                         f"{error.colno}); expected one JSON object per line")
            continue
        except RecursionError:
            problems.add(line, "(line)", "nested too deeply to read; expected one flat JSON "
                         "object per line")
            continue
        if not isinstance(value, dict):
            problems.add(line, "(line)", f"a JSON {type(value).__name__}, not an object; "
                         "expected one JSON object per line")
            continue
        attributes = _json_attributes(value, line, problems)
        if attributes is not None:
            yield line, {**value, "(attributes)": attributes}


def _json_attributes(
    value: dict[str, Any], line: int, problems: Problems
) -> dict[str, Attribute] | None:
    others = {k: v for k, v in value.items() if k not in RESERVED and k != "input"}
    if "input" not in value:
        return {k: _attribute(v) for k, v in others.items()}
    given = value["input"]
    if not isinstance(given, dict):
        problems.add(line, "input", f"a JSON {type(given).__name__}; expected an object of "
                     "input attributes")
        return None
    if others:
        problems.add(line, next(iter(others)), "an attribute beside 'input'; expected every "
                     "input attribute inside 'input', or every one at the top level")
        return None
    return {str(k): _attribute(v) for k, v in given.items()}


def _attribute(value: Any) -> Attribute:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Lists and objects become text so that slices and patterns can compare them.
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _json_confidence(value: Any) -> float:
    if value is None:
        raise BadValueError(f"missing; {_CONFIDENCE}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValueError(f"{json.dumps(value)[:40]} is not a number; {_CONFIDENCE}")
    if isinstance(value, float) and math.isnan(value):
        raise BadValueError(f"NaN is not a number; {_CONFIDENCE}")
    return _in_unit_interval(float(value), f"{value:g}")


def _json_correct(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    shown = "missing" if value is None else f"{json.dumps(value)[:40]} is not a correct flag"
    raise BadValueError(f"{shown}; expected true or false (or 0 or 1)")


def _json_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise BadValueError(f"{json.dumps(value)[:40]} is not a name; expected text or an integer")


def _json_output(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


_CONVERTERS: dict[Format, dict[str, Callable[[Any], Any]]] = {
    "csv": {"confidence": _csv_confidence, "correct": _csv_correct, "id": _csv_text,
            "pattern": _csv_text, "output": _csv_text},
    "jsonl": {"confidence": _json_confidence, "correct": _json_correct, "id": _json_name,
              "pattern": _json_name, "output": _json_output},
}
