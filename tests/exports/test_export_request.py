"""Export requests are checked like the dataset routes' query strings: the same refusals, word for word."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from carbon254.application.errors import ApiError
from carbon254.config import Settings
from carbon254.exports import EXPORT, ExportFormat, ExportRequest
from carbon254.schema import Dataset
from carbon254.store import Store

GOOD = {"iso": "pjm", "market": "dam", "start": "2024-10-30", "end": "2024-11-06"}

BAD: list[tuple[str, dict[str, Any]]] = [
    ("lmp", {**GOOD, "iso": "pjn"}),
    ("lmp", {**GOOD, "market": "damm"}),
    ("lmp", {**GOOD, "market": " "}),
    ("lmp", {**GOOD, "start": "2024-13-01"}),
    ("lmp", {**GOOD, "end": "2024-10-01"}),
    ("lmp", {**GOOD, "start": "2020-01-01"}),
    ("lmp", {**GOOD, "tz": "Mars/Olympus"}),
    ("lmp", {**GOOD, "as_of": "yesterday-ish"}),
    ("lmp", {**GOOD, "locations": ","}),
    ("lmp", {**GOOD, "locations": "A,B,C,D,E"}),
    ("lmp", {**GOOD, "locations": "WESTERN HUBB"}),
    ("ordc_adder", {"iso": "ercot", "start": "2024-10-30", "end": "2024-11-01", "tz": "Pluto"}),
]


def _refusal(store: Store, settings: Settings, dataset: str, params: dict[str, Any]) -> ApiError:
    request = ExportRequest.model_validate({"dataset": dataset, **params, "format": "csv"})
    with pytest.raises(ApiError) as caught:
        request.resolve(store, settings)
    return caught.value


@pytest.mark.parametrize(("dataset", "params"), BAD)
def test_a_bad_export_is_refused_as_its_route_refuses_it(
    client: TestClient, store: Store, settings: Settings, dataset: str, params: dict[str, Any]
) -> None:
    rest = client.get(f"/v1/{dataset}", params=params)
    assert rest.status_code in (404, 422), rest.text
    error = _refusal(store, settings, dataset, params)
    body = rest.json()
    assert (error.status_code, error.message, error.parameter) == (
        rest.status_code,
        body["message"],
        body["parameter"],
    )


ORDC = {"iso": "ercot", "start": "2024-10-30", "end": "2024-11-01"}
CAPACITY = {"iso": "pjm", "start": "2024-01-01", "end": "2024-02-01"}


@pytest.mark.parametrize(
    ("dataset", "params", "name", "takes"),
    [
        (
            "lmp",
            {**GOOD, "regions": "X"},
            "regions",
            "as_of, block, dataset, end, format, iso, locations, market, resample, start, tz",
        ),
        (
            "ordc_adder",
            {**ORDC, "market": "DAM"},
            "market",
            "as_of, block, dataset, end, format, iso, resample, start, tz",
        ),
        (
            "capacity_price",
            {**CAPACITY, "resample": "daily"},
            "resample",
            "as_of, auction, dataset, end, format, iso, start, tz, zones",
        ),
    ],
)
def test_a_parameter_the_dataset_does_not_take_is_refused_naming_what_it_takes(
    store: Store, settings: Settings, dataset: str, params: dict[str, Any], name: str, takes: str
) -> None:
    """As the route refuses it; the list is the export's own (no paging cursor, a dataset)."""
    error = _refusal(store, settings, dataset, params)
    assert (error.status_code, error.code, error.parameter) == (422, "unknown_parameter", name)
    assert error.message == f"query parameter '{name}' does not apply to /v1/{dataset}; it takes {takes}"


def test_an_unknown_choice_is_refused_with_the_choices(store: Store, settings: Settings) -> None:
    """`resample` and `block` are read by the application layer, as GraphQL reads them."""
    error = _refusal(store, settings, "lmp", {**GOOD, "resample": "weekly"})
    assert (error.status_code, error.parameter) == (422, "resample")
    assert error.message == "invalid resample 'weekly'; expected one of hourly, daily, monthly"


def test_an_unknown_dataset_is_refused_naming_the_datasets(store: Store, settings: Settings) -> None:
    error = _refusal(store, settings, "lmps", GOOD)
    assert error.status_code == 422 and error.parameter == "dataset"
    assert all(d.value in error.message for d in Dataset)


def test_names_may_be_a_list_and_are_resolved_to_the_catalog_spelling(
    store: Store, settings: Settings
) -> None:
    request = ExportRequest.model_validate({**GOOD, "locations": ["western hub", "aep"], "format": "xlsx"})
    query = request.resolve(store, settings)
    assert query.locations == ("WESTERN HUB", "AEP")
    assert request.format is ExportFormat.XLSX


def test_an_unknown_format_or_field_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="format"):
        ExportRequest.model_validate({**GOOD, "format": "json"})
    with pytest.raises(ValidationError, match="cursor"):
        ExportRequest.model_validate({**GOOD, "format": "csv", "cursor": "x"})


class Grants:
    """Entitlements to some ISO datasets only."""

    def __init__(self, *allowed: tuple[str, str]) -> None:
        self.allowed = set(allowed)

    def allows_data(self, iso: str, dataset: str) -> bool:
        return (iso, dataset) in self.allowed

    def allows_feature(self, feature: str) -> bool:
        return False


def test_a_tenant_may_export_only_the_datasets_it_may_read() -> None:
    request = ExportRequest.model_validate({**GOOD, "format": "csv"})
    assert EXPORT.refusal(request, Grants(("PJM", "lmp"))) is None
    assert (
        EXPORT.refusal(request, Grants(("ERCOT", "lmp"), ("PJM", "load")))
        == "not entitled to lmp data of PJM"
    )
    ordc = ExportRequest.model_validate({"dataset": "ORDC_adder", **ORDC, "format": "csv"})
    assert EXPORT.refusal(ordc, Grants(("PJM", "lmp"))) == "not entitled to ordc_adder data of ERCOT"
