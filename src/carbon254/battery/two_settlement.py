"""Day-ahead then real-time: a DA schedule with reserve awards, then RT deviations settled at RT prices.

How a battery actually earns in a two-settlement market. Day-ahead, it
clears an energy schedule and reserve awards against DA prices (the
perfect-foresight optimum on DA prices: `optimize`). In real time it may
deviate from its DA energy schedule, paid or charged the RT price on the
difference, while holding the DA reserve awards (their power and energy
headroom); deployed reserve energy settles in real time. With perfect
foresight of RT prices the RT stage re-optimizes the physical dispatch; its
DA revenue is fixed by then, so maximizing RT revenue on the deviation is
maximizing the whole.

Settlement, per RT interval of h hours inside DA interval i:
DA energy = p_DA,i (d_DA,i - c_DA,i) h; RT energy = p_RT ((d - c) h + deployed
up - deployed down - (d_DA,i - c_DA,i) h); each reserve = its DA price x
award x h; the auxiliary load at the DA price (scheduled day-ahead).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carbon254.battery.asset import Battery, BatteryError
from carbon254.battery.dispatch import DispatchSolver, optimize
from carbon254.battery.market import MarketPrices, ReservePrices
from carbon254.battery.schedule import AUX, DA_ENERGY, DEGRADATION, RT_ENERGY, Schedule, or_zeros

Floats = npt.NDArray[np.float64]


def optimize_da_rt(da: MarketPrices, rt: MarketPrices, battery: Battery) -> Schedule:
    """The battery's DA schedule and reserve awards, then its perfect-foresight RT dispatch around them.

    `da` holds DA energy ($/MWh) and reserve prices ($/MW-h); `rt` the RT
    energy prices on a grid that divides every DA interval evenly and
    covers the same span (its own reserve prices, if any, are not used:
    awards clear day-ahead). Returns the schedule on the RT grid with cash
    streams `da_energy`, `rt_energy`, one per reserve product, `aux` and
    `degradation`. Raises `BatteryError` when the grids do not line up.
    """
    per = _sub_intervals(da, rt)
    day_ahead = optimize(da, battery, energy_stream=DA_ENERGY)
    held = {name: np.repeat(award, per) for name, award in day_ahead.reserve_mw.items()}
    # Reserve prices on the RT grid only so the RT model carries the same products; they are
    # not paid twice: the RT stage's objective counts energy, and cash is rebuilt below.
    products = tuple(r.product for r in da.reserves if r.product.name in held)
    zero_reserves = tuple(ReservePrices(product, np.zeros(len(rt))) for product in products)
    real_time = MarketPrices(rt.interval_start, rt.interval_hours, rt.energy, zero_reserves)
    solver = DispatchSolver(battery, rt.interval_start, rt.interval_hours, products, fixed_awards=held)
    physical = solver.solve(real_time, energy_stream=RT_ENERGY)

    h = rt.interval_hours
    da_net_mw = np.repeat(day_ahead.discharge_mw - day_ahead.charge_mw, per)
    da_price = np.repeat(da.energy, per)
    up = or_zeros(physical.deployed_up_mwh, len(rt))
    down = or_zeros(physical.deployed_down_mwh, len(rt))
    actual_mwh = (physical.discharge_mw - physical.charge_mw) * h + up - down
    cash: dict[str, Floats] = {
        DA_ENERGY: da_price * da_net_mw * h,
        RT_ENERGY: rt.energy * (actual_mwh - da_net_mw * h),
    }
    for reserve in da.reserves:
        name = reserve.product.name
        if name in held:
            cash[name] = np.repeat(reserve.prices, per) * held[name] * h
    cash[AUX] = -da_price * battery.aux_load_mw * h
    cash[DEGRADATION] = -battery.degradation_cost * physical.discharged_mwh
    return Schedule(
        interval_start=rt.interval_start,
        interval_hours=h,
        charge_mw=physical.charge_mw,
        discharge_mw=physical.discharge_mw,
        soc_mwh=physical.soc_mwh,
        cash=cash,
        reserve_mw=held,
        deployed_up_mwh=physical.deployed_up_mwh,
        deployed_down_mwh=physical.deployed_down_mwh,
        integer=day_ahead.integer or physical.integer,
        bound_gap=max(day_ahead.bound_gap, physical.bound_gap),
    )


def _sub_intervals(da: MarketPrices, rt: MarketPrices) -> int:
    """How many RT intervals make one DA interval; BatteryError when the grids do not line up."""
    ratio = da.interval_hours / rt.interval_hours
    per = round(ratio)
    if per < 1 or abs(ratio - per) > 1e-9:
        raise BatteryError(
            f"rt prices: {rt.interval_hours} h intervals do not divide the {da.interval_hours} h DA intervals"
        )
    if len(rt) != per * len(da) or not np.array_equal(rt.interval_start[::per], da.interval_start):
        raise BatteryError(
            f"rt prices: {len(rt)} intervals from {_first(rt)} do not cover the {len(da)} DA intervals "
            f"from {_first(da)} ({per} each)"
        )
    return per


def _first(prices: MarketPrices) -> str:
    return str(np.datetime64(int(prices.interval_start[0]), "us")) + "Z"
