"""PPA and battery positions as hourly positions: their expected MWh from the PPA and battery engines.

A stored book names a PPA or a battery by its terms (`PpaPosition`,
`BatteryPosition`); what its value moves with is an hourly position, made
here over every hour of its delivery months (market time) from a `typical
day` of prices at its location: 24 average $/MWh by hour of day (hour
beginning 0-23, market time), e.g. the location's day-ahead prices over the
risk window.

- PPA: the volume is the plant's expected output (`carbon254.ppa.solar_profile`
  at the ISO's representative site, clear sky dimmed by its typical
  cloudiness, 0.5%/year degradation; or the capacity in every hour for a
  flat plant). The position in an hour is the change of the side's
  settled cash (`carbon254.ppa.settle`) per $/MWh of the settlement
  price, at the typical day's price: +volume for a virtual fixed-price
  buyer, -volume for its seller, the volume outside the band for a
  collar, nothing for index-plus whose index legs cancel. Escalation
  counts from the term's first month.
- Battery: the battery engine's perfect-foresight arbitrage
  (`carbon254.battery.optimize_arbitrage`) of the typical day, 92% one-way
  efficiencies, empty at the start and end of the day; the position is
  its net discharge (long in the hours it sells, short in those it buys),
  repeated every day of the term.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import numpy.typing as npt

from carbon254.battery import Battery, BatteryError, optimize_arbitrage
from carbon254.isos import declaration, iso_info
from carbon254.ppa import PpaError, SolarSite, settle, solar_profile
from carbon254.ppa.settlement import check_side
from carbon254.risk.errors import RiskError
from carbon254.risk.hours import month_code, month_of
from carbon254.risk.positions import BatteryPosition, HourlyPosition, Portfolio, PpaPosition
from carbon254.timeseries._clock import DAY, HOUR, clock_for

Floats = npt.NDArray[np.float64]
Stamps = npt.NDArray[np.int64]

_EPOCH = date(1970, 1, 1)
# One-way charge and discharge efficiency: about 85% round trip, a lithium-ion plant's.
BATTERY_EFFICIENCY = 0.92
# The price step ($/MWh) the PPA's cash is differenced over: small against any band of a contract.
PRICE_STEP = 0.01


def term_hours(iso: str, start: date, end: date) -> Stamps:
    """UTC starts (µs) of every real hour of months `start`..`end` (inclusive) in `iso`'s market time."""
    zone = iso_info(iso).timezone
    local = np.array(
        [(start - _EPOCH).days * DAY, (month_of(month_code(end) + 1) - _EPOCH).days * DAY], dtype=np.int64
    )
    first, stop = clock_for(zone, local).to_utc(local)
    return np.arange(int(first), int(stop), HOUR, dtype=np.int64)


def hour_of_day(iso: str, starts: Stamps) -> npt.NDArray[np.int64]:
    """The market-time hour beginning (0-23) of each UTC start (µs)."""
    local = clock_for(iso_info(iso).timezone, starts).to_local(starts)
    hours: npt.NDArray[np.int64] = ((local // HOUR) % 24).astype(np.int64)
    return hours


def _typical(position: PpaPosition | BatteryPosition, typical_day: Floats) -> Floats:
    prices = np.asarray(typical_day, dtype=np.float64)
    if prices.shape != (24,) or not np.isfinite(prices).all():
        raise RiskError(
            f"position {position.id}: the typical day of {position.iso} {position.location} needs 24 finite "
            f"hourly prices, got shape {prices.shape}"
        )
    return prices


def ppa_hourly(position: PpaPosition, typical_day: Floats) -> HourlyPosition:
    """The PPA's hourly position (MW, long positive): the side's $ per $/MWh of the settlement price.

    See the module docstring. Raises RiskError naming the position when the
    PPA engine refuses the contract or the plant.
    """
    prices = _typical(position, typical_day)
    starts = term_hours(position.iso, position.start, position.end)
    price = prices[hour_of_day(position.iso, starts)]
    try:
        if position.technology == "solar":
            model = declaration(position.iso).simulation().model
            site = SolarSite(
                latitude=model.latitude, longitude=model.longitude, capacity_mw=position.capacity_mw
            )
            volume = solar_profile(site, starts)
        else:
            volume = np.full(len(starts), position.capacity_mw)
        side = check_side(position.side)
        up = settle(position.contract, starts, price + PRICE_STEP, volume, side=side).cash
        down = settle(position.contract, starts, price - PRICE_STEP, volume, side=side).cash
    except PpaError as error:
        raise RiskError(f"position {position.id}: {error}") from None
    mw = (up - down) / (2.0 * PRICE_STEP)
    return HourlyPosition(position.id, position.book, position.iso, position.location, starts, mw)


def battery_hourly(position: BatteryPosition, typical_day: Floats) -> HourlyPosition:
    """The battery's hourly position (MW): its typical day's net discharge, every day of its months.

    See the module docstring. Raises RiskError naming the position when the
    battery engine refuses it.
    """
    prices = _typical(position, typical_day)
    try:
        battery = Battery(
            power_mw=position.power_mw,
            energy_mwh=position.energy_mwh,
            charge_efficiency=BATTERY_EFFICIENCY,
            discharge_efficiency=BATTERY_EFFICIENCY,
            initial_soc_mwh=0.0,
        )
        schedule = optimize_arbitrage(prices, 1.0, battery)
    except BatteryError as error:
        raise RiskError(f"position {position.id}: {error}") from None
    net = np.asarray(schedule.discharge_mw - schedule.charge_mw, dtype=np.float64)
    starts = term_hours(position.iso, position.start, position.end)
    return HourlyPosition(
        position.id,
        position.book,
        position.iso,
        position.location,
        starts,
        net[hour_of_day(position.iso, starts)],
    )


def engine_positions(portfolio: Portfolio, typical_days: Mapping[tuple[str, str], Floats]) -> Portfolio:
    """The portfolio with its PPA and battery positions made hourly; the others as they are.

    `typical_days` maps (ISO, location) to the location's 24 hourly prices
    ($/MWh, hour beginning 0-23 in market time). Raises RiskError naming
    a position whose location has no typical day or whose engine refuses it.
    """
    made: list[HourlyPosition] = []
    for position in portfolio.positions:
        if not isinstance(position, PpaPosition | BatteryPosition):
            continue
        day = typical_days.get((position.iso, position.location))
        if day is None:
            raise RiskError(f"position {position.id}: no prices of {position.iso} {position.location}")
        made.append(
            ppa_hourly(position, day) if isinstance(position, PpaPosition) else battery_hourly(position, day)
        )
    return portfolio.replaced(made) if made else portfolio
