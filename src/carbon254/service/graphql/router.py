"""`/graphql`: Strawberry's FastAPI router with the service's statuses, auth and local playground.

Each operation is parsed, validated and resolved on a worker thread with an
event loop of its own (`ServiceGraphQLRouter.execute_single`): a query costs
CPU in proportion to what it asks for (completing a million rows takes tens
of seconds), and none of it may hold up the server's event loop, which keeps
answering `/health`, other requests and signals meanwhile. GraphQL is served
over HTTP only: the schema has no subscriptions, and a WebSocket would run
queries on the event loop (live data is `/v1/stream`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import anyio.to_thread
import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from carbon254.application.errors import ApiError
from carbon254.config import Settings
from carbon254.service.errors import error_responses
from carbon254.service.graphql.context import GraphQLContext, get_context
from carbon254.service.graphql.errors import RESULT_TOO_LARGE, http_status, public_error
from carbon254.service.graphql.playground import playground_page, static_router
from carbon254.service.graphql.schema import build_schema

PATH = "/graphql"


async def _context(context: GraphQLContext = Depends(get_context)) -> GraphQLContext:  # noqa: B008
    # Strawberry calls its context getter as a FastAPI dependency; this one
    # authenticates (401/429 answered by the app's ApiError handler).
    return context


class ServiceGraphQLRouter(GraphQLRouter[GraphQLContext, None]):
    """Runs operations off the event loop; answers with `graphql.errors.http_status`'s status and
    `public_error`s; serves the vendored playground. `data_dir` is kept out of error messages."""

    def __init__(self, *args: Any, data_dir: Path | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data_dir = data_dir

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: GraphQLContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's execution of one operation, on a worker thread's own event loop.

        If the request is cancelled (the server stopping after its grace
        period), the worker is left to finish on its own; its result is dropped.
        """
        run = super().execute_single

        def execute() -> ExecutionResult:
            return asyncio.run(run(request, request_adapter, sub_response, context, root_value, request_data))

        return await anyio.to_thread.run_sync(execute, abandon_on_cancel=True)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The response body, every error as `public_error` makes it."""
        if result.errors:
            result.errors = [public_error(error, self.data_dir) for error in result.errors]
        return await super().process_result(request, result)

    def decode_json(self, data: str | bytes) -> object:
        """The request body as JSON; a 400 for JSON nested too deeply to read (not a 500)."""
        try:
            return json.loads(data)
        except RecursionError:
            raise HTTPException(400, "the request body nests JSON too deeply") from None

    def encode_json(self, data: object) -> bytes:
        """The response body; orjson, since a large answer is encoded on the event loop."""
        return orjson.dumps(data)

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
        "description": "Unparseable or invalid query, over a size, complexity or row limit (`{data: "
        "null, errors}`), or no GraphQL request at all (the common error body).",
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
        build_schema(settings),
        path=PATH,
        context_getter=_context,
        tags=["graphql"],
        data_dir=settings.data_dir,
        # No subscriptions to serve: over a WebSocket, queries would run on the event loop.
        subscription_protocols=(),
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
