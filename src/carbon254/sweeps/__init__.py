"""Scenario work as jobs: sweeps (`scenario_sweep`) and large Monte Carlo path sets (`scenario_paths`).

Importing this package registers both kinds.
"""

from carbon254.sweeps.kind import SCENARIO_SWEEP, SweepBatch, SweepRequest, SweepTask
from carbon254.sweeps.path_sets import SCENARIO_PATHS, PathsBatch, PathsRequest, PathsTask

__all__ = [
    "SCENARIO_PATHS",
    "SCENARIO_SWEEP",
    "PathsBatch",
    "PathsRequest",
    "PathsTask",
    "SweepBatch",
    "SweepRequest",
    "SweepTask",
]
