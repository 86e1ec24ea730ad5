"""Battery storage analytics: the asset, its optimal dispatch with reserves, revenue and cycle wear."""

from carbon254.battery.arbitrage import ArbitrageSolver, optimize_arbitrage
from carbon254.battery.asset import Augmentation, Battery, BatteryError
from carbon254.battery.dispatch import DispatchSolver, optimize
from carbon254.battery.market import MarketPrices, ReserveDirection, ReservePrices, ReserveProduct
from carbon254.battery.rainflow import Cycle, count_cycles, equivalent_full_cycles
from carbon254.battery.schedule import Schedule

__all__ = [
    "ArbitrageSolver",
    "Augmentation",
    "Battery",
    "BatteryError",
    "Cycle",
    "DispatchSolver",
    "MarketPrices",
    "ReserveDirection",
    "ReservePrices",
    "ReserveProduct",
    "Schedule",
    "count_cycles",
    "equivalent_full_cycles",
    "optimize",
    "optimize_arbitrage",
]
