"""Energy arbitrage alone: the most a battery could have earned from one price series (perfect foresight).

The dispatch LP (`carbon254.battery.dispatch`) without reserves, for a bare
array of prices: what `carbon254 battery optimize --prices FILE.csv` runs,
and what a fleet screen runs node after node with one `ArbitrageSolver`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carbon254.battery.asset import Battery
from carbon254.battery.dispatch import DispatchSolver, optimize
from carbon254.battery.market import MarketPrices
from carbon254.battery.schedule import Schedule

Floats = npt.NDArray[np.float64]


def optimize_arbitrage(
    prices: Floats, interval_hours: float, battery: Battery, first_start_us: int = 0
) -> Schedule:
    """The perfect-foresight energy arbitrage schedule of `battery` over `prices` ($/MWh per interval).

    `interval_hours` is every interval's length (0.25 for 15 minutes) and
    `first_start_us` the first interval's start (µs UTC; it places the daily
    cycle windows). Raises `BatteryError` for an empty or non-finite series,
    or when the final state of charge cannot be reached within the horizon.
    """
    return optimize(MarketPrices.energy_only(prices, interval_hours, first_start_us), battery)


class ArbitrageSolver:
    """Energy arbitrage of one battery on one grid, re-solved for series after series (warm-started).

    For fleet screens: `n_intervals` of `interval_hours` from
    `first_start_us` (µs UTC); every `solve` takes that many prices ($/MWh).
    """

    def __init__(
        self, battery: Battery, n_intervals: int, interval_hours: float, first_start_us: int = 0
    ) -> None:
        self._grid = MarketPrices.energy_only(np.zeros(n_intervals), interval_hours, first_start_us)
        self._solver = DispatchSolver(battery, self._grid.interval_start, interval_hours)

    def solve(self, prices: Floats) -> Schedule:
        """The optimal schedule for `prices` ($/MWh, one per interval of the grid)."""
        grid = self._grid
        return self._solver.solve(
            MarketPrices(grid.interval_start, grid.interval_hours, np.asarray(prices, dtype=np.float64))
        )
