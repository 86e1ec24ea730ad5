"""The request body size limit (`max_body_bytes`), enforced on the bytes actually received.

A `Content-Length` above the limit is refused before the app runs. A body
sent without one (chunked) or longer than it declared is counted as the app
reads it: once past the limit the app is handed a disconnect, and whatever
it was about to answer is replaced by the 413. Either way the answer is the
service's error body `{code: "payload_too_large", message, parameter: "body"}`.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbon254.application.errors import ApiError
from carbon254.service.errors import error_response


def too_large(limit: int) -> ApiError:
    """The 413 for a body over `limit` bytes."""
    return ApiError(
        413, "payload_too_large", f"the request body is larger than the {limit:,}-byte limit", "body"
    )


class BodyLimitMiddleware:
    """Refuses HTTP request bodies longer than `max_bytes` with 413 (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the streamed body as the app reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return

        received = 0
        exceeded = False  # the body went past the limit
        started = False  # a response start went out to the client (the app's, or the 413)

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    # What the app sees next is a client gone; it stops reading and answers or raises.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                if not started and message["type"] == "http.response.start":
                    started = True
                    await self._refuse(scope, receive, send)
                return  # the app's own answer to the cut-off body is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
            # The app failed on the truncated body; the caller's mistake was the size.
        if exceeded and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = too_large(self.max_bytes)
        response = error_response(error.status_code, error.body(), {"Connection": "close"})
        await response(scope, receive, send)
