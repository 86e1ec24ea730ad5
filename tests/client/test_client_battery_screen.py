"""The fleet screen on a real `carbon254 serve`: `POST /v1/jobs`, `POST /v1/battery/screen` and the SDK
agree on one ranking, downloaded through the signed link; refusals name the field."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from live_service import LiveService

from carbon254.client import AsyncClient, Client
from carbon254.client.errors import InvalidRequest, NotEntitled, NotFound

SCREEN = {
    "iso": "ERCOT",
    "start": "2024-01-01",
    "end": "2024-02-01",
    "power_mw": 100,
    "energy_mwh": 400,
    "round_trip_efficiency": 0.85,
    "degradation_cost": 1.5,
}
WAIT_S = 120.0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    env = {"CARBON254_JOB_POLL_S": "0.05", "CARBON254_COMPUTE": "local://?processes=2"}
    with LiveService.seeded(tmp_path_factory.mktemp("screen-served"), env=env) as live:
        yield live


@pytest.fixture
def http(service: LiveService) -> Iterator[httpx.Client]:
    headers = {"X-API-Key": service.keys.full}
    with httpx.Client(base_url=service.base_url, headers=headers, timeout=30) as c:
        yield c


def _finished(http: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        job: dict[str, Any] = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            assert job["status"] == "succeeded", job
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def _download(http: httpx.Client, job: dict[str, Any]) -> httpx.Response:
    answer = http.get(job["result"]["download_url"])
    assert answer.status_code == 200, answer.text
    return answer


def _catalog(http: httpx.Client) -> list[str]:
    answer = http.get("/v1/locations", params={"iso": "ERCOT"})
    return sorted(row["location"] for row in answer.json()["data"])


def test_a_screen_through_post_v1_jobs_ranks_every_location_and_downloads(http: httpx.Client) -> None:
    submitted = http.post("/v1/jobs", json={"kind": "battery_screen", "request": SCREEN})
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["status"] == "queued"
    job = _finished(http, submitted.json()["id"])
    assert job["kind"] == "battery_screen" and job["progress"]["done"] == job["progress"]["total"] > 0
    ranking = pq.read_table(io.BytesIO(_download(http, job).content))
    assert sorted(ranking.column("location").to_pylist()) == _catalog(http)
    net = ranking.column("net_revenue").to_pylist()
    assert net == sorted(net, reverse=True)
    summary = job["result"]["summary"]
    assert [t["location"] for t in summary["top"]] == ranking.column("location").to_pylist()[:10]
    assert sorted(job["result"]["artifacts"]) == ["ranking.csv", "ranking.parquet"]


def test_post_v1_battery_screen_answers_202_with_the_job_and_serves_the_csv(http: httpx.Client) -> None:
    answer = http.post(
        "/v1/battery/screen", json={**SCREEN, "format": "csv", "locations": ["hb_north", "HB_WEST"]}
    )
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert (queued["kind"], queued["status"], queued["result"]) == ("battery_screen", "queued", None)
    assert answer.headers["location"] == f"/v1/jobs/{queued['id']}"
    job = _finished(http, queued["id"])
    download = _download(http, job)
    assert download.headers["content-disposition"] == 'attachment; filename="ranking.csv"'
    table = pacsv.read_csv(io.BytesIO(download.content))
    assert sorted(table.column("location").to_pylist()) == ["HB_NORTH", "HB_WEST"]
    # The same nodes screened in a job of every node earn the same.
    everything = _finished(
        http, http.post("/v1/jobs", json={"kind": "battery_screen", "request": SCREEN}).json()["id"]
    )
    whole = pq.read_table(io.BytesIO(_download(http, everything).content))
    by_name = dict(
        zip(whole.column("location").to_pylist(), whole.column("net_revenue").to_pylist(), strict=True)
    )
    for row in table.to_pylist():
        assert row["net_revenue"] == pytest.approx(by_name[row["location"]])


@pytest.mark.parametrize(
    ("change", "status", "parameter"),
    [
        ({"power_mw": -1}, 422, "power_mw"),
        ({"locations": ["HB_NOWHERE"]}, 404, "locations"),
        ({"market": "DAMM"}, 404, "market"),
        ({"initial_soc_mwh": 1000}, 422, "initial_soc_mwh"),
    ],
)
def test_a_bad_screen_is_refused_naming_the_field_on_both_routes(
    http: httpx.Client, change: dict[str, Any], status: int, parameter: str
) -> None:
    direct = http.post("/v1/battery/screen", json={**SCREEN, **change})
    assert direct.status_code == status, direct.text
    assert direct.json()["parameter"].endswith(parameter)
    enveloped = http.post("/v1/jobs", json={"kind": "battery_screen", "request": {**SCREEN, **change}})
    assert enveloped.status_code == status, enveloped.text
    assert enveloped.json()["parameter"].endswith(parameter)


def test_a_tenant_screens_only_isos_it_may_read(service: LiveService) -> None:
    headers = {"X-API-Key": service.keys.ercot}
    with httpx.Client(base_url=service.base_url, headers=headers, timeout=30) as http:
        refused = http.post("/v1/battery/screen", json={**SCREEN, "iso": "PJM"})
        assert refused.status_code == 403, refused.text
        assert "lmp data of PJM" in refused.json()["message"]


def test_the_sdk_screens_waits_and_downloads_the_same_ranking(
    service: LiveService, http: httpx.Client, tmp_path: Path
) -> None:
    with Client(base_url=service.base_url, api_key=service.keys.full) as client:
        job = client.battery_screen(**SCREEN, locations=["HB_NORTH", "HB_WEST", "HB_SOUTH"])
        info = job.wait()
        path = job.download(tmp_path / "ranking.parquet")
        with pytest.raises(NotFound) as unknown:
            client.battery_screen(**SCREEN, locations="HB_NORTH,HB_NOWHERE")
        with pytest.raises(InvalidRequest):
            client.battery_screen(**{**SCREEN, "round_trip_efficiency": 0})
    with (
        Client(base_url=service.base_url, api_key=service.keys.ercot) as ercot_only,
        pytest.raises(NotEntitled),
    ):
        ercot_only.battery_screen(**{**SCREEN, "iso": "PJM"})
    assert "HB_NOWHERE" in str(unknown.value)
    ranking = pq.read_table(path)
    assert ranking.column("location").to_pylist() == [t["location"] for t in info.result.summary["top"]]
    assert info.request["locations"] == ["HB_NORTH", "HB_WEST", "HB_SOUTH"]
    rest = http.post("/v1/battery/screen", json={**SCREEN, "locations": ["HB_NORTH", "HB_WEST", "HB_SOUTH"]})
    again = pq.read_table(io.BytesIO(_download(http, _finished(http, rest.json()["id"])).content))
    assert again.equals(ranking)


def test_the_async_sdk_screens_too(service: LiveService) -> None:
    async def screen() -> pa.Table:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as client:
            job = await client.battery_screen(**SCREEN, locations="HB_NORTH", format="csv")
            await job.wait()
            path = await job.download(Path(service.data_dir) / "async-ranking.csv")
            return pacsv.read_csv(path)

    table = asyncio.run(screen())
    assert table.column("location").to_pylist() == ["HB_NORTH"]
    assert table.column("net_revenue")[0].as_py() > 0
