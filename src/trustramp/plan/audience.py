"""How many users a phase reaches, estimated from what the plan declares.

Lint needs sizes ("the first phase reaches more than 5% of users", "the audience
grows more than 5x in one step"), but a plan holds conditions, not head counts.
The estimate uses only declared numbers:

- a segment's size is its ``share`` of all users; a segment that is only an
  allow list (no condition) has ``len(users)`` members; a segment with an empty
  condition and no allow list is everyone; no segments at all means everyone;
- several segments are summed (capped at all users): an upper bound on their union;
- the phase takes ``percent`` of that;
- ``max_users`` caps the count; when the segment's size is unknown, a capped
  phase is sized at its cap (a cap on a large segment fills up);
- ``feature.population`` converts between counts and fractions.

Exclusions are ignored, so every estimate errs on the wide side. Because the
decision engine keeps earlier audiences exposed, :func:`exposure_growth` counts
the earlier audience too unless the later phase contains it (:func:`nested`). When neither a
fraction of all users nor a count can be derived the estimate says so (None),
and lint asks for ``share`` or ``population`` rather than guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trustramp.plan.schema import Phase, Plan, Segment


@dataclass(frozen=True, slots=True)
class AudienceEstimate:
    """A phase's estimated reach as a fraction of all users and as a user count.

    Either may be None when the plan does not declare enough to derive it.
    ``basis`` says in words how the numbers were obtained.
    """

    fraction: float | None
    users: float | None
    basis: str

    def describe(self) -> str:
        """'about 2.5% of users (1,250 users)' or 'an unknown share of users'."""
        parts = []
        if self.fraction is not None:
            parts.append(f"about {self.fraction * 100:.3g}% of users")
        if self.users is not None:
            parts.append(f"about {self.users:,.0f} users")
        return " / ".join(parts) if parts else "an unknown number of users"


def restricts(segment: Segment) -> bool:
    """False for a segment that matches everyone (empty condition, no allow list)."""
    return bool(segment.condition) or bool(segment.users)


def _segment_size(segment: Segment, population: int | None) -> tuple[float | None, float | None]:
    if segment.share is not None:
        return segment.share, None if population is None else segment.share * population
    if not restricts(segment):
        return 1.0, None if population is None else float(population)
    if segment.users and not segment.condition:
        count = float(len(segment.users))
        return None if population is None else min(1.0, count / population), count
    return None, None


def estimate_audience(plan: Plan, phase: Phase) -> AudienceEstimate:
    """Estimate the reach of ``phase`` (see the module docstring for the rules).

    >>> from trustramp.plan import parse_plan
    >>> plan = parse_plan('''
    ... feature: {key: demo, stakes: low, fallback: rules, population: 20000}
    ... segments: {beta: {condition: {beta: true}, share: 0.1}}
    ... phases: [{name: one, audience: {segments: [beta], percent: 25}}]
    ... ''')
    >>> estimate_audience(plan, plan.phases[0]).describe()
    'about 2.5% of users / about 500 users'
    """
    population = plan.feature.population
    audience = phase.audience
    fraction: float | None = 1.0
    users: float | None = None if population is None else float(population)
    basis = "all users"
    if audience.segments:
        fraction, users = 0.0, 0.0
        for name in audience.segments:
            seg_fraction, seg_users = _segment_size(plan.segments[name], population)
            fraction = None if fraction is None or seg_fraction is None else fraction + seg_fraction
            users = None if users is None or seg_users is None else users + seg_users
        fraction = None if fraction is None else min(1.0, fraction)
        if users is not None and population is not None:
            users = min(users, float(population))
        basis = "segments " + ", ".join(audience.segments)
    share = audience.percent / 100.0
    fraction = None if fraction is None else fraction * share
    users = None if users is None else users * share
    basis += f" x {audience.percent:g}%"
    if audience.max_users is not None:
        if users is None:
            users = 0.0 if share == 0 else float(audience.max_users)
        else:
            users = min(users, audience.max_users)
        if population is None and share > 0:
            fraction = None  # the cap may bind, and without a population it has no share
        basis += f", capped at {audience.max_users:,} users"
    if population is not None:
        if users is not None:
            users = min(users, float(population))
        if users is None and fraction is not None:
            users = fraction * population
        if users is not None:
            fraction = users / population
        basis += f", of {population:,} users"
    return AudienceEstimate(fraction, users, basis)


def growth(plan: Plan, before: Phase, after: Phase) -> float | None:
    """How many times larger ``after``'s audience is than ``before``'s; None if unknowable.

    Infinite when ``before`` reaches nobody and ``after`` reaches someone.

    Falls back to the ratio of percents when both phases target the same
    segments without caps, which needs no sizes at all.
    """
    a, b = estimate_audience(plan, before), estimate_audience(plan, after)
    for x, y in ((a.fraction, b.fraction), (a.users, b.users)):
        if x is not None and y is not None:
            if x == 0:
                return 1.0 if y == 0 else math.inf  # from nobody: nothing was learned
            return y / x
    same = set(before.audience.segments) == set(after.audience.segments)
    uncapped = before.audience.max_users is None and after.audience.max_users is None
    if same and uncapped:
        if before.audience.percent == 0:
            return 1.0 if after.audience.percent == 0 else math.inf
        return after.audience.percent / before.audience.percent
    return None


def nested(plan: Plan, before: Phase, after: Phase) -> bool:
    """True when ``after``'s audience contains ``before``'s whole audience.

    Buckets do not depend on the percent, so "the same or wider segments at the
    same or a higher percent, without a cap" contains every unit the earlier
    phase exposed.
    """
    if after.audience.max_users is not None or after.audience.percent < before.audience.percent:
        return False
    names = after.audience.segments
    if not names or any(not restricts(plan.segments[name]) for name in names):
        return True
    return bool(before.audience.segments) and set(before.audience.segments) <= set(names)


def exposure_growth(plan: Plan, before: Phase, after: Phase) -> float | None:
    """How many times more users can see the feature after the step from ``before``.

    The decision engine keeps earlier audiences exposed, so what users see after
    the step is the union of both phases. For a nested step that is ``after``'s
    audience (:func:`growth`); otherwise it is at most both audiences together,
    ``1 + growth``, which is what this returns: a bound that never understates.
    """
    ratio = growth(plan, before, after)
    if ratio is None or nested(plan, before, after):
        return ratio
    return 1.0 + ratio
