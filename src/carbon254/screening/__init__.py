"""Fleet screening as a job: one battery at every node of an ISO (or a list), ranked by net revenue.

Importing this package registers the `battery_screen` job kind.
"""

from carbon254.screening.kind import BATTERY_SCREEN, NodeResult, ScreenBatch, ScreenTask, ranking_table
from carbon254.screening.request import BatterySpec, RankingFormat, ScreenRequest

__all__ = [
    "BATTERY_SCREEN",
    "BatterySpec",
    "NodeResult",
    "RankingFormat",
    "ScreenBatch",
    "ScreenRequest",
    "ScreenTask",
    "ranking_table",
]
