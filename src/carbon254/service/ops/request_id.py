"""Request ids: one per request, taken from `X-Request-ID` when the caller sent a sane one.

The id lives in a context variable for the duration of the request, so every
log record emitted while handling it (in the event loop or in the worker
thread of a sync endpoint, which copies the context) carries it.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"

# Ids from callers are echoed into headers and logs: only short tokens of
# unreserved characters pass, so nothing can inject a header or a log line.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

_current: ContextVar[str | None] = ContextVar("carbon254_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this context, or None outside a request."""
    return _current.get()


def new_request_id() -> str:
    """A fresh id: 32 random lowercase hex digits."""
    return secrets.token_hex(16)


def accept_request_id(given: str | None) -> str:
    """`given` if it is a sane id (1-128 of `A-Za-z0-9._:-`, starting alphanumeric), else a new id."""
    if given is not None and _SANE.fullmatch(given):
        return given
    return new_request_id()


def bind_request_id(request_id: str | None) -> object:
    """Make `request_id` the current one; returns a token for `unbind_request_id`."""
    return _current.set(request_id)


def unbind_request_id(token: object) -> None:
    """Restore the request id that was current before the matching `bind_request_id`."""
    _current.reset(token)  # type: ignore[arg-type]
