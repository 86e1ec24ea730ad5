"""Property-based run of the whole OpenAPI schema (schemathesis), in process over ASGI.

Every operation the app documents is called with generated requests, valid
and invalid, against a small real store; every answer must be a non-5xx
whose status code, content type and body conform to what the schema
declares. A handful of hand-written cases make sure the data-returning
paths (rows found, not only 4xx) are exercised too.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from carbon254.config import Settings
from carbon254.service import create_app
from carbon254.store import Store

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 30  # per operation; enough to hit each parameter's edge cases, and quick


@pytest.fixture(scope="module")
def api_schema(settings: Settings, store: Store) -> Any:
    """The app's schema over the shared test store (PJM and ERCOT hourly LMPs, March 2024), auth off."""
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, store))


def _fuzz(operation: Any) -> None:
    """Run generated requests, valid and invalid, against one operation; raise on the first failure."""
    modes = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

    # schemathesis' own pytest plugin (schema.parametrize / from_fixture) needs pytest < 9,
    # so the operations are driven through Hypothesis directly.
    @given(case=st.one_of(modes))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    run()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def test_every_operation_answers_without_5xx_and_as_documented(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    labels = [f"{op.method.upper()} {op.path}" for op in operations]
    assert "GET /v1/lmp" in labels and "GET /ready" in labels  # the schema is the whole app's
    failures: list[str] = []
    for operation, label in zip(operations, labels, strict=True):
        try:
            _fuzz(operation)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports failures as a group
            failures.append(f"{label}: {_describe(exc)}")
    assert not failures, "\n\n".join(failures)


DATA_CASES: list[tuple[str, dict[str, str]]] = [
    (
        "/v1/lmp",
        {
            "iso": "PJM",
            "market": "DAM",
            "locations": "WESTERN HUB",
            "start": "2024-03-01",
            "end": "2024-03-03",
        },
    ),
    ("/v1/lmp", {"iso": "ercot", "market": "DAM", "start": "2024-03-09", "end": "2024-03-12", "tz": "iso"}),
    ("/v1/lmp", {"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02", "format": "csv"}),
    (
        "/v1/lmp",
        {"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02", "format": "arrow"},
    ),
    ("/v1/locations", {"iso": "PJM"}),
    ("/v1/locations", {"format": "parquet"}),
    ("/v1/quality", {"iso": "PJM", "start": "2024-03-01", "end": "2024-03-08"}),
]


@pytest.mark.parametrize(("path", "query"), DATA_CASES, ids=[f"{p}?{'&'.join(q)}" for p, q in DATA_CASES])
def test_data_answers_conform_to_the_schema(api_schema: Any, path: str, query: dict[str, str]) -> None:
    operation = api_schema[path]["GET"]
    response = operation.Case(query=query).call_and_validate(checks=CHECKS)
    assert response.status_code == 200
    if "format" not in query and path != "/v1/quality":
        assert response.json()["count"] > 0
