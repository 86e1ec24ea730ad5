"""An optimized battery schedule: what it does each interval and what each revenue stream pays.

Every optimizer of this package (perfect foresight in one market, day-ahead
then real-time, rolling horizon) returns a `Schedule`, so the revenue stack,
the charts, the state-of-health projection and the surfaces read one shape.
Cash is kept per stream and per interval ($, earned positive, costs
negative), which is what a stack by month adds up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Stamps = npt.NDArray[np.int64]

# Stream names of the cash a schedule earns beside each reserve product's own (its ISO name).
ENERGY = "energy"  # a single market's energy (perfect foresight on one price series)
DA_ENERGY = "da_energy"
RT_ENERGY = "rt_energy"
AUX = "aux"  # the auxiliary load's energy bill (negative)
DEGRADATION = "degradation"  # throughput degradation cost (negative)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A battery's schedule on a regular grid and the cash it earns.

    `interval_start` (µs UTC) and `interval_hours` are the grid; `charge_mw`
    and `discharge_mw` the scheduled energy (MW, each interval), `soc_mwh`
    the state of charge after each interval (MWh, including the expected
    energy of reserve deployments), `reserve_mw` each reserve product's
    award (MW), `deployed_mwh` the expected energy those awards discharge
    (positive) or charge (negative) each interval. `cash` maps each revenue
    stream to its $ per interval (earned positive, costs negative): an
    energy stream (`energy`, or `da_energy` and `rt_energy`), one per
    reserve product (capacity payments), `aux` and `degradation`.
    `integer` says whether charge-or-discharge binaries were needed (the LP
    alone charged and discharged at once: negative prices).
    """

    interval_start: Stamps
    interval_hours: float
    charge_mw: Floats
    discharge_mw: Floats
    soc_mwh: Floats
    cash: Mapping[str, Floats]
    reserve_mw: Mapping[str, Floats] = field(default_factory=dict)
    deployed_mwh: Floats | None = None
    integer: bool = False

    def __len__(self) -> int:
        return len(self.charge_mw)

    @property
    def revenue_by_stream(self) -> dict[str, float]:
        """Each stream's total over the horizon ($)."""
        return {stream: float(values.sum()) for stream, values in self.cash.items()}

    @property
    def net_revenue(self) -> float:
        """Every stream together, costs included ($)."""
        return float(sum(values.sum() for values in self.cash.values()))

    @property
    def discharged_mwh(self) -> Floats:
        """Energy leaving the battery's terminals each interval (MWh): dispatch and reserve deployment."""
        out = self.discharge_mw * self.interval_hours
        if self.deployed_mwh is not None:
            out = out + np.clip(self.deployed_mwh, 0.0, None)
        return np.asarray(out, dtype=np.float64)

    @property
    def charged_mwh(self) -> Floats:
        """Energy entering the battery's terminals each interval (MWh): dispatch and reserve deployment."""
        into = self.charge_mw * self.interval_hours
        if self.deployed_mwh is not None:
            into = into + np.clip(-self.deployed_mwh, 0.0, None)
        return np.asarray(into, dtype=np.float64)

    def equivalent_cycles(self, energy_mwh: float) -> float:
        """Discharged energy over the horizon in units of the battery's energy capacity (full cycles)."""
        return float(self.discharged_mwh.sum() / energy_mwh)
