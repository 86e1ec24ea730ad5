"""Everything system-wide about one ISO over a block of whole UTC days, computed once.

The physical state, system energy prices and constraint shadow prices are cheap
(one series per ISO, or one per constraint) and shared by every dataset and
market, so they are computed once per block and then read by the LMP, ancillary,
load and ORDC builders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carbon254.isos import Iso
from carbon254.simulate.clock import hourly_mean
from carbon254.simulate.congestion import ShadowPrices, simulate_shadow_prices
from carbon254.simulate.energy import EnergyPrices, simulate_energy
from carbon254.simulate.iso import simulation
from carbon254.simulate.models import IsoModel
from carbon254.simulate.network import Constraints
from carbon254.simulate.physical import Physical, simulate_physical

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class System:
    """System state and prices of one ISO for UTC days [first_day, first_day + days).

    `rt_energy_hourly` and `rt_shadow_hourly` are the hourly means of the
    5-minute real-time series: the unrounded hourly real-time prices.
    """

    model: IsoModel
    physical: Physical
    energy: EnergyPrices
    shadow: ShadowPrices
    rt_energy_hourly: FloatArray
    rt_shadow_hourly: FloatArray

    @property
    def first_day(self) -> int:
        """First UTC day of the block, in days since 1970-01-01."""
        return self.physical.first_day

    @property
    def days(self) -> int:
        """Number of whole UTC days in the block."""
        return self.physical.days


def simulate_system(iso: Iso, constraints: Constraints, seed: int, first_day: int, days: int) -> System:
    """System state, energy prices ($/MWh) and shadow prices ($/MWh) for whole UTC days."""
    model = simulation(iso).model
    physical = simulate_physical(model, seed, first_day, days)
    energy = simulate_energy(model, seed, physical)
    shadow = simulate_shadow_prices(model, constraints, seed, physical)
    return System(
        model=model,
        physical=physical,
        energy=energy,
        shadow=shadow,
        rt_energy_hourly=hourly_mean(energy.rt_energy),
        rt_shadow_hourly=hourly_mean(shadow.rt),
    )
