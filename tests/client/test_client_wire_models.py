"""The SDK's wire models stay in step with the service's, field for field.

The SDK imports nothing server-side (it installs on its own as
`carbon254-client`), so its request and answer models are written out again
rather than imported. These tests tie each one to its server definition: a
field added, renamed or retyped on one side fails here until the other
follows.
"""

from __future__ import annotations

import dataclasses
import typing
from enum import StrEnum
from types import UnionType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from carbon254 import client as sdk
from carbon254.application.battery import BatterySummary
from carbon254.application.forecast_models import ModelVersionOut
from carbon254.application.operations import OPERATIONS
from carbon254.application.operations.battery import BatteryOptimizeRequest
from carbon254.client import battery, forecast, forecast_models, job_models, models, ppa, queries, risk
from carbon254.config import AuthMode, Settings
from carbon254.exports.request import ExportRequest
from carbon254.exports.writers import ExportFormat
from carbon254.jobs import JobStatus
from carbon254.quality import DayQuality, Gap, MarketSummary
from carbon254.service import create_app, job_view
from carbon254.service.graphql import ppa as graphql_ppa
from carbon254.service.graphql import types as graphql_types
from carbon254.service.routes import curves as curve_routes
from carbon254.service.routes import jobs as job_routes
from carbon254.spreads import SpreadStats
from carbon254.timeseries.periods import Block, Resample

# SDK query model -> the operation it mirrors, by path.
OPERATION_QUERIES: dict[str, type[queries.Query]] = {
    "/v1/spreads": queries.SpreadsQuery,
    "/v1/curves": queries.CurveQuery,
    "/v1/curves/hpfc": queries.CurveHpfcQuery,
    "/v1/curves/diff": queries.CurveDiffQuery,
    "/v1/curves/node": queries.NodeCurveQuery,
    "/v1/curves/quotes": queries.CurveQuotesQuery,
    "/v1/curves/history": queries.CurveHistoryQuery,
    "/v1/battery/revenue": battery.BatteryRevenueQuery,
    "/v1/battery/dispatch": battery.BatteryDispatchQuery,
    "/v1/ppa/npv": ppa.PpaNpvQuery,
    "/v1/ppa/breakeven": ppa.PpaBreakevenQuery,
    "/v1/ppa/cashflows": ppa.PpaCashflowsQuery,
    "/v1/ppa/sensitivity": ppa.PpaSensitivityQuery,
    "/v1/risk/var": risk.RiskVarQuery,
    "/v1/risk/es": risk.RiskEsQuery,
    "/v1/risk/attribution": risk.RiskAttributionQuery,
    "/v1/risk/stress": risk.RiskStressQuery,
    "/v1/risk/backtest": risk.RiskBacktestQuery,
    "/v1/forecast": forecast.ForecastQuery,
}


def _choices(annotation: Any) -> set[str] | None:
    """The values of the StrEnum in a field's type (`Block | None` -> the blocks), else None."""
    options = typing.get_args(annotation) if isinstance(annotation, UnionType) else (annotation,)
    for option in options:
        if isinstance(option, type) and issubclass(option, StrEnum):
            return {member.value for member in option}
    return None


def test_block_and_resample_are_the_servers() -> None:
    assert [b.value for b in sdk.Block] == [b.value for b in Block]
    assert [r.value for r in sdk.Resample] == [r.value for r in Resample]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
def test_operation_queries_mirror_the_request_models(operation: Any) -> None:
    model = OPERATION_QUERIES[operation.rest_path]
    assert model.path == operation.rest_path
    server = operation.request.model_fields
    client = model.model_fields
    assert set(client) == set(server)
    for name, field in server.items():
        mirrored = client[name]
        assert mirrored.is_required() == field.is_required(), name
        if not field.is_required():
            assert mirrored.default == field.default, name
        assert _choices(mirrored.annotation) == _choices(field.annotation), name


def test_every_declared_operation_has_an_sdk_method() -> None:
    for operation in OPERATIONS:
        assert callable(getattr(sdk.Client, operation.name)), operation.name
        assert callable(getattr(sdk.AsyncClient, operation.name)), operation.name


def _fields(model: type) -> set[str]:
    if dataclasses.is_dataclass(model):
        return {f.name for f in dataclasses.fields(model)}
    if isinstance(model, type) and issubclass(model, BaseModel):
        return set(model.model_fields)
    return set(typing.get_type_hints(model))


@pytest.mark.parametrize(
    ("sdk_model", "server_models"),
    [
        (models.SpreadStats, (SpreadStats,)),
        (models.CurveMarked, (curve_routes.CurveMarked,)),
        (models.MarkedMonth, (curve_routes.MarkedMonth,)),
        (models.ImpliedOut, (curve_routes.ImpliedOut,)),
        (models.QualityGap, (Gap, graphql_types.QualityGap)),
        (models.QualityDay, (DayQuality, graphql_types.QualityDay)),
        (models.QualitySummary, (MarketSummary, graphql_types.QualitySummary)),
        (job_models.JobInfo, (job_view.JobOut,)),
        (job_models.JobProgress, (job_view.ProgressOut,)),
        (job_models.JobResult, (job_view.JobResultOut,)),
        (job_models.JobQueued, (job_routes.JobQueued,)),
        (job_models.JobPage, (job_routes.JobList,)),
        (battery.BatterySummary, (BatterySummary,)),
        (ppa.PpaSummary, (graphql_ppa.PpaSummary,)),
        (forecast_models.ForecastModel, (ModelVersionOut,)),
    ],
    ids=lambda m: getattr(m, "__name__", "server"),
)
def test_answer_models_have_the_servers_fields(sdk_model: type, server_models: tuple[type, ...]) -> None:
    for server_model in server_models:
        assert _fields(sdk_model) == _fields(server_model), server_model


def test_dataset_queries_send_exactly_the_parameters_each_route_takes(tmp_path: Any) -> None:
    app = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF))
    with TestClient(app) as client:
        paths = client.get("/openapi.json").json()["paths"]
    for model in (
        queries.LmpQuery,
        queries.AsPriceQuery,
        queries.CapacityPriceQuery,
        queries.OrdcQuery,
        queries.LoadQuery,
        queries.LocationsQuery,
        queries.QualityQuery,
        *OPERATION_QUERIES.values(),
    ):
        taken = {p["name"] for p in paths[model.path]["get"]["parameters"] if p["in"] == "query"}
        # `format` and `cursor` are how the SDK transports answers, not query fields.
        assert set(model.model_fields) == taken - {"format", "cursor"}, model.path


def test_job_statuses_and_export_formats_are_the_servers() -> None:
    assert [s.value for s in job_models.JobStatus] == [s.value for s in JobStatus]
    assert [s.finished for s in job_models.JobStatus] == [s.finished for s in JobStatus]
    assert [f.value for f in sdk.ExportFormat] == [f.value for f in ExportFormat]


def test_the_export_query_sends_the_export_requests_fields() -> None:
    client = queries.ExportQuery.model_fields
    server = ExportRequest.model_fields
    assert set(client) == set(server)
    for name, field in server.items():
        if not field.is_required():
            assert client[name].default == field.default, name
    assert client["dataset"].default == "lmp"


def test_the_battery_bodies_send_the_optimize_requests_fields(tmp_path: Any) -> None:
    # The POST body mirrors the optimize request; the chart adds its window to the same fields.
    client = battery.BatteryOptimizeBody.model_fields
    server = BatteryOptimizeRequest.model_fields
    assert set(client) == set(server)
    for name, field in server.items():
        assert client[name].is_required() == field.is_required(), name
        if not field.is_required():
            assert client[name].default == field.default, name
    app = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF))
    with TestClient(app) as http:
        paths = http.get("/openapi.json").json()["paths"]
    taken = {p["name"] for p in paths["/v1/battery/chart"]["get"]["parameters"] if p["in"] == "query"}
    assert set(battery.BatteryChartQuery.model_fields) == taken
