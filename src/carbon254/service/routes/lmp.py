"""`GET /v1/lmp`: locational marginal prices ($/MWh) for one ISO and market."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from carbon254.config import Settings
from carbon254.schema import SPECS, Dataset
from carbon254.service.catalog import resolve_iso, resolve_locations, resolve_market
from carbon254.service.deps import get_settings, get_store
from carbon254.service.encoding import Format, encode, negotiate, openapi_content
from carbon254.service.errors import BAD_PARAMETER_STATUS, ApiError, error_responses
from carbon254.service.params import parse_instant, parse_names, parse_tz, parse_window, required_text
from carbon254.store.base import Block, Resample, Store, any_simulated

logger = logging.getLogger("carbon254.service")

router = APIRouter(tags=["prices"])

# The response contract: these columns, in this order, whatever else the store returns.
LMP_COLUMNS = (
    "interval_start",
    "interval_end",
    "iso",
    "market",
    "location",
    "lmp",
    "energy",
    "congestion",
    "loss",
)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": openapi_content()},
    **error_responses(404, 422),
}


@router.get(
    "/v1/lmp",
    summary="LMPs for one ISO and market",
    response_description=(
        'JSON `{"data": [...], "count", "simulated", "unit", "query"}`, or CSV, Parquet or Arrow IPC '
        "stream; columns interval_start, interval_end, iso, market, location, lmp, energy, congestion, loss."
    ),
    responses=_RESPONSES,
)
def get_lmp(
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    iso: Annotated[str, Query(description="ISO/RTO, e.g. PJM, ERCOT, CAISO (any case).")],
    market: Annotated[str, Query(description="Market, e.g. DAM, RT5, RT15, RTH.")],
    start: Annotated[
        str,
        Query(
            description="Inclusive start: ISO-8601 date or datetime; without an offset it is read in `tz`."
        ),
    ],
    end: Annotated[str, Query(description="Exclusive end, same forms as `start`.")],
    locations: Annotated[
        str | None, Query(description="Comma-separated location names; omit for every location.")
    ] = None,
    tz: Annotated[
        str | None,
        Query(description="IANA zone for input and output times, or `iso` for the ISO's market time."),
    ] = None,
    resample: Annotated[
        Resample | None,
        Query(description="Average into calendar buckets of `tz`, else of the ISO's market time."),
    ] = None,
    block: Annotated[
        Block | None, Query(description="Keep only one delivery block's hours (ISO market time).")
    ] = None,
    as_of: Annotated[
        str | None,
        Query(description="Return the data as it was known at this ISO-8601 instant (no look-ahead)."),
    ] = None,
    fmt: Annotated[
        Format | None, Query(alias="format", description="Body format; overrides the Accept header.")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """LMP, energy, congestion and loss components in $/MWh, latest version (or as known at `as_of`).

    Times are half-open [interval_start, interval_end), shown with their UTC
    offset in `tz` (UTC by default). `simulated` is true when any returned
    location comes from the simulator rather than an ISO.
    """
    iso_ = resolve_iso(required_text("iso", iso))
    market_name = required_text("market", market)
    tz_name = parse_tz(tz, iso_.value)
    window = parse_window(start, end, tz_name, settings.max_range_days)
    known_at = parse_instant("as_of", as_of, tz_name) if as_of is not None else None
    requested = parse_names("locations", locations, settings.max_locations)
    body_format = negotiate(fmt, accept)

    market_ = resolve_market(store, Dataset.LMP, iso_, market_name)
    catalog = store.locations(iso=iso_.value)
    names = resolve_locations(catalog, iso_, requested) if requested is not None else None
    try:
        table = store.read(
            Dataset.LMP,
            iso_.value,
            market_,
            names,
            window.start,
            window.end,
            as_of=known_at,
            tz=tz_name,
            resample=resample,
            block=block,
        )
    except ValueError as exc:
        # Every parameter was checked above; what the store still refuses is
        # a combination of them, which is the caller's to change.
        logger.warning("store refused an LMP query: %s", exc)
        raise ApiError(BAD_PARAMETER_STATUS, "invalid_query", str(exc)) from None
    table = table.select(list(LMP_COLUMNS))
    simulated = any_simulated(catalog, table.column("location"))

    zone = ZoneInfo(tz_name or "UTC")
    query: dict[str, Any] = {
        "iso": iso_.value,
        "market": market_,
        "locations": names,
        "start": window.start.astimezone(zone).isoformat(),
        "end": window.end.astimezone(zone).isoformat(),
        "tz": tz_name or "UTC",
        "resample": resample.value if resample else None,
        "block": block.value if block else None,
        "as_of": known_at.astimezone(zone).isoformat() if known_at else None,
    }
    metadata = {
        "count": table.num_rows,
        "simulated": simulated,
        "unit": SPECS[Dataset.LMP].unit,
        "query": query,
    }
    headers = {"X-Carbon254-Count": str(table.num_rows), "X-Carbon254-Simulated": str(simulated).lower()}
    return encode(
        table,
        body_format,
        metadata=metadata,
        tz=tz_name,
        filename=f"lmp_{iso_.value}_{market_}".lower(),
        headers=headers,
    )
