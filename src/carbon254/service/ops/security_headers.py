"""Security headers on every HTTP response.

* `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` everywhere.
* Framing: denied everywhere (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`)
  except under `/excel/`, the Office add-in task pane, which Office on the web
  frames from Microsoft's origins; there `frame-ancestors` lists those origins
  and no `X-Frame-Options` is sent (it cannot express an allowlist, and
  browsers that honour it would refuse the frame).
* HTML pages (API docs, GraphiQL) get a CSP that loads scripts, styles,
  images, fonts and connections only from this origin. Inline styles are
  allowed because the docs bundles set styles at run time (Redoc injects
  `<style>` elements); inline scripts are not, so each page's start-up
  script is served as a file. A route that sets its own
  `Content-Security-Policy` keeps it.
* `Strict-Transport-Security` when the request came over TLS.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OFFICE_PATH_PREFIX = "/excel/"
# Where Office on the web and Microsoft 365 host the documents that frame add-in task panes.
OFFICE_FRAME_ANCESTORS = (
    "https://*.officeapps.live.com",
    "https://*.office.com",
    "https://*.office365.com",
    "https://*.microsoft365.com",
    "https://*.sharepoint.com",
    "https://*.cloud.microsoft",
)
HSTS = "max-age=31536000; includeSubDomains"
HTML_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'"
)
DENY_FRAMING = "frame-ancestors 'none'"
OFFICE_FRAMING = "frame-ancestors 'self' " + " ".join(OFFICE_FRAME_ANCESTORS)


def _framing(path: str) -> str:
    return OFFICE_FRAMING if path.startswith(OFFICE_PATH_PREFIX) else DENY_FRAMING


class SecurityHeadersMiddleware:
    """Adds the headers above to each response's start message (bodies pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, decorating `http.response.start`."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                framing = _framing(path)
                if framing == DENY_FRAMING:
                    headers.setdefault("X-Frame-Options", "DENY")
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers["Content-Security-Policy"] = f"{HTML_POLICY}; {framing}" if html else framing
                if tls:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
