"""Relative time bounds on the command line: `query`, `quality`, `simulate` and `ingest` downloads.

The clock is fixed (`bounds.utc_now`) at 2025-01-02 18:00 UTC, inside the
two simulated ERCOT days of `sim_dir`; each relative command must print
what the same command with the instants it stands for prints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.store import open_store
from carbon254.timeseries import bounds

CLOCK = datetime(2025, 1, 2, 18, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "utc_now", lambda: CLOCK)


def _out(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("relative", "absolute"),
    [
        (["--start", "today-1d", "--end", "today"], ["--start", "2025-01-01", "--end", "2025-01-02"]),
        (
            ["--start", "today", "--end", "now", "--tz", "iso"],  # ERCOT's midnight is 06:00 UTC
            ["--start", "2025-01-02T06:00Z", "--end", "2025-01-02T18:00Z", "--tz", "iso"],
        ),
        (
            ["--start", "now-1d", "--end", "now", "--as-of", "now+1000w"],
            ["--start", "2025-01-01T18:00Z", "--end", "2025-01-02T18:00Z", "--as-of", "2044-03-03T18:00Z"],
        ),
    ],
)
def test_query_reads_relative_bounds(
    runner: CliRunner, sim_dir: Path, relative: list[str], absolute: list[str]
) -> None:
    common = [
        "query",
        "--iso",
        "ERCOT",
        "--market",
        "RTH",
        "--locations",
        "HB_NORTH",
        "--data-dir",
        str(sim_dir),
    ]
    shown = _out(runner, *common, *relative)
    assert shown == _out(runner, *common, *absolute)
    assert "HB_NORTH" in shown


def test_quality_reads_relative_bounds_in_market_time(runner: CliRunner, sim_dir: Path) -> None:
    common = ["quality", "--iso", "ERCOT", "--market", "DAM", "--format", "json", "--data-dir", str(sim_dir)]
    relative = _out(runner, *common, "--start", "today-1d", "--end", "today+1d")
    assert relative == _out(runner, *common, "--start", "2025-01-01", "--end", "2025-01-03")
    assert '"first_day": "2025-01-01"' in relative and '"end_day": "2025-01-03"' in relative


def test_simulate_reads_relative_bounds(runner: CliRunner, tmp_path: Path) -> None:
    args = ["simulate", "--isos", "PJM", "--nodes", "1", "--datasets", "lmp", "--data-dir", str(tmp_path)]
    _out(runner, *args, "--start", "today-1d", "--end", "today")
    store = open_store(tmp_path)
    try:
        rows = store.read("lmp", "PJM", "DAM", None, datetime(2024, 1, 1, tzinfo=UTC), CLOCK)
    finally:
        store.close()
    assert rows.num_rows
    assert rows["interval_start"].to_pylist()[0] == datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        # Both resolve in NYISO's market time: today is 2025-01-02 in New York at 18:00 UTC.
        ("today", "today-1d", "--end 2025-01-01 must be after --start 2025-01-02"),
        ("today-7x", "today", "unknown unit 'x'"),
        ("2025-01-02", "now+", "lacks the number of days, hours or weeks"),
    ],
)
def test_ingest_download_days_read_relative_bounds(
    runner: CliRunner, tmp_path: Path, start: str, end: str, message: str
) -> None:
    args = ["ingest", "--iso", "NYISO", "--dataset", "lmp", "--market", "RT5", "--start", start, "--end", end]
    result = runner.invoke(app, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    # Usage errors come in a Rich panel: drop its borders before reading the words.
    words = " ".join(w for w in result.output.split() if w.strip("│╭╮╰╯─"))
    assert message in words
