"""The GraphiQL playground, served from files vendored in this package (no CDN).

Users run the service behind firewalls, so the page loads GraphiQL and
React from `/graphql/static/`, never from a CDN. Vendored, unmodified, with
their licences (see `static/VENDORED.md`): graphiql 2.4.7 (`graphiql.min.js`,
`graphiql.min.css`, MIT), react 18.2.0 and react-dom 18.2.0 (UMD production
builds, MIT). The page's own start-up script is `static/playground.js`
(inline scripts are refused by the page's CSP).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import HTMLResponse, Response

from carbon254.application.errors import ApiError
from carbon254.excerpt import excerpt

STATIC_PATH = "/graphql/static"
# name -> media type; only these files are served.
ASSETS: dict[str, str] = {
    "graphiql.min.js": "text/javascript; charset=utf-8",
    "graphiql.min.css": "text/css; charset=utf-8",
    "react.production.min.js": "text/javascript; charset=utf-8",
    "react-dom.production.min.js": "text/javascript; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "LICENSE.graphiql": "text/plain; charset=utf-8",
    "LICENSE.react": "text/plain; charset=utf-8",
    "LICENSE.react-dom": "text/plain; charset=utf-8",
}
# The files never change within a release: let browsers keep them a day.
CACHE_CONTROL = "public, max-age=86400"

PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>254Carbon GraphQL</title>
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <link rel="stylesheet" href="{static}/graphiql.min.css" />
    <style>html, body, #graphiql {{ height: 100%; margin: 0; overflow: hidden; }}</style>
  </head>
  <body>
    <div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL...</div>
    <script src="{static}/react.production.min.js"></script>
    <script src="{static}/react-dom.production.min.js"></script>
    <script src="{static}/graphiql.min.js"></script>
    <script src="{static}/playground.js"></script>
  </body>
</html>
"""


def playground_page(endpoint: str = "/graphql") -> HTMLResponse:
    """The GraphiQL page for the GraphQL `endpoint`, referencing only this app's own asset URLs."""
    return HTMLResponse(PAGE.format(static=STATIC_PATH, endpoint=endpoint))


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return files("carbon254.service.graphql").joinpath("static", name).read_bytes()


def static_router() -> APIRouter:
    """Routes serving the vendored GraphiQL files under `/graphql/static/` (404 for any other name)."""
    router = APIRouter(include_in_schema=False)

    @router.get(STATIC_PATH + "/{name}")
    def graphiql_asset(name: Annotated[str, Path()]) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise ApiError(404, "not_found", f"no GraphiQL asset named {excerpt(name)}", "path")
        return Response(_asset(name), media_type=media_type, headers={"Cache-Control": CACHE_CONTROL})

    return router
