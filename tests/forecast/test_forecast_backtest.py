"""Backtest scores equal the same scores computed here by plain loops; blocks, processes and errors."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from forecast_data import synthetic_data

from carbon254.forecast import (
    BacktestSpec,
    Conformal,
    DayAheadData,
    ForecastError,
    Lear,
    Naive,
    assemble,
    backtest,
    comparison_table,
    plan_backtest,
    run_blocks,
)


@pytest.fixture(scope="module")
def data() -> DayAheadData:
    base = synthetic_data(80)
    observed = base.observed.copy()
    observed[70, 2] = False  # a filled-in hour (as on a spring-forward day): never scored
    return DayAheadData(base.days, base.prices, base.exogenous, base.exogenous_names, observed)


def test_naive_backtest_forecasts_by_the_rule_and_scores_by_hand(data: DayAheadData) -> None:
    start, end = date(2021, 3, 1), date(2021, 3, 21)
    result = backtest(Naive(), data, BacktestSpec(start, end))
    errors, squares, smapes, apes, base_errors = [], [], [], [], []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        d = (day - date(2021, 1, 4)).days
        source = d - 7 if day.weekday() in (0, 5, 6) else d - 1
        for h in range(24):
            forecast = data.prices[source, h]
            assert result.forecast[i, h] == forecast
            if not data.observed[d, h]:
                continue
            y = data.prices[d, h]
            errors.append(abs(y - forecast))
            squares.append((y - forecast) ** 2)
            smapes.append(2 * abs(y - forecast) / (abs(y) + abs(forecast)))
            apes.append(abs(y - forecast) / abs(y))
            base_errors.append(abs(y - data.prices[d - 7, h]))
    m = result.metrics
    assert m.n == len(errors) == 21 * 24 - 1
    assert m.mae == pytest.approx(sum(errors) / len(errors))
    assert m.rmse == pytest.approx(math.sqrt(sum(squares) / len(squares)))
    assert m.smape == pytest.approx(sum(smapes) / len(smapes))
    assert m.mape == pytest.approx(sum(apes) / len(apes))
    assert m.rmae == pytest.approx((sum(errors) / len(errors)) / (sum(base_errors) / len(base_errors)))
    assert m.pinball is None and m.coverage is None


def test_quantile_scores_by_hand(data: DayAheadData) -> None:
    model = Conformal(Lear(28), holdout_days=14)
    result = backtest(model, data, BacktestSpec(date(2021, 3, 10), date(2021, 3, 23), recalibrate_every=7))
    assert result.quantiles is not None and result.levels == (0.1, 0.5, 0.9)
    inside = losses = count = 0
    first = (date(2021, 3, 10) - date(2021, 1, 4)).days
    for i in range(14):
        for h in range(24):
            if not data.observed[first + i, h]:
                continue
            y = data.prices[first + i, h]
            q = result.quantiles[i, :, h]
            assert q[0] <= q[1] <= q[2]
            inside += q[0] <= y <= q[2]
            for level, f in zip(result.levels, q, strict=True):
                losses += max(level * (y - f), (level - 1) * (y - f))
            count += 1
    assert result.metrics.coverage == pytest.approx(inside / count)
    assert result.metrics.pinball == pytest.approx(losses / count / 3)
    assert result.metrics.interval == (0.1, 0.9)
    table = result.table()
    assert table.columns == [
        "day",
        "hour",
        "actual",
        "forecast",
        "seasonal_naive",
        "observed",
        "p10",
        "p50",
        "p90",
    ]
    assert table.height == 14 * 24


def test_blocks_follow_the_recalibration_schedule_and_run_in_any_order(data: DayAheadData) -> None:
    spec = BacktestSpec(date(2021, 3, 1), date(2021, 3, 10), recalibrate_every=4)
    model = Lear(35)
    blocks = plan_backtest(model, data, spec)
    assert [(b.stop - b.first) for b in blocks] == [4, 4, 2]
    outputs = run_blocks(model, data, spec, blocks[::-1])
    joined = assemble(model.name, data, spec, outputs)
    whole = backtest(model, data, spec)
    assert joined.refits == whole.refits == 3
    assert np.array_equal(joined.forecast, whole.forecast)
    with pytest.raises(ForecastError, match="outputs: days"):
        assemble(model.name, data, spec, [outputs[0], outputs[2]])


def test_two_processes_give_the_same_forecasts(data: DayAheadData) -> None:
    spec = BacktestSpec(date(2021, 3, 1), date(2021, 3, 8), recalibrate_every=2)
    seen: list[tuple[int, int]] = []
    split = backtest(
        Lear(35), data, spec, processes=2, progress=lambda done, total: seen.append((done, total))
    )
    alone = backtest(Lear(35), data, spec)
    assert np.array_equal(split.forecast, alone.forecast)
    assert seen[-1] == (8, 8)


def test_periods_outside_the_data_are_refused_naming_the_field(data: DayAheadData) -> None:
    with pytest.raises(
        ForecastError, match=r"test_start: 2022-01-01 is outside the data \(2021-01-04 to 2021-03-24\)"
    ):
        backtest(Naive(), data, BacktestSpec(date(2022, 1, 1)))
    with pytest.raises(ForecastError, match="test_end: 2021-04-01 is outside the data"):
        backtest(Naive(), data, BacktestSpec(date(2021, 3, 1), date(2021, 4, 1)))
    with pytest.raises(ForecastError, match="test_end: 2021-02-01 is before test_start 2021-03-01"):
        BacktestSpec(date(2021, 3, 1), date(2021, 2, 1))
    with pytest.raises(ForecastError, match="naive needs 7 days of prices before the first test day"):
        backtest(Naive(), data, BacktestSpec(date(2021, 1, 8)))


def test_comparison_table_has_a_row_per_model(data: DayAheadData) -> None:
    spec = BacktestSpec(date(2021, 3, 1), date(2021, 3, 7))
    table = comparison_table([backtest(Naive(), data, spec), backtest(Lear(35), data, spec)])
    assert table["model"].to_list() == ["naive", "lear"]
    assert table["n"].to_list() == [7 * 24, 7 * 24]
