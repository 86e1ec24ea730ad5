"""`carbon254 query`: terminal table, CSV and Parquet output, option errors and suggestions."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app


def _flat(text: str) -> str:
    return " ".join(text.split())


def _query(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["query", "--data-dir", str(data_dir), *args])
    return result.exit_code, _flat(result.output)


DAY = ["--iso", "ERCOT", "--market", "DAM", "--start", "2025-01-01", "--end", "2025-01-02"]


def test_table_shows_limit_and_total(runner: CliRunner, sim_dir: Path) -> None:
    code, out = _query(runner, sim_dir, *DAY, "--locations", "HB_NORTH,hb_west", "--limit", "5")
    assert code == 0, out
    assert "ERCOT DAM lmp ($/MWh) · times UTC · simulated data" in out
    assert "48 rows in all; showing 5." in out
    assert out.count("│ HB_NORTH │") == 5
    assert "HB_WEST" not in out  # sorted by location then time: the first five rows are HB_NORTH's


def test_tz_iso_reads_bounds_and_shows_times_in_market_time(runner: CliRunner, sim_dir: Path) -> None:
    code, out = _query(runner, sim_dir, *DAY, "--locations", "HB_NORTH", "--tz", "iso", "--limit", "1")
    assert code == 0, out
    # 2025-01-01 in America/Chicago starts at 06:00 UTC.
    assert "2025-01-01 00:00-06:00" in out
    assert "times America/Chicago" in out
    assert "24 rows in all" in out  # the local day [06:00, 06:00) UTC lies inside the simulated days


def test_csv_output(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "north.csv"
    code, out = _query(
        runner,
        sim_dir,
        *DAY,
        "--locations",
        "HB_NORTH",
        "--tz",
        "America/New_York",
        "--output",
        str(out_path),
    )
    assert code == 0, out
    assert f"Wrote 24 rows of ERCOT DAM lmp ($/MWh, times America/New_York) to {out_path}" in out
    rows = list(csv.DictReader(out_path.open()))
    assert len(rows) == 24
    # --start 2025-01-01 is read in --tz: New York midnight, shown with its offset.
    assert rows[0]["interval_start"] == "2025-01-01T00:00:00-05:00"
    assert rows[0]["location"] == "HB_NORTH"
    lmp = float(rows[0]["lmp"])
    parts = float(rows[0]["energy"]) + float(rows[0]["congestion"]) + float(rows[0]["loss"])
    assert abs(lmp - parts) <= 0.01


def test_output_dash_writes_csv_alone_to_stdout(runner: CliRunner, sim_dir: Path) -> None:
    result = runner.invoke(
        app, ["query", "--data-dir", str(sim_dir), *DAY, "--locations", "HB_NORTH", "--output", "-"]
    )
    assert result.exit_code == 0, result.output
    # Nothing but the CSV: a pipe into another tool must not meet a table or a "Wrote" line.
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert len(rows) == 24
    assert rows[0]["interval_start"] == "2025-01-01T00:00:00+00:00"
    assert {r["location"] for r in rows} == {"HB_NORTH"}


def test_parquet_output_all_markets_and_as_of(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "all.parquet"
    code, out = _query(
        runner,
        sim_dir,
        "--iso",
        "ercot",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-02",
        "--locations",
        "HB_NORTH",
        "--as-of",
        "2030-01-01",
        "--output",
        str(out_path),
    )
    assert code == 0, out
    table = pq.read_table(out_path)
    assert set(table.column("market").to_pylist()) == {"DAM", "RTH", "RT5"}
    assert table.num_rows == 24 + 24 + 288
    assert table.schema.field("interval_start").type == pa.timestamp("us", tz="UTC")
    # Before anything was published (DAM is published the day before) nothing is known.
    early = tmp_path / "early.parquet"
    code, out = _query(runner, sim_dir, *DAY, "--as-of", "2024-01-01T00:00:00Z", "--output", str(early))
    assert code == 0, out
    assert pq.read_table(early).num_rows == 0


def test_resample_and_block(runner: CliRunner, sim_dir: Path) -> None:
    code, out = _query(
        runner,
        sim_dir,
        "--iso",
        "ERCOT",
        "--market",
        "RT5",
        "--locations",
        "HB_NORTH",
        "--start",
        "2025-01-02",
        "--end",
        "2025-01-03",
        "--resample",
        "DAILY",
        "--block",
        "onpeak",
    )
    assert code == 0, out
    assert "1 rows." in out  # Jan 2 (UTC day, market-time bucket) has on-peak hours


def test_other_datasets(runner: CliRunner, sim_dir: Path) -> None:
    code, out = _query(
        runner, sim_dir, "--dataset", "as_price", "--iso", "ERCOT", "--market", "DAM",
        "--locations", "ercot", "--start", "2025-01-01", "--end", "2025-01-02",
    )  # fmt: skip
    assert code == 0, out
    assert "ERCOT DAM as_price ($/MW-h)" in out
    code, out = _query(runner, sim_dir, "--dataset", "ordc_adder", *DAY[:2], *DAY[4:])
    assert code == 0, out
    assert "288 rows in all" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-13-01"], "--start: cannot read '2025-13-01' as a date or time"),
        (["--end", "soon"], "--end: cannot read 'soon' as a date or time"),
        (["--end", "2024-12-31"], "--end (2024-12-31T00:00:00+00:00) must be after --start"),
        (["--tz", "Mars/Olympus"], "--tz: unknown time zone 'Mars/Olympus'"),
        (["--tz", "A" * 256], f"--tz: time zone '{'A' * 40}'... (256 characters) is longer than any"),
        (["--as-of", "yesterday"], "--as-of: cannot read 'yesterday'"),
        (["--locations", " , "], "--locations lists no name"),
        (["--output", "out.xlsx"], "--output must end in .csv or .parquet"),
        (["--tz", "America/Chicago", "--start", "2025-03-09T02:30"], "does not exist in America/Chicago"),
    ],
)
def test_bad_options_name_the_option(runner: CliRunner, sim_dir: Path, args: list[str], message: str) -> None:
    base = dict(zip(DAY[::2], DAY[1::2], strict=True))
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = [item for pair in base.items() for item in pair]
    code, out = _query(runner, sim_dir, *argv)
    assert code == 1
    assert message in out
    assert "Traceback" not in out


def test_typer_rejects_bad_choices_as_usage_errors(runner: CliRunner, sim_dir: Path) -> None:
    code, out = _query(runner, sim_dir, *DAY, "--resample", "weekly")
    assert code == 2
    assert "--resample" in out
    code, out = _query(runner, sim_dir, *DAY, "--limit", "-1")
    assert code == 2


@pytest.mark.parametrize(
    ("args", "message", "suggestion"),
    [
        (["--iso", "ERCTO"], "--iso: unknown ISO: 'ERCTO'", "ERCOT"),
        (
            ["--market", "DAN"],
            "--market: unknown ERCOT lmp market: 'DAN'; "
            "expected one of DAM, DAM_LMP, RT15, RT5, RTH, SCED, SCED_BUS",
            "DAM",
        ),
        (["--locations", "HB_NORHT,HB_WEST"], "unknown ERCOT location(s): 'HB_NORHT'", "HB_NORTH"),
    ],
)
def test_unknown_names_get_suggestions(
    runner: CliRunner, sim_dir: Path, args: list[str], message: str, suggestion: str
) -> None:
    base = dict(zip(DAY[::2], DAY[1::2], strict=True))
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = [item for pair in base.items() for item in pair]
    code, out = _query(runner, sim_dir, *argv)
    assert code == 1
    assert message in out
    assert "Did you mean:" in out and suggestion in out.split("Did you mean:")[1]


def test_iso_without_data_and_missing_store(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    code, out = _query(runner, sim_dir, "--iso", "PJM", "--start", "2025-01-01", "--end", "2025-01-02")
    assert code == 1
    assert "no lmp data for PJM in the store" in out
    code, out = _query(runner, tmp_path / "nowhere", *DAY)
    assert code == 1
    assert "--data-dir: no store in" in out
    assert not (tmp_path / "nowhere").exists()  # a query never creates a data dir


def test_data_dir_from_environment(runner: CliRunner, sim_dir: Path) -> None:
    result = runner.invoke(app, ["query", *DAY, "--limit", "0"], env={"CARBON254_DATA_DIR": str(sim_dir)})
    assert result.exit_code == 0, result.output
    assert "rows in all; showing 0" in _flat(result.output)


def test_timestamps_in_output_are_utc_instants(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "x.parquet"
    code, out = _query(runner, sim_dir, *DAY, "--tz", "iso", "--output", str(out_path))
    assert code == 0, out
    table = pq.read_table(out_path)
    assert table.schema.field("interval_start").type == pa.timestamp("us", tz="America/Chicago")
    first = table.column("interval_start")[0].as_py()
    assert first.astimezone(UTC) == datetime(2025, 1, 1, 6, tzinfo=UTC)
