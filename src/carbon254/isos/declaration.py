"""What the platform knows of an ISO: its identifier, static facts, and where its parts live.

Price bounds are deliberately wide. They exist to catch unit errors and corrupt
files (a price in $/kWh, a stray exponent), not to second-guess the market: they
sit well outside every real scarcity and congestion event on record, including
ERCOT in February 2021, when real-time settlement point prices sat at the
$9,000/MWh cap for days and ancillary-service clearing prices reached
$25,000/MW-h. Node LMPs can exceed the energy offer cap because constraint
penalty factors feed congestion, hence the margin above each ISO's cap.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Literal, cast
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from pathlib import Path

    from carbon254.config import Settings
    from carbon254.markets.connector import Connector, DownloadTarget
    from carbon254.markets.report import Report
    from carbon254.replay.server import Route
    from carbon254.simulate.iso import IsoSimulation


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
    Energy bounds are $/MWh, ancillary-service bounds $/MW-h.
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


@dataclass(frozen=True, slots=True)
class ForwardMarket:
    """How the ISO's power forwards trade, as the demo's simulated strips quote them.

    `hubs` are the main trading hubs (named as the simulator's catalog names
    them, so node basis works), `months_traded` how many single months are
    quoted ahead, and `seasonal_strips` the multi-month packs that trade:
    (label stem such as `JulAug`, first month, number of months).
    """

    hubs: tuple[str, ...]
    months_traded: int
    seasonal_strips: tuple[tuple[str, int, int], ...] = ()


# Which way a reserve award moves energy when deployed: `up` (discharge more or charge less),
# `down` (the reverse) or `both` (symmetric regulation: one award, headroom both ways).
ReserveDirection = Literal["up", "down", "both"]


# Expected deployment (MWh per MW awarded per hour), a modelling choice shared by every ISO:
# regulation follows the ISO's control signal every few seconds, and over an hour its net
# energy is about a tenth of the award; contingency reserves are called a few times a
# month for minutes at a time, about a hundredth.
REGULATION_DEPLOYMENT = 0.1
CONTINGENCY_DEPLOYMENT = 0.01


@dataclass(frozen=True, slots=True)
class ReserveService:
    """One ancillary-service product of the ISO as a storage resource sells it.

    `product` is the name the simulator stores it under (`as_price.product`);
    `aliases` are the names the ISO's own reports give the same product, as
    the parsers store them (NYISO's `SPIN_10` is the simulator's `SPIN10`).
    `duration_h` is how long a storage resource must be able to sustain a
    full award (hours of state-of-charge headroom); `deployment` the energy
    expected to be called per MW awarded per hour (MWh per MW-h): regulation
    moves all the time, contingency reserves seldom.
    """

    product: str
    direction: ReserveDirection
    duration_h: float
    deployment: float
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.duration_h > 0 and 0 <= self.deployment <= 1):
            raise ValueError(f"reserve service {self.product}: duration_h > 0 and deployment in [0, 1]")

    @property
    def names(self) -> tuple[str, ...]:
        """Every stored name of the product: the simulator's, then the reports'."""
        return (self.product, *self.aliases)


@dataclass(frozen=True, slots=True)
class ReserveMarket:
    """The ISO's ancillary-service products and where the system-wide prices are stored.

    `regions` names the system-wide reserve region as `as_price.region`
    holds it, the simulator's first and then the reports' spellings (PJM's
    `RTO` is `PJM_RTO` in Data Miner); `services` the products a battery
    may be awarded, in the order revenue reports list them.
    """

    regions: tuple[str, ...]
    services: tuple[ReserveService, ...]

    def service(self, name: str) -> ReserveService | None:
        """The product called `name` (any stored spelling, any case), or None."""
        folded = name.strip().casefold()
        return next((s for s in self.services if folded in (n.casefold() for n in s.names)), None)


# The modules every ISO package holds, each imported only when first used.
PARTS = ("settings", "reports", "replay", "simulation")


@dataclass(frozen=True, slots=True)
class IsoDeclaration:
    """One ISO as its package (`carbon254.isos.<iso>`) declares it.

    `info` is plain data, cheap to import. The heavy parts are modules of the
    package, imported on first use through the accessors: `settings` (its
    `CARBON254_<ISO>_*` settings model, a field of `carbon254.config.Settings`),
    `reports` (the report parsers, `REPORTS`, the download `TARGETS` and
    `connector(settings)`), `replay` (the local imitation of the ISO's URL
    layout, `routes(roots)`) and `simulation` (the simulator's model of the
    ISO, `SIMULATION`). `min_request_interval_s` is the spacing of requests to
    the ISO, in seconds, when `CARBON254_ISO_MIN_INTERVAL_S` does not set one:
    the ISO's published or observed limit. `forwards` is how its power
    forwards trade (main hubs, liquid months, seasonal packs); `reserves`
    its ancillary-service products as a battery sells them.
    """

    info: IsoInfo
    package: str
    min_request_interval_s: float
    forwards: ForwardMarket
    reserves: ReserveMarket

    @property
    def iso(self) -> Iso:
        """The ISO declared."""
        return self.info.iso

    def part(self, name: str) -> ModuleType:
        """The package's module `name` (one of `PARTS`), imported on first use."""
        if name not in PARTS:
            raise ValueError(f"an ISO package has no part {name!r}; its parts are {', '.join(PARTS)}")
        return importlib.import_module(f"{self.package}.{name}")

    def reports(self) -> tuple[Report, ...]:
        """Every report layout the ISO's connector parses."""
        return cast("tuple[Report, ...]", self.part("reports").REPORTS)

    def targets(self) -> tuple[DownloadTarget, ...]:
        """Every (dataset, market) the ISO's connector downloads, with the report serving it."""
        return cast("tuple[DownloadTarget, ...]", self.part("reports").TARGETS)

    def connector(self, settings: Settings) -> Connector:
        """A download connector for the ISO, configured by `settings` (its `CARBON254_<ISO>_*` fields)."""
        return cast("Connector", self.part("reports").connector(settings))

    def replay_routes(self, roots: list[Path]) -> list[Route]:
        """Replay-server routes imitating the ISO's servers, serving files found under `roots`."""
        return cast("list[Route]", self.part("replay").routes(roots))

    def simulation(self) -> IsoSimulation:
        """The simulator's model of the ISO: geography, market parameters, node names, capacity auction."""
        return cast("IsoSimulation", self.part("simulation").SIMULATION)
