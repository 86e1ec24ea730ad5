"""`carbon254 risk portfolio save|list|show|backtest` and the generated store-mode measures.

Prices are the service tests' stored random walks (`risk_data`); the file
modes of `risk var|es|backtest|stress` keep their contract (test_cli_risk.py).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from risk_data import AS_OF, BOOK, JUNE_OFFPEAK_HOURS, MIXED, fill

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("risk-cli")
    store = open_store(path)
    try:
        fill(store)
    finally:
        store.close()
    yield path


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def test_save_list_show_and_measure_a_portfolio(data_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(MIXED)
    code, out = _run(data_dir, "risk", "portfolio", "save", "Desk", "--positions", str(book))
    assert code == 0, out
    assert "version 1: 4 positions" in out
    code, out = _run(data_dir, "risk", "portfolio", "save", "desk", "--positions", str(book))
    assert "version 2" in out
    code, out = _run(data_dir, "risk", "portfolio", "list")
    assert code == 0 and "Desk" in out
    code, out = _run(data_dir, "risk", "portfolio", "show", "desk", "--version", "1")
    assert code == 0 and out == MIXED
    code, out = _run(
        data_dir,
        "risk",
        "portfolio-var",
        "--portfolio",
        "Desk",
        "--as-of",
        AS_OF,
        "--window",
        "120",
        "-o",
        "-",
    )
    assert code == 0, out
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert float(row["es"]) >= float(row["var"]) > 0 and row["version"] == "2"
    shock = ["--shock", "ERCOT:HB_NORTH:offpeak:+10", "-o", "-"]
    code, out = _run(data_dir, "risk", "portfolio-stress", "--portfolio", "Desk", "--as-of", AS_OF, *shock)
    rows = {r["id"]: float(r["pnl"]) for r in csv.DictReader(io.StringIO(out)) if r["level"] == "position"}
    assert rows["n1"] == pytest.approx(10.0 * JUNE_OFFPEAK_HOURS * 10)


def test_a_bad_file_is_reported_by_line_and_nothing_is_saved(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(BOOK + "n2,Power,forward,ERCOT,HB_NORTH,,onpeak,2024-06,2024-06,lots,1\n")
    code, out = _run(data_dir, "risk", "portfolio", "save", "Bad", "--positions", str(bad))
    assert code == 1 and "line 3, mw" in " ".join(out.split())
    code, out = _run(data_dir, "risk", "portfolio", "show", "Bad")
    assert code == 1 and "no portfolio" in out
    code, out = _run(data_dir, "risk", "portfolio-var", "--portfolio", "Bad", "--as-of", AS_OF)
    assert code == 1 and "--portfolio" in out


def test_backtest_prints_the_tests_and_draws_the_chart(data_dir: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text(BOOK)
    assert _run(data_dir, "risk", "portfolio", "save", "Tested", "--positions", str(book))[0] == 0
    chart = tmp_path / "backtest.png"
    args = [
        "--as-of",
        AS_OF,
        "--window",
        "40",
        "--days",
        "60",
        "--confidence",
        "0.95",
        "--chart",
        str(chart),
        "--json",
    ]
    code, out = _run(data_dir, "risk", "portfolio", "backtest", "Tested", *args)
    assert code == 0, out
    document = json.loads(out.strip().splitlines()[0])
    assert document["n"] == 60 and document["basel_zone"] in ("green", "yellow", "red")
    assert chart.read_bytes().startswith(b"\x89PNG")
