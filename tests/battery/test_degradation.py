"""Cycle-depth curves, rainflow damage and the state-of-health projection on hand-built SOC paths."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from carbon254.battery import (
    Battery,
    BatteryError,
    CycleDepthCurve,
    cycle_damage,
    state_of_health,
    throughput_cost_per_mwh,
)
from carbon254.battery.asset import Augmentation
from carbon254.battery.schedule import Schedule

US_PER_HOUR = 3_600_000_000
ENERGY_MWH = 100.0

# A maker's three points (the brief's example shape): full depth 3,000 cycles, half 7,000, a tenth 60,000.
CURVE = CycleDepthCurve.from_points([(1.0, 3_000.0), (0.5, 7_000.0), (0.1, 60_000.0)])


def _battery(**overrides: object) -> Battery:
    fields: dict[str, object] = {
        "power_mw": 50.0,
        "energy_mwh": ENERGY_MWH,
        "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0,
        "initial_soc_mwh": 0.0,
    }
    fields.update(overrides)
    return Battery(**fields)  # type: ignore[arg-type]


def _schedule(soc_after: list[float], initial: float = 0.0, hours: float = 1.0) -> Schedule:
    """A lossless schedule following `soc_after` (MWh after each interval) from `initial`."""
    soc = np.asarray(soc_after, dtype=np.float64)
    delta = np.diff(np.concatenate([[initial], soc]))
    n = len(soc)
    starts = np.arange(n, dtype=np.int64) * round(hours * US_PER_HOUR)
    return Schedule(
        interval_start=starts,
        interval_hours=hours,
        charge_mw=np.clip(delta, 0, None) / hours,
        discharge_mw=np.clip(-delta, 0, None) / hours,
        soc_mwh=soc,
        cash={"energy": np.zeros(n)},
    )


def _day(cycles: int) -> list[float]:
    """24 hourly SOC values holding `cycles` full-depth cycles (0 -> 100 -> 0 MWh) and idling after."""
    ramp = [25.0, 50.0, 75.0, 100.0, 75.0, 50.0, 25.0, 0.0]
    path = ramp * cycles
    return path + [0.0] * (24 - len(path))


def test_one_full_cycle_uses_one_over_n_of_the_life() -> None:
    assert cycle_damage([0.0, 100.0, 0.0], ENERGY_MWH, CURVE) == pytest.approx(1 / 3_000)


def test_two_half_depth_cycles_use_two_over_n_half() -> None:
    damage = cycle_damage([0.0, 50.0, 0.0, 50.0, 0.0], ENERGY_MWH, CURVE)
    assert damage == pytest.approx(2 / 7_000)
    # Shallow cycling wears less per MWh: the same 100 MWh through one full cycle costs more.
    assert damage < cycle_damage([0.0, 100.0, 0.0], ENERGY_MWH, CURVE)


def test_a_small_cycle_inside_a_large_one_is_priced_at_its_own_depth() -> None:
    damage = cycle_damage([0.0, 100.0, 80.0, 100.0, 0.0], ENERGY_MWH, CURVE)
    assert damage == pytest.approx(1 / 3_000 + 1 / CURVE.cycles_to_end_of_life(0.2))


def test_the_curve_is_interpolated_and_extended_log_log() -> None:
    two = CycleDepthCurve((0.5, 1.0), (7_000.0, 3_000.0))
    # Halfway in log depth is halfway in log cycles: the geometric means.
    assert two.cycles_to_end_of_life(math.sqrt(0.5)) == pytest.approx(math.sqrt(7_000 * 3_000))
    # Below the points the power law goes on: halving the depth again multiplies by the same 7/3.
    assert two.cycles_to_end_of_life(0.25) == pytest.approx(7_000 * 7_000 / 3_000)
    assert CURVE.cycles_to_end_of_life(0.5) == pytest.approx(7_000)
    depths = np.linspace(0.05, 1.0, 40)
    counts = [CURVE.cycles_to_end_of_life(float(d)) for d in depths]
    assert all(b < a for a, b in pairwise(counts))


def test_the_lfp_default_is_a_valid_falling_curve() -> None:
    lfp = CycleDepthCurve.lithium_iron_phosphate()
    assert lfp.end_of_life_soh == pytest.approx(0.8)
    assert lfp.calendar_fade_per_year > 0
    assert lfp.cycles_to_end_of_life(0.1) > lfp.cycles_to_end_of_life(0.5) > lfp.cycles_to_end_of_life(1.0)


@pytest.mark.parametrize(
    ("depths", "cycles", "field"),
    [
        ((0.5, 1.0), (3_000.0, 7_000.0), "cycles must fall"),
        ((1.0, 0.5), (3_000.0, 7_000.0), "strictly increasing"),
        ((0.0, 1.0), (9_000.0, 3_000.0), "depth 0.0"),
        ((0.5, 1.5), (7_000.0, 3_000.0), "depth 1.5"),
        ((0.5, 1.0), (7_000.0, -3.0), "cycles -3.0"),
        ((0.5, 1.0), (7_000.0,), "2 depths for 1"),
        ((1.0,), (3_000.0,), "at least two"),
    ],
)
def test_a_bad_curve_is_refused_naming_what(
    depths: tuple[float, ...], cycles: tuple[float, ...], field: str
) -> None:
    with pytest.raises(BatteryError, match=field):
        CycleDepthCurve(depths, cycles)


def test_bad_end_of_life_and_calendar_fade_are_refused() -> None:
    with pytest.raises(BatteryError, match="end_of_life_soh"):
        CycleDepthCurve((0.5, 1.0), (7_000.0, 3_000.0), end_of_life_soh=1.0)
    with pytest.raises(BatteryError, match="calendar_fade_per_year"):
        CycleDepthCurve((0.5, 1.0), (7_000.0, 3_000.0), calendar_fade_per_year=-0.01)


def test_a_path_deeper_than_the_capacity_is_refused() -> None:
    with pytest.raises(BatteryError, match="soc_mwh"):
        cycle_damage([0.0, 150.0, 0.0], ENERGY_MWH, CURVE)
    with pytest.raises(BatteryError, match="energy_mwh"):
        cycle_damage([0.0, 50.0, 0.0], 0.0, CURVE)


def test_a_day_of_cycling_is_scaled_to_a_year() -> None:
    one_day = state_of_health(_schedule(_day(1)), _battery(), CURVE, years=3)
    two_days = state_of_health(_schedule(_day(1) + _day(1)), _battery(), CURVE, years=3)
    twice_a_day = state_of_health(_schedule(_day(2)), _battery(), CURVE, years=3)
    assert one_day.years[0].damage == pytest.approx(365 * cycle_damage([0, 100, 0], ENERGY_MWH, CURVE))
    # The same daily pattern over a longer horizon wears the same per year; twice as much cycling, twice.
    assert two_days.years[0].damage == pytest.approx(one_day.years[0].damage)
    assert twice_a_day.years[0].damage == pytest.approx(2 * one_day.years[0].damage)
    assert one_day.years[0].cycles == pytest.approx(365.0)
    assert twice_a_day.years[0].cycles == pytest.approx(730.0)


def test_soh_falls_by_cycle_wear_and_calendar_fade() -> None:
    curve = CycleDepthCurve((0.5, 1.0), (7_000.0, 3_000.0), end_of_life_soh=0.8, calendar_fade_per_year=0.01)
    projection = state_of_health(_schedule(_day(1)), _battery(), curve, years=10)
    yearly = cycle_damage([0.0, 100.0, 0.0], ENERGY_MWH, curve) * 365
    soh = [row.soh for row in projection.years]
    assert [row.year for row in projection.years] == list(range(1, 11))
    assert all(b < a for a, b in pairwise(soh))
    for row in projection.years:
        assert row.soh == pytest.approx(1 - 0.2 * yearly * row.year - 0.01 * row.year)
        assert row.capacity_mwh == pytest.approx(ENERGY_MWH * row.soh)
    idle = state_of_health(_schedule([0.0] * 24), _battery(), curve, years=10)
    assert idle.years[-1].soh == pytest.approx(1 - 0.01 * 10)  # calendar fade alone
    assert idle.years[-1].damage == 0.0


def test_augmentation_raises_capacity_in_its_year_and_fades_from_then() -> None:
    curve = CycleDepthCurve.lithium_iron_phosphate()
    battery = _battery(augmentation=(Augmentation(4, 20.0),))
    projection = state_of_health(_schedule(_day(1)), battery, curve, years=8)
    plain = state_of_health(_schedule(_day(1)), _battery(), curve, years=8)
    capacity = [row.capacity_mwh for row in projection.years]
    assert capacity[3] > capacity[2]  # year 4 against year 3
    assert capacity[:3] == pytest.approx([row.capacity_mwh for row in plain.years[:3]])
    # The original cells' health is unchanged; the 20 MWh tranche ages from its own year (one year at year 4).
    per_year = 1 - plain.years[0].soh
    for row, base in zip(projection.years, plain.years, strict=True):
        assert row.soh == pytest.approx(base.soh)
        added = 0.0 if row.year < 4 else 20.0 * (1 - per_year * (row.year - 3))
        assert row.capacity_mwh == pytest.approx(base.capacity_mwh + added)


def test_the_end_of_life_year_is_the_first_at_or_below_the_threshold() -> None:
    curve = CycleDepthCurve((0.5, 1.0), (7_000.0, 3_000.0), end_of_life_soh=0.8)
    projection = state_of_health(_schedule(_day(2)), _battery(), curve, years=30)
    soh = [row.soh for row in projection.years]
    assert projection.end_of_life_year is not None
    year = projection.end_of_life_year
    assert soh[year - 1] <= 0.8 < soh[year - 2]
    expected = math.ceil(0.2 / (0.2 * 730 / 3_000))  # years of 730 full cycles to use the 0.2 of SOH
    assert year == expected
    short = state_of_health(_schedule(_day(2)), _battery(), curve, years=year - 1)
    assert short.end_of_life_year is None


def test_the_projection_table() -> None:
    projection = state_of_health(_schedule(_day(1)), _battery(), CURVE, years=5)
    table = projection.table()
    assert table.columns == ["year", "soh", "capacity_mwh", "cycles", "damage"]
    assert table.height == 5
    assert table["soh"].to_list() == [row.soh for row in projection.years]


def test_the_projection_counts_the_move_from_the_initial_soc() -> None:
    # From 100 MWh down to 0 and back is one full cycle only if the initial SOC is part of the path.
    schedule = _schedule([50.0, 0.0, 50.0, 100.0], initial=100.0)
    projection = state_of_health(schedule, _battery(initial_soc_mwh=100.0), CURVE, years=1)
    days = 4 / 24
    assert projection.years[0].damage == pytest.approx(1 / 3_000 * 365 / days)


def test_bad_projection_arguments_are_refused() -> None:
    with pytest.raises(BatteryError, match="years"):
        state_of_health(_schedule(_day(1)), _battery(), CURVE, years=0)


def test_throughput_cost_pays_for_the_replacement_over_the_curves_throughput() -> None:
    assert throughput_cost_per_mwh(CURVE, 200.0, 1.0) == pytest.approx(200.0 * 1000 / 3_000)
    for depth in (0.1, 0.3, 0.5, 0.8, 1.0):
        cost = throughput_cost_per_mwh(CURVE, 150.0, depth)
        lifetime_mwh = CURVE.cycles_to_end_of_life(depth) * depth * ENERGY_MWH
        assert cost * lifetime_mwh == pytest.approx(150.0 * 1000 * ENERGY_MWH)
    # This curve delivers more lifetime MWh at shallow depths, so shallow cycling is cheaper per MWh.
    assert throughput_cost_per_mwh(CURVE, 150.0, 0.1) < throughput_cost_per_mwh(CURVE, 150.0, 1.0)
    with pytest.raises(BatteryError, match="replacement_cost_per_kwh"):
        throughput_cost_per_mwh(CURVE, -1.0, 0.5)
    with pytest.raises(BatteryError, match="depth"):
        throughput_cost_per_mwh(CURVE, 150.0, 0.0)
