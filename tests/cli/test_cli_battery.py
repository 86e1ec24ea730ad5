"""`carbon254 battery optimize`: the interface contract on a price file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app

ARGS = ["--power-mw", "10", "--energy-mwh", "20", "--round-trip-efficiency", "0.81", "--initial-soc-mwh", "0"]


def _prices(tmp_path: Path, rows: list[tuple[str, float]]) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text("interval_start,price\n" + "".join(f"{t},{p}\n" for t, p in rows))
    return path


def test_optimize_prints_revenue_and_every_interval(runner: CliRunner, tmp_path: Path) -> None:
    starts = [f"2024-06-01T{h:02d}:00:00-05:00" for h in range(4)]
    prices = _prices(tmp_path, list(zip(starts, [10.0, 10.0, 50.0, 50.0], strict=True)))
    result = runner.invoke(app, ["battery", "optimize", "--prices", str(prices), *ARGS, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [d["interval_start"] for d in document["dispatch"]] == starts
    revenue = sum(
        p * (d["discharge_mw"] - d["charge_mw"])
        for p, d in zip([10, 10, 50, 50], document["dispatch"], strict=True)
    )
    assert document["revenue"] == pytest.approx(revenue) == pytest.approx(16.2 * 50 - 20 * 10)
    assert document["dispatch"][-1]["soc_mwh"] == pytest.approx(0.0, abs=1e-7)  # final defaults to initial


def test_interval_length_comes_from_the_spacing(runner: CliRunner, tmp_path: Path) -> None:
    starts = [f"2024-06-01T00:{m:02d}:00Z" for m in (0, 15, 30, 45)]
    prices = _prices(tmp_path, list(zip(starts, [10.0, 10.0, 50.0, 50.0], strict=True)))
    result = runner.invoke(app, ["battery", "optimize", "--prices", str(prices), *ARGS, "--format", "json"])
    document = json.loads(result.output)
    # Quarter hours: 10 MW for 30 minutes stores 4.5 MWh, sold at 50 after losses: 4.05 MWh.
    assert document["revenue"] == pytest.approx(4.05 * 50 - 5 * 10)


def test_bad_files_and_assets_name_what_is_wrong(runner: CliRunner, tmp_path: Path) -> None:
    irregular = _prices(
        tmp_path, [("2024-06-01T00:00Z", 1.0), ("2024-06-01T01:00Z", 2.0), ("2024-06-01T03:00Z", 3.0)]
    )
    result = runner.invoke(app, ["battery", "optimize", "--prices", str(irregular), *ARGS])
    assert result.exit_code == 1 and "not a regular series" in " ".join(result.output.split())
    bad = _prices(tmp_path, [("2024-06-01T00:00Z", 1.0)])
    bad.write_text("interval_start,price\n2024-06-01T00:00Z,abc\n")
    result = runner.invoke(app, ["battery", "optimize", "--prices", str(bad), *ARGS])
    assert result.exit_code == 1 and "line 2, price" in " ".join(result.output.split())
    good = _prices(tmp_path, [("2024-06-01T00:00Z", 1.0), ("2024-06-01T01:00Z", 2.0)])
    args = [*ARGS[:-2], "--initial-soc-mwh", "30"]
    result = runner.invoke(app, ["battery", "optimize", "--prices", str(good), *args])
    assert result.exit_code == 1 and "--initial-soc-mwh" in result.output
