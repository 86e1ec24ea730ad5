"""`POST /v1/ppa/value` and `GET /v1/ppa/chart`: a PPA valuation as a document and as a picture.

Thin over `application.operations.ppa`: the body (or the chart's query
parameters) is the `ppa_value` request, checked and entitled through the
operation layer exactly as the generated `GET /v1/ppa/npv`,
`/v1/ppa/breakeven` and `/v1/ppa/cashflows` are, then run on a worker
thread. The document is JSON whatever the Accept header: its parts
(summary, years, distribution, waterfall, risks) do not fit one table.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carbon254.application.identity import Principal
from carbon254.application.operations.ppa import PPA_VALUE, chart_png, ppa_result, result_json
from carbon254.application.ppa import PpaRequest
from carbon254.config import Settings
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.routes.battery import invalid, json_fields
from carbon254.store.base import Store

router = APIRouter(tags=["analytics"])

_VALUE_EXAMPLE = {
    "hub": "HB_NORTH",
    "iso": "ERCOT",
    "contract": "fixed",
    "strike": 38.5,
    "term_years": 15,
    "technology": "solar",
    "capacity_mw": 200,
    "discount_rate": 0.08,
    "paths": 500,
    "seed": 7,
}


def _run(store: Store, settings: Settings, principal: Principal, metadata: Any, request: PpaRequest) -> bytes:
    call = PPA_VALUE.call(store, settings, principal, request, metadata)
    return result_json(ppa_result(call, store))


@router.post(
    "/v1/ppa/value",
    summary=PPA_VALUE.summary,
    description=PPA_VALUE.description,
    response_description=(
        'JSON `{"simulated", "unit", "query", "summary", "annual": [...], "distribution": {...} | null, '
        '"waterfall": [...], "risks": [...] | null}`: the NPV (P50 and P90 volume), settlement, breakeven, '
        "capture price and rate; the settlement by year; with paths, the NPV's percentiles and histogram "
        "and each risk's own spread; the waterfall from baseload value to contract value."
    ),
    responses=error_responses(401, 403, 404, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": PpaRequest.model_json_schema(), "example": _VALUE_EXAMPLE}
            },
        }
    },
)
async def post_value(
    http: Request,
    principal: CurrentPrincipal,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> Response:
    """Value a PPA on the hub's marked curve; the body is the request as JSON (see the schema)."""
    parsed = await json_fields(http)
    try:
        request = PpaRequest.model_validate(parsed)
    except ValidationError as exc:
        raise invalid(exc) from None
    metadata = getattr(http.app.state, "metadata", None)
    content = await run_in_threadpool(_run, store, settings, principal, metadata, request)
    return Response(content, media_type="application/json")


def _chart(
    store: Store, settings: Settings, principal: Principal, metadata: Any, request: PpaRequest
) -> bytes:
    call = PPA_VALUE.call(store, settings, principal, request, metadata)
    return chart_png(ppa_result(call, store))


_FIELDS = PpaRequest.model_fields


async def get_chart(**given: Any) -> Response:
    """A PNG of the NPV distribution over the Monte Carlo paths, P5/P50/P95 and the curve's NPV marked."""
    parameters = {name: given[name] for name in _FIELDS}
    try:
        request = PpaRequest.model_validate(parameters)
    except ValidationError as exc:
        raise invalid(exc) from None
    metadata = getattr(given["http"].app.state, "metadata", None)
    png = await run_in_threadpool(
        _chart, given["store"], given["settings"], given["principal"], metadata, request
    )
    return Response(png, media_type="image/png")


def _chart_signature() -> inspect.Signature:
    """The chart's query parameters: the request's fields (paths default to 1,000)."""
    common = [
        inspect.Parameter("http", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter(
            "store", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Store, Depends(get_store)]
        ),
        inspect.Parameter(
            "settings", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Settings, Depends(get_settings)]
        ),
        inspect.Parameter("principal", inspect.Parameter.KEYWORD_ONLY, annotation=CurrentPrincipal),
    ]
    fields = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty
            if field.is_required()
            else (CHART_PATHS if name == "paths" else field.default),
            annotation=Annotated[field.annotation, Query(description=field.description)],
        )
        for name, field in _FIELDS.items()
    ]
    return inspect.Signature([*common, *fields], return_annotation=Response)


CHART_PATHS = 1_000
get_chart.__signature__ = _chart_signature()  # type: ignore[attr-defined]
router.add_api_route(
    "/v1/ppa/chart",
    get_chart,
    methods=["GET"],
    summary="Chart a PPA's NPV distribution over Monte Carlo paths (PNG)",
    description=(
        "The valuation `POST /v1/ppa/value` makes of the same parameters (paths default to "
        f"{CHART_PATHS:,}): a histogram of NPV ($) over the paths with P5, P50 and P95 and the NPV on the "
        "forward curve marked."
    ),
    responses={200: {"content": {"image/png": {}}}, **error_responses(401, 403, 404, 422)},
)
