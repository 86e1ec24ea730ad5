"""PPA Monte Carlo as a job: the `ppa_simulate` kind (importing this package registers it)."""

from carbon254.ppa_montecarlo.kind import PPA_SIMULATE, PpaBatch, PpaTask

__all__ = ["PPA_SIMULATE", "PpaBatch", "PpaTask"]
