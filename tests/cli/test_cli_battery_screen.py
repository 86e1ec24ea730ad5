"""`carbon254 battery screen`: a battery at every simulated ERCOT location, ranked, as a job in process."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from carbon254.cli.main import app
from carbon254.jobs import JobState, JobStatus
from carbon254.metadata import MetadataDatabase
from carbon254.store import open_store

WINDOW = ["--iso", "ercot", "--start", "2025-01-01", "--end", "2025-01-03"]
BATTERY = ["--power-mw", "100", "--energy-mwh", "200", "--round-trip-efficiency", "0.85"]


@pytest.fixture(autouse=True)
def _one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON254_COMPUTE", "local://?processes=1")
    monkeypatch.setenv("CARBON254_JOB_POLL_S", "0.05")


def _screen(runner: CliRunner, sim_dir: Path, *args: str) -> Result:
    return runner.invoke(app, ["battery", "screen", *WINDOW, *BATTERY, "--data-dir", str(sim_dir), *args])


def _catalog(sim_dir: Path) -> list[str]:
    store = open_store(sim_dir)
    try:
        return list(store.locations(iso="ERCOT").column("location").to_pylist())
    finally:
        store.close()


def _document(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_every_location_is_ranked_by_net_revenue_and_the_top_printed_as_json(
    runner: CliRunner, sim_dir: Path
) -> None:
    document = _document(_screen(runner, sim_dir, "--format", "json", "--top", "4"))
    assert document["nodes"] == len(_catalog(sim_dir)) == document["ranked"] + document["skipped"]
    top = document["top"]
    assert [row["rank"] for row in top] == [1, 2, 3, 4]
    revenues = [row["net_revenue"] for row in top]
    assert revenues == sorted(revenues, reverse=True) and revenues[0] > 0
    for row in top:
        # No degradation cost asked: net is the energy revenue; the battery cycled and kept its SOC.
        assert row["net_revenue"] == pytest.approx(row["energy_revenue"])
        assert row["discharged_mwh"] < row["charged_mwh"]
        assert row["intervals"] == 48 and row["missing_intervals"] == 0
    job = JobState(MetadataDatabase(f"sqlite:///{sim_dir / 'metadata.db'}")).get(document["job"])
    assert (job.status, job.tenant, job.kind) == (JobStatus.SUCCEEDED, "anonymous", "battery_screen")


def test_the_top_node_earns_what_battery_optimize_gives_on_its_prices(
    runner: CliRunner, sim_dir: Path, tmp_path: Path
) -> None:
    best = _document(_screen(runner, sim_dir, "--format", "json", "--top", "1"))["top"][0]
    rows = tmp_path / "rows.csv"
    queried = runner.invoke(
        app, ["query", *WINDOW, "--market", "DAM", "--locations", best["location"],
              "--data-dir", str(sim_dir), "-o", str(rows)],
    )  # fmt: skip
    assert queried.exit_code == 0, queried.output
    with rows.open() as f:
        series = [(r["interval_start"], r["lmp"]) for r in csv.DictReader(f)]
    prices = tmp_path / "prices.csv"
    prices.write_text("interval_start,price\n" + "".join(f"{t},{p}\n" for t, p in series))
    # The screen starts (and ends) half full by default.
    optimized = runner.invoke(
        app, ["battery", "optimize", "--prices", str(prices), *BATTERY, "--initial-soc-mwh", "100",
              "--format", "json"],
    )  # fmt: skip
    assert optimized.exit_code == 0, optimized.output
    assert best["energy_revenue"] == pytest.approx(json.loads(optimized.stdout)["revenue"], rel=1e-6)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_the_whole_ranking_is_written_to_the_output(
    runner: CliRunner, sim_dir: Path, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"ranking.{suffix}"
    result = _screen(runner, sim_dir, "--degradation-cost", "2", "--output", str(path))
    assert result.exit_code == 0, result.output
    table = pacsv.read_csv(path) if suffix == "csv" else pq.read_table(path)
    assert sorted(table.column("location").to_pylist()) == sorted(_catalog(sim_dir))
    net = table.column("net_revenue").to_pylist()
    assert net == sorted(net, reverse=True)
    for row in table.to_pylist():
        assert row["degradation_cost"] == pytest.approx(2 * row["discharged_mwh"])
    printed = " ".join(result.output.split())
    assert f"Wrote the ranking of {table.num_rows} locations to {path}" in printed
    # The table on the terminal: its title and the best location first.
    assert f"at {table.num_rows} ERCOT DAM locations, 2025-01-01 to 2025-01-03" in printed
    assert re.search(rf"│\s+1 │ {re.escape(table.column('location')[0].as_py()[:6])}", result.output)


def test_named_locations_on_five_minute_prices(runner: CliRunner, sim_dir: Path) -> None:
    names = sorted(_catalog(sim_dir))[:2]
    args = ["--market", "rt5", "--locations", ",".join(n.lower() for n in names), "--format", "json"]
    document = _document(_screen(runner, sim_dir, *args))
    assert sorted(row["location"] for row in document["top"]) == names
    assert all(row["intervals"] == 2 * 24 * 12 for row in document["top"])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["--power-mw", "-5"], "--power-mw: Input should be greater than 0"),
        (["--round-trip-efficiency", "1.2"], "--round-trip-efficiency: Input should be less than or equal"),
        (["--initial-soc-mwh", "500"], "--initial-soc-mwh: 500.0 MWh is outside the SOC bounds"),
        (["--locations", "HB_NOWHERE"], "--locations: unknown ERCOT location(s): 'HB_NOWHERE' Did you mean"),
        (["--market", "XYZ"], "--market: unknown ERCOT lmp market: 'XYZ'"),
        (["--end", "2024-12-31"], "--end: end (2024-12-31T00:00:00+00:00) must be after start"),
        (["--output", "ranking.xlsx"], "--output must end in .csv or .parquet, got 'ranking.xlsx'"),
        (["--locations", "HB_NORTH", "--location-type", "node"], "--location-type: location_type filters"),
    ],
)
def test_a_bad_option_is_named(runner: CliRunner, sim_dir: Path, bad: list[str], message: str) -> None:
    result = _screen(runner, sim_dir, *bad)
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split())
