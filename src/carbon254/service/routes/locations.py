"""`GET /v1/locations`: the priced-location catalog (hubs, zones, nodes, ...)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from carbon254.application.catalog import resolve_iso
from carbon254.application.identity import entitle_data
from carbon254.application.locations import lists_simulated, visible_locations
from carbon254.schema import Dataset, LocationType
from carbon254.service.deps import get_store
from carbon254.service.encoding import Format, encode, negotiate, openapi_content
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.strict_query import StrictQueryRoute
from carbon254.store.base import Store

router = APIRouter(tags=["catalog"], route_class=StrictQueryRoute)


@router.get(
    "/v1/locations",
    summary="Priced locations",
    response_description='JSON `{"data": [{iso, location, location_type, source}, ...], "count", "query"}`.',
    responses={
        200: {"content": openapi_content()},
        **error_responses(401, 403, 404, 422, 429),
    },
)
def get_locations(
    store: Annotated[Store, Depends(get_store)],
    principal: CurrentPrincipal,
    iso: Annotated[str | None, Query(description="ISO/RTO (any case); omit for every ISO.")] = None,
    search: Annotated[
        str | None, Query(description="Case-insensitive substring of the location name.")
    ] = None,
    location_type: Annotated[
        LocationType | None, Query(alias="type", description="Kind of location.")
    ] = None,
    fmt: Annotated[
        Format | None, Query(alias="format", description="Body format; overrides the Accept header.")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Locations with stored LMPs, sorted by ISO and name.

    `source` is `ingested` for locations published by an ISO and `simulated`
    for those made by the simulator. Only the ISOs whose LMPs the caller may
    read are listed; naming another one is a 403.
    """
    iso_ = resolve_iso(iso) if iso is not None and iso.strip() else None
    if iso_ is not None:
        entitle_data(principal, iso_.value, Dataset.LMP)
    text = search.strip() if search and search.strip() else None
    body_format = negotiate(fmt, accept)
    table = visible_locations(
        store,
        principal,
        iso=iso_.value if iso_ else None,
        search=text,
        location_type=location_type.value if location_type else None,
    )
    query: dict[str, Any] = {
        "iso": iso_.value if iso_ else None,
        "search": text,
        "type": location_type.value if location_type else None,
    }
    simulated = lists_simulated(table)
    return encode(
        table,
        body_format,
        metadata={"count": table.num_rows, "simulated": simulated, "query": query},
        tz=None,
        filename="locations",
        headers={"X-Carbon254-Count": str(table.num_rows), "X-Carbon254-Simulated": str(simulated).lower()},
    )
