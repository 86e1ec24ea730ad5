"""The battery operations: `battery_optimize`, `battery_revenue` and `battery_dispatch`.

All three read the same prices and run the same optimizer
(`application.battery`: a `BatteryRequest` checked into a plan naming the
stored reads, then `run_battery`); they differ in what they answer.
`battery_revenue` is one row of totals (Excel's `=C254.BATTERY_REVENUE`, one
number in its cell), `battery_dispatch` the schedule interval by interval
(`=C254.BATTERY_DISPATCH`), and `battery_optimize` the revenue stack by
month with the run's summary, and on request the dispatch series and the
state-of-health projection: the answer of `POST /v1/battery/optimize`,
GraphQL's `batteryOptimize`, the SDK's `battery_optimize` and `carbon254
battery optimize`, whose documents are richer than rows, so its surfaces
are written by hand over `battery_result`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pyarrow as pa
from pydantic import Field

from carbon254.application.answer import Answer
from carbon254.application.battery import (
    BATTERY_FEATURE,
    BatteryPlan,
    BatteryRequest,
    BatteryRun,
    BatterySummary,
    plan_battery,
    run_battery,
    summarize,
)
from carbon254.application.errors import bad_parameter
from carbon254.application.operation import (
    CallContext,
    Column,
    ColumnType,
    ExcelArgument,
    ExcelFunction,
    ExcelReader,
    Input,
    Operation,
    OperationCall,
)
from carbon254.battery.asset import BatteryError
from carbon254.battery.degradation import CycleDepthCurve, state_of_health
from carbon254.battery.report import dispatch_table, revenue_stack
from carbon254.formats import text_frame
from carbon254.reports.battery_chart import battery_png
from carbon254.schema import TIMESTAMP
from carbon254.store.base import Store

# Project life of the state-of-health projection when the request does not say (years).
DEFAULT_YEARS = 15
MAX_YEARS = 50
INCLUDES = ("dispatch", "health")


def describe(run: BatteryRun) -> dict[str, Any]:
    """The request as understood, for answers: names as resolved, times in the output zone.

    `services` are the reserve products co-optimized and `region` the
    reserve region their prices were read in.
    """
    plan = run.plan
    energy = plan.inputs[0]
    zone = ZoneInfo(plan.tz or "UTC")
    return {
        "iso": plan.iso,
        "location": run.location,
        "market": plan.market,
        "start": energy.start.astimezone(zone).isoformat(),
        "end": energy.end.astimezone(zone).isoformat(),
        "tz": plan.tz or "UTC",
        "as_of": energy.as_of.astimezone(zone).isoformat() if energy.as_of else None,
        "dispatch": plan.dispatch.value,
        "services": [p.name for p in run.prices.products],
        "region": run.region,
    }


def _zone(plan: BatteryPlan) -> str:
    return plan.tz or "UTC"


# ---- battery_revenue ----------------------------------------------------------------------------

REVENUE_COLUMNS = (
    Column("iso", ColumnType.TEXT, "The ISO/RTO."),
    Column("location", ColumnType.TEXT, "The location, as the catalog spells it."),
    Column("market", ColumnType.TEXT, "The energy market (DAM, RTH, RT5, RT15 or both)."),
    Column("net_revenue", ColumnType.FLOAT, "Every stream together, costs taken off, $."),
    Column("energy_revenue", ColumnType.FLOAT, "Energy bought and sold (day-ahead and real time), $."),
    Column("reserve_revenue", ColumnType.FLOAT, "Reserve capacity payments, every product together, $."),
    Column("aux_cost", ColumnType.FLOAT, "The auxiliary load's energy bill, $ (positive)."),
    Column("degradation_cost", ColumnType.FLOAT, "Degradation cost of the discharged energy, $ (positive)."),
    Column("cycles", ColumnType.FLOAT, "Equivalent full cycles: discharged MWh / energy_mwh."),
    Column("discharged_mwh", ColumnType.FLOAT, "Energy discharged at the terminals, MWh."),
    Column(
        "capture_ratio",
        ColumnType.FLOAT,
        "Rolling dispatch: net revenue as a share of the perfect-foresight optimum; else null.",
    ),
)


@dataclass(frozen=True, slots=True)
class BatteryCall:
    """A checked battery operation: the plan (reads, asset, products) and what the answer includes."""

    plan: BatteryPlan
    include: tuple[str, ...] = ()
    years: int = DEFAULT_YEARS

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The plan's stored reads: the energy market(s), then the reserve prices."""
        return self.plan.inputs

    @property
    def renames(self) -> tuple[Any, ...]:
        """Each read's parameters as the caller named them (`location`, `services`)."""
        return self.plan.renames

    @property
    def tz(self) -> str | None:
        """The zone of output times and months."""
        return self.plan.tz

    def parameters(self) -> dict[str, Any]:
        """The plan's parameters and what is included."""
        return {**self.plan.parameters(), "include": list(self.include), "years": self.years}


def check_battery(context: CallContext, request: BatteryRequest) -> BatteryCall:
    """The plan of `request` (see `application.battery.plan_battery`)."""
    return BatteryCall(plan_battery(context, request))


def compute_revenue(call: BatteryCall, inputs: Sequence[Input]) -> Answer:
    """One row: the run's totals."""
    run = run_battery(call.plan, inputs)
    s = summarize(run)
    row = {
        "iso": run.plan.iso,
        "location": run.location,
        "market": run.plan.market,
        "net_revenue": s.net_revenue,
        "energy_revenue": s.energy_revenue,
        "reserve_revenue": s.reserve_revenue,
        "aux_cost": s.aux_cost,
        "degradation_cost": s.degradation_cost,
        "cycles": s.cycles,
        "discharged_mwh": s.throughput_mwh,
        "capture_ratio": s.capture_ratio,
    }
    types = {ColumnType.TEXT: pa.string(), ColumnType.FLOAT: pa.float64()}
    table = pa.table({c.name: pa.array([row[c.name]], types[c.type]) for c in REVENUE_COLUMNS})
    return Answer(table, {"query": describe(run), "summary": summary_document(s)})


def summary_document(summary: BatterySummary) -> dict[str, Any]:
    """The summary as the JSON-ready `summary` head field."""
    document = asdict(summary)
    document["services"] = list(summary.services)
    return document


# The arguments every battery Excel function takes, in order.
_EXCEL_ARGUMENTS = (
    ExcelArgument("location", "location", ExcelReader.LOCATION, "Node, hub or zone, e.g. HB_NORTH."),
    ExcelArgument("power_mw", "power_mw", ExcelReader.NUMBER, "Power, MW (charge and discharge)."),
    ExcelArgument("energy_mwh", "energy_mwh", ExcelReader.NUMBER, "Energy capacity, MWh."),
    ExcelArgument(
        "start",
        "start",
        ExcelReader.TIME,
        "First day (inclusive), ISO market time: a date cell, or text like 2024-01-01 or today-365d.",
    ),
    ExcelArgument("end", "end", ExcelReader.TIME, "Day to stop before (exclusive), same forms as start."),
    ExcelArgument(
        "market",
        "market",
        ExcelReader.TEXT,
        "Energy market: DAM (default), RTH, RT5, RT15 or both.",
        True,
        "DAM",
    ),
    ExcelArgument(
        "services",
        "services",
        ExcelReader.TEXT,
        "Reserve products: all (default: those the battery qualifies for), none, or a list like REGUP,RRS.",
        True,
        "all",
    ),
    ExcelArgument(
        "round_trip_efficiency",
        "round_trip_efficiency",
        ExcelReader.NUMBER,
        "Round-trip efficiency, 0-1 (default 0.85).",
        True,
    ),
)

_DESCRIPTION = (
    "A battery at `location` over [start, end): charge and discharge (MW), state of charge (MWh) and "
    "reserve awards co-optimized against the stored energy prices of `market` and the ISO's ancillary "
    "prices (`services`), with perfect foresight or a rolling horizon (`dispatch`). The battery is "
    "qualified for a reserve product when its usable energy sustains a useful award for the product's "
    "duration (at least 1 MW and a tenth of its power); it is offered at its power rating, or what its "
    "energy sustains if less. A gap in any price series is refused naming its first missing interval."
)

BATTERY_REVENUE: Operation[BatteryRequest, BatteryCall] = Operation(
    name="battery_revenue",
    path="battery/revenue",
    command=("battery", "revenue"),
    summary="What a battery at a location earns over a window: net revenue ($), energy and reserves",
    description=_DESCRIPTION + " One row of totals in $; `summary` breaks them down by stream.",
    feature=BATTERY_FEATURE,
    unit="$",
    request=BatteryRequest,
    columns=REVENUE_COLUMNS,
    check=check_battery,
    compute=compute_revenue,
    excel=ExcelFunction(
        id="BATTERY_REVENUE",
        description=(
            "Net revenue ($) of a battery at a location over a window: energy arbitrage and reserves "
            "co-optimized with perfect foresight, degradation taken off."
        ),
        arguments=_EXCEL_ARGUMENTS,
        columns=("net_revenue", "energy_revenue", "reserve_revenue", "cycles"),
        fixed=(("tz", "iso"),),
        scalar="net_revenue",
    ),
)


# ---- battery_dispatch ---------------------------------------------------------------------------

DISPATCH_COLUMNS = (
    Column("interval_start", ColumnType.TIMESTAMP, "Start of the interval, in `tz`."),
    Column("interval_end", ColumnType.TIMESTAMP, "End of the interval (exclusive)."),
    Column("charge_mw", ColumnType.FLOAT, "Charging, MW."),
    Column("discharge_mw", ColumnType.FLOAT, "Discharging, MW."),
    Column("net_mw", ColumnType.FLOAT, "discharge_mw - charge_mw, MW."),
    Column("soc_mwh", ColumnType.FLOAT, "State of charge after the interval, MWh."),
    Column(
        "reserve_up_mw", ColumnType.FLOAT, "Reserve awards that raise output (regulation up, spin...), MW."
    ),
    Column("reserve_down_mw", ColumnType.FLOAT, "Reserve awards that lower output (regulation down), MW."),
    Column(
        "energy_price",
        ColumnType.FLOAT,
        "Energy price of the market dispatched in ($/MWh; real time for market=both).",
    ),
)


def dispatch_rows(run: BatteryRun) -> pa.Table:
    """The schedule as `DISPATCH_COLUMNS` rows, times in the run's zone.

    A symmetric product (regulation both ways) counts in both reserve columns.
    """
    schedule, prices = run.schedule, run.prices
    step = round(schedule.interval_hours * 3_600_000_000)
    zone = pa.timestamp("us", _zone(run.plan))
    up = np.zeros(len(schedule))
    down = np.zeros(len(schedule))
    for product in prices.products:
        award = schedule.reserve_mw[product.name]
        if product.direction.raises:
            up += award
        if product.direction.lowers:
            down += award
    starts = pa.array(schedule.interval_start, pa.int64()).cast(TIMESTAMP)
    ends = pa.array(schedule.interval_start + step, pa.int64()).cast(TIMESTAMP)
    return pa.table(
        {
            "interval_start": starts.cast(zone),
            "interval_end": ends.cast(zone),
            "charge_mw": schedule.charge_mw,
            "discharge_mw": schedule.discharge_mw,
            "net_mw": schedule.discharge_mw - schedule.charge_mw,
            "soc_mwh": schedule.soc_mwh,
            "reserve_up_mw": up,
            "reserve_down_mw": down,
            "energy_price": prices.energy,
        }
    )


def compute_dispatch(call: BatteryCall, inputs: Sequence[Input]) -> Answer:
    """The schedule interval by interval."""
    run = run_battery(call.plan, inputs)
    return Answer(dispatch_rows(run), {"query": describe(run), "summary": summary_document(summarize(run))})


BATTERY_DISPATCH: Operation[BatteryRequest, BatteryCall] = Operation(
    name="battery_dispatch",
    path="battery/dispatch",
    command=("battery", "dispatch"),
    summary="A battery's optimal schedule interval by interval: MW, state of charge, reserve awards, price",
    description=_DESCRIPTION + " One row per interval of the energy market.",
    feature=BATTERY_FEATURE,
    unit="MW",
    request=BatteryRequest,
    columns=DISPATCH_COLUMNS,
    check=check_battery,
    compute=compute_dispatch,
    excel=ExcelFunction(
        id="BATTERY_DISPATCH",
        description=(
            "A battery's optimal schedule at a location: charge, discharge and net MW, state of charge "
            "(MWh), reserve awards (MW) and the energy price ($/MWh) per interval, in the ISO's market time."
        ),
        arguments=_EXCEL_ARGUMENTS,
        columns=(
            "interval_start",
            "charge_mw",
            "discharge_mw",
            "net_mw",
            "soc_mwh",
            "reserve_up_mw",
            "reserve_down_mw",
            "energy_price",
        ),
        fixed=(("tz", "iso"),),
    ),
)


# ---- battery_optimize ---------------------------------------------------------------------------


class BatteryOptimizeRequest(BatteryRequest):
    """A battery run with the parts of the answer beyond the revenue stack and summary."""

    include: str | None = Field(
        None,
        description="Comma list of extra parts: `dispatch` (the series interval by interval) and `health` "
        "(state of health by project year).",
    )
    years: int = Field(
        DEFAULT_YEARS, description="Project years of the state-of-health projection (include=health)."
    )


@dataclass(frozen=True, slots=True)
class BatteryResult:
    """A `battery_optimize` answer as tables: the summary, the stack, and the parts asked for.

    `stack` has a row per month of the run's zone (`month` YYYY-MM) and a
    `total` row: each cash stream ($), `net_revenue`, `discharged_mwh`,
    `charged_mwh`, `cycles` and `degradation_cost`. `dispatch` (when asked
    for) is the series interval by interval with a `<product>_mw` award and
    `<product>_price` per reserve product; `health` (when asked for) a row
    per project year (soh, capacity_mwh, cycles, damage) and
    `end_of_life_year` the first year at the chemistry's end of life.
    """

    summary: BatterySummary
    stack: pa.Table
    dispatch: pa.Table | None
    health: pa.Table | None
    end_of_life_year: int | None
    query: dict[str, Any]
    simulated: bool
    run: BatteryRun


def check_optimize(context: CallContext, request: BatteryOptimizeRequest) -> BatteryCall:
    """The plan, and which extra parts are asked for; 422 naming `include` or `years`."""
    include: list[str] = []
    for part in (request.include or "").split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in INCLUDES:
            raise bad_parameter("include", f"include: {part.strip()!r} is not one of {', '.join(INCLUDES)}")
        if name not in include:
            include.append(name)
    if not 1 <= request.years <= MAX_YEARS:
        raise bad_parameter("years", f"years: {request.years} must be 1 to {MAX_YEARS}")
    return BatteryCall(plan_battery(context, request), tuple(include), request.years)


def result_of(call: BatteryCall, run: BatteryRun, simulated: bool) -> BatteryResult:
    """The tables of a run: the stack by month in the run's zone and the parts the call asked for."""
    zone = _zone(call.plan)
    stack = revenue_stack(run.schedule, run.battery, zone).to_arrow()
    dispatch = None
    if "dispatch" in call.include:
        frame = dispatch_table(run.schedule, run.prices).to_arrow()
        at = frame.schema.get_field_index("interval_start")
        dispatch = frame.set_column(at, "interval_start", frame.column(at).cast(pa.timestamp("us", zone)))
    health, end_of_life = None, None
    if "health" in call.include:
        projection = state_of_health(
            run.schedule, run.battery, CycleDepthCurve.lithium_iron_phosphate(), call.years
        )
        health, end_of_life = projection.table().to_arrow(), projection.end_of_life_year
    return BatteryResult(summarize(run), stack, dispatch, health, end_of_life, describe(run), simulated, run)


def battery_result(call: OperationCall[BatteryCall], store: Store) -> BatteryResult:
    """Read the call's prices, run the battery and shape the result (403/404/422 as `ApiError`)."""
    inputs, simulated = call.read(store)
    return result_of(call.checked, run_battery(call.checked.plan, inputs), simulated)


def compute_optimize(call: BatteryCall, inputs: Sequence[Input]) -> Answer:
    """The revenue stack by month, the summary (and the health projection) in the head."""
    result = result_of(call, run_battery(call.plan, inputs), False)
    head: dict[str, Any] = {"query": result.query, "summary": summary_document(result.summary)}
    if result.health is not None:
        head["health"] = result.health.to_pylist()
        head["end_of_life_year"] = result.end_of_life_year
    return Answer(result.stack, head)


STACK_COLUMNS = (
    Column("month", ColumnType.TEXT, "Calendar month of `tz`, YYYY-MM, or `total`."),
    Column(
        "<stream>",
        ColumnType.FLOAT,
        "One column per cash stream, $: energy (or da_energy and rt_energy), each reserve product by its "
        "ISO name, aux and degradation (costs negative).",
    ),
    Column("net_revenue", ColumnType.FLOAT, "Every stream together, $."),
    Column("discharged_mwh", ColumnType.FLOAT, "Energy discharged at the terminals, MWh."),
    Column("charged_mwh", ColumnType.FLOAT, "Energy charged at the terminals, MWh."),
    Column("cycles", ColumnType.FLOAT, "Equivalent full cycles."),
    Column("degradation_cost", ColumnType.FLOAT, "Degradation cost, $ (positive)."),
)

BATTERY_OPTIMIZE: Operation[BatteryOptimizeRequest, BatteryCall] = Operation(
    name="battery_optimize",
    path="battery/optimize",
    command=("battery", "optimize"),
    summary="Optimize a battery at a location: revenue stack by month, summary, dispatch and state of health",
    description=_DESCRIPTION
    + " The answer is the revenue stack by month of `tz` with a total row and the run's summary; "
    "`include=dispatch` adds the series interval by interval, `include=health` the state of health "
    "over `years` project years (rainflow cycle depths against a typical LFP cycle-life curve).",
    feature=BATTERY_FEATURE,
    unit="$",
    request=BatteryOptimizeRequest,
    columns=STACK_COLUMNS,
    check=check_optimize,
    compute=compute_optimize,
)

__all__ = [
    "BATTERY_DISPATCH",
    "BATTERY_OPTIMIZE",
    "BATTERY_REVENUE",
    "BatteryCall",
    "BatteryOptimizeRequest",
    "BatteryResult",
    "battery_result",
    "chart_png",
    "dispatch_rows",
    "result_json",
    "result_of",
    "summary_document",
]


def _rows_json(table: pa.Table | None) -> bytes:
    """A table as a JSON array of row objects (times ISO-8601 with their offset, NaN as null)."""
    if table is None:
        return b"null"
    frame = text_frame(table)
    return frame.write_json().encode() if frame.height else b"[]"


def result_json(result: BatteryResult) -> bytes:
    """The answer of `POST /v1/battery/optimize` (and `battery optimize --format json`) as JSON bytes.

    `{"simulated", "unit", "query", "summary", "end_of_life_year", "stack": [...], "dispatch": [...] |
    null, "health": [...] | null}`; the tables' rows as objects with their columns (see `BatteryResult`).
    """
    head = {
        "simulated": result.simulated,
        "unit": "$",
        "query": result.query,
        "summary": summary_document(result.summary),
        "end_of_life_year": result.end_of_life_year,
    }
    body = orjson.dumps(head)[:-1]
    # The tables are encoded by Polars, not as Python objects: a year of 5-minute rows is 105,120.
    for name, table in (("stack", result.stack), ("dispatch", result.dispatch), ("health", result.health)):
        body += b',"' + name.encode() + b'":' + _rows_json(table)
    return body + b"}"


def chart_png(result: BatteryResult, start_us: int | None = None, end_us: int | None = None) -> bytes:
    """A PNG of the run for [start_us, end_us) (µs UTC; default its first 7 days), times in its zone.

    Price ($/MWh), net dispatch (MW, reserve awards beside) and state of
    charge (MWh); titled with the location, asset and net revenue. A window
    holding no interval is a 422 naming `chart_start`.
    """
    query, battery = result.query, result.run.battery
    title = (
        f"{query['iso']} {query['location']} {query['market']}: {battery.power_mw:g} MW / "
        f"{battery.energy_mwh:g} MWh, net ${result.summary.net_revenue:,.0f}"
    )
    try:
        return battery_png(result.run.schedule, result.run.prices, title, query["tz"], start_us, end_us)
    except BatteryError as exc:
        message = str(exc).partition(":")[2].strip() or str(exc)
        raise bad_parameter("chart_start", f"chart_start: {message}") from None
