"""`POST /v1/battery/optimize` and `GET /v1/battery/chart`: a battery run as a document and as a picture.

Thin over `application.operations.battery`: the body (or the query
parameters of the chart) is the `battery_optimize` request, checked and
entitled through the operation layer exactly as the generated
`GET /v1/battery/revenue` and `/v1/battery/dispatch` are, then run on a
worker thread. The document is JSON whatever the Accept header: its parts
(summary, stack, dispatch, health) do not fit one table.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carbon254.application.battery import BatteryRequest
from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError, bad_parameter
from carbon254.application.identity import Principal
from carbon254.application.operations.battery import (
    BATTERY_OPTIMIZE,
    BatteryOptimizeRequest,
    battery_result,
    chart_png,
    result_json,
)
from carbon254.application.params import parse_instant
from carbon254.config import Settings
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.store.base import Store

router = APIRouter(tags=["analytics"])

MAX_BODY_BYTES = 64 * 1024  # a request is a few dozen fields; this refuses a mistaken upload early

_OPTIMIZE_EXAMPLE = {
    "iso": "ERCOT",
    "location": "HB_NORTH",
    "start": "2024-01-01",
    "end": "2025-01-01",
    "power_mw": 100,
    "energy_mwh": 400,
    "market": "DAM",
    "services": "all",
    "include": "dispatch,health",
}


async def json_fields(http: Request) -> dict[str, Any]:
    """The request body as a JSON object of fields: 413 past `MAX_BODY_BYTES`, 422 if not an object."""
    body = await http.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"body: over {MAX_BODY_BYTES // 1024} KB; a request is a few fields")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_parameter("body", "body: not JSON; send the request as a JSON object") from None
    if not isinstance(parsed, dict):
        raise bad_parameter("body", "body: a JSON object of the request's fields is required")
    return parsed


def invalid(exc: ValidationError) -> ApiError:
    """Pydantic's first complaint as a 422 naming the field."""
    first = exc.errors()[0]
    parameter = str(first["loc"][0]) if first["loc"] else None
    return ApiError(BAD_PARAMETER_STATUS, "invalid_parameter", f"{parameter}: {first['msg']}", parameter)


def _run(
    store: Store, settings: Settings, principal: Principal, metadata: Any, request: BatteryOptimizeRequest
) -> bytes:
    call = BATTERY_OPTIMIZE.call(store, settings, principal, request, metadata)
    return result_json(battery_result(call, store))


@router.post(
    "/v1/battery/optimize",
    summary=BATTERY_OPTIMIZE.summary,
    description=BATTERY_OPTIMIZE.description,
    response_description=(
        'JSON `{"simulated", "unit", "query", "summary", "end_of_life_year", "stack": [...], '
        '"dispatch": [...] | null, "health": [...] | null}`: the summary (revenue by stream, net revenue, '
        "cycles, throughput, capture ratio), the revenue stack by month with a total row, and on request "
        "the dispatch series and the state of health by project year."
    ),
    responses=error_responses(401, 403, 404, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": BatteryOptimizeRequest.model_json_schema(),
                    "example": _OPTIMIZE_EXAMPLE,
                }
            },
        }
    },
)
async def post_optimize(
    http: Request,
    principal: CurrentPrincipal,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> Response:
    """Optimize a battery against stored prices; the body is the request as JSON (see the schema)."""
    parsed = await json_fields(http)
    try:
        request = BatteryOptimizeRequest.model_validate(parsed)
    except ValidationError as exc:
        raise invalid(exc) from None
    metadata = getattr(http.app.state, "metadata", None)
    content = await run_in_threadpool(_run, store, settings, principal, metadata, request)
    return Response(content, media_type="application/json")


def _chart(
    store: Store,
    settings: Settings,
    principal: Principal,
    request: BatteryOptimizeRequest,
    window: tuple[str | None, str | None],
) -> bytes:
    call = BATTERY_OPTIMIZE.call(store, settings, principal, request)
    tz = call.checked.plan.tz
    shown = [
        _micros(p, t, tz) if t else None for p, t in zip(("chart_start", "chart_end"), window, strict=True)
    ]
    return chart_png(battery_result(call, store), shown[0], shown[1])


def _micros(parameter: str, text: str, tz: str | None) -> int:
    moment: datetime = parse_instant(parameter, text, tz)
    return int(moment.timestamp() * 1_000_000)


_FIELDS = BatteryRequest.model_fields


async def get_chart(**given: Any) -> Response:
    """A PNG of the run: energy price, net dispatch (MW, reserve awards beside) and state of charge."""
    parameters = {name: given[name] for name in _FIELDS}
    try:
        request = BatteryOptimizeRequest.model_validate(parameters)
    except ValidationError as exc:
        raise invalid(exc) from None
    window = (given["chart_start"], given["chart_end"])
    png = await run_in_threadpool(
        _chart, given["store"], given["settings"], given["principal"], request, window
    )
    return Response(png, media_type="image/png")


def _chart_signature() -> inspect.Signature:
    """The chart's query parameters: the request's fields, then the window shown."""
    common = [
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
            default=inspect.Parameter.empty if field.is_required() else field.default,
            annotation=Annotated[field.annotation, Query(description=field.description)],
        )
        for name, field in _FIELDS.items()
    ]
    window = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[str | None, Query(description=description)],
        )
        for name, description in (
            ("chart_start", "First time drawn, same forms as `start` (default: the run's start)."),
            ("chart_end", "Time to stop drawing at (default: 7 days after chart_start)."),
        )
    ]
    return inspect.Signature([*common, *fields, *window], return_annotation=Response)


get_chart.__signature__ = _chart_signature()  # type: ignore[attr-defined]
router.add_api_route(
    "/v1/battery/chart",
    get_chart,
    methods=["GET"],
    summary="Chart a battery run: price, net dispatch and state of charge (PNG)",
    description=(
        "The run `POST /v1/battery/optimize` makes of the same parameters, drawn for a window of at most "
        "a few weeks (a year of hourly bars is unreadable): energy price ($/MWh), net dispatch (MW) with "
        "reserve awards, and state of charge (MWh), in `tz`."
    ),
    responses={200: {"content": {"image/png": {}}}, **error_responses(401, 403, 404, 422)},
)
