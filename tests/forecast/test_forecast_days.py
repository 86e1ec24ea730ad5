"""The day grid: hourly rows onto days x 24 slots (DST days included), and what a `History` holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from carbon254.forecast import DayAheadData, ForecastError, from_hourly, from_utc

CHICAGO = ZoneInfo("America/Chicago")


def _local_rows(first: datetime, hours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local day and hour of `hours` consecutive UTC hours from `first`, and price = UTC hour index."""
    stamps = [first + timedelta(hours=h) for h in range(hours)]
    local = [s.astimezone(CHICAGO) for s in stamps]
    days = np.array([t.date() for t in local], dtype="datetime64[D]")
    return days, np.array([t.hour for t in local]), np.arange(hours, dtype=np.float64)


def test_spring_forward_hour_is_filled_between_its_neighbours_and_not_observed() -> None:
    # 2024-03-10 in Chicago has no 2 a.m.: local midnight of the 9th is 06:00 UTC.
    days, hours, prices = _local_rows(datetime(2024, 3, 9, 6, tzinfo=UTC), 24 + 23 + 24)
    grid = from_hourly(days, hours, prices)
    assert list(grid.days.astype(str)) == ["2024-03-09", "2024-03-10", "2024-03-11"]
    spring = grid.prices[1]
    # Slots 0 and 1 are UTC hours 24 and 25; slot 3 (3 a.m. CDT) is UTC hour 26.
    assert spring[:2].tolist() == [24.0, 25.0] and spring[3] == 26.0
    assert spring[2] == pytest.approx(25.5)
    assert not grid.observed[1, 2] and grid.observed.sum() == 24 * 3 - 1


def test_fall_back_hour_averages_its_two_prices() -> None:
    # 2024-11-03 in Chicago has 1 a.m. twice (CDT, then CST): 25 hours.
    days, hours, prices = _local_rows(datetime(2024, 11, 2, 5, tzinfo=UTC), 24 + 25 + 24)
    grid = from_hourly(days, hours, prices)
    fall = grid.prices[1]
    assert fall[0] == 24.0
    assert fall[1] == pytest.approx((25.0 + 26.0) / 2)
    assert fall[2] == 27.0 and fall[23] == 48.0
    assert grid.observed.all()


def test_utc_stamps_go_on_the_market_clock() -> None:
    first = datetime(2024, 3, 9, 6, tzinfo=UTC)
    hours = 24 + 23 + 24
    stamps = np.array([int((first + timedelta(hours=h)).timestamp()) * 1_000_000 for h in range(hours)])
    prices = np.arange(hours, dtype=np.float64)
    grid = from_utc(stamps, prices, "America/Chicago", {"load": prices * 2})
    local = from_hourly(*_local_rows(first, hours), {"load": prices * 2})
    assert np.array_equal(grid.days, local.days) and np.array_equal(grid.prices, local.prices)
    assert np.array_equal(grid.exogenous, local.exogenous) and np.array_equal(grid.observed, local.observed)
    with pytest.raises(ForecastError, match="tz: 'Mars/Olympus' is not an IANA time zone"):
        from_utc(stamps, prices, "Mars/Olympus")


def test_exogenous_series_follow_the_same_grid_and_rows_may_come_in_any_order() -> None:
    days = np.repeat(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), 24)
    hours = np.tile(np.arange(24), 2)
    order = np.random.default_rng(1).permutation(48)
    prices = np.arange(48, dtype=np.float64)
    grid = from_hourly(days[order], hours[order], prices[order], {"load": 1000 + prices[order]})
    assert np.array_equal(grid.prices.reshape(-1), prices)
    assert grid.exogenous_names == ("load",)
    assert np.array_equal(grid.exogenous[0].reshape(-1), 1000 + prices)


def test_missing_days_and_gappy_days_are_refused_naming_the_day() -> None:
    days = np.repeat(np.array(["2024-01-01", "2024-01-03"], dtype="datetime64[D]"), 24)
    hours = np.tile(np.arange(24), 2)
    with pytest.raises(ForecastError, match="no rows on 2024-01-02"):
        from_hourly(days, hours, np.ones(48))
    keep = np.arange(48) % 24 >= 5  # day 1 and day 2 lose five hours each
    days2 = np.repeat(np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), 24)
    with pytest.raises(ForecastError, match="prices: 2024-01-01 has values for only 19 of 24 hours"):
        from_hourly(days2[keep], hours[keep], np.ones(int(keep.sum())))
    with pytest.raises(ForecastError, match="local_hour: 24 is outside 0-23"):
        from_hourly(days2, np.where(hours == 23, 24, hours), np.ones(48))


def test_partial_first_and_last_days_are_left_out() -> None:
    # UTC days of a file that starts and ends at 06:00 UTC: the first and last days are partial.
    stamps = [datetime(2024, 1, 1, 6, tzinfo=UTC) + timedelta(hours=h) for h in range(72)]
    utc_days = np.array([s.date() for s in stamps], dtype="datetime64[D]")
    grid = from_hourly(utc_days, np.array([s.hour for s in stamps]), np.arange(72, dtype=np.float64))
    assert list(grid.days.astype(str)) == ["2024-01-02", "2024-01-03"]
    assert grid.prices[0, 0] == 18.0 and grid.observed.all()


def test_an_empty_price_is_a_gap_filled_in_and_not_observed() -> None:
    days = np.repeat(np.array(["2024-01-01"], dtype="datetime64[D]"), 24)
    prices = np.arange(24, dtype=np.float64)
    prices[5] = np.nan
    grid = from_hourly(days, np.arange(24), prices)
    assert grid.prices[0, 5] == pytest.approx(5.0) and not grid.observed[0, 5]


def test_history_holds_prices_before_the_day_and_exogenous_up_to_it() -> None:
    prices = np.arange(10 * 24, dtype=np.float64).reshape(10, 24)
    data = DayAheadData.from_days("2024-01-01", prices, {"load": prices + 1000})
    history = data.known_at(6)
    assert history.target_day == np.datetime64("2024-01-07")
    assert history.prices.shape == (6, 24) and history.exogenous.shape == (1, 7, 24)
    assert history.exogenous[0, -1, 0] == prices[6, 0] + 1000
    cut = history.truncated(4)
    assert cut.target_day == np.datetime64("2024-01-05") and cut.prices.shape == (4, 24)
    latest = history.latest(3)
    assert latest.days[0] == np.datetime64("2024-01-04") and np.array_equal(latest.prices, prices[3:6])
    assert data.index_of("2024-01-10") == 9
    with pytest.raises(ForecastError, match="day: 2024-01-11 is outside the data"):
        data.index_of("2024-01-11")


def test_bad_arrays_are_refused_naming_the_field() -> None:
    with pytest.raises(ForecastError, match="prices: 2024-01-01 hour 3 is not a finite price"):
        bad = np.ones((2, 24))
        bad[0, 3] = np.inf
        DayAheadData.from_days("2024-01-01", bad)
    with pytest.raises(ForecastError, match=r"prices: shape \(2, 23\)"):
        DayAheadData.from_days("2024-01-01", np.ones((2, 23)))
    with pytest.raises(ForecastError, match="exogenous: shape"):
        DayAheadData.from_days("2024-01-01", np.ones((2, 24)), {"load": np.ones((3, 24))})
