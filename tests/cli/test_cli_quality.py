"""`carbon254 quality`: per-day tables and gaps, JSON output, and mistakes answered in one line."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

# The quality tests' row and ledger builders, shared rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))
from quality_tables import entry, lmp_rows, slots, utc

from carbon254.cli.main import app
from carbon254.ingest.ledger import IngestLedger
from carbon254.store import open_store

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ERCOT DAM at two nodes over the 2024 fall-back day (25 hours), node A missing the repeated hour."""
    root = tmp_path_factory.mktemp("quality")
    starts = slots(utc(2024, 11, 3, 5), utc(2024, 11, 4, 6), HOUR)
    store = open_store(root)
    store.write("lmp", lmp_rows(["A", "B"], starts, skip=[("A", utc(2024, 11, 3, 7))]))
    store.close()
    IngestLedger(root).append(
        [entry(first=starts[0], last=starts[-1], published=utc(2024, 11, 2, 18), lag_s=75, duplicates=2)]
    )
    return root


def _run(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["quality", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def _rows(out: str) -> list[list[str]]:
    """The cells of the first table's body rows (lines that start with a 13-column day row)."""
    rows = [
        [c.strip() for c in line.strip("│ ").split("│")]
        for line in out.splitlines()
        if line.startswith("│ 20")
    ]
    return [r for r in rows if len(r) == 13]


def test_table_shows_each_day_and_its_gaps(runner: CliRunner, data_dir: Path) -> None:
    code, out = _run(runner, data_dir, "--iso", "ercot", "--start", "2024-11-03", "--end", "2024-11-05")
    assert code == 0, out
    assert "ERCOT lmp DAM · 60-min · market days in America/Chicago" in out
    rows = {cells[0]: cells for cells in _rows(out)}
    assert rows["2024-11-03"] == [
        "2024-11-03", "25", "2", "50", "49", "98.00%", "1", "0", "2", "1", "0", "75.0", "75.0"
    ]  # fmt: skip
    assert rows["2024-11-04"][:7] == ["2024-11-04", "24", "2", "48", "0", "0.00%", "1"]
    assert "│ 2024-11-03 │ 2024-11-03 07:00 │ 2024-11-03 08:00 │         1 │         1 │       1 │ A " in out
    assert (
        "│ 2024-11-04 │ 2024-11-04 06:00 │ 2024-11-05 06:00 │        24 │         2 │      48 │ A, B " in out
    )
    assert "ERCOT lmp DAM: 50.00% complete (49 of 98 intervals), 2 gaps on 2 of 2 days" in out


def test_json_matches_the_service_shape(runner: CliRunner, data_dir: Path) -> None:
    code, out = _run(
        runner, data_dir, "--iso", "ERCOT", "--market", "dam", "--start", "2024-11-03", "--end", "2024-11-04",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, out
    body = json.loads(out)
    assert body["query"] == {
        "iso": "ERCOT",
        "dataset": "lmp",
        "market": "DAM",
        "first_day": "2024-11-03",
        "end_day": "2024-11-04",
    }
    (day,) = body["days"]
    assert (day["hours"], day["expected"], day["present"], day["duplicates"], day["lag_max_s"]) == (
        25,
        50,
        49,
        2,
        75.0,
    )
    assert day["gaps"] == [
        {
            "start": "2024-11-03T07:00:00Z",
            "end": "2024-11-03T08:00:00Z",
            "intervals": 1,
            "locations": 1,
            "missing": 1,
            "names": ["A"],
        }
    ]
    assert body["summary"][0]["completeness"] == pytest.approx(0.98)
    assert body["count"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--iso", "ERCOTT", "--start", "2024-11-03", "--end", "2024-11-04"], "Did you mean: ERCOT?"),
        (
            ["--iso", "ERCOT", "--market", "DMA", "--start", "2024-11-03", "--end", "2024-11-04"],
            "Did you mean: DAM?",
        ),
        (["--iso", "ERCOT", "--start", "2024-11-33", "--end", "2024-11-04"], "--start: cannot read"),
        (["--iso", "ERCOT", "--start", "2024-11-04", "--end", "2024-11-03"], "--end is exclusive"),
        (
            [
                "--iso",
                "ERCOT",
                "--dataset",
                "ordc_adder",
                "--market",
                "RT5",
                "--start",
                "2024-11-03",
                "--end",
                "2024-11-04",
            ],
            "ordc_adder has no markets",
        ),
    ],
)
def test_mistakes_exit_1_with_a_message(
    runner: CliRunner, data_dir: Path, args: list[str], message: str
) -> None:
    code, out = _run(runner, data_dir, *args)
    assert code == 1
    assert message in out


def test_missing_store(runner: CliRunner, tmp_path: Path) -> None:
    code, out = _run(
        runner, tmp_path / "nothing", "--iso", "ERCOT", "--start", "2024-11-03", "--end", "2024-11-04"
    )
    assert code == 1
    assert "no store in" in out


def test_no_markets_is_not_an_error(runner: CliRunner, data_dir: Path) -> None:
    code, out = _run(runner, data_dir, "--iso", "PJM", "--start", "2024-11-03", "--end", "2024-11-04")
    assert code == 0
    assert "No lmp markets with data for PJM." in out


def test_overlapping_intervals_are_named_in_the_summary(runner: CliRunner, tmp_path: Path) -> None:
    hours = slots(utc(2024, 6, 1, 5), utc(2024, 6, 2, 5), HOUR)
    store = open_store(tmp_path)
    store.write("lmp", lmp_rows(["A"], hours))
    store.write("lmp", lmp_rows(["A"], [hours[3] + timedelta(minutes=30)]))  # overlaps two hours
    store.close()
    code, out = _run(runner, tmp_path, "--iso", "ERCOT", "--start", "2024-06-01", "--end", "2024-06-02")
    assert code == 0, out
    assert "ERCOT lmp DAM: 100.00% complete (24 of 24 intervals)" in out
    assert "quarantined payloads, 2 overlapping intervals" in out
