"""`GET /v1/as_price`, `/v1/capacity_price`, `/v1/ordc_adder`, `/v1/load`: the datasets besides LMP.

Each route takes the parameters that fit its dataset (ancillary prices have
regions and products, capacity prices auctions and zones, load kinds and
zones, ORDC adders none of those) and answers like `/v1/lmp`: JSON pages
with `next_cursor`, CSV, Parquet or Arrow IPC, an `ETag` on every answer.
Names other than LMP locations are matched in any case against the names
with data in the window; an unknown one is a 404 listing those.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.requests import Request
from starlette.responses import Response

from carbon254.application.catalog import resolve_iso
from carbon254.application.datasets import DatasetQuery, build_query
from carbon254.application.identity import Principal, entitle_data
from carbon254.application.params import parse_names, required_text
from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.schema import Dataset
from carbon254.service.delivery import DeliveryRequest, ResultCache, deliver, get_cache, link_params
from carbon254.service.deps import get_settings, get_store
from carbon254.service.encoding import Format, negotiate
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.remembered import DatasetRoute
from carbon254.service.routes.lmp import (
    AS_OF_DESCRIPTION,
    CURSOR_DESCRIPTION,
    RESPONSES,
    START_DESCRIPTION,
    TZ_DESCRIPTION,
)
from carbon254.store.base import Block, Resample, Store
from carbon254.timeseries import BOUND_FORMS

router = APIRouter(tags=["prices", "load"], route_class=DatasetRoute)

Start = Annotated[str, Query(description=START_DESCRIPTION)]
End = Annotated[str, Query(description="Exclusive end, same forms as `start`.")]
Tz = Annotated[str | None, Query(description=TZ_DESCRIPTION)]
ResampleParam = Annotated[
    Resample | None,
    Query(description="Average into calendar buckets of `tz`, else of the ISO's market time."),
]
BlockParam = Annotated[
    Block | None, Query(description="Keep only one delivery block's hours (ISO market time).")
]
AsOf = Annotated[str | None, Query(description=AS_OF_DESCRIPTION)]
Cursor = Annotated[str | None, Query(description=CURSOR_DESCRIPTION)]
FormatParam = Annotated[
    Format | None, Query(alias="format", description="Body format; overrides the Accept header.")
]
Accept = Annotated[str | None, Header(include_in_schema=False)]
IfNoneMatch = Annotated[str | None, Header(include_in_schema=False)]
StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CacheDep = Annotated[ResultCache | None, Depends(get_cache)]


async def _respond(
    http: Request,
    store: Store,
    settings: Settings,
    cache: ResultCache | None,
    query: DatasetQuery,
    *,
    fmt: Format | None,
    accept: str | None,
    cursor: str | None,
    if_none_match: str | None,
    raw: dict[str, str | Format | Resample | Block | None],
) -> Response:
    request = DeliveryRequest(
        query=query,
        fmt=negotiate(fmt, accept),
        path=f"/v1/{query.dataset.value}",
        link_params=link_params(**raw, format=fmt),
        cursor=cursor,
        if_none_match=if_none_match,
    )
    return await deliver(store, settings, cache, request, http=http)


def _iso(principal: Principal, iso: str, dataset: Dataset) -> Iso:
    """The ISO named, after checking the caller may read `dataset` of it (403 otherwise)."""
    iso_ = resolve_iso(required_text("iso", iso))
    entitle_data(principal, iso_.value, dataset)
    return iso_


@router.get(
    "/v1/as_price",
    summary="Ancillary service prices for one ISO and market",
    response_description="Columns interval_start, interval_end, iso, market, region, product, price $/MW-h.",
    responses=RESPONSES,
)
async def get_as_price(
    http: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    cache: CacheDep,
    iso: Annotated[str, Query(description="ISO/RTO, e.g. ERCOT, PJM (any case).")],
    market: Annotated[str, Query(description="Market: DAM, or RTH for real-time hourly.")],
    start: Start,
    end: End,
    regions: Annotated[
        str | None, Query(description="Comma-separated reserve regions; omit for every region.")
    ] = None,
    products: Annotated[
        str | None, Query(description="Comma-separated products, e.g. REGUP,RRS; omit for every product.")
    ] = None,
    tz: Tz = None,
    resample: ResampleParam = None,
    block: BlockParam = None,
    as_of: AsOf = None,
    cursor: Cursor = None,
    fmt: FormatParam = None,
    accept: Accept = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Clearing prices of ancillary services in $/MW-h, latest version (or as known at `as_of`)."""
    iso_ = _iso(principal, iso, Dataset.AS_PRICE)
    query = build_query(
        store,
        settings,
        Dataset.AS_PRICE,
        iso=iso_,
        start=start,
        end=end,
        market=required_text("market", market),
        locations=parse_names("regions", regions, settings.max_locations),
        products=parse_names("products", products, settings.max_locations),
        tz=tz,
        resample=resample,
        block=block,
        as_of=as_of,
    )
    raw = {"iso": iso, "market": market, "start": start, "end": end, "regions": regions, "products": products}
    raw |= {"tz": tz, "resample": resample, "block": block, "as_of": as_of}
    return await _respond(
        http,
        store,
        settings,
        cache,
        query,
        fmt=fmt,
        accept=accept,
        cursor=cursor,
        if_none_match=if_none_match,
        raw=raw,
    )


@router.get(
    "/v1/capacity_price",
    summary="Capacity auction prices for one ISO",
    response_description="Columns delivery_start, delivery_end, iso, auction, zone, price ($/MW-day).",
    responses=RESPONSES,
)
async def get_capacity_price(
    http: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    cache: CacheDep,
    iso: Annotated[str, Query(description="ISO/RTO with a capacity market, e.g. PJM, MISO (any case).")],
    start: Annotated[str, Query(description=f"Inclusive start of delivery: {BOUND_FORMS}.")],
    end: End,
    auction: Annotated[str | None, Query(description="Auction, e.g. BRA; omit for every auction.")] = None,
    zones: Annotated[str | None, Query(description="Comma-separated zones; omit for every zone.")] = None,
    tz: Tz = None,
    as_of: AsOf = None,
    cursor: Cursor = None,
    fmt: FormatParam = None,
    accept: Accept = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Cleared capacity prices in $/MW-day per delivery period starting in [start, end)."""
    iso_ = _iso(principal, iso, Dataset.CAPACITY_PRICE)
    query = build_query(
        store,
        settings,
        Dataset.CAPACITY_PRICE,
        iso=iso_,
        start=start,
        end=end,
        market=auction,
        locations=parse_names("zones", zones, settings.max_locations),
        tz=tz,
        as_of=as_of,
    )
    raw = {
        "iso": iso,
        "start": start,
        "end": end,
        "auction": auction,
        "zones": zones,
        "tz": tz,
        "as_of": as_of,
    }
    return await _respond(
        http,
        store,
        settings,
        cache,
        query,
        fmt=fmt,
        accept=accept,
        cursor=cursor,
        if_none_match=if_none_match,
        raw=raw,
    )


@router.get(
    "/v1/ordc_adder",
    summary="ERCOT real-time ORDC price adders",
    response_description=(
        "Columns interval_start, interval_end, iso, rt_reserve_adder, rt_reliability_deployment_adder "
        "($/MWh)."
    ),
    responses=RESPONSES,
)
async def get_ordc_adder(
    http: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    cache: CacheDep,
    start: Start,
    end: End,
    iso: Annotated[str, Query(description="ISO/RTO; ORDC adders are ERCOT's.")] = "ERCOT",
    tz: Tz = None,
    resample: ResampleParam = None,
    block: BlockParam = None,
    as_of: AsOf = None,
    cursor: Cursor = None,
    fmt: FormatParam = None,
    accept: Accept = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The real-time reserve and reliability deployment price adders in $/MWh."""
    iso_ = _iso(principal, iso, Dataset.ORDC_ADDER)
    query = build_query(
        store,
        settings,
        Dataset.ORDC_ADDER,
        iso=iso_,
        start=start,
        end=end,
        tz=tz,
        resample=resample,
        block=block,
        as_of=as_of,
    )
    raw = {"iso": iso, "start": start, "end": end, "tz": tz, "resample": resample, "block": block}
    raw["as_of"] = as_of
    return await _respond(
        http,
        store,
        settings,
        cache,
        query,
        fmt=fmt,
        accept=accept,
        cursor=cursor,
        if_none_match=if_none_match,
        raw=raw,
    )


@router.get(
    "/v1/load",
    summary="Load (actual and forecast) for one ISO",
    response_description="Columns interval_start, interval_end, iso, zone, kind, mw, forecast_issued_at.",
    responses=RESPONSES,
)
async def get_load(
    http: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    cache: CacheDep,
    iso: Annotated[str, Query(description="ISO/RTO, e.g. ERCOT, PJM (any case).")],
    start: Start,
    end: End,
    kind: Annotated[
        str | None,
        Query(description="`actual`, `forecast`, `forecast_rt15` or `forecast_rt5`; omit for all."),
    ] = None,
    zones: Annotated[
        str | None, Query(description="Comma-separated load zones; omit for every zone.")
    ] = None,
    tz: Tz = None,
    resample: ResampleParam = None,
    block: BlockParam = None,
    as_of: AsOf = None,
    cursor: Cursor = None,
    fmt: FormatParam = None,
    accept: Accept = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Load in MW per zone; forecasts carry `forecast_issued_at`, and every vintage is a row of its own."""
    iso_ = _iso(principal, iso, Dataset.LOAD)
    query = build_query(
        store,
        settings,
        Dataset.LOAD,
        iso=iso_,
        start=start,
        end=end,
        market=kind,
        locations=parse_names("zones", zones, settings.max_locations),
        tz=tz,
        resample=resample,
        block=block,
        as_of=as_of,
    )
    raw = {"iso": iso, "start": start, "end": end, "kind": kind, "zones": zones, "tz": tz}
    raw |= {"resample": resample, "block": block, "as_of": as_of}
    return await _respond(
        http,
        store,
        settings,
        cache,
        query,
        fmt=fmt,
        accept=accept,
        cursor=cursor,
        if_none_match=if_none_match,
        raw=raw,
    )
