"""Sending a request: timeouts, retries with backoff on 5xx, 429 and lost connections, typed errors.

A GET is idempotent, so every failure worth retrying is retried: a 429 or
503 waits as long as its `Retry-After` says (seconds or an HTTP date), other
5xx and connection failures back off exponentially with jitter. A POST
(submitting, cancelling or resuming a job) may have been carried out even
when its answer was lost or an error, so it is sent again only when the
service surely did not act on it: the connection was never made, or a 429
or 503 asked to come back after `Retry-After`. A 429 without one (a
tenant's job limit, not the request rate) is final at once. What is left
after the last attempt is raised as the `errors` class of its status, with
the server's `{code, message, parameter}`.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from carbon254.client.errors import (
    AuthError,
    Carbon254Error,
    InvalidRequest,
    NotEntitled,
    NotFound,
    RateLimited,
    ServerError,
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Failures before the request reached the service: safe to send any request again.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retries` more attempts after the first; waits start at `backoff_s`, grow up to `max_backoff_s`."""

    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0

    def wait_s(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before attempt `attempt + 1`: `Retry-After` if given, else backoff with jitter."""
        if response is not None:
            after = retry_after_s(response)
            if after is not None:
                return min(after, self.max_backoff_s)
        ceiling = min(self.backoff_s * 2.0**attempt, self.max_backoff_s)
        return ceiling * random.uniform(0.5, 1.0)


def retry_after_s(response: httpx.Response) -> float | None:
    """The `Retry-After` of `response` in seconds (from a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_for(response: httpx.Response) -> Carbon254Error:
    """The typed error of a failed answer, carrying the server's message (or the HTTP reason)."""
    body: dict[str, Any] = {}
    try:
        parsed = response.json()
        if isinstance(parsed, dict):
            body = parsed
    except ValueError:
        pass
    status = response.status_code
    message = str(body.get("message") or f"HTTP {status} {response.reason_phrase}".strip())
    details: dict[str, Any] = {
        "status": status,
        "code": body.get("code"),
        "parameter": body.get("parameter"),
        "request_id": response.headers.get("x-request-id"),
    }
    if status == 401:
        return AuthError(message, **details)
    if status == 403:
        return NotEntitled(message, **details)
    if status == 404:
        suggestions = tuple(str(s) for s in body.get("suggestions") or ())
        return NotFound(message, suggestions=suggestions, **details)
    if status == 429:
        return RateLimited(message, retry_after_s=retry_after_s(response), **details)
    if status >= 500:
        return ServerError(message, **details)
    return InvalidRequest(message, **details)


def transport_error(exc: httpx.TransportError, request: httpx.Request) -> ServerError:
    """The `ServerError` (no status) of a request that got no answer: the connection failed or timed out."""
    return ServerError(f"no answer from {request.url.scheme}://{request.url.netloc.decode()}: {exc!r}")


def retryable(request: httpx.Request, failure: httpx.Response | httpx.TransportError) -> bool:
    """Whether `request` may be sent again after `failure` (an error answer or a transport error)."""
    idempotent = request.method in IDEMPOTENT_METHODS
    if isinstance(failure, httpx.TransportError):
        return idempotent or isinstance(failure, NOT_SENT_ERRORS)
    if failure.status_code not in RETRY_STATUSES:
        return False
    return idempotent or (failure.status_code in (429, 503) and retry_after_s(failure) is not None)


def send(client: httpx.Client, request: httpx.Request, policy: RetryPolicy) -> httpx.Response:
    """Send `request`, retrying as `policy` (and the module docstring) allow; the answer, or a typed error."""
    attempt = 0
    while True:
        response: httpx.Response | None = None
        try:
            response = client.send(request)
        except httpx.TransportError as exc:
            if attempt >= policy.retries or not retryable(request, exc):
                raise transport_error(exc, request) from exc
        else:
            if response.is_success:
                return response
            if attempt >= policy.retries or not retryable(request, response):
                raise error_for(response)
        time.sleep(policy.wait_s(attempt, response))
        attempt += 1


async def send_async(
    client: httpx.AsyncClient, request: httpx.Request, policy: RetryPolicy
) -> httpx.Response:
    """`send` for an `httpx.AsyncClient`: the same retries, waiting without blocking the event loop."""
    attempt = 0
    while True:
        response: httpx.Response | None = None
        try:
            response = await client.send(request)
        except httpx.TransportError as exc:
            if attempt >= policy.retries or not retryable(request, exc):
                raise transport_error(exc, request) from exc
        else:
            if response.is_success:
                return response
            if attempt >= policy.retries or not retryable(request, response):
                raise error_for(response)
        await asyncio.sleep(policy.wait_s(attempt, response))
        attempt += 1
