"""Who is calling and what they may see: the types every surface (REST, GraphQL, stream) shares.

A request's credential (an API key or an OIDC bearer token) is turned into a
`Principal` by the app's `Authenticator` (`app.state.authenticator`), then
charged against the app's `RateLimiter` (`app.state.rate_limiter`). Every
surface asks the same two questions through this module, so entitlements are
enforced identically on REST, GraphQL and the stream:

* `authenticate_request(app, headers)`: the principal, or `AuthenticationError` (401)
  / `RateLimited` (429);
* `require_data(principal, iso, dataset)` / `require_feature(principal, feature)`:
  `NotEntitled` (403) outside the tenant's entitlements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from carbon254.application.errors import ApiError
from carbon254.application.identity import (
    ANONYMOUS,
    AuthenticationError,
    AuthMethod,
    NotEntitled,
    Principal,
    RateLimited,
    not_entitled,
)
from carbon254.service.control_characters import first_control_character


class Authenticator(Protocol):
    """Turns a credential (or its absence) into a `Principal`; raises `AuthenticationError`."""

    def authenticate(self, credential: str | None) -> Principal: ...


class RateLimiter(Protocol):
    """Charges one request to a bucket; returns 0 when allowed, else the seconds to wait."""

    def acquire(self, key: str) -> float: ...


class OpenAuthenticator:
    """`CARBON254_AUTH=off`: everyone is the anonymous principal, entitled to everything."""

    def authenticate(self, credential: str | None) -> Principal:
        """The anonymous principal, whatever was sent."""
        return ANONYMOUS


def credential_from_headers(headers: Mapping[str, str]) -> str | None:
    """The credential of a request: `Authorization: Bearer <key or JWT>`, else `X-API-Key`, else None.

    Raises `AuthenticationError` for a credential holding a control character:
    no key or token does, and one must not reach the metadata database (where
    a NUL fails the lookup, which would read as the database being down).
    """
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationError("the Authorization header must be 'Bearer <API key or token>'")
        credential: str | None = value.strip()
    else:
        key = headers.get("x-api-key")
        credential = key.strip() if key and key.strip() else None
    if credential is not None and first_control_character(credential) is not None:
        raise AuthenticationError("malformed credential: it contains a control character")
    return credential


def authenticate_request(state: Any, headers: Mapping[str, str], connection_state: Any = None) -> Principal:
    """The principal of a request to an app whose `state` holds the authenticator and rate limiter.

    Raises `AuthenticationError` (401) or `RateLimited` (429). Shared by the
    REST dependency, the GraphQL context and the stream handshake, which pass
    their request's or WebSocket's `.state` as `connection_state`: the
    principal is kept there (as `principal`) for the audit log.
    """
    authenticator: Authenticator = state.authenticator
    principal = authenticator.authenticate(credential_from_headers(headers))
    if connection_state is not None:
        connection_state.principal = principal
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is not None and principal.method is not AuthMethod.NONE:
        wait = limiter.acquire(principal.rate_key)
        if wait > 0:
            raise RateLimited(wait)
    return principal


def as_api_error(exc: AuthenticationError | NotEntitled | RateLimited) -> ApiError:
    """The HTTP error for an identity failure: 401, 403 or 429 with the right headers."""
    if isinstance(exc, AuthenticationError):
        return ApiError(401, "unauthenticated", str(exc), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, RateLimited):
        seconds = max(1, int(exc.retry_after_s + 0.999))
        return ApiError(429, "rate_limited", str(exc), headers={"Retry-After": str(seconds)})
    return not_entitled(exc)


async def get_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller of a REST request (401/429 as `ApiError`).

    Async, so that a request does not pay a worker-thread round trip just to
    be identified: a known key costs one read of the credentials version
    (an unknown one, an indexed query), short enough to run on the event loop.
    """
    try:
        return authenticate_request(request.app.state, request.headers, request.state)
    except (AuthenticationError, RateLimited) as exc:
        raise as_api_error(exc) from None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
