"""Rolling-horizon dispatch on forecasts: what an operator could really have earned, and the capture ratio.

Perfect foresight is the upper bound; no operator knows tomorrow's prices.
Here, at the start of every step (a day by default) the battery plans the
next `horizon_h` hours on a price forecast made with what was known then,
carries out the first `step_h` hours of that plan, and is paid the prices
that actually came. The plan's window ends wherever its state of charge is
best for the forecast (only the last window must reach the battery's final
SOC), and a window longer than the step keeps the plan from emptying the
battery at each step's end.

The forecast is a `Forecaster`: until the forecasting engine lands, the
persistence forecast (each hour priced as the same hour one day earlier,
the workhorse baseline of price forecasting) stands in.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import numpy.typing as npt

from carbon254.battery.asset import Battery, BatteryError
from carbon254.battery.dispatch import DispatchSolver, settle
from carbon254.battery.market import MarketPrices, ReservePrices
from carbon254.battery.schedule import ENERGY, Schedule, concatenate

Floats = npt.NDArray[np.float64]


class Forecaster(Protocol):
    """Forecasts a window of prices from the prices before it (what was known at the window's start)."""

    def forecast(self, prices: MarketPrices, first: int, stop: int) -> MarketPrices | None:
        """Prices for intervals `first` to `stop` of `prices` from intervals before `first` only.

        None when nothing before `first` tells anything (the battery idles).
        """
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class PersistenceForecast:
    """Each interval priced as the interval `lag_h` hours earlier (24: yesterday's same hour).

    Intervals with no history that far back take the earliest price known
    before the window; at the very start nothing is known (None).
    """

    lag_h: float = 24.0

    def forecast(self, prices: MarketPrices, first: int, stop: int) -> MarketPrices | None:
        """Prices for intervals `first` to `stop`, each copied from `lag_h` hours earlier, if known."""
        lag = max(1, round(self.lag_h / prices.interval_hours))
        window = prices.window(first, stop)
        if first == 0:
            return None
        # The source of interval t is t - lag, stepped back whole lags until it was known before `first`.
        source = np.arange(first, stop) - lag
        while (source >= first).any():
            source = np.where(source >= first, source - lag, source)
        source = np.clip(source, 0, first - 1)
        return MarketPrices(
            window.interval_start,
            window.interval_hours,
            prices.energy[source],
            tuple(ReservePrices(r.product, r.prices[source]) for r in prices.reserves),
        )


def rolling_dispatch(
    prices: MarketPrices,
    battery: Battery,
    *,
    forecaster: Forecaster | None = None,
    horizon_h: float = 48.0,
    step_h: float = 24.0,
    energy_stream: str = ENERGY,
) -> Schedule:
    """The battery planned every `step_h` hours over `horizon_h` hours of forecast prices, paid actual prices.

    `prices` are the actual energy ($/MWh) and reserve ($/MW-h) prices;
    `forecaster` (default: persistence, yesterday's same hour) sees only
    intervals before each step, and where it knows nothing yet (the first
    step) the battery holds its charge. Reserve awards follow the plan.
    Returns the executed schedule settled at actual prices. Raises `BatteryError` for a
    step longer than the horizon or shorter than one interval.
    """
    h = prices.interval_hours
    step, horizon = round(step_h / h), round(horizon_h / h)
    if step < 1 or horizon < step:
        raise BatteryError(f"rolling horizon: need one interval <= step_h {step_h} <= horizon_h {horizon_h}")
    forecast = forecaster or PersistenceForecast()
    n = len(prices)
    soc = battery.initial_soc_mwh
    parts: list[Schedule] = []
    for first in range(0, n, step):
        stop = min(n, first + horizon)
        last = stop == n
        done = stop - first if last else step
        expected = forecast.forecast(prices, first, stop)
        if expected is None:
            executed = _idle(prices.window(first, first + done), soc)
        else:
            planner = dataclasses.replace(
                battery,
                initial_soc_mwh=soc,
                final_soc_mwh=battery.end_soc_mwh if last else None,
                max_cycles=_prorated(battery.max_cycles, stop - first, n),
            )
            solver = DispatchSolver(planner, expected.interval_start, h, expected.products, free_end=not last)
            executed = _head(solver.solve(expected, energy_stream=energy_stream), done)
        parts.append(settle(executed, prices.window(first, first + done), battery, energy_stream))
        # The next plan starts where this one left the battery (solver noise kept within bounds).
        soc = min(max(float(executed.soc_mwh[-1]), battery.min_soc_mwh), battery.soc_ceiling)
        if last:
            break
    return concatenate(parts)


def capture_ratio(realized: Schedule, perfect: Schedule) -> float:
    """Realized net revenue as a share of the perfect-foresight net revenue (1.0 = all of it).

    NaN when perfect foresight earns nothing (no spread worth trading).
    """
    bound = perfect.net_revenue
    return realized.net_revenue / bound if bound > 0 else float("nan")


def _prorated(max_cycles: float | None, window: int, total: int) -> float | None:
    """A horizon-wide cycle cap applies to each window pro rata to its share of the horizon."""
    return None if max_cycles is None else max_cycles * window / total


def _head(schedule: Schedule, k: int) -> Schedule:
    """The first `k` intervals of a schedule (cash dropped: it is settled again at actual prices)."""

    def cut(values: Floats | None) -> Floats | None:
        return None if values is None else values[:k]

    return dataclasses.replace(
        schedule,
        interval_start=schedule.interval_start[:k],
        charge_mw=schedule.charge_mw[:k],
        discharge_mw=schedule.discharge_mw[:k],
        soc_mwh=schedule.soc_mwh[:k],
        cash={},
        reserve_mw={name: award[:k] for name, award in schedule.reserve_mw.items()},
        deployed_up_mwh=cut(schedule.deployed_up_mwh),
        deployed_down_mwh=cut(schedule.deployed_down_mwh),
    )


def _idle(window: MarketPrices, soc: float) -> Schedule:
    """The battery holding its state of charge through `window` (nothing known to trade on yet)."""
    zeros = np.zeros(len(window))
    return Schedule(
        window.interval_start, window.interval_hours, zeros, zeros, np.full(len(window), soc), cash={}
    )
