"""Synthetic day-ahead data with known structure for the forecasting tests (no files, seeded).

Price = a daily shape that scales with a load forecast, a weekend discount,
a slowly wandering level (AR(1) from day to day) and independent noise of
known spread. Every model should learn the shape, the load response and the
level, which the one-week-old price (seasonal naive) cannot know.
"""

from __future__ import annotations

import numpy as np

from carbon254.forecast import DayAheadData

FIRST_DAY = "2021-01-04"  # a Monday


def synthetic_data(days: int = 200, noise: float = 2.0, seed: int = 7, level_sd: float = 4.0) -> DayAheadData:
    """`days` days of hourly prices ($/MWh) and one exogenous load forecast (MW).

    Hourly noise is independent with sd `noise` $/MWh; the daily level moves
    as an AR(1) with innovations of sd `level_sd` $/MWh.
    """
    rng = np.random.default_rng(seed)
    hours = np.arange(24)
    shape = 10 * np.sin((hours - 6) / 24 * 2 * np.pi) + 5 * np.exp(-((hours - 18) ** 2) / 8)
    weekday = (np.arange(days) + 0) % 7  # day 0 is a Monday
    load = 1000 + 150 * np.sin((hours - 8) / 24 * 2 * np.pi)[None, :] + rng.normal(0, 60, (days, 1))
    load = load + rng.normal(0, 15, (days, 24))
    level = np.zeros(days)
    for d in range(1, days):
        level[d] = 0.8 * level[d - 1] + rng.normal(0, level_sd)
    weekend = np.where(weekday >= 5, -6.0, 0.0)
    prices = 40 + level[:, None] + weekend[:, None] + shape[None, :] + 0.05 * (load - 1000)
    prices = prices + rng.normal(0, noise, (days, 24))
    return DayAheadData.from_days(FIRST_DAY, prices, {"load": load})
