"""What `Client` and `AsyncClient` share for batteries: the requests and the typed optimization answer.

A battery run is one request model mirrored from the service's
(`application.battery.BatteryRequest`, field for field; a test keeps them
in step): `GET /v1/battery/revenue` and `/v1/battery/dispatch` take it as
query parameters, `POST /v1/battery/optimize` as a JSON body (with
`include` and `years`), `GET /v1/battery/chart` with the chart's window.
`BatteryOptimized` is the optimize answer with its tables as frames: the
revenue stack by month, the dispatch series and the state of health.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from carbon254.client.base import as_frame
from carbon254.client.errors import InvalidRequest
from carbon254.client.frames import FrameKind, numeric_rows
from carbon254.client.queries import Query, TimeBound, bound_text, checked


class BatteryRevenueQuery(Query):
    """`GET /v1/battery/revenue`: one row of a battery's totals ($) at a location over [start, end).

    Mirrors the service's `BatteryRequest`: where the battery is, the window
    and markets, the reserve products and the asset (MW, MWh, efficiencies,
    state of charge, cycle limits, degradation $/MWh).
    """

    path: ClassVar[str] = "/v1/battery/revenue"
    location: str
    start: TimeBound
    end: TimeBound
    power_mw: float
    energy_mwh: float
    iso: str | None = None
    market: str = "DAM"
    services: str = "all"
    region: str | None = None
    dispatch: str = "perfect"
    horizon_h: float = 48.0
    step_h: float = 24.0
    round_trip_efficiency: float | None = None
    charge_efficiency: float | None = None
    discharge_efficiency: float | None = None
    charge_power_mw: float | None = None
    initial_soc_mwh: float | None = None
    final_soc_mwh: float | None = None
    min_soc_mwh: float = 0.0
    max_soc_mwh: float | None = None
    daily_cycles: float | None = None
    annual_cycles: float | None = None
    degradation_cost: float = 0.0
    aux_load_mw: float = 0.0
    tz: str | None = "iso"
    as_of: TimeBound | None = None


class BatteryDispatchQuery(BatteryRevenueQuery):
    """`GET /v1/battery/dispatch`: the battery's schedule interval by interval (MW, MWh, $/MWh)."""

    path: ClassVar[str] = "/v1/battery/dispatch"


class BatteryOptimizeBody(BatteryRevenueQuery):
    """`POST /v1/battery/optimize`: the run, and the parts beyond the stack (`dispatch`, `health`)."""

    path: ClassVar[str] = "/v1/battery/optimize"
    include: str | None = None
    years: int = 15

    def body(self) -> dict[str, Any]:
        """The JSON body: unset fields left out, times as text."""
        found: dict[str, Any] = {}
        for name, value in self:
            if value is None:
                continue
            found[name] = bound_text(value) if name in ("start", "end", "as_of") else value
        return found


class BatteryChartQuery(BatteryRevenueQuery):
    """`GET /v1/battery/chart`: the run drawn for [chart_start, chart_end) (PNG)."""

    path: ClassVar[str] = "/v1/battery/chart"
    chart_start: TimeBound | None = None
    chart_end: TimeBound | None = None


def _include(include: str | Sequence[str] | None) -> str | None:
    if include is None or isinstance(include, str):
        return include or None
    return ",".join(include) or None


def optimize_body(*, include: str | Sequence[str] | None, **fields: Any) -> BatteryOptimizeBody:
    """The checked body of `POST /v1/battery/optimize`; `InvalidRequest` naming a bad field (nothing sent)."""
    return checked(BatteryOptimizeBody, include=_include(include), **fields)


class BatterySummary(BaseModel):
    """A run's totals over its window (mirrors the service's `BatterySummary`).

    `revenue_by_stream` maps each cash stream to its $ (energy, or
    `da_energy` and `rt_energy`; each reserve product by its ISO name; `aux`
    and `degradation` negative). `aux_cost` and `degradation_cost` are
    positive $; `cycles` equivalent full cycles; `throughput_mwh` the MWh
    discharged. For rolling dispatch `capture_ratio` is the share of the
    perfect-foresight `perfect_net_revenue` earned. `services` are the
    reserve products co-optimized, `skipped` the ISO's others with why.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

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


@dataclass(frozen=True)
class BatteryOptimized:
    """A battery run (`POST /v1/battery/optimize`): the summary and its tables as frames.

    `stack` has a row per month of the run's zone (`month` YYYY-MM) and a
    `total` row: each cash stream ($), net_revenue, discharged_mwh,
    charged_mwh, cycles, degradation_cost. `dispatch` (None unless asked
    for) has a row per interval: interval_start (zone-aware), charge_mw,
    discharge_mw, net_mw, soc_mwh, a `<product>_mw` award per reserve
    product, energy_price ($/MWh) and `<product>_price` ($/MW-h). `health`
    (None unless asked for) has a row per project year: soh, capacity_mwh,
    cycles, damage; `end_of_life_year` the first year at end of life.
    `query` is the request as the service understood it.
    """

    summary: BatterySummary
    stack: Any
    dispatch: Any | None
    health: Any | None
    end_of_life_year: int | None
    query: dict[str, Any]
    simulated: bool


def _dispatch_table(rows: list[dict[str, Any]], zone: str) -> pa.Table:
    starts = [datetime.fromisoformat(r["interval_start"]) for r in rows]
    rest = [{k: v for k, v in r.items() if k != "interval_start"} for r in rows]
    table = pa.Table.from_pylist(rest)
    # Values come back as JSON numbers: an integral MW (0) would otherwise read as an int column.
    table = pa.table({name: table.column(name).cast(pa.float64()) for name in table.column_names})
    stamps = pa.array(starts, pa.timestamp("us", "UTC")).cast(pa.timestamp("us", zone))
    return table.add_column(0, "interval_start", stamps)


def optimized(content: bytes, frame: FrameKind) -> BatteryOptimized:
    """The answer of `POST /v1/battery/optimize` with its tables as `frame`s."""
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise InvalidRequest(f"the service's answer is not JSON ({exc})") from None
    zone = str(document["query"].get("tz") or "UTC")
    stack = numeric_rows(document["stack"], ("month",))
    dispatch = document.get("dispatch")
    health = document.get("health")
    return BatteryOptimized(
        summary=BatterySummary.model_validate(document["summary"]),
        stack=as_frame(stack, frame),
        dispatch=as_frame(_dispatch_table(dispatch, zone), frame) if dispatch is not None else None,
        health=as_frame(numeric_rows(health, ("year",)), frame) if health is not None else None,
        end_of_life_year=document.get("end_of_life_year"),
        query=dict(document["query"]),
        simulated=bool(document.get("simulated", False)),
    )
