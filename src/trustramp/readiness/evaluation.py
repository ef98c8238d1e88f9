"""The held-out file the readiness checklist is evaluated on: CSV or JSONL, read with bounds.

One row per labelled answer of the model on inputs it did not learn from: its
``confidence`` (a number in [0, 1]) and whether it was ``correct``, optionally an
``id``, the input ``pattern`` it belongs to and the ``output``; every other column
(CSV) or top-level key (JSONL, or the keys of an ``input`` object) is an input
attribute the error slices are cut on.

Whatever is wrong with the file surfaces as one :class:`EvalFileError` with a line
per problem, ``file:line: field: what is wrong, and what was expected``, so the
command line prints sentences, never a traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from trustramp.readiness.eval_formats import FORMATS, Attribute, Problems, Rows, read_rows

MAX_BYTES = 512 * 1024 * 1024
"""The largest file read (512 MB): bigger held-out sets are sampled first."""
MAX_ROWS = 1_000_000
"""The most rows read; beyond that the checklist's intervals are narrower than any bar."""
MAX_SHOWN = 20
"""Problems listed in an :class:`EvalFileError` before "... and N more"."""


@dataclass(frozen=True, slots=True)
class EvalProblem:
    """One mistake in a held-out file: where it is and what was expected.

    >>> str(EvalProblem("heldout.csv", 7, "confidence", "'high' is not a number; expected ..."))
    "heldout.csv:7: confidence: 'high' is not a number; expected ..."
    """

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"


class EvalFileError(ValueError):
    """A held-out file that cannot be used: the first problems, one line each.

    ``problems`` holds at most :data:`MAX_SHOWN` of them, in file order; ``total`` counts
    them all, and ``str()`` ends with "... and N more" when some were left out.
    """

    def __init__(self, problems: Sequence[EvalProblem], total: int | None = None) -> None:
        if not problems:
            raise ValueError("EvalFileError needs at least one problem")
        self.problems: tuple[EvalProblem, ...] = tuple(problems[:MAX_SHOWN])
        self.total = max(total if total is not None else len(problems), len(self.problems))
        lines = [str(problem) for problem in self.problems]
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True, eq=False)
class EvalSet:
    """A labelled held-out set as loaded from one file (immutable: arrays are read-only).

    ``attributes[i]`` holds row i's input attributes (absent ones are missing),
    ``patterns[i]`` its input pattern or None; ``sha256`` is the hex SHA-256 of the
    file's bytes, what a signed report names as the evidence.

    >>> s = EvalSet.from_rows([0.9, 0.4], [True, False], path="inline")
    >>> s.n, s.accuracy, s.confidence.flags.writeable
    (2, 0.5, False)
    """

    path: str
    sha256: str
    confidence: NDArray[np.float64]
    correct: NDArray[np.bool_]
    attributes: tuple[Mapping[str, Attribute], ...]
    patterns: tuple[str | None, ...]
    ids: tuple[str | None, ...]
    outputs: tuple[str | None, ...]

    @classmethod
    def from_rows(
        cls,
        confidence: Sequence[float],
        correct: Sequence[bool],
        *,
        attributes: Sequence[Mapping[str, Attribute]] | None = None,
        patterns: Sequence[str | None] | None = None,
        path: str = "<memory>",
        sha256: str = "",
    ) -> EvalSet:
        """Build a set from values already in memory (tests, notebooks, other loaders)."""
        n = len(confidence)
        rows = Rows()
        rows.confidence, rows.correct = list(confidence), [bool(c) for c in correct]
        rows.attributes = [dict(a) for a in attributes] if attributes else [{}] * n
        rows.patterns = list(patterns) if patterns is not None else [None] * n
        rows.ids, rows.outputs = [None] * n, [None] * n
        lengths = {len(rows.correct), len(rows.attributes), len(rows.patterns)}
        if lengths != {n} or n == 0:
            raise ValueError(f"correct, attributes, patterns: need {n} > 0 values each, "
                             "one per confidence")
        return _eval_set(rows, path, sha256)

    @property
    def n(self) -> int:
        return int(self.confidence.size)

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean())

    @property
    def has_patterns(self) -> bool:
        """Whether any row names its input pattern."""
        return any(pattern is not None for pattern in self.patterns)


def _eval_set(rows: Rows, path: str, sha256: str) -> EvalSet:
    confidence = np.array(rows.confidence, dtype=np.float64)
    if not ((confidence >= 0.0) & (confidence <= 1.0)).all():
        raise ValueError("confidence: every value must be a number in [0, 1]")
    confidence.setflags(write=False)
    correct = np.array(rows.correct, dtype=np.bool_)
    correct.setflags(write=False)
    return EvalSet(
        path=path,
        sha256=sha256,
        confidence=confidence,
        correct=correct,
        attributes=tuple(MappingProxyType(row) for row in rows.attributes),
        patterns=tuple(rows.patterns),
        ids=tuple(rows.ids),
        outputs=tuple(rows.outputs),
    )


def _read_bytes(path: Path, source: str) -> bytes:
    def fail(message: str) -> EvalFileError:
        return EvalFileError([EvalProblem(source, 1, "(file)", message)])

    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        accepted = ", ".join(sorted(FORMATS))
        raise fail(f"unsupported file type {suffix or '(no extension)'!r}; expected a held-out "
                   f"file ending in {accepted} (CSV with a header row, or one JSON object "
                   "per line)")
    try:
        with path.open("rb") as stream:
            # Read one byte past the limit instead of trusting stat(): pipes and
            # special files report no size.
            raw = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file; expected the path of the labelled held-out file "
                   "(CSV or JSONL)") from None
    except OSError as error:
        raise fail(f"cannot read the file: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise fail(f"the file is larger than {MAX_BYTES // 2**20} MB; expected a held-out "
                   "set of at most that size (evaluate a random sample of it)")
    return raw


def load_eval_file(path: str | PathLike[str]) -> EvalSet:
    """Read a held-out file (``.csv``, ``.jsonl`` or ``.ndjson``) into an :class:`EvalSet`.

    Raises :class:`EvalFileError` (a ValueError) listing every problem found, at most
    the first :data:`MAX_SHOWN` of them, each as ``file:line: field: message``.

    >>> load_eval_file("heldout.txt")
    Traceback (most recent call last):
    ...
    trustramp.readiness.evaluation.EvalFileError: heldout.txt:1: (file): unsupported file ...
    """
    source = str(path)
    raw = _read_bytes(Path(path), source)
    sha256 = hashlib.sha256(raw).hexdigest()
    problems = Problems(MAX_SHOWN)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        problems.add(line, "(file)", "the file is not UTF-8 text; expected a CSV or JSONL "
                     "file saved as UTF-8")
        raise _error(problems, source) from None
    rows = read_rows(FORMATS[Path(path).suffix.lower()], text, problems, MAX_ROWS)
    if not problems.found and not rows.confidence:
        what = ("a header row and one row per" if Path(path).suffix.lower() == ".csv"
                else "one JSON object per line for each")
        problems.add(1, "(file)", f"no labelled answers; expected {what} held-out answer")
    if problems.found:
        raise _error(problems, source)
    return _eval_set(rows, source, sha256)


def _error(problems: Problems, source: str) -> EvalFileError:
    listed = [EvalProblem(source, line, field, message)
              for line, field, message in problems.first]
    return EvalFileError(listed, problems.found)
