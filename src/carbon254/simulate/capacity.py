"""Capacity auction results ($/MW-day): PJM RPM base residual auctions and MISO planning auctions.

PJM clears one price per delivery year (June to May) for the RTO and higher
prices in constrained locational deliverability areas, which inherit their
parent's price unless they separate. MISO's planning resource auction clears
per local resource zone and, since 2023, per season, with summer the tight
one. Prices are drawn per delivery period (keyed by the period, so any window
sees the same results) and are synthetic, not historical clearing prices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from carbon254.isos import ISOS, Iso
from carbon254.schema import CAPACITY_PRICE_SCHEMA
from carbon254.simulate.catalog import ISO_INDEX
from carbon254.simulate.clock import from_us, local_wallclock_to_utc
from carbon254.simulate.columns import constant, floats, null_timestamps, repeat_each, timestamps
from carbon254.simulate.streams import Stream, generator

# PJM locational deliverability areas and the LDA each one nests in.
_PJM_LDAS: tuple[tuple[str, str | None], ...] = (
    ("RTO", None),
    ("MAAC", "RTO"),
    ("EMAAC", "MAAC"),
    ("SWMAAC", "MAAC"),
    ("PS", "EMAAC"),
    ("PS-NORTH", "PS"),
    ("DPL-SOUTH", "EMAAC"),
    ("PEPCO", "SWMAAC"),
    ("BGE", "SWMAAC"),
    ("ATSI", "RTO"),
    ("COMED", "RTO"),
    ("DEOK", "RTO"),
    ("DOM", "RTO"),
)
_MISO_ZONES = tuple(f"LRZ{i}" for i in range(1, 11))
# Season name, first month, and months long; the planning year starts in June.
_MISO_SEASONS = (("SUMMER", 6, 3), ("FALL", 9, 3), ("WINTER", 12, 3), ("SPRING", 3, 3))


@dataclass(frozen=True, slots=True)
class _Period:
    zone: str
    start_day: int  # local calendar day numbers since 1970-01-01
    end_day: int
    published_day: int
    price: float


def _day(y: int, m: int) -> int:
    return (date(y, m, 1) - date(1970, 1, 1)).days


def _pjm_year(seed: int, year: int) -> list[_Period]:
    rng = generator(seed, ISO_INDEX[Iso.PJM], Stream.CAPACITY, year)
    prices: dict[str, float] = {}
    for lda, parent in _PJM_LDAS:
        if parent is None:
            prices[lda] = float(np.clip(np.exp(rng.normal(np.log(110.0), 0.7)), 10.0, 600.0))
            continue
        separates, premium = rng.random(), np.exp(rng.normal(-1.0, 0.6))
        prices[lda] = prices[parent] * (1.0 + premium) if separates < 0.25 else prices[parent]
    start, end = _day(year, 6), _day(year + 1, 6)
    # Base residual auctions are held well ahead of delivery.
    return [_Period(lda, start, end, start - 320, round(min(p, 2_000.0), 2)) for lda, p in prices.items()]


def _miso_year(seed: int, year: int) -> list[_Period]:
    rng = generator(seed, ISO_INDEX[Iso.MISO], Stream.CAPACITY, year)
    out: list[_Period] = []
    published = _day(year, 6) - 60
    for season, month, months in _MISO_SEASONS:
        y = year + 1 if month < 6 else year
        start = _day(y, month)
        end_month = month + months
        end = _day(y + (end_month - 1) // 12, (end_month - 1) % 12 + 1)
        median = 60.0 if season == "SUMMER" else 12.0
        system = float(np.clip(np.exp(rng.normal(np.log(median), 1.0)), 0.5, 700.0))
        for zone in _MISO_ZONES:
            separates, premium = rng.random(), np.exp(rng.normal(-0.5, 0.7))
            price = system * (1.0 + premium) if separates < 0.2 else system
            out.append(_Period(zone, start, end, published, round(min(price, 750.0), 2)))
    return out


_AUCTIONS = {Iso.PJM: ("BRA", _pjm_year), Iso.MISO: ("PRA", _miso_year)}


def capacity_table(iso: Iso, seed: int, start_us: int, end_us: int) -> Iterator[pa.Table]:
    """One `capacity_price` batch ($/MW-day) of delivery periods overlapping [start_us, end_us).

    Only PJM and MISO run capacity auctions here; other ISOs yield nothing.
    """
    if iso not in _AUCTIONS:
        return
    auction, draw = _AUCTIONS[iso]
    tz = ISOS[iso].timezone
    # Planning years start in June; include the one under way at `start`.
    first_year = from_us(start_us).year - 1
    last_year = from_us(end_us).year
    periods = [p for year in range(first_year, last_year + 1) for p in draw(seed, year)]
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
            constant(auction, rows),
            repeat_each([p.zone for p in chosen], 1),
            timestamps(starts[keep]),
            timestamps(ends[keep]),
            floats(np.array([p.price for p in chosen])),
            timestamps(published),
            null_timestamps(rows),
        ],
        schema=CAPACITY_PRICE_SCHEMA,
    )
