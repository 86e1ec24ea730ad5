"""`carbon254 scenario validate|save|run|list`: scenarios on curves marked in a data dir.

The base is a calendar strip marked with `curve build`; a gas shock through
the default heat rates moves every onpeak month by exactly heat rate x the
gas change, which the run's monthly changes must show. Sweeps run inline up
to the limit and as a `scenario_sweep` job beyond it, with the same rows.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.application.scenarios import INLINE_SWEEP_MAX
from carbon254.cli.main import app
from carbon254.scenarios.model import HeatRates

QUOTES = (
    "contract,block,price\nCal27,onpeak,60\nCal27,offpeak,40\nQ3 27,onpeak,85\nCal28,onpeak,58\n"
    "Cal28,offpeak,39\n"
)


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def marked(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> Path:
    """A copy of the simulated data dir with HB_NORTH marked on 2026-12-04."""
    data_dir = tmp_path / "data"
    shutil.copytree(sim_dir, data_dir)
    quotes = tmp_path / "quotes.csv"
    quotes.write_text(QUOTES)
    args = ["curve", "build", "--iso", "ERCOT", "--hub", "HB_NORTH", "--as-of", "2026-12-04"]
    result = runner.invoke(app, [*args, "--quotes", str(quotes), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return data_dir


def _scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_validate_reports_each_problem_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    good = _scenario(tmp_path, "name: gas\nsteps:\n  - type: gas\n    gas_change: 1\n")
    result = runner.invoke(app, ["scenario", "validate", str(good)])
    assert result.exit_code == 0 and "valid scenario 'gas'" in _flat(result.output)
    bad = _scenario(
        tmp_path, "name: gas\nsteps:\n  - type: gas\n    gas_change: lots\n  - type: nope\n", "bad.yaml"
    )
    result = runner.invoke(app, ["scenario", "validate", str(bad)])
    flat = _flat(result.output)
    assert result.exit_code == 1
    assert "line 4" in flat and "gas_change" in flat and "line 5" in flat


def test_a_gas_shock_moves_onpeak_by_heat_rate_times_gas(
    runner: CliRunner, marked: Path, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path, "name: gas\nsteps:\n  - type: gas\n    gas_change: 1.5\n")
    out = tmp_path / "changes.csv"
    args = [
        "scenario",
        "run",
        str(scenario),
        "--hub",
        "hb_north",
        "--output",
        str(out),
        "--data-dir",
        str(marked),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Fingerprint" in result.output
    rows = _rows(out)
    onpeak = [float(r["change"]) for r in rows if r["block"] == "onpeak"]
    offpeak = [float(r["change"]) for r in rows if r["block"] == "offpeak"]
    rates = HeatRates()
    assert onpeak and all(c == pytest.approx(rates.onpeak * 1.5) for c in onpeak)
    assert offpeak and all(c == pytest.approx(rates.offpeak * 1.5) for c in offpeak)


def test_saved_scenarios_run_by_name_and_are_listed(runner: CliRunner, marked: Path, tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "name: up ten\nsteps:\n  - {type: shift, percent: 10}\n")
    data = ["--data-dir", str(marked)]
    assert runner.invoke(app, ["scenario", "save", str(scenario), *data]).exit_code == 0
    saved = runner.invoke(app, ["scenario", "save", str(scenario), *data])
    assert "version 2" in _flat(saved.output)
    first = runner.invoke(app, ["scenario", "run", "up ten", "--hub", "HB_NORTH", *data])
    again = runner.invoke(app, ["scenario", "run", "up ten", "--hub", "HB_NORTH", *data])
    assert first.exit_code == 0, first.output
    fingerprints = [line for line in (first.output + again.output).splitlines() if "Fingerprint" in line]
    assert len(set(fingerprints)) == 1  # the same inputs give the same fingerprint
    listed = _flat(runner.invoke(app, ["scenario", "list", *data]).output)
    assert "up ten" in listed and "uri" in listed and "elliott" in listed


SWEEP = """name: grid
steps:
  - {{type: gas, gas_change: 0}}
  - {{type: shift, percent: 0, blocks: [onpeak]}}
sweep:
  - {{step: 0, parameter: gas_change, values: [{gas}]}}
  - {{step: 1, parameter: percent, values: [{percent}]}}
"""


def test_sweeps_run_inline_and_as_a_job_with_the_same_rows(
    runner: CliRunner, marked: Path, tmp_path: Path
) -> None:
    gas = ", ".join(str(g / 10) for g in range(-10, 11))  # 21 values
    small = _scenario(tmp_path, SWEEP.format(gas=gas, percent="-5, 0, 5"), "small.yaml")  # 63 points
    percent = ", ".join(str(p) for p in range(-10, 11))  # 21 x 21 = 441 points: a job
    large = _scenario(tmp_path, SWEEP.format(gas=gas, percent=percent), "large.yaml")
    assert 63 <= INLINE_SWEEP_MAX < 441
    data = ["--data-dir", str(marked)]
    inline, job = tmp_path / "inline.csv", tmp_path / "job.csv"
    done = runner.invoke(app, ["scenario", "run", str(small), "--hub", "HB_NORTH", "-o", str(inline), *data])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["scenario", "run", str(large), "--hub", "HB_NORTH", "-o", str(job), *data])
    assert done.exit_code == 0, done.output
    assert "Job " in done.output
    small_rows = {r["scenario"]: r for r in _rows(inline) if r["year"] == "2027"}
    large_rows = {r["scenario"]: r for r in _rows(job) if r["year"] == "2027"}
    assert len(small_rows) == 63 and len(large_rows) == 441
    # Every point both ran gives the same prices, and onpeak moves by the percent applied after gas.
    for name, row in small_rows.items():
        assert float(large_rows[name]["onpeak"]) == pytest.approx(float(row["onpeak"]), abs=1e-9)
    base = float(large_rows["grid [s0.gas_change=0, s1.percent=0]"]["onpeak"])
    up = float(large_rows["grid [s0.gas_change=0, s1.percent=10]"]["onpeak"])
    assert up == pytest.approx(base * 1.1)


def test_a_replay_without_its_prices_says_which(runner: CliRunner, marked: Path, tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "name: uri again\nsteps:\n  - {type: replay, preset: uri}\n")
    result = runner.invoke(
        app, ["scenario", "run", str(scenario), "--hub", "HB_NORTH", "--data-dir", str(marked)]
    )
    flat = _flat(result.output)
    assert result.exit_code == 1
    assert "replay uri" in flat and "2021-02-20" in flat and "HB_NORTH" in flat and "not in the store" in flat


def test_scenarios_compose_in_the_order_given(runner: CliRunner, marked: Path, tmp_path: Path) -> None:
    plus = _scenario(tmp_path, "name: plus ten\nsteps:\n  - {type: shift, absolute: 10}\n", "plus.yaml")
    pct = _scenario(tmp_path, "name: up ten pct\nsteps:\n  - {type: shift, percent: 10}\n", "pct.yaml")
    data = ["--data-dir", str(marked), "--hub", "HB_NORTH"]
    changes: dict[str, list[float]] = {}
    for order, files in (("plus then pct", [plus, pct]), ("pct then plus", [pct, plus])):
        out = tmp_path / f"{order}.csv"
        result = runner.invoke(app, ["scenario", "run", *map(str, files), "-o", str(out), *data])
        assert result.exit_code == 0, result.output
        changes[order] = [float(r["price"]) - 1.1 * float(r["base_price"]) for r in _rows(out)]
    # (p + 10) * 1.1 = 1.1p + 11, against 1.1p + 10: the order shows, by exactly 1 $/MWh.
    assert all(c == pytest.approx(11.0) for c in changes["plus then pct"])
    assert all(c == pytest.approx(10.0) for c in changes["pct then plus"])
