"""The seven North American ISOs/RTOs: names, market time zones and price bounds.

Price bounds are deliberately wide. They exist to catch unit errors and corrupt
files (a price in $/kWh, a stray exponent), not to second-guess the market: they
sit well outside every real scarcity and congestion event on record, including
ERCOT in February 2021, when real-time settlement point prices sat at the
$9,000/MWh cap for days and ancillary-service clearing prices reached
$25,000/MW-h. Node LMPs can exceed the energy offer cap because constraint
penalty factors feed congestion, hence the margin above each ISO's cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from zoneinfo import ZoneInfo


class Iso(StrEnum):
    """ISO/RTO identifiers as stored in the `iso` column."""

    CAISO = "CAISO"
    ERCOT = "ERCOT"
    PJM = "PJM"
    MISO = "MISO"
    SPP = "SPP"
    NYISO = "NYISO"
    ISONE = "ISONE"


@dataclass(frozen=True, slots=True)
class PriceBounds:
    """Inclusive [low, high] range a stored value must fall in (units per dataset)."""

    low: float
    high: float

    def contains_description(self) -> str:
        return f"[{self.low:,.0f}, {self.high:,.0f}]"


@dataclass(frozen=True, slots=True)
class IsoInfo:
    """Static facts about one ISO.

    `timezone` is the zone the ISO's market day and peak blocks are defined in.
    MISO runs its market on Eastern Standard Time all year, so it is the fixed
    UTC-5 zone rather than America/New_York. `da_publication` is the wall-clock
    time (in `timezone`) on the day before an operating day by which the ISO
    usually posts that day's day-ahead results: the demo publishes its
    simulated day-ahead prices then, and data quality expects them from then.
    """

    iso: Iso
    name: str
    timezone: str
    lmp_bounds: PriceBounds
    as_price_bounds: PriceBounds
    da_publication: time

    @property
    def zoneinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# Energy: $/MWh. Ancillary services: $/MW-h. Day-ahead publication times are
# the ISOs' usual posting times (day-ahead market close plus clearing), not
# deadlines: CAISO ~13:00 PT, ERCOT ~13:30 CT, PJM ~13:30 ET, MISO ~14:00 EST,
# SPP ~14:00 CT, NYISO ~11:00 ET, ISO-NE ~13:30 ET.
ISOS: dict[Iso, IsoInfo] = {
    Iso.CAISO: IsoInfo(
        Iso.CAISO,
        "California ISO",
        "America/Los_Angeles",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        time(13, 0),
    ),
    Iso.ERCOT: IsoInfo(
        Iso.ERCOT,
        "Electric Reliability Council of Texas",
        "America/Chicago",
        PriceBounds(-10_000, 25_000),
        PriceBounds(-1_000, 30_000),
        time(13, 30),
    ),
    Iso.PJM: IsoInfo(
        Iso.PJM,
        "PJM Interconnection",
        "America/New_York",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        time(13, 30),
    ),
    Iso.MISO: IsoInfo(
        Iso.MISO,
        "Midcontinent ISO",
        "Etc/GMT+5",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        time(14, 0),
    ),
    Iso.SPP: IsoInfo(
        Iso.SPP,
        "Southwest Power Pool",
        "America/Chicago",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        time(14, 0),
    ),
    Iso.NYISO: IsoInfo(
        Iso.NYISO,
        "New York ISO",
        "America/New_York",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        time(11, 0),
    ),
    Iso.ISONE: IsoInfo(
        Iso.ISONE,
        "ISO New England",
        "America/New_York",
        PriceBounds(-10_000, 20_000),
        PriceBounds(-1_000, 30_000),
        time(13, 30),
    ),
}

# Capacity prices ($/MW-day), ORDC adders ($/MWh) and load (MW) share one range
# across ISOs.
CAPACITY_PRICE_BOUNDS = PriceBounds(-1_000, 5_000)
ORDC_ADDER_BOUNDS = PriceBounds(0, 25_000)
LOAD_MW_BOUNDS = PriceBounds(-10_000, 500_000)


def iso_info(iso: str) -> IsoInfo:
    """Look up an ISO by its stored name (case-insensitive); raises KeyError with the valid names."""
    try:
        return ISOS[Iso(iso.upper())]
    except ValueError:
        valid = ", ".join(i.value for i in Iso)
        raise KeyError(f"unknown ISO {iso!r}; expected one of {valid}") from None
