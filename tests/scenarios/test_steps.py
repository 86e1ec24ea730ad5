"""Each step type on hand-computable curves, on hours and on monthly-only hubs."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import numpy.typing as npt
import pytest

from carbon254.curves.model import CurveSet
from carbon254.scenarios.engine import ScenarioResult, apply_scenario
from carbon254.scenarios.errors import ScenarioError
from carbon254.scenarios.loading import load_scenario
from carbon254.scenarios.model import Scenario
from carbon254.scenarios.shaping import SOLAR_BELL
from carbon254.timeseries.periods import Block

from .curves import BLOCKS, Floats, curve_set, hourly_curve, local_hours, monthly_of

HUB = "HB_NORTH"


def _run(
    yaml_steps: str, *, months: int = 3, first: date = date(2026, 1, 1), with_hours: bool = True
) -> tuple[CurveSet, ScenarioResult]:
    base = curve_set(hourly_curve("ERCOT", HUB, first, months), with_hours=with_hours)
    scenario = load_scenario(f"name: t\nsteps:\n{yaml_steps}")
    return base, apply_scenario(scenario, base)


def _onpeak_offpeak(result: ScenarioResult, hub: str = HUB) -> tuple[Floats, Floats]:
    curve = result.curves.monthly[hub]
    return curve.prices[:, BLOCKS.index(Block.ONPEAK)], curve.prices[:, BLOCKS.index(Block.OFFPEAK)]


def test_shift_percent_on_onpeak_only() -> None:
    base, result = _run("  - {type: shift, percent: 10, blocks: [onpeak]}\n")
    on, off = _onpeak_offpeak(result)
    np.testing.assert_allclose(on, 55.0)
    np.testing.assert_allclose(off, 30.0)
    hours = base.monthly[HUB].hours
    atc = (55.0 * hours[:, 0] + 30.0 * hours[:, 1]) / hours[:, 2]
    np.testing.assert_allclose(result.curves.monthly[HUB].prices[:, 2], atc)
    hourly = result.curves.hourly[HUB].prices
    np.testing.assert_allclose(np.unique(hourly), [30.0, 55.0])


def test_gas_passes_through_heat_rates() -> None:
    _, result = _run("  - {type: gas, gas_change: 1}\n")
    on, off = _onpeak_offpeak(result)
    np.testing.assert_allclose(on, 58.5)
    np.testing.assert_allclose(off, 37.0)
    _, result = _run("  - {type: gas, percent: 50, base_gas: 2, heat_rates: {onpeak: 10}}\n")
    np.testing.assert_allclose(_onpeak_offpeak(result)[0], 60.0)


def test_load_growth_uses_block_elasticities() -> None:
    _, result = _run("  - {type: load_growth, percent: 2}\n")
    on, off = _onpeak_offpeak(result)
    np.testing.assert_allclose(on, 50.0 * 1.03)
    np.testing.assert_allclose(off, 30.0 * 1.02)


def test_tenor_range_and_block_filter() -> None:
    _, result = _run("  - {type: shift, absolute: 5, blocks: [onpeak], start: 2026-02, end: 2026-02}\n")
    on, off = _onpeak_offpeak(result)
    np.testing.assert_allclose(on, [50.0, 55.0, 50.0])
    np.testing.assert_allclose(off, 30.0)


def test_renewables_deepen_midday_by_weight() -> None:
    base, result = _run("  - {type: renewables, depth: 20}\n", first=date(2026, 7, 1), months=1)
    _, local = local_hours("ERCOT", date(2026, 7, 1), 1)
    hour_ending = (local // 3_600_000_000) % 24 + 1
    ratio = result.curves.hourly[HUB].prices / base.hourly[HUB].prices
    np.testing.assert_allclose(ratio[hour_ending == 13], 0.8)
    np.testing.assert_allclose(ratio[hour_ending == 8], 1 - 0.2 * math.sin(math.pi / 12))
    np.testing.assert_allclose(ratio[(hour_ending < 8) | (hour_ending > 18)], 1.0)
    assert SOLAR_BELL[12] == 1.0
    # A shape change: the monthly onpeak price falls too, rebuilt from the hours.
    on, _ = _onpeak_offpeak(result)
    assert on[0] < 50.0


def test_renewables_months_and_user_shape() -> None:
    shape = [0.0] * 12 + [1.0] + [0.0] * 11
    _, result = _run(f"  - {{type: renewables, depth: 50, shape: {shape}, months: [2]}}\n")
    on, _ = _onpeak_offpeak(result)
    assert on[0] == 50.0 and on[2] == 50.0 and on[1] < 50.0


def test_volatility_scales_deviations_and_keeps_block_means() -> None:
    def alternating(hour: npt.NDArray[np.int64], onpeak: npt.NDArray[np.bool_]) -> Floats:
        return np.where(hour % 2 == 0, 40.0, 60.0)

    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 7, 1), 1, alternating))
    result = apply_scenario(load_scenario("name: v\nsteps:\n  - {type: volatility, factor: 2}\n"), base)
    before, after = base.hourly[HUB].prices, result.curves.hourly[HUB].prices
    np.testing.assert_allclose(after[before == 40.0], 30.0)
    np.testing.assert_allclose(after[before == 60.0], 70.0)
    np.testing.assert_allclose(result.curves.monthly[HUB].prices, base.monthly[HUB].prices)


def test_composition_order_matters() -> None:
    _, result = _run("  - {type: shift, absolute: 10}\n  - {type: shift, percent: 10}\n")
    assert _onpeak_offpeak(result)[0][0] == pytest.approx(66.0)
    _, result = _run("  - {type: shift, percent: 10}\n  - {type: shift, absolute: 10}\n")
    assert _onpeak_offpeak(result)[0][0] == pytest.approx(65.0)


def test_monthly_only_hub_moves_blocks_and_rebuilds_atc() -> None:
    base, result = _run("  - {type: shift, absolute: 10, blocks: [onpeak]}\n", with_hours=False)
    curve, before = result.curves.monthly[HUB], base.monthly[HUB]
    np.testing.assert_allclose(curve.prices[:, 0], 60.0)
    np.testing.assert_allclose(curve.prices[:, 1], 30.0)
    expected = before.prices[:, 2] + 10.0 * before.hours[:, 0] / before.hours[:, 2]
    np.testing.assert_allclose(curve.prices[:, 2], expected)
    assert result.curves.hourly == {}


def test_monthly_only_without_parts_is_a_clear_error() -> None:
    hourly = hourly_curve("ERCOT", HUB, date(2026, 1, 1), 2)
    base = CurveSet(monthly={HUB: monthly_of(hourly, (Block.ONPEAK, Block.ATC))})
    scenario = Scenario.model_validate({"name": "x", "steps": [{"type": "load_growth", "percent": 2}]})
    with pytest.raises(ScenarioError, match=r"step 0 \(load_growth\): hub HB_NORTH .* atc"):
        apply_scenario(scenario, base)


def test_hour_steps_need_hours_and_hubs_must_exist() -> None:
    with pytest.raises(ScenarioError, match=r"step 0 \(volatility\) needs an hourly curve for hub HB_NORTH"):
        _run("  - {type: volatility, factor: 2}\n", with_hours=False)
    with pytest.raises(ScenarioError, match="names hub 'HB_WEST'"):
        _run("  - {type: shift, percent: 1, hubs: [HB_WEST]}\n")


def test_hubs_filter_leaves_other_hubs_alone() -> None:
    north = hourly_curve("ERCOT", HUB, date(2026, 1, 1), 1)
    west = hourly_curve("ERCOT", "HB_WEST", date(2026, 1, 1), 1)
    base = curve_set(north, west)
    scenario = load_scenario("name: h\nsteps:\n  - {type: shift, absolute: 1, hubs: [HB_WEST]}\n")
    result = apply_scenario(scenario, base)
    assert result.curves.hourly[HUB] is north
    np.testing.assert_allclose(result.curves.hourly["HB_WEST"].prices, west.prices + 1.0)
