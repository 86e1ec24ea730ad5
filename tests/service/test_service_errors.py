"""Every refused request answers `{code, message, parameter}`; misspelled names get suggestions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.schema import Dataset
from carbon254.service import create_app
from carbon254.store.base import Block, Resample, Source, WriteResult

GOOD = {
    "iso": "PJM",
    "market": "DAM",
    "locations": "WESTERN HUB",
    "start": "2024-03-01",
    "end": "2024-03-02",
}


def _error(client: TestClient, status: int, parameter: str | None, **params: str) -> dict[str, Any]:
    query = {k: v for k, v in {**GOOD, **params}.items() if v != "<absent>"}
    r = client.get("/v1/lmp", params=query)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    assert set(body) >= {"code", "message", "parameter"}
    assert body["parameter"] == parameter
    if parameter is not None:
        assert parameter in body["message"]
    return body


@pytest.mark.parametrize(
    ("parameter", "params"),
    [
        ("start", {"start": "2024-13-01"}),
        ("start", {"start": "yesterday"}),
        ("end", {"end": "2024-03-02T25:00"}),
        ("start", {"start": ""}),
        ("end", {"start": "2024-03-02", "end": "2024-03-01"}),
        ("end", {"start": "2024-03-01", "end": "2024-03-01"}),
        ("end", {"start": "2020-01-01", "end": "2024-01-01"}),
        ("locations", {"locations": "A,B,C,D"}),
        ("locations", {"locations": " , "}),
        ("tz", {"tz": "Mars/Olympus_Mons"}),
        ("tz", {"tz": "ISO-ish"}),
        ("resample", {"resample": "weekly"}),
        ("block", {"block": "5x16"}),
        ("format", {"format": "xml"}),
        ("as_of", {"as_of": "not-a-time"}),
        ("market", {"market": "  "}),
        ("iso", {"iso": ""}),
        ("start", {"start": "2024-03-10T02:30", "tz": "America/New_York"}),  # skipped by DST
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(
    client: TestClient, parameter: str, params: dict[str, str]
) -> None:
    _error(client, 422, parameter, **params)


def test_range_limit_and_location_limit_say_the_limit(client: TestClient) -> None:
    body = _error(client, 422, "end", start="2020-01-01", end="2024-01-01")
    assert body["code"] == "range_too_long"
    assert "400-day limit" in body["message"]
    body = _error(client, 422, "locations", locations="A,B,C,D")
    assert body["code"] == "too_many_locations"
    assert "at most 3" in body["message"]


@pytest.mark.parametrize("missing", ["iso", "market", "start", "end"])
def test_missing_required_parameter_uses_the_same_shape(client: TestClient, missing: str) -> None:
    body = _error(client, 422, missing, **{missing: "<absent>"})
    assert body["code"] == "missing_parameter"


def test_several_validation_errors_are_all_listed(client: TestClient) -> None:
    r = client.get("/v1/lmp", params={**GOOD, "resample": "weekly", "block": "5x16"})
    body = r.json()
    assert r.status_code == 422
    assert {e["parameter"] for e in body["errors"]} == {"resample", "block"}


def test_misspelled_location_suggests_close_names(client: TestClient) -> None:
    body = _error(client, 404, "locations", locations="WESTERN HUBB")
    assert body["code"] == "not_found"
    assert "WESTERN HUBB" in body["message"]
    assert body["suggestions"][0] == "WESTERN HUB"


def test_every_unknown_location_is_named(client: TestClient) -> None:
    body = _error(client, 404, "locations", locations="WESTERN HUB,EASTRN HUB,NOWHERE")
    assert "EASTRN HUB" in body["message"]
    assert "NOWHERE" in body["message"]
    assert "EASTERN HUB" in body["suggestions"]


def test_misspelled_market_suggests_close_markets(client: TestClient) -> None:
    body = _error(client, 404, "market", market="DAMM")
    assert body["suggestions"][0] == "DAM"
    body = _error(client, 404, "market", market="XYZ")
    # Nothing close: every market of PJM LMPs is offered, with data or not.
    assert body["suggestions"] == ["DAM", "RT5", "RTH"]


def test_misspelled_iso_suggests_close_isos(client: TestClient) -> None:
    body = _error(client, 404, "iso", iso="PJN")
    assert "PJM" in body["suggestions"]
    body = _error(client, 404, "iso", iso="ERCOTT")
    assert body["suggestions"][0] == "ERCOT"


def test_an_iso_without_data_still_has_its_markets(client: TestClient) -> None:
    # One list of markets per ISO and dataset: a market CAISO publishes is a market before any row is
    # stored (an empty answer), and an unknown one lists them all.
    whole_iso = {k: v for k, v in GOOD.items() if k != "locations"}
    answer = client.get("/v1/lmp", params={**whole_iso, "iso": "CAISO", "market": "RT15"})
    assert answer.status_code == 200 and answer.json()["total"] == 0
    body = _error(client, 404, "market", iso="CAISO", market="XYZ", locations="<absent>")
    assert body["suggestions"] == ["DAM", "RT15", "RT5", "RTH"]


def test_a_dataset_an_iso_does_not_publish_is_a_404_saying_so(client: TestClient) -> None:
    for path, params in (
        ("/v1/capacity_price", {"iso": "ERCOT", "start": "2024-01-01", "end": "2025-01-01"}),
        ("/v1/ordc_adder", {"iso": "PJM", "start": "2024-01-01", "end": "2024-01-02"}),
    ):
        answer = client.get(path, params=params)
        assert answer.status_code == 404, answer.text
        body = answer.json()
        assert body["code"] == "not_published" and body["parameter"] == "iso"
        assert "publishes no" in body["message"]
    body = client.get(
        "/v1/capacity_price", params={"iso": "ERCOT", "start": "2024-01-01", "end": "2025-01-01"}
    ).json()
    assert body["suggestions"] == ["PJM", "MISO"]


def test_unknown_dataset_path(client: TestClient) -> None:
    r = client.get("/v1/lmps", params=GOOD)
    assert r.status_code == 404
    body = r.json()
    assert body["parameter"] == "dataset"
    assert "lmps" in body["message"]
    assert body["suggestions"] == ["/v1/lmp"]
    assert client.get("/v1/foo").json()["suggestions"] == []
    r = client.get("/nowhere/at/all")
    assert r.status_code == 404
    assert r.json()["parameter"] == "path"


def test_wrong_method(client: TestClient) -> None:
    r = client.post("/v1/lmp", params=GOOD)
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"


class _BrokenStore:
    """A store whose reads fail the way a server-side bug would."""

    def write(
        self, dataset: Dataset | str, table: pa.Table, *, source: Source = Source.INGESTED
    ) -> WriteResult:
        raise NotImplementedError

    def read(
        self,
        dataset: Dataset | str,
        iso: str,
        market: str | None,
        locations: Sequence[str] | None,
        start: datetime,
        end: datetime,
        as_of: datetime | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
    ) -> pa.Table:
        raise RuntimeError("disk on fire at /secret/path")

    def locations(
        self, iso: str | None = None, search: str | None = None, location_type: str | None = None
    ) -> pa.Table:
        return pa.table(
            {"iso": ["PJM"], "location": ["WESTERN HUB"], "location_type": ["hub"], "source": ["ingested"]}
        )

    def markets(self, dataset: Dataset | str, iso: str) -> list[str]:
        return ["DAM"]

    def close(self) -> None:
        return None


@pytest.fixture
def broken_client(tmp_path: Any) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), _BrokenStore())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_unexpected_error_is_a_generic_500_and_logged(
    broken_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    r = broken_client.get("/v1/lmp", params=GOOD)
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "internal_error"
    assert "secret" not in r.text
    assert any("disk on fire" in (rec.exc_text or "") or rec.exc_info for rec in caplog.records)
