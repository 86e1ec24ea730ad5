"""What a battery is paid for: an energy price series and the ancillary-service products beside it.

Prices arrive as plain arrays on one regular interval grid (UTC microsecond
starts): energy in $/MWh, each reserve product's capacity price in $/MW-h
(the unit every ISO clears reserves in). A `ReserveProduct` says what the
product asks of a battery, in terms the optimizer can hold it to: which way
it moves energy, how long an award must be sustainable, and how much of an
award is deployed on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from carbon254.battery.asset import BatteryError

Floats = npt.NDArray[np.float64]
Stamps = npt.NDArray[np.int64]

US_PER_HOUR = 3_600_000_000


class ReserveDirection(StrEnum):
    """Which way a reserve award moves energy when deployed.

    `up` (regulation up, spinning and non-spinning reserves) discharges or
    charges less; `down` (regulation down) charges or discharges less;
    `both` is a symmetric regulation product (PJM, MISO, NYISO and ISO-NE
    regulation) that holds headroom both ways for one award.
    """

    UP = "up"
    DOWN = "down"
    BOTH = "both"

    @property
    def raises(self) -> bool:
        """Whether an award needs headroom to inject more (MW) and energy in store (MWh)."""
        return self is not ReserveDirection.DOWN

    @property
    def lowers(self) -> bool:
        """Whether an award needs headroom to withdraw more (MW) and room in store (MWh)."""
        return self is not ReserveDirection.UP


@dataclass(frozen=True, slots=True)
class ReserveProduct:
    """An ancillary-service product as the optimizer sees it.

    `name` is the ISO's product name (`REGUP`, `RRS`, `REG`, ...).
    `duration_h` is how long an award must be sustainable at its full MW
    (the state-of-charge headroom held for it, hours). `deployment` is the
    expected energy deployed per MW awarded per hour (0-1): regulation is
    called on continuously (about a tenth), contingency reserves rarely.
    Deployed energy moves the state of charge and is settled at the energy
    price.
    """

    name: str
    direction: ReserveDirection
    duration_h: float
    deployment: float = 0.0

    def __post_init__(self) -> None:
        if not self.name:
            raise BatteryError("reserve product: the name is empty")
        if not (math.isfinite(self.duration_h) and self.duration_h > 0):
            raise BatteryError(
                f"reserve product {self.name}: duration_h {self.duration_h!r} must be positive"
            )
        if not (math.isfinite(self.deployment) and 0 <= self.deployment <= 1):
            raise BatteryError(
                f"reserve product {self.name}: deployment {self.deployment!r} must be in [0, 1]"
            )


@dataclass(frozen=True, slots=True)
class ReservePrices:
    """One reserve product's capacity prices ($/MW-h), one per interval of the grid."""

    product: ReserveProduct
    prices: Floats


@dataclass(frozen=True, slots=True)
class MarketPrices:
    """Energy prices ($/MWh) and reserve prices ($/MW-h) on one regular grid of intervals.

    `interval_start` holds each interval's start (microseconds since the
    epoch, UTC) and `interval_hours` every interval's length. Validated on
    construction: a price series of another length, a non-finite price, an
    irregular grid or a product named twice raise `BatteryError` naming it.
    """

    interval_start: Stamps
    interval_hours: float
    energy: Floats
    reserves: tuple[ReservePrices, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.energy)
        if n == 0:
            raise BatteryError("prices: need at least one interval")
        if not (math.isfinite(self.interval_hours) and self.interval_hours > 0):
            raise BatteryError(f"interval_hours: {self.interval_hours!r} must be positive")
        if len(self.interval_start) != n:
            raise BatteryError(f"interval_start: {len(self.interval_start)} stamps for {n} prices")
        steps = np.diff(self.interval_start)
        step = round(self.interval_hours * US_PER_HOUR)
        if len(steps) and not (steps == step).all():
            at = int(np.argmax(steps != step)) + 1
            raise BatteryError(
                f"interval_start: interval {at} does not follow {self.interval_hours} h after the last"
            )
        _finite("energy prices", self.energy)
        seen: set[str] = set()
        for reserve in self.reserves:
            name = reserve.product.name
            if name in seen:
                raise BatteryError(f"reserve product {name} is given twice")
            seen.add(name)
            if len(reserve.prices) != n:
                raise BatteryError(f"{name} prices: {len(reserve.prices)} for {n} intervals")
            _finite(f"{name} prices", reserve.prices)

    @classmethod
    def energy_only(cls, prices: Floats, interval_hours: float, first_start_us: int = 0) -> MarketPrices:
        """Energy prices ($/MWh) alone, on a grid starting at `first_start_us` (µs UTC)."""
        p = np.asarray(prices, dtype=np.float64)
        step = round(interval_hours * US_PER_HOUR) if math.isfinite(interval_hours) else 0
        starts = first_start_us + step * np.arange(len(p), dtype=np.int64)
        return cls(starts, interval_hours, p)

    def __len__(self) -> int:
        return len(self.energy)

    @property
    def products(self) -> tuple[ReserveProduct, ...]:
        """The reserve products priced here, in order."""
        return tuple(reserve.product for reserve in self.reserves)

    def window(self, first: int, stop: int) -> MarketPrices:
        """The intervals `first` to `stop` (exclusive) of these prices, reserves included."""
        return MarketPrices(
            self.interval_start[first:stop],
            self.interval_hours,
            self.energy[first:stop],
            tuple(ReservePrices(r.product, r.prices[first:stop]) for r in self.reserves),
        )


def _finite(what: str, values: Floats) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        raise BatteryError(f"{what}: interval {int(np.argmin(finite))} is not a finite price")
