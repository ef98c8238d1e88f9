"""cusum_average_run_length refuses thresholds it would clamp, crash on, or run out of memory on."""

from __future__ import annotations

import math
import re

import pytest

from trustramp.stats import calibrate_cusum, cusum_average_run_length
from trustramp.stats.cusum import CusumLattice

MAX_CELLS = 20_000_000  # the bound documented in cusum_average_run_length


@pytest.mark.parametrize("h", [math.nan, math.inf, -math.inf, -1.0, 0.0, 0, True, "5"])
def test_h_must_be_a_finite_positive_number(h: object) -> None:
    with pytest.raises(ValueError, match=r"^h must be a finite threshold > 0 .*got "):
        cusum_average_run_length(0.92, 0.87, h, 0.92)  # type: ignore[arg-type]


def test_h_below_half_a_lattice_step_is_refused_not_rounded_up() -> None:
    unit = CusumLattice.for_rates(0.92, 0.87).unit
    with pytest.raises(ValueError, match=r"^h must be at least half a lattice step"):
        cusum_average_run_length(0.92, 0.87, 0.4 * unit, 0.92)
    assert cusum_average_run_length(0.92, 0.87, 0.6 * unit, 0.92) == pytest.approx(
        cusum_average_run_length(0.92, 0.87, unit, 0.92))


@pytest.mark.parametrize(("p0", "p1"), [(0.92, 0.87), (0.9999, 0.999), (0.05, 0.01)])
def test_a_lattice_past_the_documented_bound_is_refused(p0: float, p1: float) -> None:
    base = CusumLattice.for_rates(p0, p1)
    band = base.up + base.down + 1
    largest = MAX_CELLS // band * base.unit
    for h in (1e9, largest + base.unit):
        with pytest.raises(ValueError, match="matrix cells this function solves") as caught:
            cusum_average_run_length(p0, p1, h, p0)
        message = str(caught.value)
        assert f"x {band} bands, more than the {MAX_CELLS:,} matrix cells" in message
        stated = float(re.search(r"h must be <= (\S+)$", message).group(1))  # type: ignore[union-attr]
        assert stated == pytest.approx(largest, rel=1e-5)


@pytest.mark.parametrize(("p0", "p1"), [(0.92, 0.87), (0.99, 0.98), (0.5, 0.4)])
def test_calibrated_thresholds_are_well_inside_the_bound(p0: float, p1: float) -> None:
    design = calibrate_cusum(p0, p1, 1_000_000)
    assert cusum_average_run_length(p0, p1, design.h, p0) == design.false_alarm_interval
