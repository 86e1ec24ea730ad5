"""What a fleet screen asks for: one battery, an ISO's market and window, and the nodes to try it at.

`ScreenRequest` is the job's request as every surface sends it (REST body,
SDK, CLI). `resolve` checks it against the store's catalog with the data
routes' errors (404 with suggestions for an unknown ISO, market or
location, 422 naming the field otherwise) and returns the nodes to screen
with their location types; it reads no prices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from carbon254.application.catalog import resolve_iso, resolve_locations
from carbon254.application.datasets import build_query
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.params import check_names, required_text
from carbon254.battery import Battery, BatteryError
from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.schema import Dataset, LocationType
from carbon254.store.base import Store

# The analytics feature a tenant needs to screen (beside the ISO's LMPs).
BATTERY_FEATURE = "battery"


class RankingFormat(StrEnum):
    """Which of the ranking's two files the job's download link serves (both are written)."""

    PARQUET = "parquet"
    CSV = "csv"

    @property
    def extension(self) -> str:
        """The file name's extension."""
        return self.value


class BatterySpec(BaseModel):
    """The battery screened at every node: power (MW), energy (MWh), efficiency, SOC, cycles, degradation.

    Charge and discharge efficiency are each the square root of
    `round_trip_efficiency`; the state of charge starts at
    `initial_soc_mwh` (None: half the energy) and must end there.
    `daily_cycles` caps the discharged energy of each UTC day at that many
    times the energy (None: no cap); `degradation_cost` is $/MWh discharged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    power_mw: float = Field(gt=0, description="Charge and discharge power, MW.")
    energy_mwh: float = Field(gt=0, description="Energy capacity, MWh.")
    round_trip_efficiency: float = Field(gt=0, le=1, description="Round-trip efficiency (0-1].")
    initial_soc_mwh: float | None = Field(
        None, ge=0, description="State of charge at the start and the end, MWh (default: half the energy)."
    )
    daily_cycles: float | None = Field(None, ge=0, description="Most full cycles a day (default: no cap).")
    degradation_cost: float = Field(0.0, ge=0, description="Degradation cost, $/MWh discharged.")

    @property
    def start_soc_mwh(self) -> float:
        """The state of charge at the start and at the end (MWh)."""
        return self.energy_mwh / 2 if self.initial_soc_mwh is None else self.initial_soc_mwh

    def battery(self) -> Battery:
        """The asset; `BatteryError` naming the field for one the optimizer cannot take."""
        one_way = math.sqrt(self.round_trip_efficiency)
        return Battery(
            power_mw=self.power_mw,
            energy_mwh=self.energy_mwh,
            charge_efficiency=one_way,
            discharge_efficiency=one_way,
            initial_soc_mwh=self.start_soc_mwh,
            daily_cycles=self.daily_cycles,
            degradation_cost=self.degradation_cost,
        )


class ScreenRequest(BatterySpec):
    """A fleet screen: the battery (`BatterySpec`'s fields) at each node of `iso`'s `market` over a window.

    `locations` lists the nodes (a list, or comma-separated text); omitted,
    every location of the ISO in the catalog is screened, only those of
    `location_type` when given. `start` and `end` are ISO-8601 (UTC unless
    they carry an offset; `end` exclusive). `as_of` screens the prices as
    known at that instant (default: as known when the job is planned, so a
    resumed job reads what its first tasks read). `format` picks the file
    the download link serves; Parquet and CSV are both written.
    """

    iso: str = Field(description="ISO/RTO, e.g. ERCOT.")
    market: str = Field("DAM", description="LMP market: DAM (default), RTH, RT5, ...")
    locations: list[str] | None = Field(None, description="Nodes to screen (default: every one of the ISO).")
    location_type: LocationType | None = Field(
        None, description="With no locations: screen only locations of this type (node, hub, zone, ...)."
    )
    start: str = Field(description="First instant of the window, ISO-8601 (UTC unless it has an offset).")
    end: str = Field(description="End of the window (exclusive), ISO-8601.")
    as_of: str | None = Field(None, description="Screen prices as known at this instant.")
    format: RankingFormat = Field(RankingFormat.PARQUET, description="The file the download link serves.")

    @field_validator("locations", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """Comma-separated text as the list of its names."""
        if isinstance(value, str):
            return value.split(",")
        return value


@dataclass(frozen=True, slots=True)
class ResolvedScreen:
    """A checked screen: the ISO, the stored market's name, the UTC window and the nodes with their types.

    `as_of` is None when the request gave none (the plan pins it).
    """

    iso: Iso
    market: str
    start: datetime
    end: datetime
    as_of: datetime | None
    locations: tuple[str, ...]
    location_types: tuple[str, ...]
    battery: Battery


def check_battery(spec: BatterySpec) -> Battery:
    """The asset of `spec`; a 422 naming the field when the optimizer could not take it."""
    try:
        return spec.battery()
    except BatteryError as exc:
        field = str(exc).partition(":")[0]
        raise bad_parameter(field if field in BatterySpec.model_fields else "battery", str(exc)) from None


def resolve(request: ScreenRequest, store: Store, settings: Settings) -> ResolvedScreen:
    """The screen `request` asks for, checked against the store's catalog; reads no prices.

    Raises `ApiError`: 404 for an unknown ISO, market or location (with
    suggestions), 422 naming the field for a bad window, battery or
    location list, or for a screen with no location to try.
    """
    battery = check_battery(request)
    iso = resolve_iso(request.iso)
    # The data routes' checks and messages for the ISO, market, window and as_of.
    query = build_query(
        store,
        settings,
        Dataset.LMP,
        iso=iso,
        start=request.start,
        end=request.end,
        market=required_text("market", request.market),
        as_of=request.as_of,
    )
    market = query.market
    if market is None:  # build_query requires an LMP market: this is for the type checker
        raise bad_parameter("market", "query parameter 'market' is required", "missing_parameter")
    if request.locations is not None and request.location_type is not None:
        raise bad_parameter(
            "location_type",
            "location_type filters the ISO's whole catalog; give locations or location_type, not both",
        )
    catalog = store.locations(iso=iso.value)
    types = dict(
        zip(catalog.column("location").to_pylist(), catalog.column("location_type").to_pylist(), strict=True)
    )
    if request.locations is not None:
        # A screen may name thousands of nodes: the data routes' per-request name limit is theirs.
        given = check_names("locations", request.locations, limit=max(len(request.locations), 1))
        names = resolve_locations(catalog, iso, given)
    elif request.location_type is not None:
        names = [name for name, kind in types.items() if kind == request.location_type.value]
    else:
        names = list(types)
    rows = [(name, types[name]) for name in dict.fromkeys(names)]
    if not rows:
        what = f" of type {request.location_type.value}" if request.location_type is not None else ""
        raise ApiError(
            404, "not_found", f"{iso.value} has no location{what} in the catalog to screen", "locations"
        )
    return ResolvedScreen(
        iso=iso,
        market=market,
        start=query.start,
        end=query.end,
        as_of=query.as_of,
        locations=tuple(name for name, _ in rows),
        location_types=tuple(kind for _, kind in rows),
        battery=battery,
    )
