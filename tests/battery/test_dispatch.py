"""Co-optimized dispatch: hand-solvable reserve cases, the invariants every schedule keeps, real prices."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from real_prices import hb_south

from carbon254.battery import (
    Battery,
    BatteryError,
    MarketPrices,
    ReserveDirection,
    ReservePrices,
    ReserveProduct,
    optimize,
)
from carbon254.battery.dispatch import DispatchSolver, settle

HOUR_US = 3_600_000_000
REGUP = ReserveProduct("REGUP", ReserveDirection.UP, 1.0, 0.1)
REGDN = ReserveProduct("REGDN", ReserveDirection.DOWN, 1.0, 0.1)
RRS = ReserveProduct("RRS", ReserveDirection.UP, 1.0, 0.0)
NSPIN = ReserveProduct("NSPIN", ReserveDirection.UP, 4.0, 0.0)
REG = ReserveProduct("REG", ReserveDirection.BOTH, 1.0, 0.2)


def _prices(
    energy: list[float] | np.ndarray, **reserves: tuple[ReserveProduct, list[float] | np.ndarray]
) -> MarketPrices:
    e = np.asarray(energy, dtype=np.float64)
    starts = np.arange(len(e), dtype=np.int64) * HOUR_US
    return MarketPrices(
        starts, 1.0, e, tuple(ReservePrices(p, np.asarray(v, dtype=np.float64)) for p, v in reserves.values())
    )


def _battery(**fields: object) -> Battery:
    base = Battery(10.0, 20.0, 1.0, 1.0, initial_soc_mwh=10.0)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def _year(seed: int = 7) -> MarketPrices:
    """A year of hourly ERCOT-like prices: a daily shape, noise, some spikes and negative hours."""
    rng = np.random.default_rng(seed)
    hours = np.arange(8760)
    energy = 35 + 18 * np.sin(2 * np.pi * (hours % 24 - 9) / 24) + rng.normal(0, 9, 8760)
    energy[rng.random(8760) < 0.01] += 400
    energy[rng.random(8760) < 0.02] = -rng.uniform(1, 20)
    levels = {"REGUP": 8.0, "REGDN": 5.0, "RRS": 10.0, "NSPIN": 3.0}
    products = {"REGUP": REGUP, "REGDN": REGDN, "RRS": RRS, "NSPIN": NSPIN}
    return _prices(
        energy,
        **{
            name: (products[name], np.clip(rng.normal(m, m / 2, 8760), 0, None)) for name, m in levels.items()
        },
    )


def test_a_reserve_worth_more_than_the_energy_spread_is_held_instead() -> None:
    # Flat energy at 30: nothing to arbitrage; RRS pays 12 $/MW-h: the whole 10 MW is awarded every hour.
    prices = _prices([30.0] * 4, rrs=(RRS, [12.0] * 4))
    schedule = optimize(prices, _battery(reserve_limits=(("RRS", 10.0),)))
    np.testing.assert_allclose(schedule.reserve_mw["RRS"], 10.0, atol=1e-7)
    assert schedule.revenue_by_stream["RRS"] == pytest.approx(4 * 10 * 12.0)
    assert schedule.energy_revenue == pytest.approx(0.0, abs=1e-6)


def test_an_up_award_needs_its_energy_in_store_and_headroom_in_power() -> None:
    # 2 MWh in store, 1 h duration: at most 2 MW of RRS, though the limit is 10.
    prices = _prices([30.0, 30.0], rrs=(RRS, [50.0, 50.0]))
    battery = _battery(initial_soc_mwh=2.0, reserve_limits=(("RRS", 10.0),))
    schedule = optimize(prices, battery)
    # Charging at 30 to hold more RRS at 50 pays: hour one charges, and the award grows with the store.
    assert schedule.reserve_mw["RRS"][0] <= 2.0 + 1e-7
    held = schedule.soc_mwh - schedule.reserve_mw["RRS"] * RRS.duration_h
    assert (held >= -1e-7).all()
    injection = schedule.discharge_mw - schedule.charge_mw + schedule.reserve_mw["RRS"]
    assert (injection <= battery.power_mw + 1e-7).all()


def test_a_down_award_needs_room_in_store() -> None:
    prices = _prices([30.0] * 3, regdn=(REGDN, [20.0] * 3))
    battery = _battery(initial_soc_mwh=15.0, reserve_limits=(("REGDN", 10.0),))
    schedule = optimize(prices, battery)
    room = battery.soc_ceiling - schedule.soc_mwh
    assert (schedule.reserve_mw["REGDN"] * REGDN.duration_h <= room + 1e-6).all()
    assert schedule.reserve_mw["REGDN"].sum() > 0


def test_symmetric_regulation_holds_room_both_ways_and_loses_energy_to_deployment() -> None:
    prices = _prices([30.0] * 6, reg=(REG, [15.0] * 6))
    battery = Battery(
        10.0, 20.0, 0.9, 0.9, initial_soc_mwh=10.0, final_soc_mwh=None, reserve_limits=(("REG", 10.0),)
    )
    battery = dataclasses.replace(battery, final_soc_mwh=5.0)
    schedule = optimize(prices, battery)
    assert schedule.deployed_up_mwh is not None and schedule.deployed_down_mwh is not None
    np.testing.assert_allclose(schedule.deployed_up_mwh, schedule.deployed_down_mwh)
    assert schedule.deployed_up_mwh.sum() > 0
    # Deployment both ways at 90% each way drains the store beyond what dispatch moves.
    assert schedule.charged_mwh.sum() > schedule.charge_mw.sum()


def test_co_optimization_is_never_worse_than_energy_only_and_keeps_every_bound() -> None:
    prices = _year()
    energy_only = Battery.from_round_trip(
        power_mw=100, energy_mwh=400, round_trip_efficiency=0.85, initial_soc_mwh=200
    )
    qualified = dataclasses.replace(
        energy_only,
        reserve_limits=(("REGUP", 100.0), ("REGDN", 100.0), ("RRS", 100.0), ("NSPIN", 90.0)),
    )
    alone = optimize(prices, energy_only)
    stacked = optimize(prices, qualified)
    assert stacked.net_revenue >= alone.net_revenue - 1e-6
    assert stacked.net_revenue > alone.net_revenue  # reserves pay here
    b = qualified
    assert (stacked.soc_mwh >= b.min_soc_mwh - 1e-6).all() and (stacked.soc_mwh <= b.soc_ceiling + 1e-6).all()
    assert stacked.soc_mwh[-1] == pytest.approx(b.end_soc_mwh)
    assert not ((stacked.charge_mw > 1e-6) & (stacked.discharge_mw > 1e-6)).any()
    up = sum(stacked.reserve_mw[p] for p in ("REGUP", "RRS", "NSPIN"))
    assert (stacked.discharge_mw - stacked.charge_mw + up <= b.power_mw + 1e-6).all()
    assert (
        stacked.charge_mw - stacked.discharge_mw + stacked.reserve_mw["REGDN"] <= b.charge_limit_mw + 1e-6
    ).all()
    held = (
        sum(stacked.reserve_mw[p.name] * p.duration_h for p in (REGUP, RRS, NSPIN)) / b.discharge_efficiency
    )
    assert (stacked.soc_mwh - held >= b.min_soc_mwh - 1e-6).all()


def test_revenue_equals_price_times_dispatch_recomputed_independently() -> None:
    prices = _year(3)
    battery = dataclasses.replace(
        Battery.from_round_trip(power_mw=50, energy_mwh=100, round_trip_efficiency=0.88, initial_soc_mwh=50),
        reserve_limits=(("REGUP", 25.0), ("RRS", 50.0)),
        degradation_cost=4.0,
        aux_load_mw=0.5,
    )
    s = optimize(prices, battery)
    p = prices.energy
    assert s.deployed_up_mwh is not None and s.deployed_down_mwh is not None
    energy = float(np.sum(p * ((s.discharge_mw - s.charge_mw) + s.deployed_up_mwh - s.deployed_down_mwh)))
    assert s.revenue_by_stream["energy"] == pytest.approx(energy)
    for reserve in prices.reserves:
        name = reserve.product.name
        if name in s.reserve_mw:
            assert s.revenue_by_stream[name] == pytest.approx(
                float(np.sum(reserve.prices * s.reserve_mw[name]))
            )
    assert s.revenue_by_stream["aux"] == pytest.approx(-0.5 * float(p.sum()))
    assert s.revenue_by_stream["degradation"] == pytest.approx(-4.0 * float(s.discharged_mwh.sum()))
    # The SOC path follows from the flows alone.
    flows = battery.charge_efficiency * s.charged_mwh - s.discharged_mwh / battery.discharge_efficiency
    np.testing.assert_allclose(s.soc_mwh, battery.initial_soc_mwh + np.cumsum(flows), atol=1e-5)


def test_a_daily_cycle_limit_binds() -> None:
    # Two profitable cycles on offer each day; each delivers 16.2 MWh (20 in at 90%, out at 90%).
    prices = _prices(np.tile([10.0, 10.0, 60.0, 60.0] * 2 + [60.0] * 16, 2))
    lossy = _battery(initial_soc_mwh=0.0, charge_efficiency=0.9, discharge_efficiency=0.9)
    free = optimize(prices, lossy)
    capped = optimize(prices, dataclasses.replace(lossy, daily_cycles=1.0))
    assert free.discharge_mw[:24].sum() == pytest.approx(2 * 16.2)
    # One cycle a day: 20 MWh discharged at most per UTC day.
    assert capped.discharge_mw[:24].sum() == pytest.approx(20.0)
    assert capped.discharge_mw[24:].sum() == pytest.approx(20.0)
    assert capped.net_revenue < free.net_revenue


def test_degradation_cost_stops_cycles_that_do_not_pay_for_it() -> None:
    prices = _prices([20.0, 20.0, 30.0, 30.0])
    assert optimize(prices, _battery(initial_soc_mwh=0.0)).discharge_mw.sum() > 0
    worn = optimize(prices, _battery(initial_soc_mwh=0.0, degradation_cost=15.0))
    assert worn.discharge_mw.sum() == pytest.approx(0.0, abs=1e-7)


def test_a_reserve_the_battery_cannot_hold_for_its_duration_is_refused() -> None:
    prices = _prices([30.0], nspin=(NSPIN, [5.0]))
    with pytest.raises(BatteryError, match=r"NSPIN at 10 MW must be sustainable for 4 h .* at most 5 MW"):
        optimize(prices, _battery(reserve_limits=(("NSPIN", 10.0),)))


def test_unqualified_products_earn_nothing() -> None:
    prices = _prices([30.0, 40.0], rrs=(RRS, [100.0, 100.0]))
    schedule = optimize(prices, _battery())
    assert "RRS" not in schedule.cash and schedule.reserve_mw == {}


def test_a_solver_re_solves_warm_with_the_same_answers_as_a_fresh_one() -> None:
    first, second = _year(11), _year(12)
    battery = Battery.from_round_trip(
        power_mw=100, energy_mwh=400, round_trip_efficiency=0.85, initial_soc_mwh=200
    )
    solver = DispatchSolver(battery, first.interval_start, 1.0, first.products)
    solver.solve(first)
    again = solver.solve(second)
    fresh = optimize(second, battery)
    assert again.net_revenue == pytest.approx(fresh.net_revenue, rel=1e-9)
    with pytest.raises(BatteryError, match="grid"):
        solver.solve(_prices([1.0, 2.0]))


def test_settling_a_schedule_at_other_prices_reprices_every_stream() -> None:
    prices = _prices([10.0, 50.0], rrs=(RRS, [5.0, 5.0]))
    battery = _battery(initial_soc_mwh=0.0, reserve_limits=(("RRS", 10.0),))
    schedule = optimize(prices, battery)
    doubled = _prices([20.0, 100.0], rrs=(RRS, [10.0, 10.0]))
    assert settle(schedule, doubled, battery).net_revenue == pytest.approx(2 * schedule.net_revenue)


def test_negative_real_time_prices_separate_to_the_milp_optimum() -> None:
    # The week of real 15-minute ERCOT prices with the most negative intervals: the LP burns
    # energy there; the separated schedule must be what a full MILP (a binary on every
    # interval priced at or below zero) proves optimal.
    _, rt = hb_south()
    week = 7 * 96
    counts = [(rt.energy[i : i + week] <= 0).sum() for i in range(0, len(rt) - week, week)]
    first = int(np.argmax(counts)) * week
    prices = rt.window(first, first + week)
    battery = Battery.from_round_trip(
        power_mw=100, energy_mwh=200, round_trip_efficiency=0.85, initial_soc_mwh=100
    )
    schedule = optimize(prices, battery)
    assert schedule.integer
    assert not ((schedule.charge_mw > 1e-6) & (schedule.discharge_mw > 1e-6)).any()
    milp = _full_milp(prices.energy, 0.25, battery)
    assert schedule.energy_revenue == pytest.approx(milp, rel=1e-6)


def _full_milp(p: np.ndarray, h: float, b: Battery) -> float:
    """The textbook MILP written out with SciPy: x = [c, d, s, u], u = 1 while charging."""
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(p)
    eye, lag = sp.identity(n), sp.eye(n, k=-1)
    z = sp.csr_matrix((n, n))
    balance = sp.hstack([-b.charge_efficiency * h * eye, (h / b.discharge_efficiency) * eye, eye - lag, z])
    rhs = np.zeros(n)
    rhs[0] = b.initial_soc_mwh
    charge_if_u = sp.hstack([eye, z, z, -b.power_mw * eye])
    discharge_unless_u = sp.hstack([z, eye, z, b.power_mw * eye])
    lo = np.concatenate([np.zeros(3 * n), np.zeros(n)])
    hi = np.concatenate([np.full(2 * n, b.power_mw), np.full(n, b.energy_mwh), np.ones(n)])
    lo[3 * n - 1] = hi[3 * n - 1] = b.initial_soc_mwh
    result = milp(
        np.concatenate([p * h, -p * h, np.zeros(2 * n)]),
        constraints=[
            LinearConstraint(balance, rhs, rhs),
            LinearConstraint(charge_if_u, -np.inf, 0),
            LinearConstraint(discharge_unless_u, -np.inf, b.power_mw),
        ],
        bounds=Bounds(lo, hi),
        integrality=np.concatenate([np.zeros(3 * n), np.ones(n)]),
        options={"mip_rel_gap": 1e-9},
    )
    assert result.status == 0, result.message
    return float(-result.fun)
