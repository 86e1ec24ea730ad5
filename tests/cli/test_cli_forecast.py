"""`carbon254 forecast backtest`: the interface contract on small price files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from cli_helpers import run_cli
from typer.testing import CliRunner

from carbon254.cli.main import app
from shared_data import SHARED_DATA

FIRST = date(2021, 1, 4)  # a Monday
DAYS = 70


def _series(days: int = DAYS, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hours = np.arange(24)
    load = 1000 + 200 * np.sin((hours - 8) / 24 * 2 * np.pi)[None, :] + rng.normal(0, 40, (days, 24))
    prices = (
        30 + 0.04 * (load - 1000) + rng.normal(0, 2, (days, 24)) + np.cumsum(rng.normal(0, 1, days))[:, None]
    )
    return prices, load


def _file(tmp_path: Path, prices: np.ndarray, load: np.ndarray) -> Path:
    lines = ["interval_start,price,load_forecast"]
    for d in range(len(prices)):
        for h in range(24):
            stamp = datetime.combine(FIRST + timedelta(days=d), datetime.min.time()) + timedelta(hours=h)
            lines.append(f"{stamp:%Y-%m-%d %H:%M:%S},{prices[d, h]:.6f},{load[d, h]:.1f}")
    path = tmp_path / "prices.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _backtest(runner: CliRunner, path: Path, *args: str) -> dict[str, float]:
    result = runner.invoke(
        app, ["forecast", "backtest", "--data", str(path), *args, "--format", "json", "--processes", "1"]
    )
    assert result.exit_code == 0, result.output
    document: dict[str, float] = json.loads(result.output)
    return document


def test_naive_scores_equal_a_computation_by_hand(runner: CliRunner, tmp_path: Path) -> None:
    prices, load = _series()
    prices = np.round(prices, 6)
    path = _file(tmp_path, prices, load)
    doc = _backtest(
        runner, path, "--model", "naive", "--test-start", "2021-02-22", "--test-end", "2021-03-07"
    )
    assert list(doc) == ["mae", "rmse", "smape", "rmae", "n"]
    errors, squares, smapes, base = [], [], [], []
    for d in range(49, 63):
        day = FIRST + timedelta(days=d)
        source = d - 7 if day.weekday() in (0, 5, 6) else d - 1
        for h in range(24):
            y, f = prices[d, h], prices[source, h]
            errors.append(abs(y - f))
            squares.append((y - f) ** 2)
            smapes.append(2 * abs(y - f) / (abs(y) + abs(f)))
            base.append(abs(y - prices[d - 7, h]))
    assert doc["n"] == 14 * 24
    assert doc["mae"] == pytest.approx(np.mean(errors))
    assert doc["rmse"] == pytest.approx(np.sqrt(np.mean(squares)))
    assert doc["smape"] == pytest.approx(np.mean(smapes))  # a fraction
    assert doc["rmae"] == pytest.approx(np.mean(errors) / np.mean(base))
    seasonal = _backtest(runner, path, "--model", "seasonal_naive", "--test-start", "2021-02-22")
    assert seasonal["rmae"] == pytest.approx(1.0) and seasonal["n"] == (DAYS - 49) * 24


def test_lear_uses_the_load_forecast_and_beats_the_seasonal_naive(runner: CliRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, *_series())
    doc = _backtest(runner, path, "--model", "lear", "--test-start", "2021-03-01", "--recalibrate-every", "3")
    assert doc["n"] == (DAYS - 56) * 24 and doc["rmae"] < 1.0


def test_utc_times_are_put_on_the_market_clock_and_dst_hours_handled(
    runner: CliRunner, tmp_path: Path
) -> None:
    # 2024-03-10 in Chicago has 23 hours, 2024-11-03 has 25: UTC rows from 2024-02-20 to 2024-11-10.
    zone = ZoneInfo("America/Chicago")
    first = datetime(2024, 2, 20, 6, tzinfo=UTC)
    rows = ["interval_start,price"]
    hours = int((datetime(2024, 11, 11, 6, tzinfo=UTC) - first).total_seconds() // 3600)
    rng = np.random.default_rng(1)
    values = 30 + rng.normal(0, 5, hours)
    for i in range(hours):
        rows.append(f"{(first + timedelta(hours=i)).strftime('%Y-%m-%dT%H:%M:%SZ')},{values[i]:.4f}")
    path = tmp_path / "utc.csv"
    path.write_text("\n".join(rows) + "\n")
    args = ["--model", "seasonal_naive", "--tz", "America/Chicago"]
    spring = _backtest(runner, path, *args, "--test-start", "2024-03-09", "--test-end", "2024-03-11")
    assert spring["n"] == 24 + 23 + 24  # the missing 2 a.m. is not scored
    fall = _backtest(runner, path, *args, "--test-start", "2024-11-02", "--test-end", "2024-11-04")
    assert fall["n"] == 24 * 3  # the two 1 a.m. hours are averaged into one
    # Scored by hand on the fall-back day: its 1 a.m. slot is the mean of the two hours, as a week earlier.
    local = [(first + timedelta(hours=i)).astimezone(zone) for i in range(hours)]
    slots: dict[tuple[date, int], list[float]] = {}
    for t, v in zip(local, values, strict=True):
        slots.setdefault((t.date(), t.hour), []).append(float(v))
    errors = [
        abs(np.mean(slots[(date(2024, 11, d), h)]) - np.mean(slots[(date(2024, 10, d + 31 - 7), h)]))
        for d in (2, 3, 4)
        for h in range(24)
    ]
    assert fall["mae"] == pytest.approx(np.mean(errors), rel=1e-6)
    utc = _backtest(
        runner, path, "--model", "naive", "--test-start", "2024-03-10", "--test-end", "2024-03-10"
    )
    assert utc["n"] == 24  # without --tz the days are UTC days


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (
            "time,price\n2021-01-01 00:00,1\n",
            ["--test-start", "2021-01-01"],
            "needs the columns interval_start,price",
        ),
        (
            "interval_start,price\n2021-01-01 00:00,abc\n",
            ["--test-start", "2021-01-01"],
            "line 2, price: 'abc'",
        ),
        ("interval_start,price\nyesterday,1\n", ["--test-start", "2021-01-01"], "line 2, interval_start"),
        (
            "interval_start,price\n2021-01-01 00:00,inf\n",
            ["--test-start", "2021-01-01"],
            "line 2, price: 'inf'",
        ),
        (
            "Interval_Start,Price\n2021-01-01 00:00,1\n",
            ["--test-start", "2021-01-01"],
            "2021-01-01 has values for only 1 of 24 hours",
        ),
        (None, ["--test-start", "2022-01-01"], "--test-start: 2022-01-01 is outside the data"),
        (None, ["--test-start", "2021-01-10"], "--test-start: lear needs 21 days of prices before the first"),
        (
            None,
            ["--test-start", "2021-02-01", "--test-end", "2021-01-20"],
            "--test-end: 2021-01-20 is before",
        ),
        (None, ["--test-start", "1 March"], "--test-start: '1 March' is not a date"),
        ("", ["--test-start", "2021-02-01", "--data", "/nonexistent/prices.csv"], "--data: cannot read"),
        (
            None,
            ["--test-start", "2021-02-01", "--model", "prophet"],
            "--model: 'prophet' is not one of naive",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_a_message(
    runner: CliRunner, tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    path = _file(tmp_path, *_series(40)) if content is None else tmp_path / "bad.csv"
    if content:
        path.write_text(content)
    model = [] if "--model" in args else ["--model", "lear"]
    result = runner.invoke(app, ["forecast", "backtest", "--data", str(path), *model, *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_the_installed_command_prints_json_only(tmp_path: Path) -> None:
    path = _file(tmp_path, *_series(30))
    done = run_cli(
        "forecast",
        "backtest",
        "--data",
        str(path),
        "--model",
        "naive",
        "--test-start",
        "2021-01-25",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"mae", "rmse", "smape", "rmae", "n"}


PJM = SHARED_DATA / "epf" / "PJM.csv"


@pytest.mark.skipif(not PJM.exists(), reason=f"the EPF PJM benchmark file is not at {PJM}")
def test_on_the_real_pjm_benchmark_prices_lear_halves_the_seasonal_naives_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    # 2016 of the real COMED day-ahead prices with the two day-ahead load forecasts, in the contract's
    # columns; December is the test month.
    rows = [line.split(",") for line in PJM.read_text().splitlines()[1:]]
    year = [r for r in rows if r[0].startswith("2016-")]
    path = tmp_path / "pjm_2016.csv"
    path.write_text(
        "interval_start,price,system_load,zonal_load\n" + "".join(f"{','.join(r)}\n" for r in year)
    )
    seasonal = _backtest(runner, path, "--model", "seasonal_naive", "--test-start", "2016-12-01")
    prices = np.array([float(r[1]) for r in year]).reshape(-1, 24)
    first = (date(2016, 12, 1) - date(2016, 1, 1)).days
    expected = np.mean(np.abs(prices[first:] - prices[first - 7 : -7]))
    assert seasonal["n"] == 31 * 24 and seasonal["mae"] == pytest.approx(expected)
    lear = _backtest(runner, path, "--model", "lear", "--test-start", "2016-12-01")
    # Published on the 2017-18 test: LEAR's rMAE is about 0.48; a month of 2016 lands near it.
    assert lear["n"] == 31 * 24 and lear["rmae"] < 0.6
