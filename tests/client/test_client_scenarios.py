"""The SDK's scenario methods against the service's own code (local mode).

A hub is marked with `mark_curve`; a gas step then moves every onpeak month
by the default onpeak heat rate x the gas change (checked from `HeatRates`).
Scenarios go in as text or files, runs come back typed with their rows as
frames, saved scenarios run by name and version, and a sweep is a `Job`
whose Parquet file has a row per point and year. Errors are the SDK's own
types carrying the service's message. The answer models keep the service's
fields.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel

from carbon254.application.scenarios import summary_rows
from carbon254.client import (
    AsyncClient,
    Client,
    InvalidRequest,
    NotFound,
    ScenarioChecked,
    ScenarioPreset,
    ScenarioRun,
    ScenarioRunRecord,
    ScenarioSaved,
    ScenarioYear,
)
from carbon254.scenarios.model import HeatRates
from carbon254.schema import TIMESTAMP
from carbon254.service.routes import scenarios as routes
from carbon254.store import open_store

AS_OF = date(2026, 12, 4)
QUOTES: list[dict[str, Any]] = [
    {"start": "2027-01-01", "end": "2027-02-01", "block": "onpeak", "price": 60.0},
    {"start": "2027-02-01", "end": "2027-03-01", "block": "onpeak", "price": 55.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "offpeak", "price": 40.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "onpeak", "price": 55.0},
]
REPLAY = "name: uri again\nsteps:\n  - {type: replay, preset: uri}\n"
GAS = "name: gas up\nsteps:\n  - type: gas\n    gas_change: 1.5\n"
SWEEP = """name: grid
steps:
  - {{type: gas, gas_change: 0}}
  - {{type: shift, percent: 0, blocks: [onpeak]}}
sweep:
  - {{step: 0, parameter: gas_change, values: [{gas}]}}
  - {{step: 1, parameter: percent, values: [{percent}]}}
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a week of HB_NORTH day-ahead prices (a store is made by its first write)."""
    path = tmp_path_factory.mktemp("sdk-scenarios")
    hours = 7 * 24
    first = np.datetime64("2026-11-20T06:00", "us")
    starts = first + np.arange(hours) * np.timedelta64(3600, "s")
    prices = 30.0 + (np.arange(hours) % 24)
    table = pa.table(
        {
            "iso": ["ERCOT"] * hours,
            "market": ["DAM"] * hours,
            "location": ["HB_NORTH"] * hours,
            "location_type": ["hub"] * hours,
            "interval_start": pa.array(starts).cast(TIMESTAMP),
            "interval_end": pa.array(starts + np.timedelta64(3600, "s")).cast(TIMESTAMP),
            "lmp": prices,
            "energy": prices,
            "congestion": np.zeros(hours),
            "loss": np.zeros(hours),
            "published_at": pa.array([datetime(2026, 11, 19, tzinfo=UTC)] * hours, TIMESTAMP),
        }
    )
    store = open_store(path)
    try:
        store.write("lmp", table)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[Client]:
    with Client.local(data_dir) as made:
        made.mark_curve(iso="ERCOT", hub="HB_NORTH", as_of=AS_OF, quotes=QUOTES)
        yield made


def _onpeak_changes(run: ScenarioRun) -> list[float]:
    return [m.change for m in run.months if m.block == "onpeak"]


def test_validate_takes_text_or_a_file_and_counts_points(client: Client, tmp_path: Path) -> None:
    checked = client.validate_scenario(SWEEP.format(gas="0, 1, 2", percent="-5, 5"))
    assert checked == ScenarioChecked(name="grid", steps=2, points=6)
    path = tmp_path / "gas.yaml"
    path.write_text(GAS)
    for given in (path, str(path)):
        assert client.validate_scenario(given) == ScenarioChecked(name="gas up", steps=1, points=1)


def test_validate_raises_invalid_request_naming_each_line(client: Client, tmp_path: Path) -> None:
    text = "name: gas\nsteps:\n  - type: gas\n    gas_change: lots\n  - type: nope\n"
    with pytest.raises(InvalidRequest) as caught:
        client.validate_scenario(text)
    assert caught.value.status == 422 and caught.value.code == "invalid_scenario"
    assert "line 4" in str(caught.value) and "line 5" in str(caught.value)
    with pytest.raises(InvalidRequest) as unreadable:
        client.validate_scenario(str(tmp_path / "missing.yaml"))
    assert unreadable.value.parameter == "scenario" and "cannot read" in str(unreadable.value)
    with pytest.raises(InvalidRequest):
        client.validate_scenario(42)  # type: ignore[arg-type]


def test_save_makes_versions_and_the_list_shows_the_latest(client: Client) -> None:
    text = "name: up ten\nsteps:\n  - {type: shift, percent: 10}\n"
    first = client.save_scenario(text)
    second = client.save_scenario(text.replace("10", "12"))
    assert isinstance(first, ScenarioSaved) and (first.version, second.version) == (1, 2)
    assert first.created_at.tzinfo is not None
    [listed] = [s for s in client.scenarios() if s.name == "up ten"]
    assert listed.version == 2


def test_presets_are_typed(client: Client) -> None:
    presets = {p.name: p for p in client.scenario_presets()}
    assert isinstance(presets["uri"], ScenarioPreset) and presets["uri"].iso == "ERCOT"


def test_a_gas_run_moves_onpeak_by_heat_rate_times_gas_with_frames(client: Client) -> None:
    run = client.run_scenario(text=GAS, hubs="hb_north")
    rates = HeatRates()
    changes = _onpeak_changes(run)
    assert len(changes) == 3 and all(c == pytest.approx(rates.onpeak * 1.5) for c in changes)
    assert len(run.fingerprint) == 64 and len(run.base_marks) == 1 and not run.simulated
    months = run.months_frame()
    assert isinstance(months, pd.DataFrame)
    assert list(months.columns) == ["scenario", "hub", "month", "block", "base_price", "price", "change"]
    jan = months[(months["month"] == "2027-01") & (months["block"] == "onpeak")].iloc[0]
    assert jan["base_price"] == pytest.approx(60.0)
    assert jan["price"] == pytest.approx(60.0 + rates.onpeak * 1.5)
    summary = run.summary_frame(frame="polars")
    assert isinstance(summary, pl.DataFrame)
    assert summary.filter(pl.col("year") == 2027).height == 1
    table = run.summary_frame(frame="arrow")
    assert isinstance(table, pa.Table) and table.schema.field("p50").type == pa.float64()
    with pytest.raises(ValueError, match="frame"):
        run.months_frame(frame="excel")  # type: ignore[arg-type]


def test_a_run_from_a_file_matches_the_same_text(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "gas.yaml"
    path.write_text(GAS)
    from_file = client.run_scenario(path=path, hubs=["HB_NORTH"], iso="ERCOT", as_of=AS_OF)
    from_text = client.run_scenario(text=GAS, hubs=["HB_NORTH"], as_of="2026-12-04")
    assert from_file.fingerprint == from_text.fingerprint and from_file.id != from_text.id


def test_saved_scenarios_run_by_name_and_version_and_runs_are_recorded(client: Client) -> None:
    client.save_scenario(GAS.replace("gas up", "gas saved"))
    client.save_scenario(GAS.replace("gas up", "gas saved").replace("1.5", "3"))
    latest = client.run_scenario(name="gas saved", hubs=["HB_NORTH"])
    first = client.run_scenario(name="gas saved", version=1, hubs=["HB_NORTH"])
    rates = HeatRates()
    assert all(c == pytest.approx(rates.onpeak * 3) for c in _onpeak_changes(latest))
    assert all(c == pytest.approx(rates.onpeak * 1.5) for c in _onpeak_changes(first))
    record = client.scenario_run(latest.id)
    assert isinstance(record, ScenarioRunRecord)
    assert (record.scenario_name, record.scenario_version) == ("gas saved", 2)
    assert record.fingerprint == latest.fingerprint and record.base_marks == latest.base_marks
    assert record.job_id is None and record.status == "succeeded"
    assert {latest.id, first.id} <= {r.id for r in client.scenario_runs()}
    with pytest.raises(NotFound) as unknown:
        client.scenario_run("no-such-run")
    assert unknown.value.parameter == "run_id"
    with pytest.raises(NotFound):
        client.run_scenario(name="never saved", hubs=["HB_NORTH"])


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({}, "none"),
        ({"text": GAS, "name": "gas up"}, "text and name"),
        ({"text": GAS, "path": "gas.yaml"}, "text and path"),
    ],
)
def test_a_run_needs_exactly_one_scenario_source(client: Client, options: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        client.run_scenario(hubs=["HB_NORTH"], **options)
    assert caught.value.parameter == "text" and words in str(caught.value)


def test_run_errors_are_the_services(client: Client) -> None:
    with pytest.raises(NotFound) as unmarked:
        client.run_scenario(text=GAS, hubs=["NO_SUCH_HUB"])
    assert unmarked.value.parameter == "hub"
    with pytest.raises(InvalidRequest) as replay:
        client.run_scenario(
            text="name: uri again\nsteps:\n  - {type: replay, preset: uri}\n", hubs="HB_NORTH"
        )
    assert "replay uri" in str(replay.value) and "not in the store" in str(replay.value)
    gas = ", ".join(str(g) for g in range(21))
    with pytest.raises(InvalidRequest) as large:
        client.run_scenario(text=SWEEP.format(gas=gas, percent=gas), hubs="HB_NORTH")
    assert "scenario_sweep" in str(large.value)
    with pytest.raises(InvalidRequest) as day:
        client.run_scenario(text=GAS, hubs="HB_NORTH", as_of="someday")
    assert day.value.parameter == "as_of"


def test_a_sweep_is_a_job_whose_file_has_a_row_per_point_and_year(client: Client, tmp_path: Path) -> None:
    gas = ", ".join(str(g / 10) for g in range(-10, 11))  # 21 values
    percent = ", ".join(str(p) for p in range(-5, 6))  # 11: 231 points, over the inline limit
    path = tmp_path / "grid.yaml"
    path.write_text(SWEEP.format(gas=gas, percent=percent))
    job = client.sweep(path=path, hubs=["HB_NORTH"], iso="ERCOT", as_of=AS_OF)
    info = job.wait(timeout_s=180)
    assert info.result is not None
    summary = info.result.summary
    assert summary["points"] == 231
    target = job.download(tmp_path / "sweep.parquet")
    table = pq.read_table(target)
    assert table.num_rows == summary["rows"] == 231  # one hub, one delivery year
    rows = {r["scenario"]: r for r in table.to_pylist()}
    base = rows["grid [s0.gas_change=0, s1.percent=0]"]["onpeak"]
    assert rows["grid [s0.gas_change=0, s1.percent=5]"]["onpeak"] == pytest.approx(base * 1.05)
    record = client.scenario_run(str(summary["run"]))
    assert record.job_id == job.id and record.fingerprint == summary["fingerprint"]
    with pytest.raises(InvalidRequest) as no_sweep:
        client.sweep(text=GAS, hubs=["HB_NORTH"])
    assert "sweep" in str(no_sweep.value)


def test_the_async_client_has_the_same_methods(data_dir: Path, client: Client) -> None:
    async def run() -> tuple[ScenarioChecked, ScenarioRun, list[ScenarioRunRecord], dict[str, Any]]:
        async with AsyncClient.local(data_dir) as made:
            checked = await made.validate_scenario(GAS)
            saved = await made.save_scenario(GAS.replace("gas up", "gas async"))
            assert saved.version == 1 and "gas async" in {s.name for s in await made.scenarios()}
            assert await made.scenario_presets()
            ran = await made.run_scenario(name="gas async", hubs=["HB_NORTH"])
            assert (await made.scenario_run(ran.id)).fingerprint == ran.fingerprint
            with pytest.raises(InvalidRequest):
                await made.run_scenario(hubs=["HB_NORTH"])
            job = await made.sweep(text=SWEEP.format(gas="0, 1", percent="0, 10"), hubs=["HB_NORTH"])
            info = await job.wait(timeout_s=180)
            assert info.result is not None
            return checked, ran, await made.scenario_runs(), dict(info.result.summary)

    checked, ran, runs, summary = asyncio.run(run())
    assert checked.points == 1
    assert all(c == pytest.approx(HeatRates().onpeak * 1.5) for c in _onpeak_changes(ran))
    assert ran.id in {r.id for r in runs}
    assert summary["points"] == 4


def _fields(model: type) -> set[str]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return set(model.model_fields)
    return {f.name for f in dataclasses.fields(model)}


@pytest.mark.parametrize(
    ("sdk_model", "server_model"),
    [
        (ScenarioChecked, routes.ScenarioChecked),
        (ScenarioSaved, routes.ScenarioSaved),
        (ScenarioPreset, routes.Preset),
        (ScenarioRun, routes.RunOut),
        (ScenarioRunRecord, routes.RunRecordOut),
    ],
)
def test_answer_models_have_the_servers_fields(sdk_model: type, server_model: type) -> None:
    assert _fields(sdk_model) == _fields(server_model)


def test_summary_rows_have_the_applications_columns() -> None:
    assert list(ScenarioYear.model_fields) == summary_rows([]).column_names
