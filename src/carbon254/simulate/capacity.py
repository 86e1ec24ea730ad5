"""Capacity auction results ($/MW-day): PJM RPM base residual auctions and MISO planning auctions.

PJM clears one price per delivery year (June to May) for the RTO and higher
prices in constrained locational deliverability areas, which inherit their
parent's price unless they separate. MISO's planning resource auction clears
per local resource zone and, since 2023, per season, with summer the tight
one.

Delivery years whose results have been published carry the published clearing
prices (sources below), so the demo's capacity prices are the ones users know.
Other years are drawn per delivery period (keyed by the period, so any window
sees the same results): before the first published year around the historical
median, after the last around the latest result.
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


# PJM RPM base residual auction clearing prices ($/MW-day, UCAP) by delivery
# year (starting June 1 of the year), with the day the results were posted.
# 2024/25: RTO $28.92 (results posted 2023-02-27; S&P Global, Aug 2024); only
# the RTO price is reproduced, the LDAs that separated that year carry it too.
# 2025/26: RTO $269.92, BGE $466.35, DOM $444.26, every other LDA at the RTO
# price (PJM, 2024-07-30, as reported by Utility Dive and S&P Global).
# 2026/27: $329.17 in every LDA, the price cap (PJM, 2025-07-22).
# 2027/28: $333.44 in every LDA, the price cap (PJM, 2025-12-17, as reported
# by Camelot Energy Group).
_PJM_PUBLISHED: dict[int, tuple[date, float, dict[str, float]]] = {
    2024: (date(2023, 2, 27), 28.92, {}),
    2025: (date(2024, 7, 30), 269.92, {"BGE": 466.35, "DOM": 444.26}),
    2026: (date(2025, 7, 22), 329.17, {}),
    2027: (date(2025, 12, 17), 333.44, {}),
}
# MISO planning resource auction clearing prices ($/MW-day) by planning year and
# season, footprint-wide unless a zone separated.
# 2024/25 (MISO, 2024-04-25): summer $30.00, fall $15.00, winter $0.75, spring
# $34.10; zone 5 (Missouri) cleared at CONE, $719.81, in fall and spring.
# 2025/26 (MISO, 2025-04-28, as reported by Utility Dive and RTO Insider):
# summer $666.50, fall $91.60 in North/Central and $74.09 in South (zones
# 8-10), winter $33.20, spring $69.88.
_MISO_SOUTH = ("LRZ8", "LRZ9", "LRZ10")
_MISO_PUBLISHED: dict[int, tuple[date, dict[str, float], dict[tuple[str, str], float]]] = {
    2024: (
        date(2024, 4, 25),
        {"SUMMER": 30.00, "FALL": 15.00, "WINTER": 0.75, "SPRING": 34.10},
        {("FALL", "LRZ5"): 719.81, ("SPRING", "LRZ5"): 719.81},
    ),
    2025: (
        date(2025, 4, 28),
        {"SUMMER": 666.50, "FALL": 91.60, "WINTER": 33.20, "SPRING": 69.88},
        {("FALL", zone): 74.09 for zone in _MISO_SOUTH},
    ),
}


@dataclass(frozen=True, slots=True)
class _Period:
    zone: str
    start_day: int  # local calendar day numbers since 1970-01-01
    end_day: int
    published_day: int
    price: float


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _day(y: int, m: int) -> int:
    return _epoch_day(date(y, m, 1))


def _pjm_year(seed: int, year: int) -> list[_Period]:
    start, end = _day(year, 6), _day(year + 1, 6)
    if year in _PJM_PUBLISHED:
        posted, rto, separated = _PJM_PUBLISHED[year]
        return [_Period(lda, start, end, _epoch_day(posted), separated.get(lda, rto)) for lda, _ in _PJM_LDAS]
    rng = generator(seed, ISO_INDEX[Iso.PJM], Stream.CAPACITY, year)
    # Before the published years around the 2010s median; after them close to the latest result.
    before = year < min(_PJM_PUBLISHED)
    median = 110.0 if before else _PJM_PUBLISHED[max(_PJM_PUBLISHED)][1]
    prices: dict[str, float] = {}
    for lda, parent in _PJM_LDAS:
        if parent is None:
            rto = np.exp(rng.normal(np.log(median), 0.7 if before else 0.3))
            prices[lda] = float(np.clip(rto, 10.0, 600.0))
            continue
        separates, premium = rng.random(), np.exp(rng.normal(-1.0, 0.6))
        prices[lda] = prices[parent] * (1.0 + premium) if separates < 0.25 else prices[parent]
    # Base residual auctions are held well ahead of delivery.
    return [_Period(lda, start, end, start - 320, round(min(p, 2_000.0), 2)) for lda, p in prices.items()]


def _season_bounds(year: int, month: int, months: int) -> tuple[int, int]:
    y = year + 1 if month < 6 else year
    end_month = month + months
    return _day(y, month), _day(y + (end_month - 1) // 12, (end_month - 1) % 12 + 1)


def _miso_year(seed: int, year: int) -> list[_Period]:
    out: list[_Period] = []
    if year in _MISO_PUBLISHED:
        posted, seasons, separated = _MISO_PUBLISHED[year]
        for season, month, months in _MISO_SEASONS:
            start, end = _season_bounds(year, month, months)
            for zone in _MISO_ZONES:
                price = separated.get((season, zone), seasons[season])
                out.append(_Period(zone, start, end, _epoch_day(posted), price))
        return out
    rng = generator(seed, ISO_INDEX[Iso.MISO], Stream.CAPACITY, year)
    latest = _MISO_PUBLISHED[max(_MISO_PUBLISHED)][1]
    published = _day(year, 6) - 60
    for season, month, months in _MISO_SEASONS:
        start, end = _season_bounds(year, month, months)
        if year < min(_MISO_PUBLISHED):
            median, spread = (60.0 if season == "SUMMER" else 12.0), 1.0
        else:
            median, spread = latest[season], 0.5
        system = float(np.clip(np.exp(rng.normal(np.log(median), spread)), 0.5, 700.0))
        for zone in _MISO_ZONES:
            separates, premium = rng.random(), np.exp(rng.normal(-0.5, 0.7))
            price = system * (1.0 + premium) if separates < 0.2 else system
            out.append(_Period(zone, start, end, published, round(min(price, 750.0), 2)))
    return out


_AUCTIONS = {Iso.PJM: ("BRA", _pjm_year), Iso.MISO: ("PRA", _miso_year)}


def capacity_auctions(iso: Iso) -> tuple[str, ...]:
    """The capacity auctions simulated for `iso` (PJM's BRA, MISO's PRA; none elsewhere)."""
    return (_AUCTIONS[iso][0],) if iso in _AUCTIONS else ()


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
