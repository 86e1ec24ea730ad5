"""`/v1/scenarios` and the `scenario_sweep` job against the real service.

A hub is marked first (`POST /v1/curves`, a Q1 2027 strip); a gas step then
moves every onpeak month by exactly the default onpeak heat rate x the gas
change and every offpeak month by the offpeak heat rate x it, which is
checked from `HeatRates`, not from the run. Validation lists every problem
with its line; malformed bodies are 422, never 500; saved scenarios and runs
belong to one tenant; a tenant without the `scenarios` feature gets 403.
The sweep job runs on the service's own local workers and its Parquet
artifact holds a row per point, hub and year.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.application.scenarios import INLINE_SWEEP_MAX
from carbon254.config import AuthMode, Settings
from carbon254.scenarios import scenario_schema
from carbon254.scenarios.model import HeatRates
from carbon254.service import create_app
from carbon254.store import Store

AS_OF = "2026-12-04"
QUOTES: list[dict[str, Any]] = [
    {"start": "2027-01-01", "end": "2027-02-01", "block": "onpeak", "price": 60.0},
    {"start": "2027-02-01", "end": "2027-03-01", "block": "onpeak", "price": 55.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "offpeak", "price": 40.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "onpeak", "price": 55.0},
]
GAS = "name: gas up\nsteps:\n  - type: gas\n    gas_change: 1.5\n"
SWEEP = """name: grid
steps:
  - {{type: gas, gas_change: 0}}
  - {{type: shift, percent: 0, blocks: [onpeak]}}
sweep:
  - {{step: 0, parameter: gas_change, values: [{gas}]}}
  - {{step: 1, parameter: percent, values: [{percent}]}}
"""


def _hub() -> str:
    """A hub name no other test marked (marks are kept in the module's database)."""
    return f"HUB_{uuid.uuid4().hex[:6].upper()}"


def _mark(client: TestClient, hub: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"iso": "ERCOT", "hub": hub, "as_of": AS_OF, "quotes": QUOTES}
    response = client.post("/v1/curves", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    marked: dict[str, Any] = response.json()
    return marked


def _text_post(client: TestClient, path: str, text: str | bytes, **headers: str) -> Any:
    content = text.encode() if isinstance(text, str) else text
    return client.post(path, content=content, headers={"Content-Type": "application/yaml", **headers})


@pytest.fixture(scope="module")
def service_settings(data_dir: Path) -> Settings:
    """Auth off; the service's own local worker runs jobs (one process, polled often)."""
    return Settings(
        data_dir=data_dir,
        auth=AuthMode.OFF,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=1,
        job_poll_s=0.05,
    )


@pytest.fixture(scope="module")
def app(service_settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(service_settings, store), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def north(app: TestClient) -> str:
    """A hub marked on AS_OF; its name."""
    hub = _hub()
    _mark(app, hub)
    return hub


# ---- schema, presets, validate ------------------------------------------------------------------


def test_schema_is_the_published_schema(app: TestClient) -> None:
    response = app.get("/v1/scenarios/schema")
    assert response.status_code == 200, response.text
    assert response.json() == scenario_schema()
    assert "steps" in response.json()["properties"]


def test_presets_name_where_and_when(app: TestClient) -> None:
    response = app.get("/v1/scenarios/presets")
    assert response.status_code == 200, response.text
    presets = {p["name"]: p for p in response.json()}
    uri = presets["uri"]
    assert (uri["iso"], uri["location"]) == ("ERCOT", "HB_NORTH")
    assert uri["start"] <= "2021-02-15" <= uri["end"]
    assert all(p["description"] for p in presets.values())


def test_validate_counts_a_sweeps_points(app: TestClient) -> None:
    response = _text_post(app, "/v1/scenarios/validate", SWEEP.format(gas="0, 1, 2", percent="-5, 5"))
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "grid", "steps": 2, "points": 6}
    json_body = '{"name": "plain", "steps": [{"type": "shift", "percent": 3}]}'
    plain = _text_post(app, "/v1/scenarios/validate", json_body)
    assert plain.json() == {"name": "plain", "steps": 1, "points": 1}


def test_validate_lists_every_problem_with_its_line(app: TestClient) -> None:
    text = "name: gas\nsteps:\n  - type: gas\n    gas_change: lots\n  - type: nope\n"
    response = _text_post(app, "/v1/scenarios/validate", text)
    assert response.status_code == 422, response.text
    error = response.json()
    assert (error["code"], error["parameter"]) == ("invalid_scenario", "scenario")
    assert "line 4" in error["message"] and "gas_change" in error["message"], error["message"]
    assert "line 5" in error["message"], error["message"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "scenario"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"name: [unclosed\n", "line"),
        (b"- just\n- a list\n", "scenario"),
        (b"name: x\nsteps:\n  - {percent: 3}\n", "type"),
    ],
)
def test_malformed_scenarios_are_422_never_500(app: TestClient, body: bytes, words: str) -> None:
    for path in ("/v1/scenarios/validate", "/v1/scenarios"):
        response = _text_post(app, path, body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["parameter"] == "scenario"
        assert words in response.json()["message"], response.json()["message"]


def test_a_sweep_too_large_for_any_surface_is_422_not_500(app: TestClient) -> None:
    values = ", ".join(str(v) for v in range(1000))
    text = SWEEP.format(gas=values, percent=values)  # a million points
    for response in (
        _text_post(app, "/v1/scenarios/validate", text),
        _run(app, text=text, hubs=["HB_NORTH"]),
        app.post("/v1/jobs", json={"kind": "scenario_sweep", "request": {"scenario": text, "hubs": ["X"]}}),
    ):
        assert response.status_code == 422, response.text
        assert "1,000,000 points" in response.json()["message"], response.json()["message"]


def test_a_body_over_the_limit_is_413(app: TestClient) -> None:
    response = _text_post(app, "/v1/scenarios/validate", "#" * (300 * 1024))
    assert response.status_code == 413, response.text


# ---- save and list ------------------------------------------------------------------------------


def test_saving_a_name_again_makes_version_2_and_the_list_shows_the_latest(app: TestClient) -> None:
    name = f"up {uuid.uuid4().hex[:6]}"
    text = f"name: {name}\nsteps:\n  - {{type: shift, percent: 10}}\n"
    first = _text_post(app, "/v1/scenarios", text)
    assert first.status_code == 201, first.text
    assert (first.json()["name"], first.json()["version"]) == (name, 1)
    second = _text_post(app, "/v1/scenarios", text.replace("10", "12"))
    assert (second.status_code, second.json()["version"]) == (201, 2)
    listed = app.get("/v1/scenarios")
    assert listed.status_code == 200, listed.text
    [mine] = [s for s in listed.json() if s["name"] == name]
    assert mine["version"] == 2


# ---- runs ---------------------------------------------------------------------------------------


def _run(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return client.post("/v1/scenarios/run", json=body, headers=headers or {})


def test_a_gas_step_moves_onpeak_by_heat_rate_times_gas(app: TestClient, north: str) -> None:
    response = _run(app, text=GAS, hubs=[north.lower()])
    assert response.status_code == 200, response.text
    run = response.json()
    rates = HeatRates()
    months = run["months"]
    onpeak = [m for m in months if m["block"] == "onpeak"]
    offpeak = [m for m in months if m["block"] == "offpeak"]
    assert {m["month"] for m in onpeak} == {"2027-01", "2027-02", "2027-03"}
    assert all(m["hub"] == north and m["scenario"] == "gas up" for m in months)
    assert all(m["change"] == pytest.approx(rates.onpeak * 1.5) for m in onpeak)
    assert all(m["change"] == pytest.approx(rates.offpeak * 1.5) for m in offpeak)
    jan = next(m for m in onpeak if m["month"] == "2027-01")
    assert jan["base_price"] == pytest.approx(60.0)
    assert jan["price"] == pytest.approx(60.0 + rates.onpeak * 1.5)
    [year] = [r for r in run["summary"] if r["year"] == 2027]
    assert year["hub"] == north and year["onpeak"] > 55.0
    assert len(run["fingerprint"]) == 64 and run["engine_version"]
    assert len(run["base_marks"]) == 1


def test_the_same_inputs_give_the_same_fingerprint(app: TestClient, north: str) -> None:
    first = _run(app, text=GAS, hubs=[north]).json()
    again = _run(app, text=GAS, hubs=[north]).json()
    other = _run(app, text=GAS.replace("1.5", "2"), hubs=[north]).json()
    assert first["id"] != again["id"]
    assert first["fingerprint"] == again["fingerprint"] != other["fingerprint"]


def test_a_saved_scenario_runs_by_name_and_its_run_is_recorded(app: TestClient, north: str) -> None:
    name = f"gas {uuid.uuid4().hex[:6]}"
    text = GAS.replace("gas up", name)
    assert _text_post(app, "/v1/scenarios", text).status_code == 201
    assert _text_post(app, "/v1/scenarios", text.replace("1.5", "3")).status_code == 201
    latest = _run(app, name=name, hubs=[north])
    assert latest.status_code == 200, latest.text
    first = _run(app, name=name, version=1, hubs=[north])
    rates = HeatRates()
    for run, gas in ((latest, 3.0), (first, 1.5)):
        changes = [m["change"] for m in run.json()["months"] if m["block"] == "onpeak"]
        assert changes and all(c == pytest.approx(rates.onpeak * gas) for c in changes)
    run_id = latest.json()["id"]
    one = app.get(f"/v1/scenarios/runs/{run_id}")
    assert one.status_code == 200, one.text
    record = one.json()
    assert (record["scenario_name"], record["scenario_version"]) == (name, 2)
    assert record["fingerprint"] == latest.json()["fingerprint"]
    assert record["base_marks"] == latest.json()["base_marks"]
    assert record["status"] == "succeeded" and record["job_id"] is None
    assert record["summary"]["points"] == 1
    listed = app.get("/v1/scenarios/runs")
    assert listed.status_code == 200
    ids = [r["id"] for r in listed.json()]
    assert run_id in ids and first.json()["id"] in ids
    assert ids.index(first.json()["id"]) < ids.index(run_id)  # newest first: version 1 ran last
    missing = app.get("/v1/scenarios/runs/no-such-run")
    assert missing.status_code == 404 and missing.json()["parameter"] == "run_id"
    unknown = _run(app, name="never saved", hubs=[north])
    assert unknown.status_code == 404 and "never saved" in unknown.json()["message"]


def test_an_unmarked_hub_is_404(app: TestClient) -> None:
    response = _run(app, text=GAS, hubs=["NO_SUCH_HUB"])
    assert response.status_code == 404, response.text
    assert response.json()["parameter"] == "hub" and "NO_SUCH_HUB" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "parameter", "words"),
    [
        ({"hubs": ["X"]}, "text", "name"),
        ({"text": GAS, "name": "gas up", "hubs": ["X"]}, "text", "not both"),
        ({"text": GAS}, "hubs", ""),
        ({"text": GAS, "hubs": []}, "hubs", "at least one"),
        ({"text": GAS, "hubs": "HB_NORTH"}, "hubs", ""),
        ({"text": GAS, "hubs": ["X"], "as_of": "someday"}, "as_of", "date"),
        ({"text": GAS, "hubs": ["X"], "hourly": "perhaps"}, "hourly", ""),
        ({"text": GAS, "hubs": ["X"], "colour": "red"}, "colour", ""),
        ({"text": "name: [", "hubs": ["X"]}, "scenario", "line"),
        ({"text": 5, "hubs": ["X"]}, "text", ""),
    ],
)
def test_malformed_run_requests_are_422_naming_the_field(
    app: TestClient, body: dict[str, Any], parameter: str, words: str
) -> None:
    response = _run(app, **body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["parameter"] == parameter, error
    assert words in error["message"], error["message"]


@pytest.mark.parametrize("body", [b"{", b"[]", b"null", b'"text"'])
def test_a_run_body_that_is_not_a_json_object_is_422(app: TestClient, body: bytes) -> None:
    response = app.post("/v1/scenarios/run", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text


def test_a_run_body_that_is_not_text_is_refused_not_a_crash(app: TestClient) -> None:
    # FastAPI answers undecodable JSON bodies with its own 400, on every JSON-model route alike.
    response = app.post("/v1/scenarios/run", content=b"\xff", headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "body" in response.json()["message"]


def test_a_replay_whose_prices_are_not_stored_names_the_preset(app: TestClient, north: str) -> None:
    response = _run(app, text="name: uri again\nsteps:\n  - {type: replay, preset: uri}\n", hubs=[north])
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert "replay uri" in message and "not in the store" in message, message


def test_a_sweep_over_the_inline_limit_points_at_the_job(app: TestClient, north: str) -> None:
    gas = ", ".join(str(g) for g in range(21))
    percent = ", ".join(str(p) for p in range(-10, 11))
    assert INLINE_SWEEP_MAX < 21 * 21
    response = _run(app, text=SWEEP.format(gas=gas, percent=percent), hubs=[north])
    assert response.status_code == 422, response.text
    assert "441" in response.json()["message"] and "scenario_sweep" in response.json()["message"]


def test_a_small_sweep_runs_inline_with_a_row_per_point(app: TestClient, north: str) -> None:
    response = _run(app, text=SWEEP.format(gas="0, 1", percent="0, 10"), hubs=[north])
    assert response.status_code == 200, response.text
    summary = [r for r in response.json()["summary"] if r["year"] == 2027]
    assert len(summary) == 4
    onpeak = {r["scenario"]: r["onpeak"] for r in summary}
    base = onpeak["grid [s0.gas_change=0, s1.percent=0]"]
    assert onpeak["grid [s0.gas_change=0, s1.percent=10]"] == pytest.approx(base * 1.1)


# ---- the scenario_sweep job ---------------------------------------------------------------------


def _wait(client: TestClient, job_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        response = client.get(f"/v1/jobs/{job_id}", headers=headers or {})
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.1)


def test_the_sweep_job_writes_every_points_years_and_records_its_run(app: TestClient, north: str) -> None:
    gas = ", ".join(str(g / 10) for g in range(-10, 11))  # 21 values
    percent = ", ".join(str(p) for p in range(-5, 6))  # 11 values: 231 points
    request = {"scenario": SWEEP.format(gas=gas, percent=percent), "hubs": [north]}
    submitted = app.post("/v1/jobs", json={"kind": "scenario_sweep", "request": request})
    assert submitted.status_code == 202, submitted.text
    job = _wait(app, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    summary = job["result"]["summary"]
    assert summary["points"] == 231
    assert job["result"]["artifacts"] == ["sweep"]
    download = app.get(job["result"]["download_url"].removeprefix("http://testserver"))
    assert download.status_code == 200, download.text
    table = pq.read_table(io.BytesIO(download.content))
    years = sorted(set(table.column("year").to_pylist()))
    assert years == [2027]
    assert table.num_rows == summary["rows"] == 231 * len(years)
    assert len(set(table.column("scenario").to_pylist())) == 231
    rows = {r["scenario"]: r for r in table.to_pylist()}
    base = rows["grid [s0.gas_change=0, s1.percent=0]"]["onpeak"]
    up = rows["grid [s0.gas_change=0, s1.percent=5]"]["onpeak"]
    assert up == pytest.approx(base * 1.05)
    run = app.get(f"/v1/scenarios/runs/{summary['run']}")
    assert run.status_code == 200, run.text
    assert run.json()["job_id"] == job["id"]
    assert run.json()["fingerprint"] == summary["fingerprint"]
    assert run.json()["artifact_key"] is not None
    listed = {r["id"]: r for r in app.get("/v1/scenarios/runs").json()}
    assert listed[summary["run"]]["job_id"] == job["id"]


@pytest.mark.parametrize(
    ("request_body", "words"),
    [
        ({"scenario": GAS, "hubs": ["X"]}, "sweep"),
        ({"scenario": SWEEP.format(gas="1", percent="2"), "hubs": []}, "hubs"),
        ({"scenario": "name: [", "hubs": ["X"]}, "line"),
    ],
)
def test_a_sweep_job_that_could_never_run_is_refused_at_submit(
    app: TestClient, request_body: dict[str, Any], words: str
) -> None:
    response = app.post("/v1/jobs", json={"kind": "scenario_sweep", "request": request_body})
    assert response.status_code == 422, response.text
    assert words in response.json()["message"], response.json()["message"]


def test_a_sweep_job_on_an_unmarked_hub_fails_naming_it(app: TestClient) -> None:
    request = {"scenario": SWEEP.format(gas="0, 1", percent="0"), "hubs": ["NO_SUCH_HUB"]}
    submitted = app.post("/v1/jobs", json={"kind": "scenario_sweep", "request": request})
    assert submitted.status_code == 202, submitted.text
    job = _wait(app, submitted.json()["id"])
    assert job["status"] == "failed", job
    assert "NO_SUCH_HUB" in job["error"], job["error"]


# ---- the scenario_paths job ---------------------------------------------------------------------

PATHS = (
    "name: spot paths\nseed: 3\nsteps:\n  - {{type: paths, n_paths: {n}, jump_intensity: 20, jump_sd: 0.3}}\n"
)


def test_large_path_sets_are_refused_inline_and_drawn_by_the_paths_job(app: TestClient, north: str) -> None:
    refused = app.post("/v1/scenarios/run", json={"text": PATHS.format(n=100_000), "hubs": [north]})
    assert refused.status_code == 422, refused.text
    assert "scenario_paths" in refused.json()["message"]
    request = {"scenario": PATHS.format(n=300), "hubs": [north]}
    first = _wait(app, app.post("/v1/jobs", json={"kind": "scenario_paths", "request": request}).json()["id"])
    assert first["status"] == "succeeded", first
    summary = first["result"]["summary"]
    table = pq.read_table(
        io.BytesIO(app.get(first["result"]["download_url"].removeprefix("http://testserver")).content)
    )
    hours = table.num_rows // 300
    assert summary["paths"] == 300 and table.num_rows == summary["rows"] == 300 * hours
    assert sorted(set(table.column("path").to_pylist())) == list(range(300))
    for year in summary["years"]:
        assert year["paths"] == 300 and year["p5"] < year["p50"] < year["p95"]
    # The same request draws the same paths, batch by batch: the fingerprint and the prices repeat.
    again = _wait(app, app.post("/v1/jobs", json={"kind": "scenario_paths", "request": request}).json()["id"])
    assert again["result"]["summary"]["fingerprint"] == summary["fingerprint"]
    repeat = pq.read_table(
        io.BytesIO(app.get(again["result"]["download_url"].removeprefix("http://testserver")).content)
    )
    assert repeat.column("price").equals(table.column("price"))


def test_a_paths_job_needs_a_paths_step(app: TestClient, north: str) -> None:
    response = app.post(
        "/v1/jobs", json={"kind": "scenario_paths", "request": {"scenario": GAS, "hubs": [north]}}
    )
    assert response.status_code == 422, response.text
    assert "paths" in response.json()["message"]


# ---- tenants ------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def auth_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, data_dir: Path
) -> Settings:
    """Auth on, with the metadata (tenants, keys, marks, scenarios, runs) in SQLite or PostgreSQL."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('scenario-tenants') / 'metadata.db'}"
    return Settings(data_dir=data_dir, auth=AuthMode.REQUIRED, metadata_url=url, rate_limit_per_s=0)


@pytest.fixture(scope="module")
def tenants(auth_settings: Settings, store: Store) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    keys = {
        "a": make_tenant_key(auth_settings, "scenarios-a"),
        "b": make_tenant_key(auth_settings, "scenarios-b"),
        "plain": make_tenant_key(auth_settings, "scenarios-none", features=["curves"]),
    }
    with TestClient(create_app(auth_settings, store), raise_server_exceptions=False) as c:
        yield c, {name: {"X-API-Key": key} for name, key in keys.items()}


def test_saved_scenarios_and_runs_belong_to_one_tenant(
    tenants: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = tenants
    a, b = keys["a"], keys["b"]
    hub = _hub()
    _mark(client, hub, a)
    _mark(client, hub, b)
    name = f"mine {uuid.uuid4().hex[:6]}"
    assert _text_post(client, "/v1/scenarios", GAS.replace("gas up", name), **a).status_code == 201
    assert name in [s["name"] for s in client.get("/v1/scenarios", headers=a).json()]
    assert name not in [s["name"] for s in client.get("/v1/scenarios", headers=b).json()]
    assert _run(client, b, name=name, hubs=[hub]).status_code == 404
    run = _run(client, a, name=name, hubs=[hub])
    assert run.status_code == 200, run.text
    run_id = run.json()["id"]
    assert client.get(f"/v1/scenarios/runs/{run_id}", headers=a).status_code == 200
    assert client.get(f"/v1/scenarios/runs/{run_id}", headers=b).status_code == 404
    assert run_id not in [r["id"] for r in client.get("/v1/scenarios/runs", headers=b).json()]
    # B saving the same name starts B's own versions.
    theirs = _text_post(client, "/v1/scenarios", GAS.replace("gas up", name), **b)
    assert theirs.json()["version"] == 1


def test_a_run_uses_the_callers_mark_not_another_tenants(
    tenants: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = tenants
    hub = _hub()
    _mark(client, hub, keys["a"])
    response = _run(client, keys["b"], text=GAS, hubs=[hub])
    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/scenarios/validate", GAS),
        ("POST", "/v1/scenarios", GAS),
        ("GET", "/v1/scenarios", None),
        ("POST", "/v1/scenarios/run", None),
        ("GET", "/v1/scenarios/runs", None),
        ("GET", "/v1/scenarios/runs/any", None),
    ],
)
def test_a_tenant_without_the_scenarios_feature_gets_403(
    tenants: tuple[TestClient, dict[str, dict[str, str]]], method: str, path: str, body: str | None
) -> None:
    client, keys = tenants
    if path.endswith("/run"):
        response = client.post(path, json={"text": GAS, "hubs": ["HB_NORTH"]}, headers=keys["plain"])
    else:
        response = client.request(method, path, content=body, headers=keys["plain"])
    assert response.status_code == 403, response.text
    assert "scenarios" in response.json()["message"]


def test_a_sweep_job_needs_the_scenarios_feature(
    tenants: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = tenants
    request = {"scenario": SWEEP.format(gas="1", percent="2"), "hubs": ["HB_NORTH"]}
    body = {"kind": "scenario_sweep", "request": request}
    response = client.post("/v1/jobs", json=body, headers=keys["plain"])
    assert response.status_code == 403, response.text
    assert "scenarios" in response.json()["message"]


def test_scenarios_need_credentials(tenants: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, _ = tenants
    assert client.get("/v1/scenarios").status_code == 401


# ---- GraphQL ------------------------------------------------------------------------------------

VALIDATE = "mutation($text: String!) { validateScenario(text: $text) { name steps points } }"
SAVE = "mutation($text: String!) { saveScenario(text: $text) { name version createdAt } }"
RUN = """
mutation($hubs: [String!]!, $text: String, $name: String, $version: Int, $asOf: String) {
  runScenario(hubs: $hubs, text: $text, name: $name, version: $version, asOf: $asOf) {
    id fingerprint engineVersion baseMarks simulated
    summary { scenario hub year onpeak offpeak atc p50 }
    months { scenario hub month block basePrice price change }
  }
}
"""
RUNS = "{ scenarioRuns { id scenarioName scenarioVersion fingerprint baseMarks jobId status summary } }"


def _graphql(client: TestClient, query: str, headers: dict[str, str] | None = None, **variables: Any) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers or {})
    assert response.status_code in (200, 400, 403, 422), response.text
    return response.json()


def test_graphql_validates_with_the_rest_codes(app: TestClient) -> None:
    good = _graphql(app, VALIDATE, text=SWEEP.format(gas="0, 1, 2", percent="-5, 5"))
    assert good["data"]["validateScenario"] == {"name": "grid", "steps": 2, "points": 6}
    bad = _graphql(
        app, VALIDATE, text="name: gas\nsteps:\n  - type: gas\n    gas_change: lots\n  - type: x\n"
    )
    [error] = bad["errors"]
    assert error["extensions"]["code"] == "INVALID_SCENARIO" and error["extensions"]["status"] == 422
    assert "line 4" in error["message"] and "line 5" in error["message"]
    values = ", ".join(str(v) for v in range(1000))
    huge = _graphql(app, VALIDATE, text=SWEEP.format(gas=values, percent=values))
    assert "1,000,000 points" in huge["errors"][0]["message"]


def test_graphql_saves_runs_and_lists_like_rest(app: TestClient, north: str) -> None:
    name = f"gql {uuid.uuid4().hex[:6]}"
    text = GAS.replace("gas up", name)
    first = _graphql(app, SAVE, text=text)
    assert "errors" not in first, first
    assert first["data"]["saveScenario"]["version"] == 1
    assert _graphql(app, SAVE, text=text.replace("1.5", "3"))["data"]["saveScenario"]["version"] == 2
    listed = _graphql(app, "{ scenarios { name version } }")["data"]["scenarios"]
    assert {"name": name, "version": 2} in listed
    ran = _graphql(app, RUN, hubs=[north], name=name, version=1)
    assert "errors" not in ran, ran
    run = ran["data"]["runScenario"]
    rates = HeatRates()
    onpeak = [m["change"] for m in run["months"] if m["block"] == "onpeak"]
    assert len(onpeak) == 3 and all(c == pytest.approx(rates.onpeak * 1.5) for c in onpeak)
    jan = next(m for m in run["months"] if (m["month"], m["block"]) == ("2027-01", "onpeak"))
    assert jan["basePrice"] == pytest.approx(60.0)
    # The same run over REST gives the same fingerprint.
    rest = _run(app, text=text, hubs=[north]).json()
    assert rest["fingerprint"] == run["fingerprint"]
    inline = _graphql(app, RUN, hubs=[north], text=text)["data"]["runScenario"]
    assert inline["fingerprint"] == run["fingerprint"] and inline["id"] != run["id"]
    records = {r["id"]: r for r in _graphql(app, RUNS)["data"]["scenarioRuns"]}
    recorded = records[run["id"]]
    assert (recorded["scenarioName"], recorded["scenarioVersion"]) == (name, 1)
    assert recorded["baseMarks"] == run["baseMarks"] and recorded["summary"]["points"] == 1
    one = _graphql(app, "query($id: ID!) { scenarioRun(id: $id) { fingerprint } }", id=run["id"])
    assert one["data"]["scenarioRun"]["fingerprint"] == run["fingerprint"]


@pytest.mark.parametrize(
    ("variables", "code", "parameter"),
    [
        ({"hubs": ["NO_SUCH_HUB"], "text": GAS}, "CURVE_NOT_FOUND", "hub"),
        ({"hubs": ["HB_NORTH"]}, "INVALID_PARAMETER", "text"),
        ({"hubs": ["HB_NORTH"], "text": GAS, "asOf": "someday"}, "INVALID_PARAMETER", "asOf"),
        ({"hubs": ["HB_NORTH"], "name": "never saved"}, "SCENARIO_NOT_FOUND", "scenario"),
        ({"hubs": [], "text": GAS}, "INVALID_PARAMETER", "hubs"),
    ],
)
def test_graphql_run_errors_carry_the_rest_codes(
    app: TestClient, variables: dict[str, Any], code: str, parameter: str
) -> None:
    answer = _graphql(app, RUN, **variables)
    [error] = answer["errors"]
    assert (error["extensions"]["code"], error["extensions"]["parameter"]) == (code, parameter), error
    if parameter == "asOf":
        assert error["message"].startswith("asOf: ")


def test_graphql_replay_without_prices_names_the_preset(app: TestClient, north: str) -> None:
    replay = "name: uri again\nsteps:\n  - {type: replay, preset: uri}\n"
    [error] = _graphql(app, RUN, hubs=[north], text=replay)["errors"]
    assert error["extensions"]["code"] == "SCENARIO_FAILED" and "replay uri" in error["message"]


def test_graphql_scenario_runs_lists_the_sweep_jobs_run(app: TestClient, north: str) -> None:
    request = {"scenario": SWEEP.format(gas="0, 1", percent="0, 5"), "hubs": [north]}
    submitted = app.post("/v1/jobs", json={"kind": "scenario_sweep", "request": request})
    job = _wait(app, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    runs = {r["id"]: r for r in _graphql(app, RUNS)["data"]["scenarioRuns"]}
    assert runs[job["result"]["summary"]["run"]]["jobId"] == job["id"]
    bad = _graphql(app, "{ scenarioRuns(limit: 0) { id } }")
    assert bad["errors"][0]["extensions"]["parameter"] == "limit"


def test_graphql_scenarios_respect_tenants_and_the_feature(
    tenants: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, keys = tenants
    hub = _hub()
    _mark(client, hub, keys["a"])
    name = f"gql tenant {uuid.uuid4().hex[:6]}"
    saved = _graphql(client, SAVE, keys["a"], text=GAS.replace("gas up", name))
    assert saved["data"]["saveScenario"]["version"] == 1
    ran = _graphql(client, RUN, keys["a"], hubs=[hub], name=name)
    run_id = ran["data"]["runScenario"]["id"]
    theirs = _graphql(client, "{ scenarios { name } }", keys["b"])["data"]["scenarios"]
    assert name not in [s["name"] for s in theirs]
    assert _graphql(client, RUN, keys["b"], hubs=[hub], text=GAS)["errors"][0]["extensions"]["status"] == 404
    assert run_id not in [r["id"] for r in _graphql(client, RUNS, keys["b"])["data"]["scenarioRuns"]]
    other = _graphql(client, "query($id: ID!) { scenarioRun(id: $id) { id } }", keys["b"], id=run_id)
    assert other["errors"][0]["extensions"]["code"] == "RUN_NOT_FOUND"
    for query, variables in (
        (VALIDATE, {"text": GAS}),
        (SAVE, {"text": GAS}),
        (RUN, {"hubs": [hub], "text": GAS}),
        ("{ scenarios { name } }", {}),
        (RUNS, {}),
    ):
        refused = _graphql(client, query, keys["plain"], **variables)
        assert refused["errors"][0]["extensions"]["status"] == 403, (query, refused)
        assert "scenarios" in refused["errors"][0]["message"]
