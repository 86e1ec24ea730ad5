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
class Augmentation:
    """Energy capacity added in a project year (1 = the first), MWh: how owners offset fade."""

    year: int
    energy_mwh: float

    def __post_init__(self) -> None:
        if self.year < 1:
            raise BatteryError(f"augmentation year {self.year!r} must be 1 or later")
        _positive(f"augmentation in year {self.year}: energy_mwh", self.energy_mwh)


@dataclass(frozen=True, slots=True)
class Battery:
    """A battery: charge and discharge power (MW), energy (MWh), one-way efficiencies, SOC bounds (MWh).

    `charge_efficiency` and `discharge_efficiency` are one-way (0-1]: a MWh
    drawn from the grid stores `charge_efficiency` MWh, and a stored MWh
    delivers `discharge_efficiency` MWh. `initial_soc_mwh` is the state of
    charge before the first interval, `final_soc_mwh` the one required after
    the last (None: the initial). `max_cycles` caps the discharged energy
    over the horizon at that many times `energy_mwh` (None: no cap),
    `daily_cycles` over each UTC-aligned 24 hours of the horizon and
    `annual_cycles` over the horizon pro rata to its length (365 days a
    year); `degradation_cost` ($/MWh discharged) is charged in the
    objective. `aux_load_mw` is drawn from the grid in every interval
    (cooling, controls) and paid at the energy price. `reserve_limits` are
    the ancillary products the battery is qualified for, each with the most
    MW it may be awarded; an award must fit the power rating and, held for
    the product's duration, the usable energy (checked by the optimizer,
    which knows the products). `augmentation` adds energy capacity in later
    project years (used by the state-of-health projection).
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
    daily_cycles: float | None = None
    annual_cycles: float | None = None
    aux_load_mw: float = 0.0
    reserve_limits: tuple[tuple[str, float], ...] = ()
    augmentation: tuple[Augmentation, ...] = ()

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
        for name in ("max_cycles", "daily_cycles", "annual_cycles"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise BatteryError(f"{name}: {value!r} must be a non-negative number")
        if not (math.isfinite(self.aux_load_mw) and 0 <= self.aux_load_mw < self.charge_limit_mw):
            raise BatteryError(f"aux_load_mw: {self.aux_load_mw!r} must be in [0, charge power)")
        products = [product for product, _ in self.reserve_limits]
        if len(set(products)) != len(products):
            raise BatteryError(f"reserve_limits: a product is listed twice ({', '.join(products)})")
        for product, limit in self.reserve_limits:
            if not (math.isfinite(limit) and 0 < limit <= max(self.power_mw, self.charge_limit_mw)):
                raise BatteryError(
                    f"reserve_limits: {product} {limit!r} MW must be positive and within the power rating"
                )
        years = [step.year for step in self.augmentation]
        if years != sorted(set(years)):
            raise BatteryError("augmentation: one step per year, in year order")
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
    def usable_energy_mwh(self) -> float:
        """The energy between the SOC floor and ceiling (MWh)."""
        return self.soc_ceiling - self.min_soc_mwh

    def reserve_limit_mw(self, product: str) -> float:
        """The most MW of `product` the battery may be awarded (0 when it is not qualified)."""
        return dict(self.reserve_limits).get(product, 0.0)

    @property
    def end_soc_mwh(self) -> float:
        """The state of charge required after the last interval (MWh)."""
        return self.initial_soc_mwh if self.final_soc_mwh is None else self.final_soc_mwh


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise BatteryError(f"{name}: {value!r} must be a positive number")
