"""Battery storage analytics: the asset, its optimal dispatch (energy arbitrage) and rainflow cycles."""

from carbon254.battery.arbitrage import Dispatch, optimize_arbitrage
from carbon254.battery.asset import Battery, BatteryError
from carbon254.battery.degradation import (
    CycleDepthCurve,
    HealthProjection,
    HealthYear,
    cycle_damage,
    state_of_health,
    throughput_cost_per_mwh,
)
from carbon254.battery.rainflow import Cycle, count_cycles, equivalent_full_cycles
from carbon254.battery.report import dispatch_table, revenue_stack

__all__ = [
    "Battery",
    "BatteryError",
    "Cycle",
    "CycleDepthCurve",
    "Dispatch",
    "HealthProjection",
    "HealthYear",
    "count_cycles",
    "cycle_damage",
    "dispatch_table",
    "equivalent_full_cycles",
    "optimize_arbitrage",
    "revenue_stack",
    "state_of_health",
    "throughput_cost_per_mwh",
]
