"""GraphQL at `/graphql` (Strawberry) with a GraphiQL playground served from this package.

* `graphql_router(settings)`: the router factory the domain registry
  (`carbon254.service.routes`, domain "graphql") mounts (named so it does not
  shadow the `router` submodule);
* `install_graphql(app, settings)`: mounts it on an app built without the
  registry (tests, embedding programs);
* `schema.build_schema(settings)`: the schema with the configured limits.

See `schema` for the fields, `loaders` for batching, `errors` for the HTTP
statuses and error codes, `playground` for the vendored GraphiQL assets.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from carbon254.config import Settings
from carbon254.service.graphql.router import build_router
from carbon254.service.graphql.schema import build_schema


def graphql_router(settings: Settings) -> APIRouter:
    """The `/graphql` router built with `settings`' document and row limits."""
    return build_router(settings)


def install_graphql(app: FastAPI, settings: Settings) -> None:
    """Serve `/graphql` and its playground on `app` (for apps that do not mount routers by domain)."""
    app.include_router(build_router(settings))


__all__ = ["build_schema", "graphql_router", "install_graphql"]
