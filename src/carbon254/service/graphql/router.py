"""`/graphql`: Strawberry's FastAPI router with the service's statuses, auth and local playground."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types.unset import UNSET, UnsetType

from carbon254.application.errors import ApiError
from carbon254.config import Settings
from carbon254.service.errors import error_responses
from carbon254.service.graphql.context import GraphQLContext, get_context
from carbon254.service.graphql.errors import RESULT_TOO_LARGE, http_status
from carbon254.service.graphql.playground import playground_page, static_router
from carbon254.service.graphql.schema import build_schema

PATH = "/graphql"


async def _context(context: GraphQLContext = Depends(get_context)) -> GraphQLContext:  # noqa: B008
    # Strawberry calls its context getter as a FastAPI dependency; this one
    # authenticates (401/429 answered by the app's ApiError handler).
    return context


class ServiceGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """Answers with the HTTP status `graphql.errors.http_status` gives, and the vendored playground."""

    async def run(
        self,
        request: Request | WebSocket,
        context: GraphQLContext | UnsetType = UNSET,
        root_value: UnsetType | None = UNSET,
    ) -> Any:
        """Strawberry's request handling, its plain-text refusals turned into the common JSON error body."""
        try:
            return await super().run(request, context, root_value)  # type: ignore[arg-type]
        except HTTPException as exc:
            # e.g. a body that is not JSON, or a GET without a query: the
            # request is no GraphQL request at all.
            raise ApiError(exc.status_code, "invalid_request", exc.reason) from None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """The GraphiQL page, loading its scripts and styles from this app only."""
        return playground_page(PATH)

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """The JSON answer; 400 / 403 per `http_status`, and no data at all for an over-size result."""
        status = 200
        for single in response_data if isinstance(response_data, list) else [response_data]:
            body: dict[str, Any] = single  # type: ignore[assignment]
            codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
            if RESULT_TOO_LARGE in codes:
                body["data"] = None
            status = max(status, http_status(body))
        sub_response.status_code = status
        return super().create_response(response_data, sub_response)


_GRAPHQL_BODY: dict[str, dict[str, Any]] = {"application/json": {}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A GraphQL response `{data, errors}`.", "content": _GRAPHQL_BODY},
    400: {
        "description": "Unparseable or invalid query, over a depth, alias or row limit (`{data: null, "
        "errors}`), or no GraphQL request at all (the common error body).",
        "content": _GRAPHQL_BODY,
    },
    403: {
        "description": "A field refused outside the tenant's entitlements: `errors` with "
        "`extensions.code = NOT_ENTITLED`; the other fields keep their data.",
        "content": _GRAPHQL_BODY,
    },
    **error_responses(401, 429),
}
PLAYGROUND_RESPONSE = {
    "description": "A GraphQL response; for a browser's GET without `query`, the GraphiQL page.",
    "content": {"application/json": {}, "text/html": {}},
}


def build_router(settings: Settings) -> APIRouter:
    """The `/graphql` endpoint (GET and POST) and its playground assets, with `settings`' limits."""
    graphql = ServiceGraphQLRouter(
        build_schema(settings), path=PATH, context_getter=_context, tags=["graphql"]
    )
    # Strawberry declares only a bare 200 (and a 404 never answered here): document what is.
    for route in graphql.routes:
        if isinstance(route, APIRoute):
            route.responses = {**RESPONSES}
            if "GET" in (route.methods or ()):
                route.responses[200] = PLAYGROUND_RESPONSE
    router = APIRouter()
    router.include_router(graphql)
    router.include_router(static_router())
    return router
