"""What `Client` and `AsyncClient` share for PPAs: the request and the typed valuation answer.

A PPA valuation is one request model mirrored from the service's
(`application.ppa.PpaRequest`, field for field; a test keeps them in step):
`GET /v1/ppa/npv`, `/v1/ppa/breakeven`, `/v1/ppa/cashflows` and
`/v1/ppa/chart` take it as query parameters, `POST /v1/ppa/value` as a JSON
body. `PpaValued` is the value answer with its tables as frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from carbon254.client.base import as_frame
from carbon254.client.errors import InvalidRequest
from carbon254.client.frames import FrameKind, numeric_rows
from carbon254.client.queries import Query


class PpaNpvQuery(Query):
    """`GET /v1/ppa/npv`: one row led by the NPV ($) of a PPA on a hub's marked forward curve.

    Mirrors the service's `PpaRequest`: the settlement hub (or node), the
    contract (type and prices in $/MWh, term, escalator), the plant (solar
    at a site, or flat MW), discounting and the Monte Carlo paths.
    """

    path: ClassVar[str] = "/v1/ppa/npv"
    hub: str
    iso: str | None = None
    node: str | None = None
    as_of: str | None = None
    contract: str = "fixed"
    strike: float | None = None
    floor: float | None = None
    cap: float | None = None
    adder: float | None = None
    discount: float | None = None
    start: str | None = None
    term_years: int = 10
    escalator: float = 0.0
    negative_price: str = "settle"
    rec_price: float = 0.0
    volume: str = "as_generated"
    side: str = "buyer"
    technology: str = "solar"
    capacity_mw: float = 100.0
    latitude: float | None = None
    longitude: float | None = None
    tracking: str = "single_axis"
    degradation: float = 0.005
    volume_sd: float = 0.05
    resource_sd: float = 0.04
    discount_rate: float = 0.08
    curve_escalation: float = 0.02
    paths: int = 0
    seed: int = 0
    volatility: float | None = None
    basis_sd: float = 0.0
    price_volume_correlation: float = 0.0
    tz: str | None = "iso"

    def body(self) -> dict[str, Any]:
        """The JSON body of `POST /v1/ppa/value`: unset fields left out."""
        return {name: value for name, value in self if value is not None}


class PpaBreakevenQuery(PpaNpvQuery):
    """`GET /v1/ppa/breakeven`: one row led by the breakeven fixed price ($/MWh)."""

    path: ClassVar[str] = "/v1/ppa/breakeven"


class PpaCashflowsQuery(PpaNpvQuery):
    """`GET /v1/ppa/cashflows`: the settlement month by month ($)."""

    path: ClassVar[str] = "/v1/ppa/cashflows"


class PpaSensitivityQuery(PpaNpvQuery):
    """`GET /v1/ppa/sensitivity`: NPV, settlement and breakeven as one input (`axis`) takes `values`."""

    path: ClassVar[str] = "/v1/ppa/sensitivity"
    axis: str
    values: str


class PpaValueBody(PpaNpvQuery):
    """`POST /v1/ppa/value`: the whole valuation."""

    path: ClassVar[str] = "/v1/ppa/value"


class PpaChartQuery(PpaNpvQuery):
    """`GET /v1/ppa/chart`: the NPV distribution over the paths (PNG); paths default to 1,000."""

    path: ClassVar[str] = "/v1/ppa/chart"
    paths: int = 1_000


class PpaSummary(BaseModel):
    """A valuation's figures (mirrors the service's summary): $, $/MWh, MWh; None where undefined.

    `npv` is on the forward curve at P50 volume and `npv_p90_volume` at P90;
    `npv_p5`, `npv_p50`, `npv_p95` the spread over the paths (None without);
    `breakeven` the fixed price whose NPV is zero; `capture_rate` the
    volume-weighted price over the time-weighted one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    settlement_point: str
    npv: float
    npv_p90_volume: float
    settlement: float
    annual_settlement: float
    npv_p5: float | None
    npv_p50: float | None
    npv_p95: float | None
    breakeven: float | None
    capture_price: float | None
    baseload_price: float | None
    capture_rate: float | None
    volume_mwh: float


@dataclass(frozen=True)
class PpaValued:
    """A PPA valuation (`POST /v1/ppa/value`): the summary and its tables as frames.

    `annual` has a row per calendar year: year, volume_mwh, capture_price,
    settlement, discounted. `waterfall` has step, value and cumulative ($):
    from the volume's value at the baseload price to the contract's value.
    `distribution` (None without paths) has `percentiles` (percentile, npv)
    and `histogram` (low, high, paths) frames with `paths`, `mean` and `std`;
    `risks` (None without paths) a row per risk (shape, basis, volume,
    price) with its mean and P5/P50/P95. `query` is the request as the
    service understood it.
    """

    summary: PpaSummary
    annual: Any
    waterfall: Any
    distribution: dict[str, Any] | None
    risks: Any | None
    query: dict[str, Any]
    simulated: bool


def valued(content: bytes, frame: FrameKind) -> PpaValued:
    """The answer of `POST /v1/ppa/value` with its tables as `frame`s."""
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise InvalidRequest(f"the service's answer is not JSON ({exc})") from None
    found = document.get("distribution")
    distribution = None
    if found is not None:
        distribution = {
            "paths": found["paths"],
            "mean": found["mean"],
            "std": found["std"],
            "percentiles": as_frame(numeric_rows(found["percentiles"], ("percentile",)), frame),
            "histogram": as_frame(numeric_rows(found["histogram"], ("paths",)), frame),
        }
    risks = document.get("risks")
    risk_rows = None
    if risks is not None:
        risk_rows = [
            {
                "risk": r["risk"],
                "mean": r["mean"],
                **{f"p{p['percentile']}": p["value"] for p in r["percentiles"]},
            }
            for r in risks
        ]
    return PpaValued(
        summary=PpaSummary.model_validate(document["summary"]),
        annual=as_frame(numeric_rows(document["annual"], ("year",)), frame),
        waterfall=as_frame(numeric_rows(document["waterfall"], ("step",)), frame),
        distribution=distribution,
        risks=as_frame(numeric_rows(risk_rows, ("risk",)), frame) if risk_rows is not None else None,
        query=dict(document["query"]),
        simulated=bool(document.get("simulated", False)),
    )
