"""The held-out accuracy item: a commitment device, not a point estimate.

The item passes only when the held-out set has at least ``min_examples`` answers
AND the one-sided Clopper-Pearson lower bound of its accuracy at ``level`` is at
least ``min_accuracy``. So a model whose true accuracy is below the bar passes in
at most 1 - level of held-out sets (exactly, not asymptotically: the bound is
exact for a binomial count), where "the estimate is above the bar" would pass a
model a hair below it about half the time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trustramp.plan.schema import HeldOutSet
from trustramp.readiness.records import ChecklistItem, ItemStatus
from trustramp.stats import clopper_pearson
from trustramp.stats.slices import clopper_pearson_one_sided

_MOST_EXAMPLES = 10_000_000
"""Beyond this many labels the advice is "improve the model", not "label more"."""


def lower_bound(correct: int, n: int, level: float) -> float:
    """One-sided Clopper-Pearson lower bound of an accuracy at ``level``.

    >>> round(lower_bound(190, 200, 0.95), 4)
    0.9167
    """
    lower, _ = clopper_pearson_one_sided(correct, n, 1.0 - level)
    return float(lower)


def accuracy_passes(correct: int, n: int, heldout: HeldOutSet, level: float) -> bool:
    """The rule of the item: enough examples and a lower bound that clears the bar."""
    return n >= heldout.min_examples and lower_bound(correct, n, level) >= heldout.min_accuracy


def examples_needed(accuracy: float, target: float, level: float) -> int | None:
    """About how many answers, at this accuracy, put the lower bound at ``target``.

    "About": with whole counts the bound is not monotone in n (a little below the
    answer some larger n fail again), which is fine for advice.

    None when no number of examples would (the accuracy is not above the target) or
    more than ten million would be needed.

    >>> examples_needed(0.95, 0.90, 0.95)
    116
    """
    if accuracy <= target:
        return None

    def clears(ns: NDArray[np.int64]) -> NDArray[np.bool_]:
        hits = np.floor(accuracy * ns + 1e-9).astype(np.int64)
        lower, _ = clopper_pearson_one_sided(hits, ns, 1.0 - level)
        return np.asarray(lower >= target)

    # A few vectorised passes, each a hundred times finer, instead of a scalar bisection:
    # the failing checks of a simulation call this thousands of times.
    ns = np.unique(np.geomspace(1, _MOST_EXAMPLES, 120).round().astype(np.int64))
    while True:
        cleared = np.flatnonzero(clears(ns))
        if cleared.size == 0:
            return None
        first = int(cleared[0])
        if first == 0 or ns[first] - ns[first - 1] <= 1:
            return int(ns[first])
        ns = np.unique(np.linspace(ns[first - 1], ns[first], 100).round().astype(np.int64))


def accuracy_item(correct: NDArray[np.bool_], heldout: HeldOutSet, level: float) -> ChecklistItem:
    """Accuracy on the held-out set with its interval, against ``heldout.min_accuracy``."""
    n, hits = int(correct.size), int(correct.sum())
    low, high = clopper_pearson(np.array([hits]), np.array([n]), level)
    bound = lower_bound(hits, n, level)
    estimate = hits / n
    passed = accuracy_passes(hits, n, heldout, level)
    stated = (f"accuracy {estimate:.3f} [{float(low[0]):.3f}, {float(high[0]):.3f}] on "
              f"{n:,} held-out answers, one-sided {level:.0%} lower bound {bound:.3f}")
    if passed:
        summary = f"{stated}, clears the required {heldout.min_accuracy:g}."
    else:
        summary = f"{stated}: {_advice(estimate, n, bound, heldout, level)}."
    return ChecklistItem(
        id="heldout_accuracy",
        status=ItemStatus.PASS if passed else ItemStatus.FAIL,
        summary=summary,
        estimate=estimate,
        interval=(float(low[0]), float(high[0])),
        n=n,
        bound=bound,
        target=heldout.min_accuracy,
    )


def _advice(estimate: float, n: int, bound: float, heldout: HeldOutSet, level: float) -> str:
    bar = heldout.min_accuracy
    problems = []
    if n < heldout.min_examples:
        problems.append(f"only {n:,} of the {heldout.min_examples:,} examples required")
    if bound < bar:
        problems.append(f"the lower bound is below the required {bar:g}")
    needed = examples_needed(estimate, bar, level)
    if bound >= bar:
        todo = f"label at least {heldout.min_examples - n:,} more held-out answers"
    elif needed is None:
        todo = ("more examples will not lift the bound above the bar at this accuracy: "
                "improve the model (or its task filter) and evaluate again")
    else:
        total = max(needed, heldout.min_examples)
        todo = (f"label about {max(total - n, 1):,} more held-out answers if the accuracy "
                "holds, or improve the model")
    return f"{' and '.join(problems)}; {todo}"
