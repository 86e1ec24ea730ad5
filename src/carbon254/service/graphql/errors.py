"""GraphQL errors for the service's refusals, and the HTTP status of a GraphQL answer.

A field that fails answers null with an error whose `extensions` carry the
REST error's code in upper case (`NOT_FOUND`, `INVALID_PARAMETER`,
`NOT_ENTITLED`, `RESULT_TOO_LARGE`, ...), its HTTP `status` and, when known,
the `parameter` (argument) at fault and `suggestions`. The HTTP status
of the whole answer (see `http_status`):

* 400 when the request is not a query the service will run: unparseable,
  invalid against the schema, deeper or with more aliases than allowed
  (`data` is null, and the errors have no `path`: no field ran), or whose
  rows exceed `graphql_max_rows` (`data` dropped: nothing of an abusive
  query is sent);
* 403 when any field was refused for entitlements (`NOT_ENTITLED`); fields
  the caller may read still carry their data;
* 200 otherwise, including fields refused for a bad argument, which carry
  their error beside the other fields' data, as GraphQL intends. A refused
  non-null field (a mutation's `Job!`) nulls `data` itself; its error has
  the field's `path`, so it is answered like any field's refusal.

Missing or invalid credentials never reach GraphQL: they are 401 (429 when
rate limited) with the service's common error body.

Every error is passed through `public_error` before it is sent: an
unexpected exception's text (which may name files and internals) is
replaced by a generic message, as REST's 500 does, and messages the GraphQL
library wrote show only short excerpts of the document's values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLError

from carbon254.application.errors import ApiError
from carbon254.application.identity import NotEntitled
from carbon254.excerpt import shorten_quoted
from carbon254.service.errors import public_message

NOT_ENTITLED = "NOT_ENTITLED"
RESULT_TOO_LARGE = "RESULT_TOO_LARGE"
INTERNAL_ERROR = "INTERNAL_ERROR"
# A library's message is a sentence or two; past this it is echoing input.
MAX_MESSAGE_CHARS = 500


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


def public_error(error: GraphQLError, data_dir: Path | None = None) -> GraphQLError:
    """`error` as it may be sent: no internals of an unexpected failure, no long value, no local path.

    An error caused by an exception other than a GraphQL error (a bug, or a
    library failing) keeps its location and path but says only that it was
    logged (`CarbonSchema.process_errors` logs it). The service's own
    refusals (`ServiceError`) quote values through `excerpt` already; other
    messages (the parser's, the validator's) have their quoted values cut
    short and their length capped. No message keeps a path of this machine.
    """
    original = error.original_error
    extensions = error.extensions
    if original is not None and not isinstance(original, GraphQLError):
        message = "internal error; it has been logged"
        extensions = {"code": INTERNAL_ERROR}
    elif isinstance(error, ServiceError) or isinstance(original, ServiceError):
        message = error.message
    else:
        message = shorten_quoted(error.message)
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS] + "..."
    return GraphQLError(
        public_message(message, data_dir),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def _codes(errors: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str((e.get("extensions") or {}).get("code")) for e in errors}


def http_status(response: Mapping[str, Any]) -> int:
    """The HTTP status of a GraphQL response body (`{"data", "errors"}`); see the module docstring."""
    errors = response.get("errors") or []
    if not errors:
        return 200
    codes = _codes(errors)
    request_error = any(not e.get("path") for e in errors)
    if RESULT_TOO_LARGE in codes or (response.get("data") is None and request_error):
        return 400
    if NOT_ENTITLED in codes:
        return 403
    return 200
