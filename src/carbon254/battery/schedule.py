"""An optimized battery schedule: what it does each interval and what each revenue stream pays.

Every optimizer of this package (perfect foresight in one market, day-ahead
then real-time, rolling horizon) returns a `Schedule`, so the revenue stack,
the charts, the state-of-health projection and the surfaces read one shape.
Cash is kept per stream and per interval ($, earned positive, costs
negative), which is what a stack by month adds up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    award (MW), `deployed_up_mwh` and `deployed_down_mwh` the expected
    energy those awards discharge and charge at the terminals each interval
    (MWh, both non-negative; symmetric regulation does both). `cash` maps each revenue
    stream to its $ per interval (earned positive, costs negative): an
    energy stream (`energy`, or `da_energy` and `rt_energy`), one per
    reserve product (capacity payments), `aux` and `degradation`.
    `integer` says whether the LP alone charged and discharged at once
    (negative prices) so that the two had to be kept apart, and `bound_gap`
    how far the result may be from optimal then: its relative distance to
    the LP's revenue bound (0 when proved optimal; typically below 1e-6).
    """

    interval_start: Stamps
    interval_hours: float
    charge_mw: Floats
    discharge_mw: Floats
    soc_mwh: Floats
    cash: Mapping[str, Floats]
    reserve_mw: Mapping[str, Floats] = field(default_factory=dict)
    deployed_up_mwh: Floats | None = None
    deployed_down_mwh: Floats | None = None
    integer: bool = False
    bound_gap: float = 0.0

    def __len__(self) -> int:
        return len(self.charge_mw)

    @property
    def revenue_by_stream(self) -> dict[str, float]:
        """Each stream's total over the horizon ($)."""
        return {stream: float(values.sum()) for stream, values in self.cash.items()}

    @property
    def energy_revenue(self) -> float:
        """What the energy streams earned ($): price x (discharge - charge) x hours, deployments included."""
        return float(sum(self.cash[s].sum() for s in (ENERGY, DA_ENERGY, RT_ENERGY) if s in self.cash))

    @property
    def net_revenue(self) -> float:
        """Every stream together, costs included ($)."""
        return float(sum(values.sum() for values in self.cash.values()))

    @property
    def discharged_mwh(self) -> Floats:
        """Energy leaving the battery's terminals each interval (MWh): dispatch and reserve deployment."""
        out = self.discharge_mw * self.interval_hours
        if self.deployed_up_mwh is not None:
            out = out + self.deployed_up_mwh
        return np.asarray(out, dtype=np.float64)

    @property
    def charged_mwh(self) -> Floats:
        """Energy entering the battery's terminals each interval (MWh): dispatch and reserve deployment."""
        into = self.charge_mw * self.interval_hours
        if self.deployed_down_mwh is not None:
            into = into + self.deployed_down_mwh
        return np.asarray(into, dtype=np.float64)

    def equivalent_cycles(self, energy_mwh: float) -> float:
        """Discharged energy over the horizon in units of the battery's energy capacity (full cycles)."""
        return float(self.discharged_mwh.sum() / energy_mwh)


def concatenate(parts: Sequence[Schedule]) -> Schedule:
    """Consecutive schedules on one interval length as one (a rolling horizon's executed steps).

    Streams and reserve awards missing from a part count as zero there; the
    result is `integer` if any part was and carries the largest `bound_gap`.
    """
    if not parts:
        raise ValueError("concatenate: no schedules")
    hours = {part.interval_hours for part in parts}
    if len(hours) != 1:
        raise ValueError(f"concatenate: interval lengths differ ({sorted(hours)})")
    streams = list(dict.fromkeys(stream for part in parts for stream in part.cash))
    products = list(dict.fromkeys(product for part in parts for product in part.reserve_mw))

    with_deployment = any(part.deployed_up_mwh is not None for part in parts)
    return Schedule(
        interval_start=np.concatenate([part.interval_start for part in parts]),
        interval_hours=parts[0].interval_hours,
        charge_mw=_joined([part.charge_mw for part in parts], parts),
        discharge_mw=_joined([part.discharge_mw for part in parts], parts),
        soc_mwh=_joined([part.soc_mwh for part in parts], parts),
        cash={stream: _joined([part.cash.get(stream) for part in parts], parts) for stream in streams},
        reserve_mw={
            product: _joined([part.reserve_mw.get(product) for part in parts], parts) for product in products
        },
        deployed_up_mwh=_joined([part.deployed_up_mwh for part in parts], parts) if with_deployment else None,
        deployed_down_mwh=_joined([part.deployed_down_mwh for part in parts], parts)
        if with_deployment
        else None,
        integer=any(part.integer for part in parts),
        bound_gap=max(part.bound_gap for part in parts),
    )


def _joined(values: list[Floats | None], parts: Sequence[Schedule]) -> Floats:
    return np.concatenate([or_zeros(v, len(part)) for v, part in zip(values, parts, strict=True)])


def or_zeros(values: Floats | None, n: int) -> Floats:
    """`values`, or `n` zeros where a schedule has none (no reserves, so no deployment)."""
    return np.zeros(n) if values is None else values
