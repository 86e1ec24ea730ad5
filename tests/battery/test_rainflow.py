"""Rainflow counting against the ASTM E1049-85 worked example and simple SOC paths."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from carbon254.battery.rainflow import count_cycles, equivalent_full_cycles, reversals


def _by_range(series: list[float]) -> dict[float, float]:
    counts: Counter[float] = Counter()
    for cycle in count_cycles(series):
        counts[cycle.range] += cycle.count
    return dict(sorted(counts.items()))


def test_the_astm_e1049_example() -> None:
    # ASTM E1049-85 (2017) fig. 6: ranges 3 (half), 4 (one and a half), 6 (half), 8 (one), 9 (half).
    assert _by_range([-2, 1, -3, 5, -1, 3, -4, 4, -2]) == {3: 0.5, 4: 1.5, 6: 0.5, 8: 1.0, 9: 0.5}


def test_reversals_drop_plateaus_and_monotone_runs() -> None:
    points, index = reversals([0.0, 1.0, 2.0, 2.0, 1.0, 1.0, 3.0])
    assert points.tolist() == [0.0, 2.0, 1.0, 3.0]
    assert index.tolist() == [0, 3, 5, 6]


def test_daily_full_cycles_of_a_battery() -> None:
    # Five days of 0 -> 400 -> 0 MWh: five full-depth cycles, however they are split into halves.
    soc = [*np.tile([0.0, 200.0, 400.0, 200.0], 5).tolist(), 0.0]
    cycles = count_cycles(soc)
    assert all(c.range == 400.0 for c in cycles)
    assert sum(c.count for c in cycles) == pytest.approx(5.0)
    assert equivalent_full_cycles(cycles, 400.0) == pytest.approx(5.0)


def test_a_small_cycle_inside_a_large_one_is_counted_apart() -> None:
    # 0 -> 400, a dip to 300 and back, then down to 0: one 100 MWh cycle and the 400 MWh swing.
    assert _by_range([0.0, 400.0, 300.0, 400.0, 0.0]) == {100.0: 1.0, 400.0: 1.0}
