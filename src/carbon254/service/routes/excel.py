"""`/excel/*`: the Excel add-in, served by the platform itself (domain "excel").

* `GET /excel/manifest.xml`: the add-in manifest for the host the request
  reached (`request.base_url`, which uvicorn's proxy headers already
  correct behind a TLS-terminating proxy); sideload it into Excel.
* `GET /excel/<file>`: the add-in's scripts, metadata, task pane and icons,
  a fixed list (`carbon254.excel.ASSET_MEDIA_TYPES`); any other name is a 404.

Nothing here needs credentials: these files hold none. Data calls made by the
functions carry the user's key to `/v1` as any client does. The task pane
page loads Office.js from Microsoft's CDN (Office requires that), so it gets
a content security policy of its own allowing that one origin for scripts;
framing by Office on the web is allowed for `/excel/` by the security headers
middleware.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response

from carbon254.application.errors import ApiError
from carbon254.excel import ASSET_MEDIA_TYPES, build_manifest, read_asset
from carbon254.excerpt import excerpt
from carbon254.service.ops.security_headers import OFFICE_FRAMING

router = APIRouter(tags=["excel"], include_in_schema=False)

OFFICE_JS_ORIGIN = "https://appsforoffice.microsoft.com"
# Files change only with a release; an hour keeps Office's cache fresh enough across upgrades.
ASSET_CACHE_CONTROL = "public, max-age=3600"
# The manifest names the serving host, so a shared cache must not hand it to another host.
MANIFEST_CACHE_CONTROL = "private, no-cache"


def task_pane_policy(request: Request) -> str:
    """The CSP of the add-in's HTML: own-origin everything, plus Office.js from Microsoft's CDN.

    `connect-src` names the stream's WebSocket origin explicitly because
    older WebViews do not count ws(s):// of the page's host as 'self'.
    """
    ws_scheme = "wss" if request.base_url.scheme == "https" else "ws"
    ws_origin = f"{ws_scheme}://{request.base_url.netloc}"
    return (
        f"default-src 'self'; script-src 'self' {OFFICE_JS_ORIGIN}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {OFFICE_JS_ORIGIN}; connect-src 'self' {ws_origin}; object-src 'none'; "
        f"base-uri 'self'; form-action 'self'; {OFFICE_FRAMING}"
    )


@router.get("/excel/manifest.xml")
def excel_manifest(request: Request) -> Response:
    """The add-in manifest XML whose URLs all point at the host this request reached."""
    return Response(
        build_manifest(str(request.base_url)),
        media_type="application/xml",
        headers={
            "Cache-Control": MANIFEST_CACHE_CONTROL,
            "Content-Disposition": 'inline; filename="carbon254-excel-manifest.xml"',
        },
    )


@router.get("/excel/{name}")
def excel_asset(request: Request, name: Annotated[str, Path()]) -> Response:
    """One of the add-in's files by name (scripts, functions metadata, task pane, icons); 404 otherwise."""
    media_type = ASSET_MEDIA_TYPES.get(name)
    if media_type is None:
        raise ApiError(404, "not_found", f"no Excel add-in file named {excerpt(name)}", "path")
    headers = {"Cache-Control": ASSET_CACHE_CONTROL}
    if media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = task_pane_policy(request)
    return Response(read_asset(name), media_type=media_type, headers=headers)
