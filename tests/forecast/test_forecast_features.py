"""Feature rows read only the days before the target (prices) and up to it (exogenous)."""

from __future__ import annotations

import numpy as np
import pytest
from forecast_data import synthetic_data

from carbon254.forecast import ForecastError, gbm_design, gbm_feature_names, lear_design


def test_a_lear_row_is_the_lagged_profiles_the_exogenous_profiles_and_the_weekday() -> None:
    data = synthetic_data(40)
    history = data.known_at(30)
    row = lear_design(history, 30, 31)[0]
    p, load = data.prices, data.exogenous[0]
    expected = np.concatenate([p[29], p[28], p[27], p[23], load[30], load[29], load[23], np.eye(7)[30 % 7]])
    assert np.array_equal(row, expected)
    assert len(row) == 96 + 72 + 7


def test_gbm_rows_hold_the_same_hours_lags_and_rolling_means() -> None:
    data = synthetic_data(40)
    history = data.known_at(35)
    x = gbm_design(history, 34, 36)
    names = gbm_feature_names(data.exogenous_names)
    assert x.shape == (48, len(names))
    column = {name: i for i, name in enumerate(names)}
    p, load = data.prices, data.exogenous[0]
    row = x[24 + 5]  # day 35, hour 5
    assert row[column["hour"]] == 5 and row[column["weekday"]] == 35 % 7
    assert row[column["price_d1"]] == p[34, 5] and row[column["price_d7"]] == p[28, 5]
    assert row[column["price_d1_h17"]] == p[34, 17]
    assert row[column["price_hour_mean_7d"]] == pytest.approx(np.mean(p[28:35, 5]))
    assert row[column["price_mean_28d"]] == pytest.approx(np.mean(p[7:35]))
    assert (
        row[column["load_d0"]] == load[35, 5] and row[column["load_change_d7"]] == load[35, 5] - load[28, 5]
    )


def test_rows_needing_unknown_prices_are_refused() -> None:
    history = synthetic_data(40).known_at(20)
    with pytest.raises(ForecastError, match=r"rows 20\.\.21 are not in 7\.\.20"):
        lear_design(history, 20, 22)
    with pytest.raises(ForecastError, match="needs 7 days of prices before it"):
        gbm_design(history, 3, 5)
