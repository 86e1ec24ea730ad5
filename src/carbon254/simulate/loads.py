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

from carbon254.schema import LOAD_SCHEMA, LoadKind
from carbon254.simulate.clock import US_PER_HOUR, hourly_mean
from carbon254.simulate.columns import (
    constant,
    floats,
    null_timestamps,
    repeat_each,
    timestamps,
    timestamps_where,
)
from carbon254.simulate.iso import simulation
from carbon254.simulate.processes import ar_by_day
from carbon254.simulate.publication import day_ahead_forecast_issued, day_ahead_published
from carbon254.simulate.streams import Stream, generator
from carbon254.simulate.system import System


def load_table(
    system: System, seed: int, start_us: int, end_us: int, kinds: tuple[LoadKind, ...]
) -> Iterator[pa.Table]:
    """One `load` batch: actual and/or day-ahead forecast MW per zone, as `kinds` asks.

    Covers the block's hours that start in [start_us, end_us). Actuals are
    published when their hour ends; forecasts carry their issue time (UTC) in
    `forecast_issued_at` and are published with the day-ahead results.
    """
    iso = system.model.iso
    hours = system.physical.hours
    inside = (hours >= start_us) & (hours < end_us)
    if not kinds or not inside.any():
        return
    sim = simulation(iso)
    zones = sim.geography.load_zones
    n_z = len(zones)
    span = range(system.first_day - 1, system.first_day + system.days)
    draws = np.array(
        [generator(seed, sim.stream_index, Stream.ZONES, d).standard_normal((2, n_z, 24)) for d in span]
    )
    wander = ar_by_day(draws.transpose(1, 2, 0, 3), 0.95).reshape(2, n_z, -1)[:, :, inside]
    share = np.array([z.share for z in zones])[:, None]
    physical = system.physical
    start = hours[inside]
    n_t = start.size
    mw, issued, published = [], [], []
    if LoadKind.ACTUAL in kinds:
        weights = share * np.exp(0.04 * wander[0])
        weights /= weights.sum(axis=0, keepdims=True)
        mw.append(np.round(weights * hourly_mean(physical.load)[inside][None, :], 1))
        issued.append(np.zeros(n_t, dtype=np.int64))
        published.append(start + US_PER_HOUR)
    if LoadKind.FORECAST in kinds:
        weights = share * np.exp(0.04 * wander[0] + 0.01 * wander[1])
        weights /= weights.sum(axis=0, keepdims=True)
        mw.append(np.round(weights * physical.load_forecast[inside][None, :], 1))
        issued.append(day_ahead_forecast_issued(start, iso))
        published.append(day_ahead_published(start, iso))
    wanted = [k for k in (LoadKind.ACTUAL, LoadKind.FORECAST) if k in kinds]
    n_k = len(wanted)
    # Rows: zone by zone, each kind in turn (actuals first), each in time order.
    values = np.stack(mw, axis=1).reshape(-1)
    rows = values.size
    starts = np.tile(start, n_k * n_z)
    is_forecast = np.tile(np.repeat([k is LoadKind.FORECAST for k in wanted], n_t), n_z)
    yield pa.Table.from_arrays(
        [
            constant(iso.value, rows),
            repeat_each([z.name for z in zones], n_k * n_t),
            repeat_each([k.value for k in wanted] * n_z, n_t),
            timestamps(starts),
            timestamps(starts + US_PER_HOUR),
            floats(values),
            timestamps_where(np.tile(np.concatenate(issued), n_z), is_forecast),
            timestamps(np.tile(np.concatenate(published), n_z)),
            null_timestamps(rows),
        ],
        schema=LOAD_SCHEMA,
    )
