"""Keeping a sub-hourly forecaster current on a live real-time price series.

A live series is whatever the store holds of the last few days: it may have
gaps (an interval the ISO never published, a feed that was down) and it
grows one commit at a time, sometimes revising an interval already seen.
`fit_live` puts the stored intervals on the five-minute grid
(`regular_series`, the last price carried over missing ones, as
`SubHourlyModel.update` does live) and fits a `SubHourlyModel` on them, with
the daily term only when the history holds enough days for it; `fold`
brings a state up to date with one commit's intervals, in any order,
revisions of older intervals included.
Times are UTC microseconds since the epoch; prices $/MWh. No I/O.
"""

from __future__ import annotations

import numpy as np

from carbon254.forecast.days import Floats
from carbon254.forecast.errors import ForecastError
from carbon254.forecast.subhourly import (
    FIVE_MINUTES_US,
    INTERVALS_PER_DAY,
    Stamps,
    SubHourlyModel,
    SubHourlyState,
    fit_subhourly,
    regular_series,
)

# The daily term regresses on yesterday's price: it needs a few days of history to be estimated.
SEASON_MIN_DAYS = 3
# Without it, the least history a fit takes: a day, so the holdout still spans a few hours.
MIN_INTERVALS = INTERVALS_PER_DAY


def fit_live(
    interval_start_us: Stamps,
    prices: Floats,
    *,
    horizons: int = 12,
    interval_us: int = FIVE_MINUTES_US,
) -> tuple[SubHourlyModel, SubHourlyState]:
    """A model fitted on a stored series (µs UTC starts, rising; $/MWh) and its state after the newest one.

    The daily term is used when the series spans at least `SEASON_MIN_DAYS`
    days, else the model is purely autoregressive. Raises `ForecastError`
    when the series holds fewer than `MIN_INTERVALS` intervals, naming
    how many there are.
    """
    starts, values = regular_series(interval_start_us, prices, interval_us)
    if len(values) < MIN_INTERVALS:
        raise ForecastError(
            f"prices: {len(values)} intervals stored; a live forecast needs at least {MIN_INTERVALS}"
        )
    season = INTERVALS_PER_DAY if len(values) >= SEASON_MIN_DAYS * INTERVALS_PER_DAY else 0
    model = fit_subhourly(starts, values, horizons=horizons, season=season, interval_us=interval_us)
    return model, model.start(starts, values)


def fold(
    model: SubHourlyModel, state: SubHourlyState, interval_start_us: Stamps, prices: Floats
) -> SubHourlyState:
    """`state` after a commit's intervals (µs UTC starts, $/MWh, any order).

    Intervals after the newest move the state on (gaps carried, as
    `SubHourlyModel.update` does); the newest is revised in place, and so
    is an older one the state still remembers; one older than that no
    longer affects a forecast and is ignored. Raises `ForecastError` for an
    off-grid start or a non-finite price.
    """
    order = np.argsort(np.asarray(interval_start_us, dtype=np.int64), kind="stable")
    for start, price in zip(
        np.asarray(interval_start_us, dtype=np.int64)[order].tolist(),
        np.asarray(prices, dtype=np.float64)[order].tolist(),
        strict=True,
    ):
        if start >= state.last_start_us:
            state = model.update(state, start, price)
            continue
        if not np.isfinite(price):
            raise ForecastError(f"price: {price!r} is not a finite price")
        back, rest = divmod(state.last_start_us - start, model.interval_us)
        if rest:
            raise ForecastError(f"interval_start: {start} is not on the grid before {state.last_start_us}")
        if back < len(state.recent):
            recent = state.recent.copy()
            recent[back] = price
            state = SubHourlyState(state.last_start_us, recent)
    return state
