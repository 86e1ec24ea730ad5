"""Ancillary-service clearing prices ($/MW-h), day-ahead and hourly real-time.

Reserve prices follow the energy market: they rise with utilisation and fuel
cost (the opportunity cost of holding capacity back), are higher in the ramp
hours, and take a share of the shortage adder when reserves run short, which is
how ERCOT's AS prices spike with its ORDC. Sub-regional reserve zones price at
or above the system. Real-time reserve prices are noisier and often clear at
zero when reserves are plentiful.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.schema import AS_PRICE_SCHEMA
from carbon254.simulate.clock import US_PER_HOUR, hourly_mean
from carbon254.simulate.columns import constant, floats, null_timestamps, repeat_each, timestamps
from carbon254.simulate.iso import simulation
from carbon254.simulate.processes import ar_by_day
from carbon254.simulate.publication import day_ahead_published
from carbon254.simulate.rounding import from_cents, to_cents
from carbon254.simulate.streams import Stream, generator
from carbon254.simulate.system import System

FloatArray = npt.NDArray[np.float64]

AS_MARKETS = ("DAM", "RTH")


def _ramp_shape(hour: FloatArray) -> FloatArray:
    """Reserves are worth more in the morning and evening ramps (local time)."""
    return np.asarray(
        1.0 + 0.15 * np.exp(-(((hour - 7.5) / 1.5) ** 2)) + 0.3 * np.exp(-(((hour - 19.0) / 2.0) ** 2))
    )


def as_prices(system: System, seed: int) -> dict[str, FloatArray]:
    """Prices ($/MW-h) per market: arrays (products, regions, hours) for the block's hours."""
    model = system.model
    idx = simulation(model.iso).stream_index
    n_p, n_r = len(model.as_products), len(model.as_regions)
    span = range(system.first_day - 1, system.first_day + system.days)
    draws = np.array(
        [generator(seed, idx, Stream.ANCILLARY, d).standard_normal((2, n_p, n_r + 1, 24)) for d in span]
    )
    # (days+1, 2, P, R+1, 24) -> (2, P, R+1, days+1, 24): AR along the day axis.
    noise = ar_by_day(draws.transpose(1, 2, 3, 0, 4), 0.8).reshape(2, n_p, n_r + 1, -1)
    # Regions share most of their product's noise.
    z = 0.8 * noise[:, :, :1, :] + 0.6 * noise[:, :, 1:, :]
    span_now = range(system.first_day, system.first_day + system.days)
    zeros = np.array(
        [generator(seed, idx, Stream.ANCILLARY_ZERO, d).random((n_p, n_r, 24)) for d in span_now]
    )
    zero_draw = zeros.transpose(1, 2, 0, 3).reshape(n_p, n_r, -1)

    level = np.array([p.level for p in model.as_products])[:, None, None]
    vol = np.array([p.volatility for p in model.as_products])[:, None, None]
    share = np.array([p.shortage_share for p in model.as_products])[:, None, None]
    rt_zero = np.array([p.rt_zero for p in model.as_products])[:, None, None]
    region = np.array([m for _, m in model.as_regions])[None, :, None]
    ramp = _ramp_shape(system.physical.local_hours.hour)[None, None, :]
    gas = np.sqrt(hourly_mean(system.physical.gas))[None, None, :]

    e = system.energy
    da_base = level * region * gas * ramp * (0.6 + 0.8 * e.da_utilisation[None, None, :])
    da = da_base * np.exp(vol * z[0] - 0.5 * vol * vol) + share * region * e.da_shortage[None, None, :]
    rt_base = level * region * gas * ramp * (0.6 + 0.8 * e.rt_utilisation[None, None, :])
    rt_vol = 1.4 * vol
    rt_shortage = hourly_mean(e.rt_shortage)[None, None, :]
    rt = rt_base * np.exp(rt_vol * z[1] - 0.5 * rt_vol * rt_vol) + share * region * rt_shortage
    # Plentiful reserves clear at zero in real time, more often when the system is slack.
    slack = 1.0 - np.clip(e.rt_utilisation, 0.0, 1.0)[None, None, :]
    rt = np.where(zero_draw < rt_zero * 2.0 * slack, 0.0, rt)
    return {"DAM": np.maximum(da, 0.0), "RTH": np.maximum(rt, 0.0)}


def as_tables(
    system: System, seed: int, markets: tuple[str, ...], start_us: int, end_us: int
) -> Iterator[pa.Table]:
    """One `as_price` batch per market for the block's hours that start in [start_us, end_us)."""
    wanted = [m for m in AS_MARKETS if m in markets]
    hours = system.physical.hours
    inside = (hours >= start_us) & (hours < end_us)
    if not wanted or not inside.any():
        return
    model = system.model
    prices = as_prices(system, seed)
    start = hours[inside]
    n_t = start.size
    pairs = [(r, p.name) for p in model.as_products for r, _ in model.as_regions]
    rows = len(pairs) * n_t
    for market in wanted:
        # (products, regions, hours) -> rows ordered product, region, time.
        values = from_cents(to_cents(prices[market][:, :, inside])).reshape(-1)
        published = day_ahead_published(start, model.iso) if market == "DAM" else start + US_PER_HOUR
        starts = np.tile(start, len(pairs))
        yield pa.Table.from_arrays(
            [
                constant(model.iso.value, rows),
                constant(market, rows),
                repeat_each([r for r, _ in pairs], n_t),
                repeat_each([p for _, p in pairs], n_t),
                timestamps(starts),
                timestamps(starts + US_PER_HOUR),
                floats(values),
                timestamps(np.tile(published, len(pairs))),
                null_timestamps(rows),
            ],
            schema=AS_PRICE_SCHEMA,
        )
