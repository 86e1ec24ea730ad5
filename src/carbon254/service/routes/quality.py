"""`GET /v1/quality`: completeness, gaps, revisions, duplicates and ingest lag per market day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from carbon254.application.quality import QualityResponse, quality_answer
from carbon254.config import Settings
from carbon254.schema import Dataset
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.strict_query import StrictQueryRoute
from carbon254.store.base import Store

router = APIRouter(tags=["quality"], route_class=StrictQueryRoute)


@router.get(
    "/v1/quality",
    summary="Data quality per ISO, dataset, market and market day",
    response_description=(
        "JSON `{query, summary: [...], days: [...], count}`: expected vs present intervals, completeness, "
        "gaps (UTC bounds), duplicates refused, revisions, quarantined payloads and ingest lag (seconds)."
    ),
    responses=error_responses(401, 403, 404, 422, 429),
)
def get_quality(
    store: Annotated[Store, Depends(get_store)],
    principal: CurrentPrincipal,
    settings: Annotated[Settings, Depends(get_settings)],
    start: Annotated[
        str,
        Query(
            description="First market day (ISO-8601 date, or a datetime whose market day is included); "
            "read in the ISO's market time unless it has an offset. Relative bounds count from the "
            "current time: `today` (the ISO's current market day) or `now`, with an optional signed "
            "offset of whole days, hours or weeks, e.g. `today-7d`."
        ),
    ],
    end: Annotated[str, Query(description="Exclusive end, same forms as `start` (e.g. the day after).")],
    iso: Annotated[str | None, Query(description="ISO/RTO (any case); omit for every ISO with data.")] = None,
    dataset: Annotated[Dataset, Query(description="Dataset to assess.")] = Dataset.LMP,
    market: Annotated[
        str | None,
        Query(description="Market (load: kind); omit for every market. Not allowed for ordc_adder."),
    ] = None,
) -> QualityResponse:
    """Expected vs present intervals per market day (the ISO's local day: 23 or 25 hours on DST days).

    Expected = locations with data in the window x the day's intervals due
    now (real time: ended; day-ahead: the whole day once the ISO usually
    publishes it, the day before); the interval length is inferred from the
    stored rows. Completeness = covered / expected time (`covered_s`,
    `expected_s`), so variable-length intervals count for the time they
    cover; `overlaps` counts stored intervals overlapping an earlier one.
    Irregular markets (e.g. ERCOT SCED runs) report `expected` and
    `completeness` as null.
    Gaps are merged runs of missing intervals with UTC bounds; ledger
    figures (duplicates refused, quarantined payloads, publication-to-commit
    lag in seconds) come from the ingest ledger. Without `iso`, dates are
    market days of every ISO and datetimes are read in UTC.
    """
    return quality_answer(
        store, settings, principal, start=start, end=end, iso=iso, dataset=dataset, market=market
    )
