"""Zonal load (MW): actual and the day-ahead forecast the market cleared on.

Zone loads split the simulated system load by each zone's share, with slowly
wandering zone weights so zones do not move in lockstep; the weights are
renormalised every hour so that zones always add up to the system. Forecasts
are split the same way from the system forecast, so forecast errors are the
ones that moved day-ahead prices.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from carbon254.isos import ISOS
from carbon254.schema import LOAD_SCHEMA, LoadKind
from carbon254.simulate.catalog import GEOGRAPHY, ISO_INDEX
from carbon254.simulate.clock import US_PER_HOUR, hourly_mean
from carbon254.simulate.columns import (
    constant,
    floats,
    null_timestamps,
    repeat_each,
    timestamps,
    timestamps_where,
)
from carbon254.simulate.processes import ar_by_day
from carbon254.simulate.publication import day_ahead_forecast_issued
from carbon254.simulate.streams import Stream, generator
from carbon254.simulate.system import System


def load_table(system: System, seed: int, start_us: int, end_us: int) -> Iterator[pa.Table]:
    """One `load` batch: actual and day-ahead forecast MW per zone.

    Covers the block's hours that start in [start_us, end_us); forecasts carry
    their issue time (UTC) in `forecast_issued_at`.
    """
    iso = system.model.iso
    hours = system.physical.hours
    inside = (hours >= start_us) & (hours < end_us)
    if not inside.any():
        return
    zones = GEOGRAPHY[iso].load_zones
    n_z = len(zones)
    span = range(system.first_day - 1, system.first_day + system.days)
    draws = np.array(
        [generator(seed, ISO_INDEX[iso], Stream.ZONES, d).standard_normal((2, n_z, 24)) for d in span]
    )
    wander = ar_by_day(draws.transpose(1, 2, 0, 3), 0.95).reshape(2, n_z, -1)[:, :, inside]
    share = np.array([z.share for z in zones])[:, None]
    actual_w = share * np.exp(0.04 * wander[0])
    forecast_w = share * np.exp(0.04 * wander[0] + 0.01 * wander[1])
    actual_w /= actual_w.sum(axis=0, keepdims=True)
    forecast_w /= forecast_w.sum(axis=0, keepdims=True)
    physical = system.physical
    actual = np.round(actual_w * hourly_mean(physical.load)[inside][None, :], 1)
    forecast = np.round(forecast_w * physical.load_forecast[inside][None, :], 1)

    start = hours[inside]
    n_t = start.size
    issued = day_ahead_forecast_issued(start, ISOS[iso].timezone)
    # Rows: zone by zone, actuals then forecasts, each in time order.
    mw = np.stack([actual, forecast], axis=1).reshape(-1)
    rows = mw.size
    starts = np.tile(start, 2 * n_z)
    issued_col = np.tile(np.concatenate([np.zeros(n_t, dtype=np.int64), issued]), n_z)
    published = np.tile(np.concatenate([start + US_PER_HOUR, issued]), n_z)
    is_forecast = np.tile(np.repeat([False, True], n_t), n_z)
    yield pa.Table.from_arrays(
        [
            constant(iso.value, rows),
            repeat_each([z.name for z in zones], 2 * n_t),
            repeat_each([LoadKind.ACTUAL.value, LoadKind.FORECAST.value] * n_z, n_t),
            timestamps(starts),
            timestamps(starts + US_PER_HOUR),
            floats(mw),
            timestamps_where(issued_col, is_forecast),
            timestamps(published),
            null_timestamps(rows),
        ],
        schema=LOAD_SCHEMA,
    )
