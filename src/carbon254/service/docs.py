"""API docs pages (Swagger UI at /docs, ReDoc at /redoc) served with local assets.

FastAPI's default pages load their JavaScript and CSS from a CDN, which users
behind firewalls cannot reach. The `fastapi-offline` package ships the same
swagger-ui and redoc bundles; when it is installed the pages point at copies
served by this app. Without it the app keeps FastAPI's default pages, which
need the CDN (and inline scripts, which the service's content security
policy refuses).

The pages hold no inline script: Swagger UI's start-up code is a small file
(`/docs/swagger-init.js`) reading its settings from `data-` attributes, so
the pages work under `script-src 'self'` (see `ops.security_headers`).
Credentials are API keys and bearer tokens, so Swagger UI's OAuth2
redirect page (an inline script) is not served.
"""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, Response

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/static/docs"
SWAGGER_INIT_URL = f"{DOCS_URL}/swagger-init.js"

# Swagger UI's start-up, as a file rather than an inline script. Settings come from the page's
# #swagger-ui element, so one script serves any root path.
SWAGGER_INIT_JS = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
"""


def swagger_page(title: str, openapi_url: str, assets_url: str, init_url: str) -> str:
    """Swagger UI's HTML page: the bundle and its start-up script, both files (no inline script)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="{escape(assets_url)}/swagger-ui.css">
<link rel="icon" href="{escape(assets_url)}/favicon.png">
<title>{escape(title)}</title>
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{escape(assets_url)}/swagger-ui-bundle.js"></script>
<script src="{escape(init_url)}"></script>
</body>
</html>
"""


def redoc_page(title: str, openapi_url: str, assets_url: str) -> str:
    """ReDoc's HTML page: the standalone bundle reads the spec URL from the `<redoc>` element."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{escape(assets_url)}/favicon.png">
<title>{escape(title)}</title>
</head>
<body style="margin: 0; padding: 0">
<redoc spec-url="{escape(openapi_url)}"></redoc>
<script src="{escape(assets_url)}/redoc.standalone.js"></script>
</body>
</html>
"""


def local_assets() -> Path | None:
    """The directory holding swagger-ui and redoc bundles, or None if no package provides them."""
    found = importlib.util.find_spec("fastapi_offline")
    if found is None or found.origin is None:
        return None
    static = Path(found.origin).parent / "static"
    needed = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js")
    return static if all((static / name).is_file() for name in needed) else None


def install_local_docs(app: FastAPI, assets: Path) -> None:
    """Mount `assets` and serve /docs and /redoc from it; the app must be built with docs_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = swagger_page(
            f"{app.title} - Swagger UI",
            f"{root}{openapi_url}",
            f"{root}{ASSETS_URL}",
            f"{root}{SWAGGER_INIT_URL}",
        )
        return HTMLResponse(page)

    @app.get(SWAGGER_INIT_URL, include_in_schema=False)
    async def swagger_init() -> Response:
        return Response(SWAGGER_INIT_JS, media_type="text/javascript")

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = redoc_page(f"{app.title} - ReDoc", f"{root}{openapi_url}", f"{root}{ASSETS_URL}")
        return HTMLResponse(page)
