"""A battery at a priced location, as every surface asks for it: prices from the store, the asset, the run.

`BatteryRequest` holds what a caller sends (text and numbers, as typed);
`plan_battery` checks it into a `BatteryPlan` without reading any price: the
ISO and location, the energy market(s) and window (read like `/v1/lmp`:
dates, `today-365d`, `as_of`, within the tenant's entitlements), the
reserve products asked for and the `Battery` itself, refused with a 422
naming the parameter. `run_battery` then turns the plan's stored rows into
`carbon254.battery.market.MarketPrices` (energy $/MWh, each reserve product's
capacity price $/MW-h on the same regular grid; a gap in any series is a
422 naming its first missing interval and how many are missing) and calls
the optimizer the request names. The operations of
`application.operations.battery` shape the resulting `BatteryRun` into rows.

Reserve prices come from `as_price` for the ISO's declared products
(`IsoDeclaration.reserves`) in the system-wide region unless `region` names
another, from the reserve market matching the energy market: day-ahead
reserves for day-ahead energy, hourly real-time reserves for any real-time
energy (each hour's price held over its 5- or 15-minute intervals, since
the hourly $/MW-h price is what every ISO publishes for real time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from carbon254.application.datasets import DatasetQuery
from carbon254.application.errors import ApiError, bad_parameter, not_found
from carbon254.application.identity import entitle_feature
from carbon254.application.operation import CallContext, Input, OperationRequest
from carbon254.application.params import required_text
from carbon254.battery.asset import Battery, BatteryError
from carbon254.battery.dispatch import optimize
from carbon254.battery.market import MarketPrices, ReserveDirection, ReservePrices, ReserveProduct
from carbon254.battery.rolling import capture_ratio, rolling_dispatch
from carbon254.battery.schedule import Schedule
from carbon254.battery.two_settlement import optimize_da_rt
from carbon254.isos import declaration
from carbon254.isos.declaration import ReserveMarket, ReserveService
from carbon254.names import UnknownName, resolve_names
from carbon254.schema import Dataset
from carbon254.store.base import Store
from carbon254.timeseries import BOUND_FORMS

Floats = npt.NDArray[np.float64]
Stamps = npt.NDArray[np.int64]

BATTERY_FEATURE = "battery"
US_PER_HOUR = 3_600_000_000
# A typical lithium-ion round trip at the point of interconnection (cells, inverter, transformer)
# when the caller gives no efficiency.
DEFAULT_ROUND_TRIP = 0.85
# A battery is qualified for a reserve product when its usable energy can sustain an award of at
# least this many MW for the product's duration, and at least this share of its power rating: a
# smaller award is below the offer sizes ISOs accept, or too small beside the battery's rating to be
# worth the telemetry and the state of charge it ties up. A modelling choice, not an ISO rule.
QUALIFY_MIN_MW = 1.0
QUALIFY_MIN_SHARE = 0.1
# The reserve market whose prices go with each energy market (real time: the hourly prices).
RESERVE_MARKETS = {"DAM": "DAM", "RTH": "RTH", "RT15": "RTH", "RT5": "RTH"}
ENERGY_MARKETS = tuple(RESERVE_MARKETS)
BOTH = "both"


class DispatchMode(StrEnum):
    """Perfect foresight (the most the battery could have earned) or rolling horizon (what it could earn)."""

    PERFECT = "perfect"
    ROLLING = "rolling"


class BatteryRequest(OperationRequest):
    """Where the battery is, the window and markets it is paid in, and the asset (MW, MWh, efficiencies)."""

    location: str = Field(description="The priced location (node, hub or zone), any case, e.g. HB_NORTH.")
    start: str = Field(description=f"Inclusive start: {BOUND_FORMS}.")
    end: str = Field(description="Exclusive end, same forms as `start`.")
    power_mw: float = Field(description="Discharge (and, unless charge_power_mw, charge) power, MW.")
    energy_mwh: float = Field(description="Energy capacity, MWh.")
    iso: str | None = Field(
        None, description="ISO/RTO, e.g. ERCOT (any case); default: the one whose catalog lists the location."
    )
    market: str = Field(
        "DAM",
        description="Energy market: DAM, RTH, RT5 or RT15 (as the ISO has them), or `both`: a day-ahead "
        "schedule settled, with its deviations, against hourly real time (RTH).",
    )
    services: str = Field(
        "all",
        description="Reserve products co-optimized: `all` (every product of the ISO the battery is "
        "qualified for and the store prices), `none` (energy only) or a comma list, e.g. REGUP,RRS.",
    )
    region: str | None = Field(
        None, description="Reserve region of the reserve prices (default: the ISO's system-wide region)."
    )
    dispatch: str = Field(
        "perfect",
        description="`perfect` foresight, or `rolling`: a persistence forecast re-planned every step_h over "
        "horizon_h, reported with its capture ratio of the perfect-foresight revenue.",
    )
    horizon_h: float = Field(48.0, description="Rolling dispatch: hours planned at each step.")
    step_h: float = Field(24.0, description="Rolling dispatch: hours committed before re-planning.")
    round_trip_efficiency: float | None = Field(
        None,
        description=f"Round-trip efficiency (0-1], each way its square root (default {DEFAULT_ROUND_TRIP} "
        "unless charge and discharge efficiencies are given).",
    )
    charge_efficiency: float | None = Field(None, description="One-way charge efficiency (0-1].")
    discharge_efficiency: float | None = Field(None, description="One-way discharge efficiency (0-1].")
    charge_power_mw: float | None = Field(None, description="Charge power, MW (default: power_mw).")
    initial_soc_mwh: float | None = Field(
        None, description="State of charge at the start, MWh (default: halfway between min and max)."
    )
    final_soc_mwh: float | None = Field(
        None, description="State of charge at the end, MWh (default: initial)."
    )
    min_soc_mwh: float = Field(0.0, description="Lowest state of charge, MWh.")
    max_soc_mwh: float | None = Field(None, description="Highest state of charge, MWh (default: energy_mwh).")
    daily_cycles: float | None = Field(
        None, description="Most equivalent full cycles (discharged MWh / energy_mwh) per day."
    )
    annual_cycles: float | None = Field(
        None, description="Most equivalent full cycles per year, pro rata over the window."
    )
    degradation_cost: float = Field(0.0, description="Cost of wear, $/MWh discharged (in the objective).")
    aux_load_mw: float = Field(0.0, description="Auxiliary load drawn in every interval, MW.")
    tz: str | None = Field(
        "iso",
        description="IANA zone dates are read in and months and times shown in; `iso` (default) is the "
        "ISO's market time.",
    )
    as_of: str | None = Field(
        None, description="Use the prices as they were known at this instant; same forms as `start`."
    )


@dataclass(frozen=True, slots=True)
class ServiceChoice:
    """The reserve products a run co-optimizes, and why any declared one is left out.

    `named` says the caller listed them (then every one must be qualified
    and priced); `skipped` maps a product left out to the reason.
    """

    services: tuple[ReserveService, ...]
    named: bool
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class BatteryPlan:
    """A checked battery run: the stored reads, the asset without reserves, the products and the mode.

    `inputs` are the energy read(s) (one; or day-ahead then real-time for
    `both`) followed by the reserve-price read when products are asked for.
    """

    iso: str
    location: str
    market: str
    battery: Battery
    choice: ServiceChoice
    reserves: ReserveMarket
    region: str | None
    dispatch: DispatchMode
    horizon_h: float
    step_h: float
    inputs: tuple[DatasetQuery, ...]
    tz: str | None
    renames: tuple[Mapping[str, str], ...]

    @property
    def energy_markets(self) -> tuple[str, ...]:
        """The energy market(s) read: one, or DAM then RTH for `both`."""
        return ("DAM", "RTH") if self.market == BOTH else (self.market,)

    def parameters(self) -> dict[str, Any]:
        """What shapes the answer beyond the stored reads: the asset, products, region and mode."""
        b = self.battery
        return {
            "battery": [
                b.power_mw,
                b.energy_mwh,
                b.charge_efficiency,
                b.discharge_efficiency,
                b.initial_soc_mwh,
                b.final_soc_mwh,
                b.min_soc_mwh,
                b.max_soc_mwh,
                b.charge_power_mw,
                b.daily_cycles,
                b.annual_cycles,
                b.degradation_cost,
                b.aux_load_mw,
            ],
            "services": [s.product for s in self.choice.services],
            "named": self.choice.named,
            "region": self.region,
            "dispatch": self.dispatch.value,
            "horizon_h": self.horizon_h,
            "step_h": self.step_h,
            "tz": self.tz,
        }


@dataclass(frozen=True, slots=True)
class BatteryRun:
    """A run's result: the schedule, the prices it was paid (on its grid) and the battery it ran.

    `location` is the catalog's spelling of the location priced; `battery`
    carries the reserve limits it was offered (MW per product co-optimized,
    the products of `prices`). `perfect` is the perfect-foresight schedule
    beside a rolling one (None otherwise) and `capture_ratio` the share of
    its net revenue the rolling schedule earned. `region` is the reserve
    region read and `skipped` the declared products left out, with why.
    """

    plan: BatteryPlan
    location: str
    battery: Battery
    prices: MarketPrices
    schedule: Schedule
    perfect: Schedule | None
    capture_ratio: float | None
    region: str | None
    skipped: tuple[tuple[str, str], ...]


# ---- checking ---------------------------------------------------------------------------------


def _finite(parameter: str, value: float) -> float:
    if not math.isfinite(value):
        raise bad_parameter(parameter, f"{parameter}: {value!r} is not a finite number")
    return value


def _battery_error(exc: BatteryError, names: Sequence[str]) -> ApiError:
    """A `BatteryError` ("field: message") as a 422 naming the request parameter it is about.

    A reserve limit the optimizer refuses is about `services`; a schedule it
    cannot find (a final state of charge out of reach within the cycle
    limits) names no single parameter.
    """
    message = str(exc)
    field = message.partition(":")[0].split("/")[0].strip()
    if field == "rolling horizon":
        return bad_parameter("step_h", f"step_h: {message.partition(':')[2].strip()}")
    if field == "reserve_limits":
        return bad_parameter("services", f"services: {message.partition(':')[2].strip()}")
    if field in names:
        return bad_parameter(field, message)
    return ApiError(422, "battery_infeasible", message)


def battery_of(request: BatteryRequest) -> Battery:
    """The asset a request describes, without reserve limits; a 422 naming the parameter it refuses.

    Efficiencies: `charge_efficiency` and `discharge_efficiency` when both
    are given, else each the square root of `round_trip_efficiency`
    (`DEFAULT_ROUND_TRIP` when that is not given either). The initial state
    of charge defaults to halfway between the SOC floor and ceiling.
    """
    one_way = (request.charge_efficiency, request.discharge_efficiency)
    if (one_way[0] is None) != (one_way[1] is None):
        missing = "discharge_efficiency" if one_way[1] is None else "charge_efficiency"
        raise bad_parameter(missing, f"{missing}: give charge_efficiency and discharge_efficiency together")
    if one_way[0] is not None and request.round_trip_efficiency is not None:
        raise bad_parameter(
            "round_trip_efficiency",
            "round_trip_efficiency: give either it or charge_efficiency and discharge_efficiency, not both",
        )
    numbers = {
        name: value
        for name, value in request.model_dump().items()
        if isinstance(value, float) and name not in ("horizon_h", "step_h")
    }
    for name, value in numbers.items():
        _finite(name, value)
    try:
        charge: float
        discharge: float
        if one_way[0] is not None and one_way[1] is not None:
            charge, discharge = one_way[0], one_way[1]
        else:
            round_trip = (
                DEFAULT_ROUND_TRIP if request.round_trip_efficiency is None else request.round_trip_efficiency
            )
            if not 0 < round_trip <= 1:
                raise BatteryError(f"round_trip_efficiency: {round_trip!r} must be in (0, 1]")
            charge = discharge = math.sqrt(round_trip)
        ceiling = request.energy_mwh if request.max_soc_mwh is None else request.max_soc_mwh
        initial = (
            (request.min_soc_mwh + ceiling) / 2
            if request.initial_soc_mwh is None
            else request.initial_soc_mwh
        )
        return Battery(
            power_mw=request.power_mw,
            energy_mwh=request.energy_mwh,
            charge_efficiency=charge,
            discharge_efficiency=discharge,
            initial_soc_mwh=initial,
            final_soc_mwh=request.final_soc_mwh,
            min_soc_mwh=request.min_soc_mwh,
            max_soc_mwh=request.max_soc_mwh,
            charge_power_mw=request.charge_power_mw,
            degradation_cost=request.degradation_cost,
            daily_cycles=request.daily_cycles,
            annual_cycles=request.annual_cycles,
            aux_load_mw=request.aux_load_mw,
        )
    except BatteryError as exc:
        raise _battery_error(exc, list(BatteryRequest.model_fields)) from None


def sustainable_mw(battery: Battery, service: ReserveService) -> float:
    """The largest award (MW) of `service` the battery's usable energy sustains for the product's duration.

    An award that raises output draws `duration_h` hours of it through the
    discharge efficiency; one that lowers output needs the room to absorb it.
    """
    raises = service.direction != "down"
    energy = battery.usable_energy_mwh * (battery.discharge_efficiency if raises else 1.0)
    return energy / service.duration_h


def reserve_limit_mw(battery: Battery, service: ReserveService) -> float:
    """The MW of `service` the battery is offered: its power rating, or less if its energy sustains less."""
    rating = battery.charge_limit_mw if service.direction == "down" else battery.power_mw
    return min(rating, sustainable_mw(battery, service))


def qualifies(battery: Battery, service: ReserveService) -> bool:
    """Whether the battery can hold a useful award of `service` (`QUALIFY_MIN_MW`, `QUALIFY_MIN_SHARE`)."""
    return sustainable_mw(battery, service) >= max(QUALIFY_MIN_MW, QUALIFY_MIN_SHARE * battery.power_mw)


def choose_services(text: str | None, reserves: ReserveMarket, battery: Battery, iso: str) -> ServiceChoice:
    """The products `services` names (`all`, `none` or a comma list), each checked against the battery.

    `all` keeps the ISO's products the battery qualifies for (the others are
    `skipped` with the reason); a listed product it cannot hold at a useful
    size is a 422 naming `services` and the most MW it could sustain; an
    unknown one a 404 listing the ISO's products.
    """
    value = (text or "all").strip()
    folded = value.casefold()
    if folded == "none":
        return ServiceChoice((), named=False)
    if folded in ("all", ""):
        kept, skipped = [], []
        for service in reserves.services:
            if qualifies(battery, service):
                kept.append(service)
            else:
                skipped.append((service.product, _unqualified(battery, service)))
        return ServiceChoice(tuple(kept), named=False, skipped=tuple(skipped))
    wanted = [n.strip() for n in value.split(",") if n.strip()]
    chosen: list[ReserveService] = []
    for name in wanted:
        found = reserves.service(name)
        if found is None:
            products = [s.product for s in reserves.services]
            try:
                resolve_names("services", f"{iso} reserve product", [name], products, suggest_all=True)
            except UnknownName as exc:
                raise not_found("services", exc.message, exc.suggestions) from None
            raise not_found("services", f"services: {iso} has no reserve product {name!r}", products)
        if not qualifies(battery, found):
            raise bad_parameter("services", f"services: {_unqualified(battery, found)}")
        if found not in chosen:
            chosen.append(found)
    return ServiceChoice(tuple(chosen), named=True)


def _unqualified(battery: Battery, service: ReserveService) -> str:
    floor = max(QUALIFY_MIN_MW, QUALIFY_MIN_SHARE * battery.power_mw)
    most = sustainable_mw(battery, service)
    return (
        f"{service.product} must be sustainable for {service.duration_h:g} h, and the battery's "
        f"{battery.usable_energy_mwh:g} MWh of usable energy sustains {most:.3g} MW "
        f"of it, below the {floor:.3g} MW a qualified battery offers"
    )


def locate_iso(store: Store, context: CallContext, location: str) -> str:
    """The ISO whose catalog lists `location` (any case), among those the caller may read LMPs of.

    404 when none does; 422 asking for `iso` when several do.
    """
    name = required_text("location", location)
    catalog = store.locations(search=name)
    matches = catalog.filter(pc.equal(pc.utf8_lower(catalog.column("location")), name.casefold()))
    isos = sorted(
        str(i)
        for i in set(matches.column("iso").to_pylist())
        if context.principal.entitlements.allows_data(i, Dataset.LMP.value)
    )
    if not isos:
        raise ApiError(
            404,
            "not_found",
            f"location: no ISO you may read lists {name!r}; give iso, or check the spelling",
            "location",
        )
    if len(isos) > 1:
        raise bad_parameter("iso", f"iso: {name} is a location of {', '.join(isos)}; say which")
    return isos[0]


def plan_battery(context: CallContext, request: BatteryRequest) -> BatteryPlan:
    """Check `request` into a plan that names the stored reads; reads no prices.

    The caller needs the `battery` feature and the `lmp` (and, with reserve
    products, `as_price`) data of the ISO (403); the window and `as_of`
    parse as `/v1/lmp`'s do (422), the location and market must be the
    catalog's (404); the asset and products are refused with a 422 naming
    the parameter.
    """
    entitle_feature(context.principal, context.feature)
    iso_text = request.iso if request.iso and request.iso.strip() else None
    if iso_text is None:
        iso_text = locate_iso(context.store, context, request.location)
    market = _market(request.market)
    try:
        mode = DispatchMode(request.dispatch.strip().lower())
    except ValueError:
        raise bad_parameter("dispatch", "dispatch: perfect or rolling") from None
    if mode is DispatchMode.ROLLING:
        if market == BOTH:
            raise bad_parameter(
                "dispatch", "dispatch: rolling runs in one market; use market DAM, RTH, RT5 or RT15"
            )
        for name in ("horizon_h", "step_h"):
            value = _finite(name, getattr(request, name))
            if value <= 0:
                raise bad_parameter(name, f"{name}: {value!r} must be a positive number of hours")
        if request.step_h > request.horizon_h:
            raise bad_parameter("step_h", "step_h: must not exceed horizon_h")
    window = {"start": request.start, "end": request.end, "tz": request.tz, "as_of": request.as_of}
    energy = [
        context.query(
            Dataset.LMP,
            iso=iso_text,
            market=m,
            locations=[request.location],
            rename={"locations": "location"},
            **window,
        )
        for m in (("DAM", "RTH") if market == BOTH else (market,))
    ]
    first = energy[0]
    iso = first.iso.value
    if market != BOTH and first.market not in RESERVE_MARKETS:
        raise bad_parameter(
            "market", f"market: a battery runs in {', '.join(ENERGY_MARKETS)} or both; not {first.market}"
        )
    battery = battery_of(request)
    reserves = declaration(iso).reserves
    choice = choose_services(request.services, reserves, battery, iso)
    reads: list[DatasetQuery] = [replace(q, tz=None) for q in energy]
    renames: list[Mapping[str, str]] = [{"locations": "location"} for _ in energy]
    if choice.services:
        reserve_market = RESERVE_MARKETS[first.market or "DAM"]
        prices = context.query(
            Dataset.AS_PRICE, iso=iso, market=reserve_market, rename={"market": "services"}, **window
        )
        reads.append(replace(prices, tz=None))
        renames.append({"regions": "region", "market": "services"})
    return BatteryPlan(
        iso=iso,
        location=request.location.strip(),
        market=market if market == BOTH else (first.market or market),
        battery=battery,
        choice=choice,
        reserves=reserves,
        region=request.region.strip() if request.region and request.region.strip() else None,
        dispatch=mode,
        horizon_h=request.horizon_h,
        step_h=request.step_h,
        inputs=tuple(reads),
        tz=first.tz,
        renames=tuple(renames),
    )


def _market(text: str) -> str:
    value = required_text("market", text)
    if value.casefold() == BOTH:
        return BOTH
    return value


# ---- running ----------------------------------------------------------------------------------


def _micros(column: pa.ChunkedArray) -> Stamps:
    return np.asarray(pc.cast(column, pa.timestamp("us", "UTC")).cast(pa.int64()).to_numpy(), np.int64)


def _when(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True, slots=True)
class _Series:
    """One price series on its regular grid: starts (µs UTC), the step (µs) and the values."""

    starts: Stamps
    step: int
    values: Floats


def _on_grid(
    starts: Stamps,
    ends: Stamps,
    values: Floats,
    lo: int,
    hi: int,
    what: str,
    parameter: str,
    *,
    cover: bool = False,
) -> _Series:
    """The values on the regular grid of [lo, hi), the step read from the rows; 422 for a gap, 404 if none.

    The grid holds the whole intervals inside [lo, hi), or with `cover`
    every interval touching it (the hours over a run of 5-minute intervals).
    """
    if len(starts) == 0:
        raise ApiError(
            404,
            "no_prices",
            f"{parameter}: no stored {what} from {_when(lo)} to {_when(hi)} (UTC)",
            parameter,
        )
    lengths, counts = np.unique(ends - starts, return_counts=True)
    step = int(lengths[np.argmax(counts)])
    if cover:
        first = lo - lo % step
        grid = np.arange(first, hi, step, dtype=np.int64)
    else:
        first = -(-lo // step) * step  # the first whole interval at or after the start
        grid = np.arange(first, hi - step + 1, step, dtype=np.int64)
    if len(grid) == 0:
        raise bad_parameter("end", f"end: the window holds no whole {step / 6e7:g}-minute interval")
    slot = (starts - first) // step
    keep = (slot >= 0) & (slot < len(grid)) & ((starts - first) % step == 0)
    out = np.full(len(grid), np.nan)
    out[slot[keep]] = values[keep]
    absent = np.isnan(out)
    missing = int(absent.sum())
    if missing:
        gap = int(np.argmax(absent))
        raise ApiError(
            422,
            "price_gap",
            f"{parameter}: {what} are missing for {missing:,} of the {len(grid):,} intervals from "
            f"{_when(int(grid[0]))} to {_when(hi)}, the first at {_when(int(grid[gap]))} (UTC); choose a "
            "window the store covers, or load the missing prices",
            parameter,
        )
    return _Series(grid, step, out)


def _energy(rows: pa.Table, query: DatasetQuery, location: str) -> _Series:
    what = f"{query.iso.value} {query.market} prices of {location}"
    return _on_grid(
        _micros(rows.column("interval_start")),
        _micros(rows.column("interval_end")),
        rows.column("lmp").to_numpy().astype(np.float64),
        int(query.start.timestamp() * 1e6),
        int(query.end.timestamp() * 1e6),
        what,
        "location",
    )


def _region(rows: pa.Table, plan: BatteryPlan) -> str | None:
    """The stored spelling of the reserve region: the one asked for, else the ISO's system-wide one."""
    present = sorted({str(r) for r in rows.column("region").to_pylist()})
    wanted = (plan.region,) if plan.region is not None else plan.reserves.regions
    for name in wanted:
        found = [p for p in present if p.casefold() == name.casefold()]
        if found:
            return found[0]
    if plan.region is not None and present:
        raise not_found(
            "region",
            f"region: {plan.iso} has no reserve prices in region {plan.region!r} in the window",
            present,
        )
    return None


def _reserve_prices(
    rows: pa.Table, query: DatasetQuery, plan: BatteryPlan, grid: _Series
) -> tuple[tuple[ReservePrices, ...], str | None, tuple[tuple[str, str], ...]]:
    """Each chosen product's capacity prices ($/MW-h) held over the energy grid's intervals.

    A product asked for by name must be priced in the window (404 naming
    `services`); with `all` an unpriced product is skipped with the reason.
    """
    region = _region(rows, plan) if rows.num_rows else None
    skipped: list[tuple[str, str]] = []
    priced: list[ReservePrices] = []
    in_region = (
        rows.filter(pc.equal(rows.column("region"), region)) if region is not None else rows.slice(0, 0)
    )
    products = in_region.column("product")
    folded = pc.utf8_lower(products)
    lo, hi = int(grid.starts[0]), int(grid.starts[-1] + grid.step)
    for service in plan.choice.services:
        name = next(
            (n for n in service.names if pc.any(pc.equal(folded, n.casefold())).as_py()),
            None,
        )
        if name is None:
            reason = f"no stored {plan.iso} {query.market} {service.product} prices in the window"
            if plan.choice.named:
                raise ApiError(404, "no_prices", f"services: {reason}", "services")
            skipped.append((service.product, reason))
            continue
        mine = in_region.filter(pc.equal(folded, name.casefold()))
        # The hours covering the energy grid: a real-time hour's price holds over its 5-minute intervals.
        series = _on_grid(
            _micros(mine.column("interval_start")),
            _micros(mine.column("interval_end")),
            mine.column("price").to_numpy().astype(np.float64),
            lo,
            hi,
            f"{plan.iso} {query.market} {service.product} prices of region {region}",
            "services",
            cover=True,
        )
        if series.step < grid.step or series.step % grid.step:
            raise bad_parameter(
                "market",
                f"market: {service.product} is priced every {series.step / 6e7:g} minutes, which does not "
                f"divide into the energy market's {grid.step / 6e7:g}-minute intervals",
            )
        at = (grid.starts - series.starts[0]) // series.step
        if at[0] < 0 or at[-1] >= len(series.values):
            raise ApiError(
                422,
                "price_gap",
                f"services: {service.product} prices do not cover the energy intervals from "
                f"{_when(lo)} to {_when(hi)} (UTC)",
                "services",
            )
        product = ReserveProduct(
            service.product, ReserveDirection(service.direction), service.duration_h, service.deployment
        )
        priced.append(ReservePrices(product, series.values[at]))
    return tuple(priced), region, (*plan.choice.skipped, *skipped)


def market_prices(
    plan: BatteryPlan, inputs: Sequence[Input]
) -> tuple[list[MarketPrices], str | None, tuple[tuple[str, str], ...]]:
    """The plan's stored rows as `MarketPrices`: one per energy market, reserves with the first.

    Returns the prices, the reserve region read and the products skipped.
    """
    n_energy = len(plan.energy_markets)
    series = [_energy(i.rows, i.query, plan.location) for i in inputs[:n_energy]]
    reserves: tuple[ReservePrices, ...] = ()
    region, skipped = None, plan.choice.skipped
    if len(inputs) > n_energy:
        reserve_input = inputs[n_energy]
        reserves, region, skipped = _reserve_prices(reserve_input.rows, reserve_input.query, plan, series[0])
    prices = []
    for i, s in enumerate(series):
        try:
            prices.append(MarketPrices(s.starts, s.step / US_PER_HOUR, s.values, reserves if i == 0 else ()))
        except BatteryError as exc:
            raise bad_parameter("location", f"location: {exc}") from None
    return prices, region, skipped


def with_reserves(battery: Battery, products: Sequence[ReserveProduct], plan: BatteryPlan) -> Battery:
    """The battery qualified for `products`, each limited to what its rating and energy sustain (MW)."""
    services = {s.product: s for s in plan.choice.services}
    limits = tuple((p.name, reserve_limit_mw(battery, services[p.name])) for p in products)
    return replace(battery, reserve_limits=limits)


def run_battery(plan: BatteryPlan, inputs: Sequence[Input]) -> BatteryRun:
    """Read the plan's prices and optimize: perfect foresight, rolling horizon, or day-ahead then real time.

    A battery the optimizer cannot run (a final state of charge out of
    reach, a cycle limit it cannot meet) is a 422 naming the parameter.
    """
    prices, region, skipped = market_prices(plan, inputs)
    battery = with_reserves(plan.battery, prices[0].products, plan)
    names = list(BatteryRequest.model_fields)
    perfect: Schedule | None = None
    ratio: float | None = None
    try:
        if plan.market == BOTH:
            schedule = optimize_da_rt(prices[0], prices[1], battery)
            paid = prices[1]
        elif plan.dispatch is DispatchMode.ROLLING:
            schedule = rolling_dispatch(prices[0], battery, horizon_h=plan.horizon_h, step_h=plan.step_h)
            perfect = optimize(prices[0], battery)
            ratio = capture_ratio(schedule, perfect)
            paid = prices[0]
        else:
            schedule = optimize(prices[0], battery)
            paid = prices[0]
    except BatteryError as exc:
        raise _battery_error(exc, names) from None
    if plan.market == BOTH and prices[0].reserves:
        # The chart and the dispatch table show real-time intervals: carry the day-ahead reserve
        # prices onto them, each hour's price over its intervals.
        paid = _with_reserves_on(paid, prices[0])
    location = (inputs[0].query.locations or (plan.location,))[0]
    return BatteryRun(plan, location, battery, paid, schedule, perfect, ratio, region, skipped)


def _with_reserves_on(target: MarketPrices, source: MarketPrices) -> MarketPrices:
    step = round(source.interval_hours * US_PER_HOUR)
    at = (target.interval_start - source.interval_start[0]) // step
    reserves = tuple(ReservePrices(r.product, r.prices[at]) for r in source.reserves)
    return MarketPrices(target.interval_start, target.interval_hours, target.energy, reserves)


# ---- what a run earned ------------------------------------------------------------------------

ENERGY_STREAMS = ("energy", "da_energy", "rt_energy")
COST_STREAMS = ("aux", "degradation")


@dataclass(frozen=True, slots=True)
class BatterySummary:
    """What a run earned over its window ($), how hard it worked the battery, and what it was offered.

    `revenue_by_stream` holds each cash stream's total ($; costs negative):
    the energy stream(s) (`energy`, or `da_energy` and `rt_energy`), each
    reserve product by its ISO name, `aux` and `degradation`.
    `energy_revenue` and `reserve_revenue` add up their streams;
    `aux_cost` and `degradation_cost` are positive $. `cycles` are
    equivalent full cycles (discharged MWh over `energy_mwh`),
    `throughput_mwh` the MWh discharged at the terminals (reserve
    deployments included). `integer` says charge-or-discharge binaries were
    needed (negative prices). For rolling dispatch, `perfect_net_revenue`
    is the perfect-foresight optimum and `capture_ratio` the share of it
    earned. `services` are the reserve products co-optimized, `skipped`
    the ISO's others with the reason.
    """

    revenue_by_stream: dict[str, float]
    net_revenue: float
    energy_revenue: float
    reserve_revenue: float
    aux_cost: float
    degradation_cost: float
    cycles: float
    throughput_mwh: float
    charged_mwh: float
    integer: bool
    capture_ratio: float | None
    perfect_net_revenue: float | None
    services: tuple[str, ...]
    skipped: dict[str, str]
    region: str | None
    intervals: int
    interval_hours: float


def summarize(run: BatteryRun) -> BatterySummary:
    """The run's totals (see `BatterySummary`)."""
    schedule = run.schedule
    streams = schedule.revenue_by_stream
    energy = sum(v for k, v in streams.items() if k in ENERGY_STREAMS)
    reserves = sum(v for k, v in streams.items() if k not in ENERGY_STREAMS and k not in COST_STREAMS)
    return BatterySummary(
        revenue_by_stream=streams,
        net_revenue=schedule.net_revenue,
        energy_revenue=energy,
        reserve_revenue=reserves,
        aux_cost=-streams.get("aux", 0.0),
        degradation_cost=-streams.get("degradation", 0.0),
        cycles=schedule.equivalent_cycles(run.battery.energy_mwh),
        throughput_mwh=float(schedule.discharged_mwh.sum()),
        charged_mwh=float(schedule.charged_mwh.sum()),
        integer=schedule.integer,
        capture_ratio=run.capture_ratio,
        perfect_net_revenue=run.perfect.net_revenue if run.perfect is not None else None,
        services=tuple(p.name for p in run.prices.products),
        skipped=dict(run.skipped),
        region=run.region,
        intervals=len(schedule),
        interval_hours=schedule.interval_hours,
    )
