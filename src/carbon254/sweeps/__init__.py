"""Scenario sweeps as jobs: the `scenario_sweep` kind (importing this package registers it)."""

from carbon254.sweeps.kind import SCENARIO_SWEEP, SweepBatch, SweepRequest, SweepTask

__all__ = ["SCENARIO_SWEEP", "SweepBatch", "SweepRequest", "SweepTask"]
