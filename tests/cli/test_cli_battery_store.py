"""`carbon254 battery optimize` against the store, and the generated `battery revenue` / `battery dispatch`.

The store mode prints the revenue stack by month (or the service's JSON
document) for the same run the application layer makes; `--chart` writes a
PNG; refusals name the option; `--prices` keeps its own contract (tested in
test_cli_battery.py) and refuses store options beside it.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.application.identity import ANONYMOUS
from carbon254.application.operations.battery import (
    BATTERY_OPTIMIZE,
    BatteryOptimizeRequest,
    battery_result,
)
from carbon254.cli.main import app
from carbon254.config import Settings
from carbon254.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "application"))
from battery_data import GAP_NODE, HUB, fill_battery_store

STORE_RUN = ["--location", HUB, "--start", "2024-01-01", "--end", "2024-01-08", "--power-mw", "100"]
STORE_RUN += ["--energy-mwh", "400"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("battery-cli")
    store = open_store(path)
    try:
        fill_battery_store(store)
    finally:
        store.close()
    yield path


def _flat(text: str) -> str:
    return " ".join(text.split())


def _invoke(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["battery", "optimize", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def _expected_net(data_dir: Path, **fields: object) -> float:
    store = open_store(data_dir)
    try:
        request = BatteryOptimizeRequest.model_validate(
            {"location": HUB, "start": "2024-01-01", "end": "2024-01-08", "power_mw": 100, "energy_mwh": 400}
            | fields
        )
        call = BATTERY_OPTIMIZE.call(store, Settings(data_dir=data_dir), ANONYMOUS, request)
        return battery_result(call, store).summary.net_revenue
    finally:
        store.close()


def test_store_mode_prints_the_revenue_stack_of_the_run(runner: CliRunner, data_dir: Path) -> None:
    code, output = _invoke(runner, data_dir, *STORE_RUN)
    assert code == 0, output
    flat = _flat(output)
    assert "ERCOT HB_NORTH DAM" in flat and "simulated data" in flat
    assert "2024-01" in flat and "total" in flat and "REGUP" in flat
    assert f"Net revenue ${_expected_net(data_dir):,.0f}" in flat


def test_store_mode_json_is_the_service_document(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    chart = tmp_path / "week.png"
    code, output = _invoke(
        runner, data_dir, *STORE_RUN, "--services", "none", "--format", "json", "--chart", str(chart)
    )
    assert code == 0, output
    doc = json.loads(output)
    assert doc["summary"]["services"] == [] and set(doc["summary"]["revenue_by_stream"]) >= {"energy"}
    assert doc["summary"]["net_revenue"] == pytest.approx(_expected_net(data_dir, services="none"))
    assert doc["stack"][-1]["month"] == "total"
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_store_mode_refusals_name_the_option(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    code, output = _invoke(runner, data_dir, *STORE_RUN, "--round-trip-efficiency", "1.5")
    assert code == 1 and "--round-trip-efficiency" in _flat(output)
    code, output = _invoke(runner, data_dir, *STORE_RUN, "--services", "SPINNING")
    assert code == 1 and "--services" in _flat(output)
    gap = [*STORE_RUN, "--location", GAP_NODE, "--end", "2024-01-20", "--services", "none"]
    code, output = _invoke(runner, data_dir, *gap)
    assert code == 1 and "--location" in _flat(output) and "2024-01-10T06:00Z" in _flat(output)
    code, output = _invoke(runner, data_dir, *STORE_RUN, "--chart", str(tmp_path / "week.svg"))
    assert code == 1 and "--chart" in _flat(output)
    code, output = _invoke(runner, data_dir, "--power-mw", "1", "--energy-mwh", "2")
    assert code == 1 and "--prices" in _flat(output) and "--location" in _flat(output)


def test_prices_mode_refuses_store_options(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    prices = tmp_path / "prices.csv"
    prices.write_text("interval_start,price\n2024-06-01T00:00Z,10\n2024-06-01T01:00Z,50\n")
    asset = ["--power-mw", "1", "--energy-mwh", "2", "--round-trip-efficiency", "0.81"]
    code, output = _invoke(
        runner, data_dir, "--prices", str(prices), *asset, "--initial-soc-mwh", "0", "--iso", "ERCOT"
    )
    assert code == 1 and "--iso" in _flat(output) and "--prices" in _flat(output)
    code, output = _invoke(runner, data_dir, "--prices", str(prices), *asset)
    assert code == 1 and "--initial-soc-mwh" in _flat(output)


def test_generated_revenue_and_dispatch_commands(runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    common = [*STORE_RUN, "--iso", "ERCOT", "--data-dir", str(data_dir)]
    result = runner.invoke(app, ["battery", "revenue", *common])
    assert result.exit_code == 0, result.output
    assert "net_revenue" in _flat(result.output)
    out = tmp_path / "dispatch.csv"
    result = runner.invoke(app, ["battery", "dispatch", *common, "--output", str(out)])
    assert result.exit_code == 0, result.output
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 * 24 and rows[0]["interval_start"].endswith("-06:00")
    assert all(float(r["soc_mwh"]) <= 400 + 1e-6 for r in rows)
