"""`carbon254 risk var|es|backtest|stress`: the interface contract on files, and clear refusals."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app


def _file(tmp_path: Path, name: str, header: str, values: list[object]) -> Path:
    path = tmp_path / name
    path.write_text(header + "\n" + "".join(f"{v}\n" for v in values))
    return path


def _strict_json(text: str) -> dict[str, object]:
    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} in JSON output")

    document: dict[str, object] = json.loads(text, parse_constant=refuse)
    return document


def _var_by_hand(pnl: list[float], confidence: float) -> tuple[float, float]:
    ordered = sorted(pnl)
    position = (len(ordered) - 1) * (1 - confidence)
    k = math.floor(position)
    upper = ordered[k + 1] if k + 1 < len(ordered) else ordered[k]
    var = -(ordered[k] + (position - k) * (upper - ordered[k]))
    tail = [-p for p in pnl if -p >= var - 1e-9]
    return var, sum(tail) / len(tail)


@pytest.mark.parametrize("command", ["var", "es"])
def test_var_prints_var_and_es_as_positive_losses(runner: CliRunner, tmp_path: Path, command: str) -> None:
    pnl = [5.0, -10.0, 20.0, -100.0, 3.0, -40.0, 7.0, 0.0, 12.0, 1.0]
    path = _file(tmp_path, "pnl.csv", "pnl", pnl)
    result = runner.invoke(
        app, ["risk", command, "--pnl", str(path), "--confidence", "0.8", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = _strict_json(result.output)
    assert set(document) == {"var", "es"}
    assert document["var"] == pytest.approx(16.0)  # 40 - 0.8 x 30: between the 2nd and 3rd worst
    assert document["es"] == pytest.approx(70.0)  # mean of the losses 100 and 40


@pytest.mark.parametrize("confidence", [0.95, 0.975, 0.99, 0.999])
def test_var_matches_an_independent_quantile(runner: CliRunner, tmp_path: Path, confidence: float) -> None:
    pnl = [round(float(v), 4) for v in np.random.default_rng(8).standard_t(3, 2000) * 1e4]
    path = _file(tmp_path, "pnl.csv", "pnl", pnl)
    args = ["risk", "var", "--pnl", str(path), "--confidence", str(confidence), "--format", "json"]
    document = _strict_json(runner.invoke(app, args).output)
    var, es = _var_by_hand(pnl, confidence)
    assert document["var"] == pytest.approx(var, rel=1e-9)
    assert document["es"] == pytest.approx(es, rel=1e-9)
    assert isinstance(document["es"], float) and isinstance(document["var"], float)
    assert document["es"] >= document["var"]


def test_var_table_is_the_default(runner: CliRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, "pnl.csv", "pnl", [-3.0, 1.0, 2.0, -1.0])
    result = runner.invoke(app, ["risk", "var", "--pnl", str(path), "--confidence", "0.5"])
    assert result.exit_code == 0, result.output
    assert "VaR" in result.output and "ES" in result.output and "4 scenarios" in result.output


def test_backtest_prints_the_contract_document(runner: CliRunner, tmp_path: Path) -> None:
    series = [0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0]
    path = _file(tmp_path, "exceedances.csv", "exceedance", series)
    args = ["risk", "backtest", "--exceedances", str(path), "--confidence", "0.95", "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = _strict_json(result.output)
    assert list(document) == [
        "n",
        "x",
        "kupiec_lr",
        "kupiec_pvalue",
        "christoffersen_ind_lr",
        "christoffersen_cc_lr",
        "basel_zone",
    ]
    assert (document["n"], document["x"]) == (12, 5)
    pof = -2 * (7 * math.log(0.95) + 5 * math.log(0.05)) + 2 * (7 * math.log(7 / 12) + 5 * math.log(5 / 12))
    assert document["kupiec_lr"] == pytest.approx(pof)
    # n00 4, n01 2, n10 2, n11 3 (by eye): pi0 1/3, pi1 3/5, pi 5/11.
    null = 6 * math.log(6 / 11) + 5 * math.log(5 / 11)
    alternative = 4 * math.log(2 / 3) + 2 * math.log(1 / 3) + 2 * math.log(2 / 5) + 3 * math.log(3 / 5)
    assert document["christoffersen_ind_lr"] == pytest.approx(-2 * (null - alternative))
    assert document["christoffersen_cc_lr"] == pytest.approx(pof - 2 * (null - alternative))
    assert document["basel_zone"] == "red"


@pytest.mark.parametrize(("x", "zone"), [(4, "green"), (5, "yellow"), (9, "yellow"), (10, "red")])
def test_basel_zones_of_250_days(runner: CliRunner, tmp_path: Path, x: int, zone: str) -> None:
    series = [1] * x + [0] * (250 - x)
    path = _file(tmp_path, "exceedances.csv", "exceedance", series)
    args = ["risk", "backtest", "--exceedances", str(path), "--confidence", "0.99", "--format", "json"]
    document = _strict_json(runner.invoke(app, args).output)
    assert (document["n"], document["x"], document["basel_zone"]) == (250, x, zone)


@pytest.mark.parametrize(
    "series", [[0] * 30, [1] * 30, [1, 0, 0], [1]], ids=["x=0", "x=n", "no 1-1", "one day"]
)
def test_backtest_edge_cases_print_numbers(runner: CliRunner, tmp_path: Path, series: list[int]) -> None:
    path = _file(tmp_path, "exceedances.csv", "exceedance", series)
    args = ["risk", "backtest", "--exceedances", str(path), "--confidence", "0.99", "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = _strict_json(result.output)
    for key in ("kupiec_lr", "kupiec_pvalue", "christoffersen_ind_lr", "christoffersen_cc_lr"):
        value = document[key]
        assert isinstance(value, float) and math.isfinite(value) and value >= 0


def test_backtest_table_is_the_default(runner: CliRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, "exceedances.csv", "exceedance", [0] * 245 + [1] * 5)
    result = runner.invoke(app, ["risk", "backtest", "--exceedances", str(path), "--confidence", "0.99"])
    assert result.exit_code == 0, result.output
    assert "Kupiec" in result.output and "Basel zone: yellow" in result.output


@pytest.mark.parametrize(
    ("command", "header", "values", "message"),
    [
        ("var", "profit", [1, 2], "needs a column 'pnl'"),
        ("var", "pnl", [1, "abc"], "line 3, pnl: 'abc' is not a number"),
        ("var", "pnl", [1, "nan"], "line 3, pnl: 'nan' is not a finite number"),
        ("var", "pnl", [1, "  "], "line 3, pnl: '' is not a number"),
        ("var", "pnl", [], "at least one row"),
        ("backtest", "exceedance", [0, 2], "line 3, exceedance: '2' is not 0 or 1"),
        ("backtest", "exceedance", [0, "yes"], "line 3, exceedance: 'yes' is not 0 or 1"),
        ("backtest", "exceedances", [0, 1], "needs a column 'exceedance'"),
    ],
)
def test_bad_files_are_refused_without_a_traceback(
    runner: CliRunner, tmp_path: Path, command: str, header: str, values: list[object], message: str
) -> None:
    path = _file(tmp_path, "bad.csv", header, values)
    option = "--pnl" if command == "var" else "--exceedances"
    result = runner.invoke(
        app, ["risk", command, option, str(path), "--confidence", "0.99", "--format", "json"]
    )
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output and not isinstance(result.exception, ValueError)


def test_a_missing_file_and_a_bad_confidence_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["risk", "var", "--pnl", str(tmp_path / "none.csv"), "--confidence", "0.99"])
    assert result.exit_code != 0 and "none.csv" in " ".join(result.output.split())
    path = _file(tmp_path, "pnl.csv", "pnl", [1, 2])
    result = runner.invoke(app, ["risk", "var", "--pnl", str(path), "--confidence", "99"])
    assert result.exit_code == 1 and "--confidence" in result.output


POSITIONS = (
    "id,book,kind,iso,location,hub,block,start,end,mw,price,volume_mwh,shape\n"
    "north,Power/ERCOT,forward,ERCOT,HB_NORTH,,atc,2026-07,2026-07,10,60,,\n"
    "basis,Power/ERCOT/Basis,basis,ERCOT,NODE_A,HB_NORTH,atc,2026-07,2026-07,4,,,\n"
    "pjm,Power/PJM,forward,PJM,WESTERN HUB,,onpeak,2026-07,2026-07,-5,45,,\n"
)


def test_stress_prints_pnl_per_position_and_book(runner: CliRunner, tmp_path: Path) -> None:
    positions = tmp_path / "book.csv"
    positions.write_text(POSITIONS)
    shocks = tmp_path / "heat.csv"
    shocks.write_text(
        "iso,location,block,start,end,change\nERCOT,HB_NORTH,,,,10\nERCOT,NODE_A,atc,2026-07,2026-07,25\n"
        "PJM,WESTERN HUB,onpeak,,,-4\n"
    )
    args = ["risk", "stress", "--positions", str(positions), "--shocks", str(shocks), "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    # July 2026: 744 hours. PJM onpeak: its 23 weekdays x 16 hours (July 4 is a Saturday, and NERC
    # holidays on a Saturday are not moved to the Friday).
    weekdays = 23
    by_position = {p["id"]: p["pnl"] for p in document["positions"]}
    assert by_position["north"] == pytest.approx(10 * 744 * 10)
    assert by_position["basis"] == pytest.approx(4 * 744 * (25 - 10))
    assert by_position["pjm"] == pytest.approx(-5 * 16 * weekdays * -4)
    by_book = {b["book"]: b["pnl"] for b in document["books"]}
    assert by_book[""] == pytest.approx(document["pnl"]) == pytest.approx(sum(by_position.values()))
    assert by_book["Power/ERCOT"] == pytest.approx(by_position["north"] + by_position["basis"])
    table = runner.invoke(app, ["risk", "stress", "--positions", str(positions), "--shocks", str(shocks)])
    assert table.exit_code == 0 and "(portfolio)" in table.output


def test_stress_refuses_bad_position_and_shock_files(runner: CliRunner, tmp_path: Path) -> None:
    positions = tmp_path / "book.csv"
    positions.write_text(POSITIONS.replace("HB_NORTH,,atc", "HB_NORTH,,7x25"))
    shocks = tmp_path / "s.csv"
    shocks.write_text("iso,location,change\nERCOT,HB_NORTH,10\n")
    result = runner.invoke(app, ["risk", "stress", "--positions", str(positions), "--shocks", str(shocks)])
    assert result.exit_code == 1 and "line 2, block" in " ".join(result.output.split())
    positions.write_text(POSITIONS)
    shocks.write_text("iso,location,change\nERCOT,HB_WEST,10\n")
    result = runner.invoke(app, ["risk", "stress", "--positions", str(positions), "--shocks", str(shocks)])
    assert result.exit_code == 1 and "HB_WEST" in result.output
    shocks.write_text("iso,location,change\nERCOT,HB_NORTH,ten\n")
    result = runner.invoke(app, ["risk", "stress", "--positions", str(positions), "--shocks", str(shocks)])
    assert result.exit_code == 1 and "line 2, change" in " ".join(result.output.split())


def test_the_installed_command_prints_the_same(tmp_path: Path) -> None:
    path = _file(tmp_path, "pnl.csv", "pnl", [5.0, -10.0, 20.0, -100.0, 3.0, -40.0, 7.0, 0.0, 12.0, 1.0])
    args = ["risk", "var", "--pnl", str(path), "--confidence", "0.8", "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-m", "carbon254.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == pytest.approx({"var": 16.0, "es": 70.0})
