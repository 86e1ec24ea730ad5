"""A battery as the optimizer sees it: power (MW), energy (MWh), efficiencies, state-of-charge bounds.

Validated on construction with errors that name the field, so a surface can
refuse a bad asset before any LP is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class BatteryError(ValueError):
    """A battery or a price series the optimizer cannot take; the message names the field."""


@dataclass(frozen=True, slots=True)
class Battery:
    """A battery: charge and discharge power (MW), energy (MWh), one-way efficiencies, SOC bounds (MWh).

    `charge_efficiency` and `discharge_efficiency` are one-way (0-1]: a MWh
    drawn from the grid stores `charge_efficiency` MWh, and a stored MWh
    delivers `discharge_efficiency` MWh. `initial_soc_mwh` is the state of
    charge before the first interval, `final_soc_mwh` the one required after
    the last (None: the initial). `max_cycles` caps the discharged energy
    over the horizon at that many times `energy_mwh` (None: no cap);
    `degradation_cost` ($/MWh discharged) is charged in the objective.
    """

    power_mw: float
    energy_mwh: float
    charge_efficiency: float
    discharge_efficiency: float
    initial_soc_mwh: float
    final_soc_mwh: float | None = None
    min_soc_mwh: float = 0.0
    max_soc_mwh: float | None = None
    charge_power_mw: float | None = None
    max_cycles: float | None = None
    degradation_cost: float = 0.0

    def __post_init__(self) -> None:
        _positive("power_mw", self.power_mw)
        _positive("energy_mwh", self.energy_mwh)
        if self.charge_power_mw is not None:
            _positive("charge_power_mw", self.charge_power_mw)
        for name in ("charge_efficiency", "discharge_efficiency"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value <= 1):
                raise BatteryError(f"{name}: {value!r} must be in (0, 1]")
        top = self.soc_ceiling
        if not (math.isfinite(self.min_soc_mwh) and 0 <= self.min_soc_mwh < top <= self.energy_mwh):
            bounds = f"0 <= {self.min_soc_mwh} < {top} <= energy_mwh {self.energy_mwh}"
            raise BatteryError(f"min_soc_mwh/max_soc_mwh: need {bounds}")
        for name in ("initial_soc_mwh", "final_soc_mwh"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and self.min_soc_mwh <= value <= top):
                bounds = f"[{self.min_soc_mwh}, {top}]"
                raise BatteryError(f"{name}: {value!r} MWh is outside the SOC bounds {bounds}")
        if self.max_cycles is not None and not (math.isfinite(self.max_cycles) and self.max_cycles >= 0):
            raise BatteryError(f"max_cycles: {self.max_cycles!r} must be a non-negative number")
        if not (math.isfinite(self.degradation_cost) and self.degradation_cost >= 0):
            raise BatteryError(f"degradation_cost: {self.degradation_cost!r} must be a non-negative $/MWh")

    @classmethod
    def from_round_trip(
        cls,
        *,
        power_mw: float,
        energy_mwh: float,
        round_trip_efficiency: float,
        initial_soc_mwh: float,
        final_soc_mwh: float | None = None,
    ) -> Battery:
        """A battery whose charge and discharge efficiencies are each the square root of the round trip."""
        if not (math.isfinite(round_trip_efficiency) and 0 < round_trip_efficiency <= 1):
            raise BatteryError(f"round_trip_efficiency: {round_trip_efficiency!r} must be in (0, 1]")
        one_way = math.sqrt(round_trip_efficiency)
        return cls(power_mw, energy_mwh, one_way, one_way, initial_soc_mwh, final_soc_mwh)

    @property
    def soc_ceiling(self) -> float:
        """The highest state of charge allowed (MWh)."""
        return self.energy_mwh if self.max_soc_mwh is None else self.max_soc_mwh

    @property
    def charge_limit_mw(self) -> float:
        """The charging power limit (MW): `charge_power_mw`, else `power_mw`."""
        return self.power_mw if self.charge_power_mw is None else self.charge_power_mw

    @property
    def end_soc_mwh(self) -> float:
        """The state of charge required after the last interval (MWh)."""
        return self.initial_soc_mwh if self.final_soc_mwh is None else self.final_soc_mwh


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise BatteryError(f"{name}: {value!r} must be a positive number")
