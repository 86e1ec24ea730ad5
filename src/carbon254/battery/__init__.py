"""Battery storage analytics: the asset and its optimal dispatch (energy arbitrage, perfect foresight)."""

from carbon254.battery.arbitrage import Dispatch, optimize_arbitrage
from carbon254.battery.asset import Battery, BatteryError

__all__ = ["Battery", "BatteryError", "Dispatch", "optimize_arbitrage"]
