"""LMP batches: location prices from system prices through the network, rounded to cents.

For every location, congestion = shift factors x shadow prices and loss = loss
factor x energy, then all three are rounded to cents and the LMP is their sum.
Hourly real time (`RTH`) is the mean of the 5-minute series before rounding;
`RT5` is rounded so that its hourly means are exactly the `RTH` prices.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.schema import LMP_SCHEMA
from carbon254.simulate.clock import FIVE_MINUTES, INTERVALS_PER_HOUR, US_PER_HOUR
from carbon254.simulate.columns import constant, floats, null_timestamps, repeat_each, timestamps
from carbon254.simulate.network import Network
from carbon254.simulate.publication import day_ahead_published
from carbon254.simulate.rounding import cents_matching_hour, from_cents, to_cents
from carbon254.simulate.system import System

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _chunks(count: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, count, size):
        yield lo, min(lo + size, count)


def _table(
    network: Network,
    market: str,
    locations: tuple[int, int],
    start_us: IntArray,
    step_us: int,
    published_us: IntArray,
    energy_cents: FloatArray,
    congestion_cents: FloatArray,
    loss_cents: FloatArray,
) -> pa.Table:
    """One batch, location-major: each location's intervals in time order."""
    lo, hi = locations
    n_loc, n_t = congestion_cents.shape
    rows = n_loc * n_t
    energy = np.broadcast_to(energy_cents, (n_loc, n_t))
    lmp = from_cents(energy + congestion_cents + loss_cents).ravel()
    starts = np.tile(start_us, n_loc)
    return pa.Table.from_arrays(
        [
            constant(network.iso.value, rows),
            constant(market, rows),
            repeat_each(network.locations[lo:hi], n_t),
            repeat_each(network.location_types[lo:hi], n_t),
            timestamps(starts),
            timestamps(starts + step_us),
            floats(lmp),
            floats(from_cents(energy).ravel()),
            floats(from_cents(congestion_cents).ravel()),
            floats(from_cents(loss_cents).ravel()),
            timestamps(np.tile(published_us, n_loc)),
            null_timestamps(rows),
        ],
        schema=LMP_SCHEMA,
    )


def hourly_lmp(
    network: Network, system: System, market: str, start_us: int, end_us: int, max_rows: int
) -> Iterator[pa.Table]:
    """`DAM` or `RTH` batches ($/MWh) for the hours of this block that start in [start_us, end_us)."""
    hours = system.physical.hours
    inside = np.flatnonzero((hours >= start_us) & (hours < end_us))
    if inside.size == 0:
        return
    if market == "DAM":
        energy, shadow = system.energy.da_energy, system.shadow.da
    else:
        energy, shadow = system.rt_energy_hourly, system.rt_shadow_hourly
    n_loc = len(network.locations)
    loc_size = min(n_loc, max_rows)
    hour_size = max(1, max_rows // loc_size)
    for a, b in _chunks(inside.size, hour_size):
        h = slice(int(inside[a]), int(inside[b - 1]) + 1)
        start = hours[h]
        published = day_ahead_published(start, network.iso) if market == "DAM" else start + US_PER_HOUR
        e = energy[h]
        for lo, hi in _chunks(n_loc, loc_size):
            yield _table(
                network,
                market,
                (lo, hi),
                start,
                US_PER_HOUR,
                published,
                to_cents(e),
                to_cents(network.shift_factors[lo:hi] @ shadow[:, h]),
                to_cents(network.loss_factors[lo:hi, None] * e[None, :]),
            )


def five_minute_lmp(
    network: Network, system: System, start_us: int, end_us: int, max_rows: int
) -> Iterator[pa.Table]:
    """`RT5` batches ($/MWh) for the 5-minute intervals of this block that start in [start_us, end_us).

    Whole hours are computed so that each hour's twelve intervals can be
    rounded to average exactly to the hourly (`RTH`) price.
    """
    five = system.physical.five
    keep = (five >= start_us) & (five < end_us)
    inside = np.flatnonzero(keep)
    if inside.size == 0:
        return
    first_hour, last_hour = int(inside[0]) // INTERVALS_PER_HOUR, int(inside[-1]) // INTERVALS_PER_HOUR + 1
    n_loc = len(network.locations)
    loc_size = min(n_loc, max(1, max_rows // INTERVALS_PER_HOUR))
    hour_size = max(1, max_rows // (loc_size * INTERVALS_PER_HOUR))
    energy5 = system.energy.rt_energy
    shadow5 = system.shadow.rt
    for a, b in _chunks(last_hour - first_hour, hour_size):
        h = slice(first_hour + a, first_hour + b)
        f = slice(h.start * INTERVALS_PER_HOUR, h.stop * INTERVALS_PER_HOUR)
        columns = keep[f]
        n_h = h.stop - h.start
        e_hour = system.rt_energy_hourly[h]
        e5 = energy5[f].reshape(n_h, INTERVALS_PER_HOUR)
        e_cents = cents_matching_hour(e5, to_cents(e_hour)).ravel()[columns]
        start = five[f][columns]
        for lo, hi in _chunks(n_loc, loc_size):
            sf = network.shift_factors[lo:hi]
            lf = network.loss_factors[lo:hi]
            congestion = cents_matching_hour(
                (sf @ shadow5[:, f]).reshape(hi - lo, n_h, INTERVALS_PER_HOUR),
                to_cents(sf @ system.rt_shadow_hourly[:, h]),
            )
            loss = cents_matching_hour(
                lf[:, None, None] * e5[None, :, :],
                to_cents(lf[:, None] * e_hour[None, :]),
            )
            yield _table(
                network,
                "RT5",
                (lo, hi),
                start,
                FIVE_MINUTES,
                start + FIVE_MINUTES,
                e_cents,
                congestion.reshape(hi - lo, -1)[:, columns],
                loss.reshape(hi - lo, -1)[:, columns],
            )
