"""`carbon254 spreads`: the spreads operation's command, generated from its declaration."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from carbon254.application.identity import ANONYMOUS
from carbon254.application.operations import SPREADS
from carbon254.cli.main import app
from carbon254.config import Settings
from carbon254.store import open_store

BASIS = ["--iso", "ercot", "--market", "DAM", "--location", "hb_west", "--minus", "HB_NORTH"]
DAY = ["--start", "2025-01-01", "--end", "2025-01-02"]
# The same request as the application layer's fields.
BASIS_DAY = {
    "iso": "ERCOT",
    "market": "DAM",
    "location": "HB_WEST",
    "minus": "HB_NORTH",
    "start": "2025-01-01",
    "end": "2025-01-02",
}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _spreads(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["spreads", "--data-dir", str(data_dir), *args])
    return result.exit_code, _flat(result.output)


def _expected(data_dir: Path, **fields: object) -> list[float]:
    """The spreads the application layer computes, for comparison with what the command shows."""
    store = open_store(data_dir)
    try:
        request = SPREADS.parse(fields)
        answer = SPREADS.call(store, Settings(data_dir=data_dir), ANONYMOUS, request).answer(store)
    finally:
        store.close()
    values: list[float] = answer.table.column("spread").to_pylist()
    return values


def test_table_title_names_the_pair_and_stats_follow(runner: CliRunner, sim_dir: Path) -> None:
    code, out = _spreads(runner, sim_dir, *BASIS, *DAY, "--limit", "3", "--stats", "--threshold", "0")
    assert code == 0, out
    assert (
        "spreads ($/MWh) · iso ERCOT · location HB_WEST · minus HB_NORTH · times UTC · simulated data" in out
    )
    assert "24 rows in all; showing 3." in out
    expected = _expected(sim_dir, **BASIS_DAY)
    assert f"│ {expected[0]:,.2f} │" in out
    assert "Statistics ($/MWh, duration-weighted)" in out
    assert "share_above" in out and "p95" in out


def test_output_dash_writes_only_csv_even_with_stats(runner: CliRunner, sim_dir: Path) -> None:
    result = runner.invoke(
        app, ["spreads", "--data-dir", str(sim_dir), *BASIS, *DAY, "--stats", "--output", "-"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert len(rows) == 24
    assert "Statistics" not in result.stdout
    assert [float(r["spread"]) for r in rows] == _expected(sim_dir, **BASIS_DAY)


def test_output_file_holds_every_row(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "basis.csv"
    code, out = _spreads(runner, sim_dir, *BASIS, *DAY, "--tz", "iso", "--output", str(target))
    assert code == 0, out
    assert f"Wrote 24 rows of spreads ($/MWh, times America/Chicago) to {target}" in _flat(out)
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 24
    assert rows[0]["interval_start"].endswith("-06:00")
    assert [float(r["spread"]) for r in rows] == _expected(sim_dir, **BASIS_DAY, tz="iso")


def test_errors_name_the_option_and_suggest(runner: CliRunner, sim_dir: Path) -> None:
    code, out = _spreads(runner, sim_dir, *BASIS[:-1], "HB_NRTH", *DAY)
    assert code == 1
    assert "Error: --minus: unknown ERCOT location(s): 'HB_NRTH'" in out
    assert "Did you mean: HB_NORTH" in out
    code, out = _spreads(runner, sim_dir, *BASIS, "--minus-market", "RT7", *DAY)
    assert code == 1 and "Error: --minus-market: unknown ERCOT lmp market: 'RT7'" in out
    code, out = _spreads(runner, sim_dir, *BASIS, "--start", "2025-01-02", "--end", "2025-01-01")
    assert code == 1 and "--end" in out
    code, out = _spreads(runner, sim_dir, *BASIS, *DAY, "--resample", "weekly")
    assert code == 2 and "weekly" in out  # Typer refuses a choice outside the enum itself


def test_day_ahead_minus_real_time_on_the_hourly_grid(
    runner: CliRunner, sim_dir: Path, tmp_path: Path
) -> None:
    target = tmp_path / "dart.csv"
    dart = ["--location", "HB_NORTH", "--minus", "HB_NORTH", "--minus-market", "RT5"]
    code, out = _spreads(
        runner, sim_dir, "--iso", "ERCOT", "--market", "DAM", *dart, *DAY, "--output", str(target)
    )
    assert code == 0, out
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 24  # RT5 averaged onto the day-ahead hours
    spreads = [float(r["spread"]) for r in rows]
    assert spreads == _expected(
        sim_dir,
        iso="ERCOT",
        market="DAM",
        location="HB_NORTH",
        minus="HB_NORTH",
        minus_market="RT5",
        start="2025-01-01",
        end="2025-01-02",
    )
    assert any(s != 0 for s in spreads)
