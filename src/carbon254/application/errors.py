"""Refusals of a request by the application layer: a status, a code, a message and the parameter at fault.

Every surface answers an `ApiError` with the same content: REST as the JSON
error body with `status_code`, GraphQL as an error with `extensions.code`,
the stream as an `error` message, the CLI as a message naming the option. The
status is HTTP's vocabulary (422 a bad parameter, 404 an unknown name, 403 not
entitled) because it is the most widely understood one, not because this
layer speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# 422 rather than 400 for every bad parameter: it is what FastAPI's own
# validation answers, so a client sees one status for one kind of mistake.
BAD_PARAMETER_STATUS = 422


class ApiError(Exception):
    """A request the service refuses, with the status and body to answer it with."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        parameter: str | None = None,
        suggestions: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.parameter = parameter
        self.suggestions = suggestions
        self.headers = headers

    def __reduce__(self) -> tuple[type[ApiError], tuple[Any, ...]]:
        # Rebuilt from all its fields, so it crosses processes (a job task's error) whole.
        fields = (self.status_code, self.code, self.message, self.parameter, self.suggestions, self.headers)
        return (ApiError, fields)

    def body(self) -> dict[str, Any]:
        """The JSON body: code, message, parameter and, when given, suggestions."""
        body: dict[str, Any] = {"code": self.code, "message": self.message, "parameter": self.parameter}
        if self.suggestions is not None:
            body["suggestions"] = self.suggestions
        return body


def bad_parameter(parameter: str, message: str, code: str = "invalid_parameter") -> ApiError:
    """A 422 for a malformed or out-of-range query parameter; `message` must name the parameter."""
    return ApiError(BAD_PARAMETER_STATUS, code, message, parameter)


def not_found(parameter: str, message: str, suggestions: list[str]) -> ApiError:
    """A 404 for a well-formed name the catalog does not hold, with close matches to try instead."""
    return ApiError(404, "not_found", message, parameter, suggestions)


def renamed(error: ApiError, names: Mapping[str, str]) -> ApiError:
    """`error` blaming the caller's own parameter name when an operation calls a parameter differently.

    An operation reading a dataset under other names (a spread's `minus` is
    the `locations` of its second LMP read) renames the parameter, and the
    `parameter: ...` prefix of the message, so the caller is told of what
    they sent.
    """
    if error.parameter is None or error.parameter not in names:
        return error
    new = names[error.parameter]
    message = error.message
    if message.startswith(f"{error.parameter}: "):
        message = f"{new}: {message[len(error.parameter) + 2 :]}"
    message = message.replace(f"'{error.parameter}'", f"'{new}'")
    return ApiError(error.status_code, error.code, message, new, error.suggestions, error.headers)
