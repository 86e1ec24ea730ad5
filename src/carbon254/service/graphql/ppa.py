"""GraphQL `ppaValue`: a PPA valued on a hub's marked curve, as `POST /v1/ppa/value` answers it.

The same declaration (`application.operations.ppa.PPA_VALUE`): its request
fields are the arguments (camelCase), checked and entitled through the
operation layer, so a valuation is refused for the same reasons with the
same codes (`INVALID_PARAMETER` naming the argument, `NOT_FOUND` for an
unmarked hub, `NOT_ENTITLED` without the `ppa` feature or the ISO's data).
`ppaNpv`, `ppaBreakeven` and `ppaCashflows` are the generated fields of the
other PPA operations.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON
from strawberry.types import Info

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError, renamed
from carbon254.application.operations.ppa import PPA_VALUE, PpaResult, ppa_result
from carbon254.application.ppa import PpaRequest
from carbon254.service.graphql.arguments import camel, sign_resolver
from carbon254.service.graphql.context import GraphQLContext
from carbon254.service.graphql.errors import from_api_error

GraphQLInfo = Info[GraphQLContext, None]


@strawberry.type(description="The valuation's figures ($, $/MWh, MWh; null where undefined).")
class PpaSummary:
    settlement_point: str
    npv: float = strawberry.field(description="NPV on the forward curve at P50 volume, $.")
    npv_p90_volume: float = strawberry.field(description="NPV at P90 volume, $.")
    settlement: float = strawberry.field(description="Undiscounted settlement over the term, $.")
    annual_settlement: float = strawberry.field(description="Settlement per year, $.")
    npv_p5: float | None = strawberry.field(description="5th percentile of NPV over the paths, $.")
    npv_p50: float | None = strawberry.field(description="Median NPV over the paths, $.")
    npv_p95: float | None = strawberry.field(description="95th percentile of NPV over the paths, $.")
    breakeven: float | None = strawberry.field(description="Fixed price making the NPV zero, $/MWh.")
    capture_price: float | None = strawberry.field(description="Volume-weighted price, $/MWh.")
    baseload_price: float | None = strawberry.field(description="Time-weighted price, $/MWh.")
    capture_rate: float | None
    volume_mwh: float


@strawberry.type(description="One calendar year of the settlement.")
class PpaYear:
    year: int
    volume_mwh: float
    capture_price: float | None = strawberry.field(description="$/MWh.")
    settlement: float = strawberry.field(description="$.")
    discounted: float = strawberry.field(description="$.")


@strawberry.type(description="One percentile of a distribution over the paths.")
class PpaPercentile:
    percentile: int
    value: float


@strawberry.type(description="One bin of the NPV histogram.")
class PpaBin:
    low: float
    high: float
    paths: int


@strawberry.type(description="The NPV over the Monte Carlo paths, $.")
class PpaDistribution:
    paths: int
    mean: float
    std: float
    percentiles: list[PpaPercentile]
    histogram: list[PpaBin]


@strawberry.type(description="One step of the waterfall from baseload value to contract value, $.")
class PpaWaterfallStep:
    step: str
    value: float
    cumulative: float


@strawberry.type(description="One risk on its own over the paths, $.")
class PpaRisk:
    risk: str
    description: str
    mean: float
    percentiles: list[PpaPercentile]


@strawberry.type(description="A PPA valuation: summary, years, and the distribution and risks with paths.")
class PpaValuation:
    simulated: bool
    unit: str
    query: JSON = strawberry.field(description="The request as understood (contract, term, plant, mark).")
    summary: PpaSummary
    annual: list[PpaYear]
    distribution: PpaDistribution | None
    waterfall: list[PpaWaterfallStep]
    risks: list[PpaRisk] | None


def _answer(result: PpaResult) -> PpaValuation:
    d = result.distribution
    distribution = None
    if d is not None:
        distribution = PpaDistribution(
            paths=d["paths"],
            mean=d["mean"],
            std=d["std"],
            percentiles=[PpaPercentile(percentile=p["percentile"], value=p["npv"]) for p in d["percentiles"]],
            histogram=[PpaBin(**b) for b in d["histogram"]],
        )
    risks = None
    if result.risks is not None:
        risks = [
            PpaRisk(
                risk=r["risk"],
                description=r["description"],
                mean=r["mean"],
                percentiles=[PpaPercentile(**p) for p in r["percentiles"]],
            )
            for r in result.risks
        ]
    return PpaValuation(
        simulated=result.simulated,
        unit="$",
        query=cast(JSON, result.query),
        summary=PpaSummary(**result.summary),
        annual=[PpaYear(**row) for row in result.annual.to_pylist()],
        distribution=distribution,
        waterfall=[PpaWaterfallStep(**s) for s in result.waterfall],
        risks=risks,
    )


async def resolve_ppa_value(info: GraphQLInfo, **arguments: Any) -> PpaValuation:
    """The valuation the arguments describe, computed on a worker thread; refusals as GraphQL errors."""
    context = info.context
    try:
        try:
            request = PpaRequest.model_validate(arguments)
        except ValidationError as exc:
            first = exc.errors()[0]
            parameter = str(first["loc"][0]) if first["loc"] else None
            raise ApiError(
                BAD_PARAMETER_STATUS, "invalid_parameter", f"{parameter}: {first['msg']}", parameter
            ) from None
        call = PPA_VALUE.call(context.store, context.settings, context.caller(), request, context.metadata())
        result = await asyncio.to_thread(ppa_result, call, context.store)
    except ApiError as exc:
        raise from_api_error(renamed(exc, {name: camel(name) for name in PpaRequest.model_fields})) from None
    context.rows.charge(result.annual.num_rows)
    return _answer(result)


sign_resolver(resolve_ppa_value, PpaRequest.model_fields, PpaValuation)

PPA_QUERIES = {
    "ppa_value": strawberry.field(
        resolver=resolve_ppa_value,
        description="Value a PPA on a hub's marked forward curve: NPV at P50/P90 volume, breakeven, capture "
        "rate, settlement by year, and with paths the NPV distribution and risk spreads; as "
        "`POST /v1/ppa/value`.",
    ),
}
