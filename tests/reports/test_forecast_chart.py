"""The forecast chart: the actual line, one line per model, the band, its window and PNG bytes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from matplotlib.collections import FillBetweenPolyCollection, PolyCollection

from carbon254.forecast import BacktestSpec, Conformal, ForecastError, Lear, Naive, backtest
from carbon254.forecast.days import DayAheadData
from carbon254.reports.forecast_chart import Band, ForecastLine, backtest_chart, backtest_png, forecast_chart


def _data() -> DayAheadData:
    rng = np.random.default_rng(3)
    hours = np.arange(24)
    prices = 40 + 10 * np.sin(hours / 24 * 2 * np.pi)[None, :] + rng.normal(0, 2, (80, 24))
    return DayAheadData.from_days("2021-01-04", prices)


def test_lines_band_and_window() -> None:
    days = np.datetime64("2024-01-01") + np.arange(20)
    actual = np.arange(20 * 24, dtype=np.float64).reshape(20, 24)
    observed = np.ones((20, 24), dtype=bool)
    observed[3, 2] = False
    figure = forecast_chart(
        days,
        actual,
        [ForecastLine("lear", actual + 1), ForecastLine("naive", actual - 1)],
        band=Band(actual - 5, actual + 5),
        observed=observed,
        first_day=date(2024, 1, 3),
        n_days=5,
    )
    (axes,) = figure.axes
    labels = [line.get_label() for line in axes.get_lines()]
    assert labels == ["actual", "lear", "naive"]
    actual_line = axes.get_lines()[0]
    y = np.asarray(actual_line.get_ydata(), dtype=np.float64)
    assert len(y) == 5 * 24 and y[0] == actual[2, 0]
    assert np.isnan(y[24 + 2])  # day 4 hour 2 was filled in: the actual line breaks
    assert [c for c in axes.collections if isinstance(c, (FillBetweenPolyCollection, PolyCollection))]
    assert "2024-01-03 to 2024-01-07" in axes.get_title()


def test_backtest_chart_and_png() -> None:
    data = _data()
    spec = BacktestSpec(date(2021, 3, 1), date(2021, 3, 14), recalibrate_every=7)
    quantiles = backtest(Conformal(Lear(28), holdout_days=14), data, spec)
    naive = backtest(Naive(), data, spec)
    figure = backtest_chart([quantiles, naive])
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "lear P10-P90" in legend and "naive" in legend and "actual" in legend
    png = backtest_png([naive], n_days=3)
    assert png.startswith(b"\x89PNG")
    with pytest.raises(ForecastError, match="first_day: 2022-01-01 is not one of the days"):
        backtest_chart([naive], first_day=date(2022, 1, 1))
    with pytest.raises(ForecastError, match=r"forecast x: shape \(2, 24\)"):
        forecast_chart(naive.days, naive.actual, [ForecastLine("x", np.zeros((2, 24)))])
