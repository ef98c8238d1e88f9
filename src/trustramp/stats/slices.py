"""Error slices: is the error scattered or concentrated in a few kinds of input?

Every one- and two-attribute slice with enough support is tested against the rest of
the rows with a one-sided Fisher exact test ("the slice is worse"); Benjamini-Hochberg
keeps the expected share of false discoveries at most q; discoveries are ranked by
excess errors, the errors that would vanish if the slice had the rest's error rate.
A slice's parents share its excess, so a discovery that a denser one accounts for
(`task = table` when `task = table AND length long` holds the errors) is ranked after
the discoveries that stand on their own.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations, pairwise
from typing import Literal, TypeGuard

import numpy as np
from numpy.typing import NDArray
from scipy import stats

MISSING = "<missing>"
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SliceCondition:
    """One attribute's value, or for numbers a bin [low, high) ([low, high] for the top).

    >>> SliceCondition("length", "[120, 480)", numeric=True, low=120, high=480).matches(200)
    True
    """

    attribute: str
    value: str
    numeric: bool = False
    low: float | None = None
    high: float | None = None
    closed: bool = False

    def __str__(self) -> str:
        if self.numeric and self.value != MISSING:
            return f"{self.attribute} in {self.value}"
        return f"{self.attribute} = {self.value}"

    def matches(self, value: object) -> bool:
        """Whether an attribute value (None or NaN for missing) falls in this condition."""
        if _is_missing(value):
            return self.value == MISSING
        if self.low is None or self.high is None:
            return self.value == str(value)
        if not _is_number(value):
            return False
        number = float(value)
        return self.low <= number < self.high or (self.closed and number == self.high)


@dataclass(frozen=True, slots=True)
class ErrorSlice:
    """A slice's errors against the rest, with its interval, p-value and BH q-value.

    `explained_by` names a more error-dense discovered slice that accounts for this
    one's excess: once its rows are set aside, this slice's other rows are not worse
    than the rows outside both by the discovery standard (one-sided Fisher p-value
    within the Benjamini-Hochberg cut-off).
    """

    conditions: tuple[SliceCondition, ...]
    support: int
    errors: int
    error_rate: float
    error_interval: tuple[float, float]
    rest_error_rate: float
    p_value: float
    q_value: float
    excess_errors: float
    explained_by: str | None = None

    @property
    def description(self) -> str:
        """The slice as text, e.g. "task = table AND length in [120, 480)"."""
        return " AND ".join(str(c) for c in self.conditions)

    def matches(self, row: Mapping[str, object]) -> bool:
        """Whether a row of attributes (absent keys are missing) belongs to this slice."""
        return all(c.matches(row.get(c.attribute)) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class SliceReport:
    """Discovered slices (ranked by excess errors) and how much of the error they hold.

    `rows_in_slices`, `errors_in_slices` and `excess_errors` describe the union of the
    discoveries that stand on their own (`explained_by` is None). `share_explained` is
    that union's excess errors over all errors: the share of errors that would vanish
    if those rows erred at the rate of the other rows. `verdict` is "scattered" without
    discoveries, "concentrated" when the share is at least one half, and "partly
    concentrated" in between.
    """

    rows: int
    errors: int
    error_rate: float
    error_interval: tuple[float, float]
    slices: tuple[ErrorSlice, ...]
    tested: tuple[ErrorSlice, ...]
    q: float
    min_support: int
    rows_in_slices: int
    errors_in_slices: int
    excess_errors: float
    share_explained: float
    verdict: Literal["scattered", "partly concentrated", "concentrated"]


def clopper_pearson(
    successes: IntArray | int, trials: IntArray | int, level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two-sided Clopper-Pearson interval at `level` for each (successes, trials) pair.

    >>> lower, upper = clopper_pearson(np.array([0, 5]), np.array([10, 10]), 0.95)
    >>> round(float(upper[0]), 4), round(float(lower[1]), 4)
    (0.3085, 0.1871)

    Raises ValueError for a level outside (0, 1), counts that are negative or not
    finite, or more successes than trials: scipy would return NaN for those.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return clopper_pearson_one_sided(successes, trials, (1.0 - level) / 2)


def clopper_pearson_one_sided(
    successes: IntArray | int, trials: IntArray | int, alpha: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One-sided (1 - alpha) Clopper-Pearson lower and upper bounds, each pair's.

    Each bound on its own misses the true rate with probability at most `alpha`; the
    two together are the two-sided interval at level 1 - 2 alpha.

    >>> lower, upper = clopper_pearson_one_sided(5, 10, 0.025)
    >>> round(float(lower), 4), round(float(upper), 4)
    (0.1871, 0.8129)

    Raises ValueError like :func:`clopper_pearson` for counts scipy would turn into NaN.
    """
    k, n = np.broadcast_arrays(np.asarray(successes), np.asarray(trials))
    for name, counts in (("successes", k), ("trials", n)):
        if counts.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be numeric counts, got dtype {counts.dtype}")
        bad = ~np.isfinite(counts) | (counts < 0)
        if bad.any():
            at = int(np.argmax(bad.ravel()))
            raise ValueError(f"{name} must be finite counts >= 0, got "
                             f"{counts.ravel()[at].item()!r} at index {at}")
    over = k > n
    if over.any():
        at = int(np.argmax(over.ravel()))
        raise ValueError(f"successes must be <= trials, got {k.ravel()[at].item()!r} "
                         f"successes of {n.ravel()[at].item()!r} trials at index {at}")
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = np.where(k > 0, stats.beta.ppf(alpha, k, n - k + 1), 0.0)
        upper = np.where(k < n, stats.beta.ppf(1 - alpha, k + 1, n - k), 1.0)
    return lower, upper


def correct_flags(name: str, values: Iterable[bool | int]) -> NDArray[np.bool_]:
    """``values`` as a non-empty 1-D bool array; each must be a bool or 0/1.

    Raises ValueError naming ``name`` and the index of the first value that is not.
    """
    array = np.asarray(list(values))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name}: need a non-empty 1-D sequence of correct flags")
    bad = np.flatnonzero((array != 0) & (array != 1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] = {array[i].item()!r}: correct flags must be bools or 0/1")
    return array.astype(bool)


def _is_missing(value: object) -> bool:
    # Concrete types first: the numbers.Real ABC check is slow on large columns.
    if value is None:
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str | int):
        return False
    return isinstance(value, numbers.Real) and not math.isfinite(value)


def _is_number(value: object) -> TypeGuard[numbers.Real]:
    # bool is an int, but a flag is a category; concrete types go before the slow ABC.
    return not isinstance(value, bool) and isinstance(value, (int, float, numbers.Real))


def _encode(
    name: str, values: Sequence[object], bins: int
) -> tuple[IntArray, list[SliceCondition]]:
    """Integer level per row and each level's condition; numbers with many values binned."""
    missing = np.array([_is_missing(v) for v in values], dtype=bool)
    present = [v for v, gone in zip(values, missing, strict=True) if not gone]
    is_number = all(_is_number(v) for v in present)
    if is_number and len(set(present)) > bins:
        numeric = np.array([0.0 if gone else v for v, gone in zip(values, missing, strict=True)])
        observed = numeric[~missing]
        inner = np.unique(np.quantile(observed, np.linspace(0, 1, bins + 1))[1:-1])
        bounds = [float(observed.min()), *map(float, inner), float(observed.max())]
        codes = np.searchsorted(inner, numeric, side="right").astype(np.int64)
        levels = [
            SliceCondition(name, f"[{a:g}, {b:g})", numeric=True, low=a, high=b)
            for a, b in pairwise(bounds[:-1])
        ]
        top = bounds[-2:]
        label = f"[{top[0]:g}, {top[1]:g}]"
        levels.append(SliceCondition(name, label, True, top[0], top[1], closed=True))
    else:
        text = [MISSING if gone else str(v) for v, gone in zip(values, missing, strict=True)]
        names = sorted(set(text) - {MISSING})
        index = {label: i for i, label in enumerate(names)}
        codes = np.array([index.get(t, len(names)) for t in text], dtype=np.int64)
        levels = [SliceCondition(name, label) for label in names]
    levels.append(SliceCondition(name, MISSING, numeric=is_number))
    codes[missing] = len(levels) - 1
    return codes, levels


def _columns(
    rows: Sequence[Mapping[str, object]] | Mapping[str, Sequence[object]], size: int
) -> dict[str, list[object]]:
    if isinstance(rows, Mapping):
        columns = {str(k): list(v) for k, v in rows.items()}
        for key, column in columns.items():
            if len(column) != size:
                raise ValueError(
                    f"rows[{key!r}]: has {len(column)} values but correct has {size}; "
                    "pass one value per outcome"
                )
    else:
        if len(rows) != size:
            raise ValueError(f"rows: has {len(rows)} rows but correct has {size}")
        keys: dict[str, None] = {}
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise ValueError(f"rows[{i}]: expected a mapping of attribute -> value")
            keys.update(dict.fromkeys(map(str, row)))
        columns = {key: [row.get(key) for row in rows] for key in keys}
    if not columns:
        raise ValueError("rows: no attributes to slice on")
    return columns


def _adjust(p_values: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    """Benjamini-Hochberg (or Benjamini-Yekutieli) adjusted q-values."""
    m = p_values.size
    factor = 1.0 if method == "bh" else float(np.sum(1.0 / np.arange(1, m + 1)))
    order = np.argsort(p_values)
    scaled = p_values[order] * m * factor / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    return result


@dataclass(frozen=True, slots=True)
class _Candidate:
    conditions: tuple[SliceCondition, ...]
    codes: IntArray
    code: int
    support: int
    errors: int


def find_error_slices(
    rows: Sequence[Mapping[str, object]] | Mapping[str, Sequence[object]],
    correct: Iterable[bool | int],
    *,
    min_support: int = 30,
    q: float = 0.05,
    numeric_bins: int = 4,
    max_attributes: Literal[1, 2] = 2,
    level: float = 0.95,
    fdr: Literal["bh", "by"] = "bh",
) -> SliceReport:
    """Find one- and two-attribute slices whose error rate is above the rest's.

    `rows` is a list of attribute dicts (one per outcome) or a mapping of attribute ->
    values. Numbers with more than `numeric_bins` distinct values are cut at their
    quantiles into `numeric_bins` bins; other values are categories compared as text.
    None, NaN and absent keys are the value "<missing>". Slices need `min_support`
    rows; each gets a one-sided Fisher exact p-value and a Clopper-Pearson interval at
    `level` for its error rate. `slices` holds the discoveries ranked by excess errors,
    those with `explained_by` set after those that stand on their own.

    Guarantee: outcomes independent given the attributes. Discoveries are the slices
    with q-value <= q; with `fdr="by"` (Benjamini-Yekutieli) the expected share of
    false discoveries is at most q under any dependence between slices. The default
    `fdr="bh"` (Benjamini-Hochberg) proves that bound for independent or positively
    dependent tests only (a slice and its complement are negatively dependent); on
    uniform noise it reports any slice at all in at most a share q of data sets, and
    with a planted slice its average false-discovery share stays below q (both
    measured in tests/stats/test_slices.py).

    >>> rows = [{"task": "table" if i % 4 == 0 else "text"} for i in range(400)]
    >>> wrong = [i % 4 == 0 and i % 12 == 0 for i in range(400)]
    >>> report = find_error_slices(rows, [not w for w in wrong])
    >>> report.slices[0].description, report.verdict
    ('task = table', 'concentrated')
    """
    hits = correct_flags("correct", correct)
    if isinstance(min_support, bool) or not isinstance(min_support, int) or min_support < 1:
        raise ValueError(f"min_support = {min_support!r}: must be an integer >= 1")
    for name, value in (("q", q), ("level", level)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} = {value!r}: must be strictly between 0 and 1")
    if numeric_bins < 2:
        raise ValueError(f"numeric_bins = {numeric_bins!r}: must be at least 2")
    if max_attributes not in (1, 2):
        raise ValueError(f"max_attributes = {max_attributes!r}: must be 1 or 2")
    if fdr not in ("bh", "by"):
        raise ValueError(f"fdr = {fdr!r}: use 'bh' or 'by'")
    wrong = ~hits
    total = wrong.size
    encoded = [_encode(k, v, numeric_bins) for k, v in _columns(rows, total).items()]
    # A candidate is (row codes, levels per code); pairs combine two attributes' codes.
    candidates: list[tuple[IntArray, list[tuple[SliceCondition, ...]]]] = [
        (codes, [(c,) for c in levels]) for codes, levels in encoded
    ]
    if max_attributes == 2:
        for (ca, la), (cb, lb) in combinations(encoded, 2):
            candidates.append((ca * len(lb) + cb, [(a, b) for a in la for b in lb]))
    found: list[_Candidate] = []
    for codes, conditions in candidates:
        support = np.bincount(codes, minlength=len(conditions))
        errors = np.bincount(codes, weights=wrong, minlength=len(conditions)).astype(np.int64)
        for i in np.flatnonzero((support >= min_support) & (support < total)):
            found.append(_Candidate(conditions[i], codes, int(i), int(support[i]), int(errors[i])))
    return _report(found, wrong, q, min_support, level, fdr)


def _report(
    found: list[_Candidate],
    wrong: NDArray[np.bool_],
    q: float,
    min_support: int,
    level: float,
    fdr: str,
) -> SliceReport:
    total, total_errors = wrong.size, int(wrong.sum())
    support = np.array([c.support for c in found], dtype=np.int64)
    errors = np.array([c.errors for c in found], dtype=np.int64)
    # One-sided Fisher exact test = upper hypergeometric tail of the slice's errors.
    p_values = stats.hypergeom.sf(errors - 1, total, total_errors, support)
    q_values = _adjust(p_values, fdr) if found else p_values
    lower, upper = clopper_pearson(errors, support, level)
    rest_rate = (total_errors - errors) / (total - support)
    excess = errors - support * rest_rate
    tested = [
        ErrorSlice(
            conditions=c.conditions,
            support=c.support,
            errors=c.errors,
            error_rate=c.errors / c.support,
            error_interval=(float(lower[i]), float(upper[i])),
            rest_error_rate=float(rest_rate[i]),
            p_value=float(p_values[i]),
            q_value=float(q_values[i]),
            excess_errors=float(excess[i]),
        )
        for i, c in enumerate(found)
    ]
    found_ids = [i for i in np.argsort(p_values, kind="stable") if q_values[i] <= q]
    cutoff = max((float(p_values[i]) for i in found_ids), default=0.0)
    explained = _explanations(found, found_ids, wrong, cutoff)
    for i, j in explained.items():
        tested[i] = replace(tested[i], explained_by=tested[j].description)
    # Slices standing on their own first, then those a discovered slice accounts for.
    ranked = sorted(found_ids, key=lambda i: (i in explained, -excess[i], p_values[i]))
    inside = np.zeros(total, dtype=bool)
    # Explained slices only add their diluted parent rows; the summary skips them.
    for i in ranked:
        if i not in explained:
            inside |= found[i].codes == found[i].code
    in_rows, in_errors = int(inside.sum()), int(wrong[inside].sum())
    # Slices covering every row leave nothing to compare with: claim no excess then.
    outside_rate = (
        (total_errors - in_errors) / (total - in_rows) if in_rows < total else total_errors / total
    )
    union_excess = in_errors - in_rows * outside_rate if ranked else 0.0
    share = union_excess / total_errors if total_errors else 0.0
    overall = clopper_pearson(np.array([total_errors]), np.array([total]), level)
    verdict: Literal["scattered", "partly concentrated", "concentrated"] = (
        "scattered" if not ranked else "concentrated" if share >= 0.5 else "partly concentrated"
    )
    return SliceReport(
        rows=total,
        errors=total_errors,
        error_rate=total_errors / total,
        error_interval=(float(overall[0][0]), float(overall[1][0])),
        slices=tuple(tested[i] for i in ranked),
        tested=tuple(tested[i] for i in np.argsort(p_values, kind="stable")),
        q=q,
        min_support=min_support,
        rows_in_slices=in_rows,
        errors_in_slices=in_errors,
        excess_errors=float(union_excess),
        share_explained=float(share),
        verdict=verdict,
    )


def _explanations(
    found: list[_Candidate], found_ids: list[int], wrong: NDArray[np.bool_], cutoff: float
) -> dict[int, int]:
    """Map each discovery to the denser discovery that accounts for its excess errors.

    Discoveries are visited densest first. One stands on its own when, for each denser
    discovery already standing, its rows outside that one would be a discovery by
    themselves against the rows outside both (Fisher p-value within the BH `cutoff`).
    """
    masks = {i: found[i].codes == found[i].code for i in found_ids}
    rate = {i: found[i].errors / found[i].support for i in found_ids}
    standing: list[int] = []
    explained: dict[int, int] = {}
    for i in sorted(found_ids, key=lambda i: -rate[i]):
        for j in standing:
            left = masks[i] & ~masks[j]
            pool = left | ~(masks[i] | masks[j])
            left_rows, pool_rows = int(left.sum()), int(pool.sum())
            if left_rows == 0 or left_rows == pool_rows:
                explained[i] = j
                break
            p = stats.hypergeom.sf(
                int(wrong[left].sum()) - 1, pool_rows, int(wrong[pool].sum()), left_rows
            )
            if p > cutoff:
                explained[i] = j
                break
        else:
            standing.append(i)
    return explained
