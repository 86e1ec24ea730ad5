"""Capacity auction results ($/MW-day) for the ISOs that run a capacity auction.

An ISO that runs one declares a `CapacityAuction` in its simulation module:
the auction's name and the delivery periods it clears for a planning year
(its zones, delivery span, publication day and price). Years whose results
have been published carry the published clearing prices, so the demo's
capacity prices are the ones users know; other years are drawn per delivery
period (keyed by the period, so any window sees the same results).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from carbon254.isos import ISOS, Iso
from carbon254.schema import CAPACITY_PRICE_SCHEMA
from carbon254.simulate.clock import from_us, local_wallclock_to_utc
from carbon254.simulate.columns import constant, floats, null_timestamps, repeat_each, timestamps


@dataclass(frozen=True, slots=True)
class Period:
    """One zone's clearing price ($/MW-day) for a delivery period of local days [start_day, end_day).

    Days are local calendar day numbers since 1970-01-01; `published_day` is
    the day the result was posted (at 17:00 local).
    """

    zone: str
    start_day: int
    end_day: int
    published_day: int
    price: float


@dataclass(frozen=True, slots=True)
class CapacityAuction:
    """An ISO's capacity auction: its name and `periods(seed, year)`, the results of one planning year.

    A planning year starts in June of `year`; `periods` must be a pure
    function of (seed, year).
    """

    name: str
    periods: Callable[[int, int], list[Period]]


def epoch_day(day: date) -> int:
    """`day` as a day number since 1970-01-01."""
    return (day - date(1970, 1, 1)).days


def month_day(year: int, month: int) -> int:
    """The first day of `month` in `year`, as a day number since 1970-01-01."""
    return epoch_day(date(year, month, 1))


def capacity_table(
    iso: Iso, auction: CapacityAuction, seed: int, start_us: int, end_us: int
) -> Iterator[pa.Table]:
    """One `capacity_price` batch ($/MW-day): `auction`'s delivery periods overlapping [start_us, end_us)."""
    tz = ISOS[iso].timezone
    # Planning years start in June; include the one under way at `start`.
    first_year = from_us(start_us).year - 1
    last_year = from_us(end_us).year
    periods = [p for year in range(first_year, last_year + 1) for p in auction.periods(seed, year)]
    starts = local_wallclock_to_utc(np.array([p.start_day for p in periods], dtype=np.int64), 0, tz)
    ends = local_wallclock_to_utc(np.array([p.end_day for p in periods], dtype=np.int64), 0, tz)
    keep = (starts < end_us) & (ends > start_us)
    if not keep.any():
        return
    chosen = [p for p, k in zip(periods, keep, strict=True) if k]
    published = local_wallclock_to_utc(
        np.array([p.published_day for p in chosen], dtype=np.int64), 17 * 3600, tz
    )
    rows = len(chosen)
    yield pa.Table.from_arrays(
        [
            constant(iso.value, rows),
            constant(auction.name, rows),
            repeat_each([p.zone for p in chosen], 1),
            timestamps(starts[keep]),
            timestamps(ends[keep]),
            floats(np.array([p.price for p in chosen])),
            timestamps(published),
            null_timestamps(rows),
        ],
        schema=CAPACITY_PRICE_SCHEMA,
    )
