"""Keyed random streams: every draw is a pure function of (seed, ISO, stream, unit).

This is what gives the simulator random access. A day's draws come from a
Philox generator whose key is built from the seed, the ISO, what is being drawn
and the day itself, so simulating January and simulating January 15 alone
produce the same January 15. Nothing is drawn "in order" across days.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

import numpy as np

# Day numbers are days since 1970-01-01 (UTC); this offset keeps keys positive
# for any date a Python `date` can hold.
_DAY_OFFSET = date(1970, 1, 1).toordinal()


class Stream(IntEnum):
    """What a generator draws. Values are part of the key: never renumber them."""

    DAILY = 1  # day-scale weather, fuel, outage, cloud and wind innovations
    PHYSICAL = 2  # 5-minute load, wind and cloud noise
    FORECAST = 3  # day-ahead forecast errors
    DA_PRICE = 4  # day-ahead energy shocks and constraint noise
    RT_PRICE = 5  # real-time energy shocks, jumps and constraint noise
    ANCILLARY = 6  # ancillary-service price noise
    ZONES = 7  # how load splits between zones
    RELIABILITY = 8  # ERCOT reliability deployment events
    CAPACITY = 9  # capacity auction results, keyed by delivery period
    NETWORK = 10  # constraint geometry and behaviour, keyed by constraint
    GEOGRAPHY = 11  # node placement, keyed by attribute (seed-independent)
    DA_CONGESTION = 12  # day-ahead constraint flow noise
    RT_CONGESTION = 13  # real-time constraint flow noise
    ANCILLARY_ZERO = 14  # whether a real-time reserve price clears at zero


def generator(seed: int, iso_index: int, stream: Stream, unit: int) -> np.random.Generator:
    """A Philox generator keyed by (seed, ISO, stream, unit); `unit` is usually a day number.

    The 128-bit key packs seed (64 bits), ISO (8), stream (8) and unit (48,
    offset to stay non-negative), so distinct tuples never share a key.
    """
    if not 0 <= seed < 1 << 64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    u = unit + _DAY_OFFSET
    if not 0 <= u < 1 << 48:
        raise ValueError(f"unit {unit} out of range")
    key = (seed << 64) | (iso_index << 56) | (int(stream) << 48) | u
    return np.random.Generator(np.random.Philox(key=key))
