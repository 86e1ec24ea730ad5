"""Monte Carlo VaR as the `risk_var` job: batches of seeded paths, their P&L stored, VaR/ES of them all."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from risk_data import AS_OF, MIXED, fill

from carbon254.config import AuthMode, Settings
from carbon254.risk import var_es
from carbon254.risk_montecarlo.kind import PATHS_PER_TASK, batch_sizes
from carbon254.service import create_app
from carbon254.store import open_store

COMMON = {"portfolio": "Mixed", "as_of": AS_OF, "window": 120, "confidence": 0.99, "covariance": "sample"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("risk-jobs"), auth=AuthMode.OFF, max_range_days=800)
    store = open_store(Path(settings.data_dir))
    fill(store)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        saved = client.post(
            "/v1/risk/portfolios",
            params={"name": "Mixed"},
            content=MIXED,
            headers={"Content-Type": "text/csv"},
        )
        assert saved.status_code == 201, saved.text
        yield client
    store.close()


def _wait(api: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        job: dict[str, Any] = api.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.1)


def test_batches_are_as_even_as_can_be_and_cover_every_path() -> None:
    assert batch_sizes(PATHS_PER_TASK) == [PATHS_PER_TASK]
    sizes = batch_sizes(2 * PATHS_PER_TASK + 3)
    assert len(sizes) == 3 and sum(sizes) == 2 * PATHS_PER_TASK + 3 and max(sizes) - min(sizes) <= 1


def test_many_paths_run_as_the_risk_var_job_seeded_batch_by_batch(api: TestClient) -> None:
    refused = api.get("/v1/risk/var", params={**COMMON, "method": "monte_carlo", "paths": 300_000})
    assert refused.status_code == 422 and refused.json()["parameter"] == "paths"
    assert "risk_var" in refused.json()["message"]
    request = {**COMMON, "paths": 120_000, "seed": 3}
    job = _wait(api, api.post("/v1/jobs", json={"kind": "risk_var", "request": request}).json()["id"])
    assert job["status"] == "succeeded", job
    assert job["progress"]["done"] == job["progress"]["total"] == 3
    summary = job["result"]["summary"]
    table = pq.read_table(
        io.BytesIO(api.get(job["result"]["download_url"].removeprefix("http://testserver")).content)
    )
    assert table.column("path").to_pylist() == list(range(120_000))
    expected = var_es(table.column("pnl").to_numpy(), 0.99)
    assert (summary["var"], summary["es"]) == (pytest.approx(expected.var), pytest.approx(expected.es))
    assert summary["es"] >= summary["var"] > 0
    # The paths' VaR converges on the delta-normal one (same covariance) as the operation's does.
    parametric = api.get("/v1/risk/var", params={**COMMON, "method": "parametric"}).json()["data"][0]
    assert summary["var"] == pytest.approx(parametric["var"], rel=0.03)
    again = _wait(api, api.post("/v1/jobs", json={"kind": "risk_var", "request": request}).json()["id"])
    assert again["result"]["summary"] == summary


def test_a_job_that_could_never_run_is_refused_at_submit(api: TestClient) -> None:
    for fields, parameter in (({"method": "historical"}, "method"), ({"paths": 0}, "paths")):
        response = api.post("/v1/jobs", json={"kind": "risk_var", "request": {**COMMON, **fields}})
        assert response.status_code == 422, response.text
        assert response.json()["parameter"] == parameter
