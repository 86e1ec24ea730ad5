"""Battery storage analytics: the asset, its optimal dispatch with reserves, revenue and cycle wear."""

from carbon254.battery.arbitrage import ArbitrageSolver, optimize_arbitrage
from carbon254.battery.asset import Augmentation, Battery, BatteryError
from carbon254.battery.degradation import (
    CycleDepthCurve,
    HealthProjection,
    HealthYear,
    cycle_damage,
    state_of_health,
    throughput_cost_per_mwh,
)
from carbon254.battery.dispatch import DispatchSolver, optimize
from carbon254.battery.market import MarketPrices, ReserveDirection, ReservePrices, ReserveProduct
from carbon254.battery.rainflow import Cycle, count_cycles, equivalent_full_cycles
from carbon254.battery.report import dispatch_table, revenue_stack
from carbon254.battery.schedule import Schedule

__all__ = [
    "ArbitrageSolver",
    "Augmentation",
    "Battery",
    "BatteryError",
    "Cycle",
    "CycleDepthCurve",
    "DispatchSolver",
    "HealthProjection",
    "HealthYear",
    "MarketPrices",
    "ReserveDirection",
    "ReservePrices",
    "ReserveProduct",
    "Schedule",
    "count_cycles",
    "cycle_damage",
    "dispatch_table",
    "equivalent_full_cycles",
    "optimize",
    "optimize_arbitrage",
    "revenue_stack",
    "state_of_health",
    "throughput_cost_per_mwh",
]
