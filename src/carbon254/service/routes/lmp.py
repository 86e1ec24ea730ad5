"""`GET /v1/lmp`: locational marginal prices ($/MWh) for one ISO and market."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from starlette.requests import Request
from starlette.responses import Response

from carbon254.application.catalog import resolve_iso
from carbon254.application.datasets import SHAPES, build_query
from carbon254.application.identity import entitle_data
from carbon254.application.params import parse_names, required_text
from carbon254.config import Settings
from carbon254.schema import Dataset
from carbon254.service.delivery import DeliveryRequest, ResultCache, deliver, get_cache, link_params
from carbon254.service.deps import get_settings, get_store
from carbon254.service.encoding import Format, negotiate, openapi_content
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.remembered import DatasetRoute
from carbon254.store.base import Block, Resample, Store
from carbon254.timeseries import BOUND_FORMS

router = APIRouter(tags=["prices"], route_class=DatasetRoute)

# The response contract: these columns, in this order, whatever else the store returns.
LMP_COLUMNS = SHAPES[Dataset.LMP].columns

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": openapi_content()},
    304: {"description": "Not modified: the `If-None-Match` ETag is current."},
    **error_responses(401, 403, 404, 409, 422, 429),
}
TZ_DESCRIPTION = "IANA zone for input and output times, or `iso` for the ISO's market time."
START_DESCRIPTION = f"Inclusive start: {BOUND_FORMS}."
AS_OF_DESCRIPTION = (
    "Return the data as it was known at this instant (no look-ahead); same forms as `start`, e.g. `now-1d`."
)
CURSOR_DESCRIPTION = "JSON page cursor: the `next_cursor` of the previous page (same other parameters)."


@router.get(
    "/v1/lmp",
    summary="LMPs for one ISO and market",
    response_description=(
        'JSON `{"data": [...], "count", "total", "simulated", "unit", "query", "next_cursor"}`, or CSV, '
        "Parquet or Arrow IPC stream; columns interval_start, interval_end, iso, market, location, lmp, "
        "energy, congestion, loss."
    ),
    responses=RESPONSES,
)
async def get_lmp(
    http: Request,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    principal: CurrentPrincipal,
    cache: Annotated[ResultCache | None, Depends(get_cache)],
    iso: Annotated[str, Query(description="ISO/RTO, e.g. PJM, ERCOT, CAISO (any case).")],
    market: Annotated[str, Query(description="Market, e.g. DAM, RT5, RT15, RTH.")],
    start: Annotated[str, Query(description=START_DESCRIPTION)],
    end: Annotated[str, Query(description="Exclusive end, same forms as `start`.")],
    locations: Annotated[
        str | None, Query(description="Comma-separated location names; omit for every location.")
    ] = None,
    tz: Annotated[str | None, Query(description=TZ_DESCRIPTION)] = None,
    resample: Annotated[
        Resample | None,
        Query(description="Average into calendar buckets of `tz`, else of the ISO's market time."),
    ] = None,
    block: Annotated[
        Block | None, Query(description="Keep only one delivery block's hours (ISO market time).")
    ] = None,
    as_of: Annotated[str | None, Query(description=AS_OF_DESCRIPTION)] = None,
    cursor: Annotated[str | None, Query(description=CURSOR_DESCRIPTION)] = None,
    fmt: Annotated[
        Format | None, Query(alias="format", description="Body format; overrides the Accept header.")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """LMP, energy, congestion and loss components in $/MWh, latest version (or as known at `as_of`).

    Times are half-open [interval_start, interval_end), shown with their UTC
    offset in `tz` (UTC by default). `simulated` is true when any returned
    location comes from the simulator rather than an ISO. JSON answers
    hold at most `json_page_rows` rows: follow `next_cursor` (or the `Link`
    header) for the rest. Every answer has an `ETag`; send it back in
    `If-None-Match` to get a 304 while the data is unchanged.
    """
    iso_ = resolve_iso(required_text("iso", iso))
    entitle_data(principal, iso_.value, Dataset.LMP)
    query = build_query(
        store,
        settings,
        Dataset.LMP,
        iso=iso_,
        start=start,
        end=end,
        market=required_text("market", market),
        locations=parse_names("locations", locations, settings.max_locations),
        tz=tz,
        resample=resample,
        block=block,
        as_of=as_of,
    )
    request = DeliveryRequest(
        query=query,
        fmt=negotiate(fmt, accept),
        path="/v1/lmp",
        link_params=link_params(
            iso=iso,
            market=market,
            start=start,
            end=end,
            locations=locations,
            tz=tz,
            resample=resample,
            block=block,
            as_of=as_of,
            format=fmt,
        ),
        cursor=cursor,
        if_none_match=if_none_match,
    )
    return await deliver(store, settings, cache, request, http=http)
