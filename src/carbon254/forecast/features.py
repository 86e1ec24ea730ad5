"""Feature matrices for day-ahead models, built from a `History` so they cannot see the day they forecast.

Row `t` (a target day) only reads prices of days `t - lag` with `lag >= 1`
and exogenous values of days up to `t`: a `History` for day `n` holds
prices `0..n-1` and exogenous `0..n`, so the last row a model can build is
the forecast row `t = n`, and training rows are earlier days whose price is
known. Two layouts:

- `lear_design`: one row per day, the epftoolbox/LEAR inputs: the 24-hour
  price profiles of D-1, D-2, D-3 and D-7, each exogenous series' profile on
  D, D-1 and D-7, and seven weekday dummies (Monday first).
- `gbm_design`: one row per (day, hour) for tree models: the hour, weekday,
  holiday and day of year; the same hour's price on D-1, D-2, D-3 and D-7;
  the whole D-1 profile; D-1 level and spread; rolling means (same hour over
  7 days, daily over 7 and 28 days); each exogenous series at the hour on D,
  D-1 and D-7, its day mean and peak on D and its changes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carbon254.forecast.calendar import HolidayCalendar, is_holiday, weekday
from carbon254.forecast.days import HOURS, Floats, History
from carbon254.forecast.errors import ForecastError

PRICE_LAGS = (1, 2, 3, 7)
EXOGENOUS_LAGS = (0, 1, 7)
LOOKBACK_DAYS = 7
WEEKDAYS = 7


def _rows(history: History, first: int, stop: int) -> npt.NDArray[np.int64]:
    """Target day indices `first..stop-1`, checked: each needs a week of prices before it, none after."""
    if first < LOOKBACK_DAYS:
        raise ForecastError(f"history: a feature row needs {LOOKBACK_DAYS} days of prices before it")
    if stop > history.n_days + 1 or stop <= first:
        raise ForecastError(f"history: rows {first}..{stop - 1} are not in 7..{history.n_days}")
    return np.arange(first, stop)


def lear_feature_count(exogenous: int) -> int:
    """How many LEAR inputs with `exogenous` series: 96 prices, 72 per series, 7 dummies."""
    return HOURS * len(PRICE_LAGS) + exogenous * HOURS * len(EXOGENOUS_LAGS) + WEEKDAYS


def lear_design(history: History, first: int, stop: int) -> Floats:
    """LEAR inputs (stop - first, lear_feature_count) for target days `first..stop-1` of `history`.

    Columns: price profiles ($/MWh) of D-1, D-2, D-3, D-7; per exogenous
    series its profiles on D, D-1, D-7; then weekday dummies (Monday..Sunday).
    The last `WEEKDAYS` columns are the dummies (models leave them unscaled).
    """
    rows = _rows(history, first, stop)
    blocks = [history.prices[rows - lag] for lag in PRICE_LAGS]
    for series in history.exogenous:
        blocks += [series[rows - lag] for lag in EXOGENOUS_LAGS]
    blocks.append(np.eye(WEEKDAYS)[weekday(history.days[rows])])
    return np.hstack(blocks)


def gbm_feature_names(exogenous_names: tuple[str, ...]) -> tuple[str, ...]:
    """The column names of `gbm_design`, in order."""
    names = ["hour", "weekday", "holiday", "day_of_year"]
    names += [f"price_d{lag}" for lag in PRICE_LAGS]
    names += [f"price_d1_h{h}" for h in range(HOURS)]
    names += ["price_d1_mean", "price_d1_max", "price_d1_min", "price_d1_std"]
    names += ["price_hour_mean_7d", "price_mean_7d", "price_mean_28d"]
    for name in exogenous_names:
        names += [f"{name}_d{lag}" for lag in EXOGENOUS_LAGS]
        names += [f"{name}_mean", f"{name}_max", f"{name}_change_d1", f"{name}_change_d7", f"{name}_ratio_d1"]
    return tuple(names)


def gbm_design(
    history: History, first: int, stop: int, calendar: HolidayCalendar = HolidayCalendar.NERC
) -> Floats:
    """Tree-model inputs ((stop - first) * 24, len(gbm_feature_names)) for target days `first..stop-1`.

    Rows run day by day, hour 0 to 23 within a day; columns as
    `gbm_feature_names` says (prices $/MWh, exogenous in their own units).
    """
    rows = _rows(history, first, stop)
    m = len(rows)
    prices = history.prices
    days = history.days[rows]

    def per_day(values: Floats) -> Floats:
        return np.repeat(values, HOURS)

    def per_hour(values: Floats) -> Floats:
        return values.reshape(-1)

    columns: list[Floats] = [
        np.tile(np.arange(HOURS, dtype=np.float64), m),
        per_day(weekday(days).astype(np.float64)),
        per_day(is_holiday(days, calendar).astype(np.float64)),
        per_day((days - days.astype("datetime64[Y]")).astype(np.float64)),
    ]
    columns += [per_hour(prices[rows - lag]) for lag in PRICE_LAGS]
    yesterday = prices[rows - 1]
    columns += [per_day(yesterday[:, h]) for h in range(HOURS)]
    columns += [per_day(f(yesterday, axis=1)) for f in (np.mean, np.max, np.min, np.std)]
    # Rolling means from cumulative sums of the days before each row (only what was known).
    hourly_sums = np.vstack([np.zeros((1, HOURS)), np.cumsum(prices, axis=0)])
    daily_sums = hourly_sums.sum(axis=1)
    columns.append(per_hour((hourly_sums[rows] - hourly_sums[rows - 7]) / 7))
    columns.append(per_day((daily_sums[rows] - daily_sums[rows - 7]) / (7 * HOURS)))
    start28 = np.maximum(rows - 28, 0)
    columns.append(per_day((daily_sums[rows] - daily_sums[start28]) / ((rows - start28) * HOURS)))
    for series in history.exogenous:
        today = series[rows]
        columns += [per_hour(series[rows - lag]) for lag in EXOGENOUS_LAGS]
        columns += [per_day(today.mean(axis=1)), per_day(today.max(axis=1))]
        columns += [per_hour(today - series[rows - 1]), per_hour(today - series[rows - 7])]
        level = series[rows - 1].mean(axis=1, keepdims=True)
        columns.append(per_hour(today / np.where(level == 0, 1.0, level)))
    return np.column_stack(columns)
