"""GraphQL errors for the service's refusals, and the HTTP status of a GraphQL answer.

A field that fails answers null with an error whose `extensions` carry the
REST error's code in upper case (`NOT_FOUND`, `INVALID_PARAMETER`,
`NOT_ENTITLED`, `RESULT_TOO_LARGE`, ...), its HTTP `status` and, when known,
the `parameter` (argument) at fault and `suggestions`. The HTTP status
of the whole answer (see `http_status`):

* 400 when the request is not a query the service will run: unparseable,
  invalid against the schema, deeper or with more aliases than allowed
  (`data` is null), or whose rows exceed `graphql_max_rows` (`data`
  dropped: nothing of an abusive query is sent);
* 403 when any field was refused for entitlements (`NOT_ENTITLED`); fields
  the caller may read still carry their data;
* 200 otherwise, including fields refused for a bad argument, which carry
  their error beside the other fields' data, as GraphQL intends.

Missing or invalid credentials never reach GraphQL: they are 401 (429 when
rate limited) with the service's common error body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLError

from carbon254.application.errors import ApiError
from carbon254.application.identity import NotEntitled

NOT_ENTITLED = "NOT_ENTITLED"
RESULT_TOO_LARGE = "RESULT_TOO_LARGE"


class ServiceError(GraphQLError):
    """A refusal the service expects (bad argument, unknown name, entitlement, size): not logged as a bug."""


def from_api_error(exc: ApiError) -> ServiceError:
    """The GraphQL error for a REST `ApiError`: same message, code (upper case), status and parameter."""
    extensions: dict[str, Any] = {"code": exc.code.upper(), "status": exc.status_code}
    if exc.parameter is not None:
        extensions["parameter"] = exc.parameter
    if exc.suggestions is not None:
        extensions["suggestions"] = exc.suggestions
    return ServiceError(exc.message, extensions=extensions)


def not_entitled(exc: NotEntitled) -> ServiceError:
    """The GraphQL error for a refusal outside the tenant's entitlements (403 equivalent)."""
    return ServiceError(str(exc), extensions={"code": NOT_ENTITLED, "status": 403})


def too_large(rows: int, limit: int) -> ServiceError:
    """The GraphQL error for a query whose fields return more rows than allowed in one answer."""
    return ServiceError(
        f"the query returns more than {limit:,} rows over all its fields ({rows:,} so far); "
        "narrow the window or the locations, or use the REST endpoints, which stream and page",
        extensions={"code": RESULT_TOO_LARGE, "status": 400},
    )


def _codes(errors: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str((e.get("extensions") or {}).get("code")) for e in errors}


def http_status(response: Mapping[str, Any]) -> int:
    """The HTTP status of a GraphQL response body (`{"data", "errors"}`); see the module docstring."""
    errors = response.get("errors") or []
    if not errors:
        return 200
    codes = _codes(errors)
    if RESULT_TOO_LARGE in codes or response.get("data") is None:
        return 400
    if NOT_ENTITLED in codes:
        return 403
    return 200
