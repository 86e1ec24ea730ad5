"""GraphQL `batteryOptimize`: a battery run against stored prices, as `POST /v1/battery/optimize` answers it.

The same declaration (`application.operations.battery.BATTERY_OPTIMIZE`):
its request fields are the arguments (camelCase), checked and entitled
through the operation layer, so a run is refused for the same reasons with
the same codes (`INVALID_PARAMETER` naming the argument, `PRICE_GAP` naming
the first missing interval, `NOT_ENTITLED` without the `battery` feature or
the ISO's data). Streams and reserve products vary by ISO, so they are
lists of `{stream, revenue}` and `{product, mw, price}` rather than fields.
The dispatch series and the state-of-health projection are computed only
when the query selects them; their rows count against the request's row
budget. `batteryRevenue` and `batteryDispatch` are the generated fields of
the other two battery operations.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any

import pyarrow as pa
import strawberry
from pydantic import ValidationError
from strawberry.types import Info

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError, renamed
from carbon254.application.operations.battery import (
    BATTERY_OPTIMIZE,
    BatteryOptimizeRequest,
    BatteryResult,
    battery_result,
)
from carbon254.service.graphql.arguments import camel, sign_resolver
from carbon254.service.graphql.context import GraphQLContext
from carbon254.service.graphql.errors import from_api_error

GraphQLInfo = Info[GraphQLContext, None]
_FIXED = ("month", "net_revenue", "discharged_mwh", "charged_mwh", "cycles", "degradation_cost")
_DISPATCH_FIXED = ("interval_start", "charge_mw", "discharge_mw", "net_mw", "soc_mwh", "energy_price")


@strawberry.type(
    description="One cash stream's dollars: energy, a reserve product (its ISO name), aux, degradation."
)
class StreamRevenue:
    stream: str
    revenue: float = strawberry.field(description="$, costs negative.")


@strawberry.type(description="A declared reserve product left out of the run, and why.")
class SkippedService:
    product: str
    reason: str


@strawberry.type(description="A run's totals over its window.")
class BatterySummary:
    revenue_by_stream: list[StreamRevenue]
    net_revenue: float = strawberry.field(description="Every stream together, $.")
    energy_revenue: float = strawberry.field(description="$.")
    reserve_revenue: float = strawberry.field(description="Reserve capacity payments, $.")
    aux_cost: float = strawberry.field(description="$, positive.")
    degradation_cost: float = strawberry.field(description="$, positive.")
    cycles: float = strawberry.field(description="Equivalent full cycles.")
    throughput_mwh: float = strawberry.field(description="MWh discharged at the terminals.")
    charged_mwh: float
    integer: bool = strawberry.field(
        description="Charge-or-discharge binaries were needed (negative prices)."
    )
    capture_ratio: float | None = strawberry.field(
        description="Rolling dispatch: the share of the perfect-foresight net revenue earned."
    )
    perfect_net_revenue: float | None = strawberry.field(description="Rolling dispatch: the optimum, $.")
    services: list[str] = strawberry.field(description="Reserve products co-optimized.")
    skipped: list[SkippedService]
    region: str | None = strawberry.field(description="Reserve region the reserve prices are of.")
    intervals: int
    interval_hours: float


@strawberry.type(description="One month of the revenue stack (month `total`: the whole window).")
class StackMonth:
    month: str = strawberry.field(description="YYYY-MM in the run's zone, or `total`.")
    revenue: list[StreamRevenue]
    net_revenue: float
    discharged_mwh: float
    charged_mwh: float
    cycles: float
    degradation_cost: float = strawberry.field(description="$, positive.")


@strawberry.type(description="One product's award in an interval (MW) and its price ($/MW-h).")
class ReserveAward:
    product: str
    mw: float
    price: float | None


@strawberry.type(description="One interval of the schedule.")
class DispatchInterval:
    interval_start: datetime
    charge_mw: float
    discharge_mw: float
    net_mw: float
    soc_mwh: float = strawberry.field(description="State of charge after the interval, MWh.")
    energy_price: float | None = strawberry.field(description="$/MWh.")
    reserves: list[ReserveAward]


@strawberry.type(description="One project year of the state-of-health projection.")
class HealthYear:
    year: int
    soh: float = strawberry.field(description="Original capacity left, fraction of nameplate.")
    capacity_mwh: float = strawberry.field(description="Faded nameplate plus augmentation, MWh.")
    cycles: float
    damage: float = strawberry.field(description="Fraction of cycle life the year uses.")


@strawberry.type(description="The request as understood.")
class BatteryQuery:
    iso: str
    location: str
    market: str
    start: str
    end: str
    tz: str
    as_of: str | None
    dispatch: str
    services: list[str]
    region: str | None


@strawberry.type(description="A battery run: summary, revenue stack by month, and the parts selected.")
class BatteryOptimization:
    simulated: bool
    unit: str
    query: BatteryQuery
    summary: BatterySummary
    stack: list[StackMonth]
    dispatch: list[DispatchInterval] | None = strawberry.field(
        description="The schedule interval by interval (computed only when selected)."
    )
    health: list[HealthYear] | None = strawberry.field(
        description="State of health by project year over `years` (computed only when selected)."
    )
    end_of_life_year: int | None


def _streams(row: dict[str, Any]) -> list[StreamRevenue]:
    return [StreamRevenue(stream=k, revenue=float(v)) for k, v in row.items() if k not in _FIXED]


def _float(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _dispatch(table: pa.Table, products: list[str]) -> list[DispatchInterval]:
    rows = []
    for row in table.to_pylist():
        awards = [
            ReserveAward(product=p, mw=float(row[f"{p}_mw"]), price=_float(row.get(f"{p}_price")))
            for p in products
        ]
        rows.append(
            DispatchInterval(
                interval_start=row["interval_start"],
                charge_mw=row["charge_mw"],
                discharge_mw=row["discharge_mw"],
                net_mw=row["net_mw"],
                soc_mwh=row["soc_mwh"],
                energy_price=_float(row.get("energy_price")),
                reserves=awards,
            )
        )
    return rows


def _answer(result: BatteryResult) -> BatteryOptimization:
    s = result.summary
    summary = BatterySummary(
        revenue_by_stream=[StreamRevenue(stream=k, revenue=v) for k, v in s.revenue_by_stream.items()],
        net_revenue=s.net_revenue,
        energy_revenue=s.energy_revenue,
        reserve_revenue=s.reserve_revenue,
        aux_cost=s.aux_cost,
        degradation_cost=s.degradation_cost,
        cycles=s.cycles,
        throughput_mwh=s.throughput_mwh,
        charged_mwh=s.charged_mwh,
        integer=s.integer,
        capture_ratio=_float(s.capture_ratio),
        perfect_net_revenue=s.perfect_net_revenue,
        services=list(s.services),
        skipped=[SkippedService(product=p, reason=r) for p, r in s.skipped.items()],
        region=s.region,
        intervals=s.intervals,
        interval_hours=s.interval_hours,
    )
    stack = [
        StackMonth(
            month=row["month"],
            revenue=_streams(row),
            net_revenue=row["net_revenue"],
            discharged_mwh=row["discharged_mwh"],
            charged_mwh=row["charged_mwh"],
            cycles=row["cycles"],
            degradation_cost=row["degradation_cost"],
        )
        for row in result.stack.to_pylist()
    ]
    q = result.query
    return BatteryOptimization(
        simulated=result.simulated,
        unit="$",
        query=BatteryQuery(
            iso=q["iso"],
            location=q["location"],
            market=q["market"],
            start=q["start"],
            end=q["end"],
            tz=q["tz"],
            as_of=q["as_of"],
            dispatch=q["dispatch"],
            services=list(q["services"]),
            region=q["region"],
        ),
        summary=summary,
        stack=stack,
        dispatch=_dispatch(result.dispatch, list(s.services)) if result.dispatch is not None else None,
        health=[HealthYear(**row) for row in result.health.to_pylist()]
        if result.health is not None
        else None,
        end_of_life_year=result.end_of_life_year,
    )


def _selected(info: GraphQLInfo) -> set[str]:
    """The answer's fields the query selects (only the dispatch and health parts cost anything)."""
    names: set[str] = set()
    for field in info.selected_fields:
        for selection in getattr(field, "selections", []):
            name = getattr(selection, "name", None)
            if name:
                names.add(name)
    return names


# `include` is the REST body's way of asking for parts; here the selection asks.
_ARGUMENTS = {n: f for n, f in BatteryOptimizeRequest.model_fields.items() if n != "include"}


async def resolve_battery_optimize(info: GraphQLInfo, **arguments: Any) -> BatteryOptimization:
    """The run the arguments describe ($, MW, MWh), computed on a worker thread; refusals as GraphQL errors.

    Arguments are the optimize request's fields (camelCase); errors name
    them so. The run's rows (stack, and dispatch and health when selected)
    are charged to the request's row budget.
    """
    context = info.context
    selected = _selected(info)
    include = ",".join(part for part in ("dispatch", "health") if part in selected)
    try:
        try:
            request = BatteryOptimizeRequest.model_validate({**arguments, "include": include or None})
        except ValidationError as exc:
            first = exc.errors()[0]
            parameter = str(first["loc"][0]) if first["loc"] else None
            raise ApiError(
                BAD_PARAMETER_STATUS, "invalid_parameter", f"{parameter}: {first['msg']}", parameter
            ) from None
        call = BATTERY_OPTIMIZE.call(
            context.store, context.settings, context.caller(), request, context.metadata()
        )
        result = await asyncio.to_thread(battery_result, call, context.store)
    except ApiError as exc:
        renames = {name: camel(name) for name in _ARGUMENTS}
        raise from_api_error(renamed(exc, renames)) from None
    rows = result.stack.num_rows
    rows += result.dispatch.num_rows if result.dispatch is not None else 0
    rows += result.health.num_rows if result.health is not None else 0
    context.rows.charge(rows)
    return _answer(result)


sign_resolver(resolve_battery_optimize, _ARGUMENTS, BatteryOptimization)

BATTERY_QUERIES = {
    "battery_optimize": strawberry.field(
        resolver=resolve_battery_optimize,
        description="Optimize a battery at a location against stored energy and reserve prices: summary, "
        "revenue stack by month, and (when selected) the dispatch series and state of health; as "
        "`POST /v1/battery/optimize`.",
    ),
}
