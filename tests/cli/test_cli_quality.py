"""`carbon254 quality`: per-day tables and gaps, JSON output, and mistakes answered in one line."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

# The quality tests' row and ledger builders, shared rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))
from quality_tables import entry, lmp_rows, slots, utc

from carbon254.cli import quality as quality_cli
from carbon254.cli.main import app
from carbon254.demo import HOUR as DEMO_HOUR
from carbon254.demo import DemoParams, floor_to, plan_demo, run_plan
from carbon254.ingest.ledger import IngestLedger
from carbon254.isos import Iso
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


# ---------------------------------------------------------------------------- at 80 columns

NARROW = 80
LONG_NAMES = [f"LONG_NODE_NAME_{n:02d}_ALL" for n in range(6)]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A demo store (ERCOT, 200 nodes: five-digit counts), plus RT15 at six long-named nodes with holes.

    The RT15 holes are gaps that list their locations; its ledger has lags
    and duplicates in the thousands. Returns the data dir and the window.
    """
    root = tmp_path_factory.mktemp("demo-like")
    plan = plan_demo(root, DemoParams(nodes=200, isos=(Iso.ERCOT,), rt5_days=2), 3)
    store = open_store(root)
    run_plan(store, root, plan)
    end = plan.marker.loaded_through
    quarter = timedelta(minutes=15)
    starts = slots(floor_to(end - timedelta(days=3), DEMO_HOUR), floor_to(end, DEMO_HOUR) - 2 * HOUR, quarter)
    holes = [(name, t) for name in LONG_NAMES[:4] for t in starts[40:52]] + [(LONG_NAMES[5], starts[90])]
    store.write("lmp", lmp_rows(LONG_NAMES, starts, quarter, market="RT15", skip=holes))
    store.close()
    span = {"market": "RT15", "first": starts[0], "last": starts[-1], "published": starts[0]}
    IngestLedger(root).append([entry(**span, lag_s=12_345.6, duplicates=4321), entry(**span, lag_s=54_321.9)])
    first_day = (end - timedelta(days=3)).date().isoformat()
    return root, first_day, (end + timedelta(days=2)).date().isoformat()


def _terminal(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """The quality command's output as in a terminal `width` columns wide (no colours)."""
    terminal = Console(width=width, force_terminal=True, color_system=None, highlight=False)
    monkeypatch.setattr(quality_cli, "console", terminal)


def _tables(out: str) -> list[tuple[list[str], list[list[str]]]]:
    """Each table's header cells and body rows; a row's wrapped continuation lines join its cells."""
    tables: list[tuple[list[str], list[list[str]]]] = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip()[1:-1].split(line.strip()[0])] if line.strip() else []
        if line.startswith("┃"):
            tables.append((cells, []))
        elif line.startswith("│") and tables:
            rows = tables[-1][1]
            if cells[0] or not rows:
                rows.append(cells)
            else:  # a continuation: the wrapped names
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return tables


def _day_cells(day: dict[str, Any]) -> dict[str, str]:
    """The figures of one JSON day as the table writes them, whole."""

    def number(value: float | None, digits: int = 0) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    return {
        "day": day["day"],
        "hours": str(day["hours"]),
        "locations": number(day["locations"]),
        "expected": number(day["expected"]),
        "present": number(day["present"]),
        "complete": "n/a" if day["completeness"] is None else f"{day['completeness']:.2%}",
        "gaps": number(len(day["gaps"])),
        "revs": number(day["revisions"]),
        "dups": number(day["duplicates"]),
        "payloads": number(day["payloads"]),
        "quar": number(day["quarantined"]),
        "lag p50 s": number(day["lag_median_s"], 1),
        "lag max s": number(day["lag_max_s"], 1),
    }


def _gap_cells(day: str, gap: dict[str, Any]) -> dict[str, str]:
    def stamp(text: str) -> str:
        return text.replace("T", " ")[:16]

    return {
        "day": day,
        "start": stamp(gap["start"]),
        "end": stamp(gap["end"]),
        "intervals": f"{gap['intervals']:,}",
        "locations": f"{gap['locations']:,}",
        "missing": f"{gap['missing']:,}",
        "names": ", ".join(gap["names"]) if gap["names"] else "(too many to list)",
    }


def test_at_80_columns_every_figure_shown_is_whole(
    runner: CliRunner, demo_dir: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, start, end = demo_dir
    window = ["--iso", "ERCOT", "--start", start, "--end", end]
    code, report = _run(runner, root, *window, "--format", "json")
    assert code == 0, report
    body = json.loads(report)
    _terminal(monkeypatch, NARROW)
    code, out = _run(runner, root, *window)
    assert code == 0, out
    assert "…" not in out
    assert max(cell_len(line) for line in out.splitlines()) <= NARROW

    # One day table per market, each followed by its gaps table when it has gaps, in report order.
    expected: list[tuple[str, list[dict[str, str]]]] = []
    for summary in body["summary"]:
        days = [d for d in body["days"] if d["market"] == summary["market"]]
        expected.append(("day", [_day_cells(d) for d in days]))
        gaps = [_gap_cells(d["day"], g) for d in days for g in d["gaps"]]
        if gaps:
            expected.append(("start", gaps))
    tables = _tables(out)
    assert [header[0] for header, _ in tables] == [first for first, _ in expected]
    assert {s["market"] for s in body["summary"]} == {"DAM", "RT15", "RT5", "RTH"}
    figures = 0
    for (header, rows), (_, wanted) in zip(tables, expected, strict=True):
        assert {"day", "complete", "present", "expected"} <= set(header) or {"start", "end"} <= set(header)
        assert len(rows) == len(wanted)
        for row, whole in zip(rows, wanted, strict=True):
            assert dict(zip(header, row, strict=True)) == {name: whole[name] for name in header}
            figures += len(row)
    assert figures > 100
    words = " ".join(out.split())
    assert "publication to commit 33,333.8 s median, 54,321.9 s max" in words  # RT15's ledger, in its summary
    names_shown = [row[-1] for header, rows in tables if header[-1] == "names" for row in rows]
    assert ", ".join(LONG_NAMES[:4]) in names_shown  # a list of names wraps in its column, whole
    assert "Not shown at 80 columns:" in out and "--wide shows every column" in out


def test_wide_shows_every_column_in_a_narrow_terminal(
    runner: CliRunner, demo_dir: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, start, end = demo_dir
    _terminal(monkeypatch, NARROW)
    rt15 = ["--iso", "ERCOT", "--market", "RT15", "--start", start, "--end", end]
    code, out = _run(runner, root, *rt15, "--wide")
    assert code == 0, out
    (days, _), (gaps, _) = _tables(out)
    assert days == [c.name for c in quality_cli.DAY_COLUMNS] and gaps[0] == "day" and gaps[-1] == "names"
    assert "…" not in out and "Not shown" not in out
    assert "33,333.8" in out and "54,321.9" in out and "4,321" in out  # lag p50, lag max, duplicates


def test_the_summary_line_carries_the_lag(runner: CliRunner, data_dir: Path) -> None:
    code, out = _run(runner, data_dir, "--iso", "ERCOT", "--start", "2024-11-03", "--end", "2024-11-05")
    assert code == 0, out
    assert "publication to commit 75.0 s median, 75.0 s max" in out
