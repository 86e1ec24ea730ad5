"""Answers every operation with a request body can get from the service itself, added to OpenAPI.

Routes declare their own errors; these two come from outside them, for any
operation that takes a body, so they are documented here once:

* 413 from the body size limit (`body_limit.py`);
* 400 when FastAPI cannot decode the body at all (e.g. bytes that are not
  UTF-8); a body that decodes but does not validate is the route's 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from carbon254.service.errors import ErrorBody

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
BODY_RESPONSES: dict[str, str] = {
    "400": "The body could not be decoded (not UTF-8 or not parseable in its declared content type).",
    "413": "The body is larger than the service's limit (`CARBON254_MAX_BODY_BYTES`).",
}


def add_body_responses(schema: dict[str, Any]) -> None:
    """Document `BODY_RESPONSES` on every operation of `schema` that has a request body (in place)."""
    touched = False
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in BODY_RESPONSES.items():
                if status not in responses:
                    responses[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": ERROR_REF}},
                    }
                    touched = True
    if touched:
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())


def document_body_responses(app: FastAPI) -> None:
    """Make `app.openapi()` include `BODY_RESPONSES` (the schema is built once, then cached by FastAPI)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = build()
        if fresh:
            add_body_responses(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
