"""Composition, sweep expansion and run fingerprints."""

from __future__ import annotations

from datetime import date

import pytest

from carbon254.scenarios.engine import apply_scenario
from carbon254.scenarios.errors import SweepTooLarge
from carbon254.scenarios.loading import load_scenario
from carbon254.scenarios.model import GasStep, ShiftStep
from carbon254.scenarios.sweep import compose, expand_sweep

from .curves import curve_set, hourly_curve

SWEPT = """\
name: grid
steps:
  - {type: shift, percent: 0}
  - {type: gas, gas_change: 0}
sweep:
  - {step: 0, parameter: percent, values: [-10, -5, 0, 5, 10]}
  - step: 1
    parameter: gas_change
    range: {start: -2, stop: 2, step: 0.5}
"""


def test_sweep_expands_to_the_cartesian_product_with_names() -> None:
    scenarios = expand_sweep(load_scenario(SWEPT))
    assert len(scenarios) == 45
    assert scenarios[0].name == "grid [s0.percent=-10, s1.gas_change=-2]"
    assert scenarios[-1].name == "grid [s0.percent=10, s1.gas_change=2]"
    last = scenarios[-1].steps
    assert isinstance(last[0], ShiftStep) and last[0].percent == 10
    assert isinstance(last[1], GasStep) and last[1].gas_change == 2.0
    assert all(s.sweep is None for s in scenarios)
    assert len({s.name for s in scenarios}) == 45


def test_sweep_of_a_nested_parameter_and_the_cap() -> None:
    text = (
        "name: g\nsteps:\n  - {type: gas, gas_change: 1}\n"
        "sweep:\n  - {step: 0, parameter: heat_rates.onpeak, values: [7, 9]}\n"
    )
    steps = [s.steps[0] for s in expand_sweep(load_scenario(text))]
    assert [s.heat_rates.onpeak for s in steps if isinstance(s, GasStep)] == [7.0, 9.0]
    with pytest.raises(SweepTooLarge, match=r"45 points .* limit is 10"):
        expand_sweep(load_scenario(SWEPT), limit=10)


def test_a_scenario_with_a_sweep_must_be_expanded_before_applying() -> None:
    base = curve_set(hourly_curve("ERCOT", "HB_NORTH", date(2026, 1, 1), 1))
    with pytest.raises(ValueError, match="expand_sweep"):
        apply_scenario(load_scenario(SWEPT), base)


def test_compose_keeps_order_reindexes_sweeps_and_combines_seeds() -> None:
    a = load_scenario("name: a\nseed: 1\nsteps:\n  - {type: shift, absolute: 10}\n")
    b = load_scenario("name: b\nseed: 2\nsteps:\n  - {type: shift, percent: 10}\n")
    ab, ba = compose(a, b), compose(b, a)
    assert ab.name == "a + b" and [s.type for s in ab.steps] == ["shift", "shift"]
    assert ab.seed is not None and ab.seed == compose(a, b).seed and ab.seed != ba.seed
    base = curve_set(hourly_curve("ERCOT", "HB_NORTH", date(2026, 1, 1), 1))
    on_ab = apply_scenario(ab, base).curves.monthly["HB_NORTH"].prices[0, 0]
    on_ba = apply_scenario(ba, base).curves.monthly["HB_NORTH"].prices[0, 0]
    assert (on_ab, on_ba) == (pytest.approx(66.0), pytest.approx(65.0))
    both = compose(a, load_scenario(SWEPT))
    assert both.sweep is not None and [axis.step for axis in both.sweep] == [1, 2]
    assert len(expand_sweep(both)) == 45
    assert compose(load_scenario("name: x\nsteps: []\n")).seed is None


def test_fingerprint_tracks_scenario_curves_and_engine() -> None:
    base = curve_set(hourly_curve("ERCOT", "HB_NORTH", date(2026, 1, 1), 1))
    other = curve_set(hourly_curve("ERCOT", "HB_NORTH", date(2026, 1, 1), 2))
    s1 = load_scenario("name: a\nsteps:\n  - {type: shift, absolute: 1}\n")
    s2 = load_scenario("name: a\nsteps:\n  - {type: shift, absolute: 2}\n")
    f = apply_scenario(s1, base).fingerprint
    assert len(f) == 64 and f == apply_scenario(s1, base).fingerprint
    assert (
        f == apply_scenario(s1, curve_set(hourly_curve("ERCOT", "HB_NORTH", date(2026, 1, 1), 1))).fingerprint
    )
    assert f != apply_scenario(s2, base).fingerprint
    assert f != apply_scenario(s1, other).fingerprint
