"""The GraphQL schema: the datasets, the location catalog, data quality and jobs, as REST offers them.

Every dataset field takes the parameters of its `/v1/<dataset>` route as
arguments (lists instead of comma-separated text; `asOf` for `as_of`),
checks them with `carbon254.application.datasets.build_query`, checks the caller's
entitlements with `identity.require_data`, and loads its rows through the
request's DataLoader, so fields of one market and window share one store
read. Rows are the REST rows field for field. Jobs (`jobs`, `job` and the
mutations `submitJob`, `cancelJob`, `resumeJob`) are in `graphql.jobs`.

Limits: the document's size, tokens, fragment spreads, fields, aliases,
depth and nesting of lists (`limits`, measured without expanding a
fragment), and rows over the whole response (`graphql_max_rows`); see
`graphql.errors` for the HTTP statuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext, Info

from carbon254.application.catalog import resolve_iso
from carbon254.application.datasets import build_query
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import NotEntitled, require_data
from carbon254.application.locations import visible_locations
from carbon254.application.params import required_text
from carbon254.application.quality import quality_answer
from carbon254.config import Settings
from carbon254.excerpt import excerpt
from carbon254.schema import Dataset, LocationType
from carbon254.service.graphql.battery import BATTERY_QUERIES
from carbon254.service.graphql.context import GraphQLContext
from carbon254.service.graphql.errors import ServiceError, from_api_error, not_entitled
from carbon254.service.graphql.jobs import JOB_QUERIES, Mutation
from carbon254.service.graphql.limits import QueryLimiter, QueryLimits
from carbon254.service.graphql.operations import operation_fields
from carbon254.service.graphql.ppa import PPA_QUERIES
from carbon254.service.graphql.scenarios import SCENARIO_QUERIES
from carbon254.service.graphql.types import (
    AsPriceRow,
    CapacityPriceRow,
    LmpRow,
    LoadRow,
    Location,
    OrdcAdderRow,
    Quality,
    to_rows,
)

Row = TypeVar("Row")
GraphQLInfo = Info[GraphQLContext, None]


async def _rows(
    info: GraphQLInfo,
    dataset: Dataset,
    row_type: Callable[..., Row],
    iso: str,
    arguments: dict[str, Any],
) -> list[Row]:
    """Check, authorize, load (batched) and convert one dataset field's rows."""
    context = info.context
    try:
        iso_ = resolve_iso(required_text("iso", iso))
        require_data(context.caller(), iso_.value, dataset.value)
        query = build_query(context.store, context.settings, dataset, iso=iso_, **arguments)
        table = await context.datasets.load(query)
    except ApiError as exc:
        raise from_api_error(exc) from None
    except NotEntitled as exc:
        raise not_entitled(exc) from None
    context.rows.charge(table.num_rows)
    return to_rows(row_type, table, query.columns)


async def resolve_lmp(
    info: GraphQLInfo,
    iso: str,
    market: str,
    start: str,
    end: str,
    locations: list[str] | None = None,
    tz: str | None = None,
    resample: str | None = None,
    block: str | None = None,
    as_of: str | None = None,
) -> list[LmpRow] | None:
    arguments = {"market": market, "start": start, "end": end, "locations": locations, "tz": tz}
    arguments |= {"resample": resample, "block": block, "as_of": as_of}
    return await _rows(info, Dataset.LMP, LmpRow, iso, arguments)


async def resolve_as_price(
    info: GraphQLInfo,
    iso: str,
    market: str,
    start: str,
    end: str,
    regions: list[str] | None = None,
    products: list[str] | None = None,
    tz: str | None = None,
    resample: str | None = None,
    block: str | None = None,
    as_of: str | None = None,
) -> list[AsPriceRow] | None:
    arguments = {"market": market, "start": start, "end": end, "locations": regions, "products": products}
    arguments |= {"tz": tz, "resample": resample, "block": block, "as_of": as_of}
    return await _rows(info, Dataset.AS_PRICE, AsPriceRow, iso, arguments)


async def resolve_capacity_price(
    info: GraphQLInfo,
    iso: str,
    start: str,
    end: str,
    auction: str | None = None,
    zones: list[str] | None = None,
    tz: str | None = None,
    as_of: str | None = None,
) -> list[CapacityPriceRow] | None:
    arguments = {
        "market": auction,
        "start": start,
        "end": end,
        "locations": zones,
        "tz": tz,
        "as_of": as_of,
    }
    return await _rows(info, Dataset.CAPACITY_PRICE, CapacityPriceRow, iso, arguments)


async def resolve_ordc_adder(
    info: GraphQLInfo,
    start: str,
    end: str,
    iso: str = "ERCOT",
    tz: str | None = None,
    resample: str | None = None,
    block: str | None = None,
    as_of: str | None = None,
) -> list[OrdcAdderRow] | None:
    arguments = {
        "start": start,
        "end": end,
        "tz": tz,
        "resample": resample,
        "block": block,
        "as_of": as_of,
    }
    return await _rows(info, Dataset.ORDC_ADDER, OrdcAdderRow, iso, arguments)


async def resolve_load(
    info: GraphQLInfo,
    iso: str,
    start: str,
    end: str,
    kind: str | None = None,
    zones: list[str] | None = None,
    tz: str | None = None,
    resample: str | None = None,
    block: str | None = None,
    as_of: str | None = None,
) -> list[LoadRow] | None:
    arguments = {"market": kind, "start": start, "end": end, "locations": zones, "tz": tz}
    arguments |= {"resample": resample, "block": block, "as_of": as_of}
    return await _rows(info, Dataset.LOAD, LoadRow, iso, arguments)


async def resolve_locations(
    info: GraphQLInfo,
    iso: str | None = None,
    search: str | None = None,
    type: str | None = None,  # the REST parameter's name
) -> list[Location] | None:
    context = info.context
    principal = context.caller()
    try:
        iso_ = resolve_iso(iso) if iso is not None and iso.strip() else None
        if iso_ is not None:
            require_data(principal, iso_.value, Dataset.LMP.value)
        kind = _location_type(type)
    except ApiError as exc:
        raise from_api_error(exc) from None
    except NotEntitled as exc:
        raise not_entitled(exc) from None
    text = search.strip() if search and search.strip() else None
    table = await asyncio.to_thread(
        visible_locations,
        context.store,
        principal,
        iso=iso_.value if iso_ else None,
        search=text,
        location_type=kind,
    )
    context.rows.charge(table.num_rows)
    return to_rows(Location, table, ("iso", "location", "location_type", "source"))


async def resolve_quality(
    info: GraphQLInfo,
    start: str,
    end: str,
    iso: str | None = None,
    dataset: str = "lmp",
    market: str | None = None,
) -> Quality | None:
    context = info.context
    try:
        dataset_ = _dataset(dataset)
        answer = await asyncio.to_thread(
            quality_answer,
            context.store,
            context.settings,
            context.caller(),
            start=start,
            end=end,
            iso=iso,
            dataset=dataset_,
            market=market,
        )
    except ApiError as exc:
        raise from_api_error(exc) from None
    return Quality.of(answer)


class _Query:
    lmp: list[LmpRow] | None = strawberry.field(
        resolver=resolve_lmp, description="LMPs ($/MWh) of one ISO and market; the rows of `GET /v1/lmp`."
    )
    as_price: list[AsPriceRow] | None = strawberry.field(
        resolver=resolve_as_price,
        description="Ancillary service prices ($/MW-h); the rows of `GET /v1/as_price`.",
    )
    capacity_price: list[CapacityPriceRow] | None = strawberry.field(
        resolver=resolve_capacity_price,
        description="Capacity prices ($/MW-day); the rows of `GET /v1/capacity_price`.",
    )
    ordc_adder: list[OrdcAdderRow] | None = strawberry.field(
        resolver=resolve_ordc_adder,
        description="ERCOT ORDC adders ($/MWh); the rows of `GET /v1/ordc_adder`.",
    )
    load: list[LoadRow] | None = strawberry.field(
        resolver=resolve_load, description="Load (MW), actual and forecast; the rows of `GET /v1/load`."
    )
    locations: list[Location] | None = strawberry.field(
        resolver=resolve_locations, description="Priced locations the caller may see; as `GET /v1/locations`."
    )
    quality: Quality | None = strawberry.field(
        resolver=resolve_quality, description="Data quality per market day; as `GET /v1/quality`."
    )


# Every analytics operation is a field too, generated from its declaration; then the jobs, scenarios,
# battery runs and PPA valuations.
_FIELDS = operation_fields() | JOB_QUERIES | SCENARIO_QUERIES | BATTERY_QUERIES | PPA_QUERIES
for _name, _field in _FIELDS.items():
    setattr(_Query, _name, _field)
Query = strawberry.type(
    _Query,
    name="Query",
    description="Power-market data: the datasets of `/v1`, analytics, the location catalog, data quality, "
    "the tenant's jobs, saved scenarios and runs.",
)


def _location_type(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        return LocationType(text.strip().lower()).value
    except ValueError:
        valid = ", ".join(t.value for t in LocationType)
        raise bad_parameter("type", f"invalid type {excerpt(text)}; expected one of {valid}") from None


def _dataset(text: str) -> Dataset:
    try:
        return Dataset(text.strip().lower())
    except ValueError:
        valid = ", ".join(d.value for d in Dataset)
        raise bad_parameter("dataset", f"invalid dataset {excerpt(text)}; expected one of {valid}") from None


class CarbonSchema(strawberry.Schema):
    """The schema, logging only unexpected errors: refusals (`ServiceError`) and bad queries are answers."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, ServiceError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with the document limits of `settings` (`limits.QueryLimits`); rows are limited as read."""
    limits = QueryLimits.of(settings)
    # A factory: each request gets a fresh extension instance.
    return CarbonSchema(query=Query, mutation=Mutation, extensions=[lambda: QueryLimiter(limits)])
