"""The VaR backtest chart: P&L bars, the -VaR line, exceedances marked where losses beat VaR, PNG bytes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.dates import date2num

from carbon254.reports.risk_chart import backtest_chart, backtest_png
from carbon254.risk import RiskError

DAYS = [date(2024, 6, 1) + timedelta(days=i) for i in range(60)]


def _series() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    pnl = rng.normal(0, 100, 60)
    var = np.full(60, 160.0)
    pnl[[10, 41]] = [-200.0, -170.0]  # two losses beyond VaR
    pnl[20] = -160.0  # a loss equal to VaR is not an exceedance
    return pnl, var


def test_png_bytes() -> None:
    pnl, var = _series()
    png = backtest_png(DAYS, pnl, var, "HB_SOUTH 99% VaR", 0.99)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_bars_line_and_exceedances() -> None:
    pnl, var = _series()
    pnl = np.where(np.arange(60) == 5, 250.0, np.clip(pnl, -159.0, None))
    pnl[[10, 41]] = [-200.0, -170.0]
    figure = backtest_chart(DAYS, pnl, var, "title", 0.95)
    (axes,) = figure.axes
    assert axes.get_title() == "title" and axes.get_ylabel() == "P&L ($)"
    (bars,) = [c for c in axes.containers if isinstance(c, BarContainer)]
    np.testing.assert_allclose([b.get_height() for b in bars.patches], pnl)
    (line,) = axes.lines[:1]
    np.testing.assert_allclose(line.get_ydata(), -var)
    (marks,) = [c for c in axes.collections if isinstance(c, PathCollection)]
    x_days = date2num(np.array([DAYS[10], DAYS[41]], dtype="datetime64[D]"))
    np.testing.assert_allclose(marks.get_offsets()[:, 0], x_days)
    np.testing.assert_allclose(marks.get_offsets()[:, 1], [-200.0, -170.0])
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert "exceedances (2, 3.0 expected)" in labels and "-VaR" in labels


def test_misaligned_inputs_are_refused() -> None:
    pnl, var = _series()
    with pytest.raises(RiskError, match="one value per day"):
        backtest_chart(DAYS[:-1], pnl, var, "")
    with pytest.raises(RiskError, match="nothing to draw"):
        backtest_chart([], pnl[:0], var[:0], "")
