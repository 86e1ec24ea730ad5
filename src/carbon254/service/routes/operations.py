"""`GET /v1/<operation>` for every analytics operation, generated from its declaration.

Each operation's request fields become query parameters (same names, types,
defaults and descriptions, so `/docs` documents them), next to `format` and
`cursor`. The endpoint builds the request model, checks it into a call
through the application layer (entitlements first, then parameters), and
hands the call to `deliver`: the same ETag, cache, JSON pages, streaming and
formats as the stored datasets. Nothing here knows what an operation computes.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError
from carbon254.application.operation import Operation
from carbon254.application.operations import OPERATIONS
from carbon254.config import Settings
from carbon254.service.delivery import DeliveryRequest, ResultCache, deliver, get_cache, link_params
from carbon254.service.deps import get_settings, get_store
from carbon254.service.encoding import Format, negotiate, openapi_content
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.remembered import DatasetRoute
from carbon254.store.base import Store

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": openapi_content()},
    304: {"description": "Not modified: the `If-None-Match` ETag is current."},
    **error_responses(401, 403, 404, 409, 422, 429),
}

# What every operation endpoint takes besides its own parameters.
_COMMON = [
    inspect.Parameter("http", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
    inspect.Parameter(
        "store", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Store, Depends(get_store)]
    ),
    inspect.Parameter(
        "settings", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Settings, Depends(get_settings)]
    ),
    inspect.Parameter("principal", inspect.Parameter.KEYWORD_ONLY, annotation=CurrentPrincipal),
    inspect.Parameter(
        "cache",
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[ResultCache | None, Depends(get_cache)],
    ),
]
_DELIVERY = [
    inspect.Parameter(
        "cursor",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None, Query(description="JSON page cursor: the `next_cursor` of the previous page.")
        ],
    ),
    inspect.Parameter(
        "fmt",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            Format | None, Query(alias="format", description="Body format; overrides the Accept header.")
        ],
    ),
    inspect.Parameter(
        "accept",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[str | None, Header(include_in_schema=False)],
    ),
    inspect.Parameter(
        "if_none_match",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[str | None, Header(include_in_schema=False)],
    ),
]


def _parameters(operation: Operation[Any, Any]) -> list[inspect.Parameter]:
    """One query parameter per field of the operation's request model."""
    parameters = []
    for name, field in operation.request.model_fields.items():
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if field.is_required() else field.default,
                annotation=Annotated[field.annotation, Query(description=field.description)],
            )
        )
    return parameters


def _endpoint(operation: Operation[Any, Any]) -> Any:
    """The endpoint function of `operation`, with a signature FastAPI reads its parameters from."""
    names = list(operation.request.model_fields)
    path = operation.rest_path

    async def endpoint(**given: Any) -> Response:
        parameters = {name: given[name] for name in names}
        try:
            request = operation.parse(parameters)
        except ValidationError as exc:
            first = exc.errors()[0]
            parameter = str(first["loc"][0]) if first["loc"] else None
            raise ApiError(
                BAD_PARAMETER_STATUS, "invalid_parameter", f"{parameter}: {first['msg']}", parameter
            ) from None
        metadata = getattr(given["http"].app.state, "metadata", None)
        call = operation.call(given["store"], given["settings"], given["principal"], request, metadata)
        delivery = DeliveryRequest(
            query=call,
            fmt=negotiate(given["fmt"], given["accept"]),
            path=path,
            link_params=link_params(**{k: _text(v) for k, v in parameters.items()}, format=given["fmt"]),
            cursor=given["cursor"],
            if_none_match=given["if_none_match"],
        )
        # A check that reads the metadata database (which mark of the hub, for this tenant) depends on
        # the caller and on marks made since: it must run on every request, so it is never remembered.
        http = None if operation.needs_metadata else given["http"]
        return await deliver(given["store"], given["settings"], given["cache"], delivery, http=http)

    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*_COMMON, *_parameters(operation), *_DELIVERY], return_annotation=Response
    )
    endpoint.__name__ = f"get_{operation.name}"
    endpoint.__doc__ = operation.description
    return endpoint


def _text(value: Any) -> str | None:
    """A parameter as it goes back into a next-page link (booleans as `true`/`false`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(getattr(value, "value", value))


def operations_router() -> APIRouter:
    """One `GET /v1/<path>` route per declared operation (`application.operations.OPERATIONS`)."""
    router = APIRouter(tags=["analytics"], route_class=DatasetRoute)
    for operation in OPERATIONS:
        router.add_api_route(
            operation.rest_path,
            _endpoint(operation),
            methods=["GET"],
            summary=operation.summary,
            description=operation.description,
            response_description=(
                'JSON `{"data": [...], "count", "total", "simulated", "unit", "query", "next_cursor"'
                + (', "stats"}`' if operation.stats is not None else "}`")
                + ", or CSV, Parquet or Arrow IPC stream; columns "
                + ", ".join(c.name for c in operation.columns)
                + "."
            ),
            responses=RESPONSES,
        )
    return router


router = operations_router()
