"""A node's series checked against the window, and a schedule reduced to the ranking's figures."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.screening.series import node_figures, node_series

HOUR = 3_600_000_000
DAY_START = 1_709_251_200_000_000  # 2024-03-01T00:00Z


def _hours(count: int, skip: tuple[int, ...] = (), step: int = HOUR) -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([DAY_START + h * step for h in range(count) if h not in skip], dtype=np.int64)
    return starts, starts + step


def test_a_whole_series_keeps_its_prices_in_order() -> None:
    starts, ends = _hours(24)
    prices = np.arange(24, dtype=np.float64)
    series = node_series(starts, ends, prices, DAY_START, DAY_START + 24 * HOUR)
    assert series.reason is None
    assert (series.intervals, series.missing, series.interval_hours) == (24, 0, 1.0)
    assert series.first_start_us == DAY_START
    assert np.array_equal(series.prices, prices)


def test_missing_intervals_are_counted_and_the_first_gap_named() -> None:
    starts, ends = _hours(24, skip=(5, 6, 20))
    series = node_series(starts, ends, np.ones(len(starts)), DAY_START, DAY_START + 24 * HOUR)
    assert (series.intervals, series.missing) == (24, 3)
    assert series.reason == "3 of 24 intervals have no price (the first at 2024-03-01T05:00:00Z)"
    assert len(series.prices) == 0


def test_data_ending_before_the_window_counts_as_missing() -> None:
    starts, ends = _hours(20)
    series = node_series(starts, ends, np.ones(20), DAY_START, DAY_START + 24 * HOUR)
    assert (series.intervals, series.missing) == (24, 4)
    assert series.reason is not None and "2024-03-01T20:00:00Z" in series.reason


def test_five_minute_intervals_set_the_grid() -> None:
    step = HOUR // 12
    starts, ends = _hours(36, step=step)
    series = node_series(starts, ends, np.ones(36), DAY_START, DAY_START + 3 * HOUR)
    assert series.reason is None
    assert (series.intervals, series.interval_hours) == (36, pytest.approx(1 / 12))


def test_no_rows_mixed_lengths_and_off_grid_rows_are_reasons_not_prices() -> None:
    empty = np.array([], dtype=np.int64)
    none = node_series(empty, empty, np.array([]), DAY_START, DAY_START + HOUR)
    assert none.reason == "no prices in the window"
    starts, ends = _hours(4)
    ends[2] += HOUR
    mixed = node_series(starts, ends, np.ones(4), DAY_START, DAY_START + 4 * HOUR)
    assert mixed.reason == "intervals of different lengths (60, 120 minutes)"
    starts, ends = _hours(4)
    shifted = node_series(starts + 60_000_000, ends + 60_000_000, np.ones(4), DAY_START, DAY_START + 5 * HOUR)
    assert shifted.reason == "intervals off the market's grid"


def test_figures_add_up_the_dispatch_at_its_prices() -> None:
    prices = np.array([10.0, 10.0, 50.0, 50.0])
    charge = np.array([4.0, 4.0, 0.0, 0.0])  # MW, half-hour intervals: 4 MWh drawn
    discharge = np.array([0.0, 0.0, 3.0, 0.24])  # 1.62 MWh delivered
    figures = node_figures(prices, 0.5, charge, discharge, energy_mwh=2.0, degradation_cost=5.0)
    assert figures.energy_revenue == pytest.approx(1.62 * 50 - 4 * 10)
    assert figures.degradation_cost == pytest.approx(1.62 * 5)
    assert figures.net_revenue == pytest.approx(figures.energy_revenue - figures.degradation_cost)
    assert (figures.discharged_mwh, figures.charged_mwh) == (pytest.approx(1.62), pytest.approx(4.0))
    assert figures.cycles == pytest.approx(0.81)
    assert figures.spread_captured == pytest.approx(40.0)


def test_a_battery_that_never_trades_has_no_spread() -> None:
    zeros = np.zeros(4)
    figures = node_figures(np.full(4, 30.0), 1.0, zeros, zeros, energy_mwh=1.0, degradation_cost=1.0)
    assert figures.spread_captured is None
    assert figures.net_revenue == figures.cycles == 0.0
