"""Simulated forward quotes: a realistic forward strip per hub and market day, for the demo's curve marks.

A delivery month's forward price starts from what the simulator expects that
month's block to clear at day-ahead at the hub: the mean hub price (system
energy + congestion + losses) over two reference years simulated with the
demo's seed, by calendar month and block, so the seasonality, the
onpeak/offpeak spread and each hub's basis are the simulator's own. On top
comes a market view that moves from day to day (a mean-reverting random walk
per hub, a level factor and a front factor whose effect fades with tenor, so
far tenors stay near the long-run level) and a small risk premium that grows
with tenor. Monthly values are rounded to cents; every other contract (balance
of month, quarters, seasonal strips, calendars) is the exact hours-weighted
average of the months it covers, so the quotes never contradict each other.
Prices are $/MWh; market days and delivery periods are in the ISO's market time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from carbon254.curves.model import Contract, ContractKind, Quote
from carbon254.demo.marker import DemoParams
from carbon254.isos import Iso, declaration, iso_info
from carbon254.simulate.network import build_network, location_catalog
from carbon254.simulate.system import simulate_system
from carbon254.timeseries._clock import clock_for
from carbon254.timeseries.blocks import block_mask_micros
from carbon254.timeseries.periods import Block

FloatArray = npt.NDArray[np.float64]

# Which hubs each ISO marks, how many months trade and which seasonal packs: the ISO's
# declaration (`IsoDeclaration.forwards`).
QUARTERS_TRADED = 6
CALENDARS_TRADED = 3
BLOCKS = (Block.ONPEAK, Block.OFFPEAK)
# The reference years whose simulated day-ahead hub prices make the expected block prices.
REFERENCE_START = date(2021, 1, 1)
REFERENCE_DAYS = 730
# Market view: daily innovations (fractions of price) of the level and front factors,
# their daily persistence, and how fast the front factor's effect fades with tenor (months).
LEVEL_SIGMA = 0.007
FRONT_SIGMA = 0.010
PERSISTENCE = 0.96
INNOVATION_CLIP = 2.5
FRONT_FADE_MONTHS = 6.0
LEVEL_FADE_MONTHS = 24.0
# Enough days of history that the walk's truncated memory (0.96^150 ~ 0.2%) is negligible.
MEMORY_DAYS = 150
# Risk premium: a base plus a fraction of price per month of tenor, capped.
PREMIUM_BASE = 0.005
PREMIUM_PER_MONTH = 0.001
PREMIUM_CAP = 0.03
_EPOCH = date(1970, 1, 1)
US_PER_HOUR = 3_600_000_000


class UnknownHub(KeyError):
    """A hub that is not in the simulator's catalog of that ISO; the message lists the main hubs."""


@dataclass(frozen=True, slots=True)
class ExpectedPrices:
    """Expected day-ahead hub prices ($/MWh) by calendar month (rows 0-11) and block (`BLOCKS` order)."""

    iso: Iso
    hub: str
    prices: FloatArray


def simulated_quotes(iso: str, hub: str, as_of: date, *, seed: int, nodes: int | None = None) -> list[Quote]:
    """The forward strip ($/MWh) of `hub` as the market would quote it at the close of `as_of`.

    Balance of month (when two or more days remain), the next 12-18 months,
    the next six quarters, seasonal strips where they trade and the next
    three calendar years, each onpeak and offpeak. Deterministic for a seed;
    `nodes` is the simulated node count per ISO the hub basis comes from
    (the demo's default). Raises `UnknownHub` for a hub not in the ISO's
    catalog, KeyError for an unknown ISO.
    """
    iso_enum = _iso(iso)
    name = _hub_name(iso_enum, hub, nodes)
    views = _market_views(iso_enum, name, seed, [as_of])
    return _strip(iso_enum, name, as_of, seed, nodes, views[0])


def demo_marks(
    isos: Sequence[str], days: Sequence[date], *, seed: int, nodes: int | None = None
) -> Iterator[tuple[str, str, date, list[Quote]]]:
    """(iso, hub, as_of, quotes) for every main hub of `isos` on every market day in `days`.

    The same quotes `simulated_quotes` gives one day at a time, with each
    hub's market view computed once for all the days.
    """
    for iso in isos:
        iso_enum = _iso(iso)
        for hub in declaration(iso_enum.value).forwards.hubs:
            views = _market_views(iso_enum, hub, seed, days)
            for day, view in zip(days, views, strict=True):
                yield iso_enum.value, hub, day, _strip(iso_enum, hub, day, seed, nodes, view)


def expected_prices(iso: str, hub: str, *, seed: int, nodes: int | None = None) -> ExpectedPrices:
    """The simulator's expected day-ahead price ($/MWh) of `hub` by calendar month and block.

    The mean over two simulated reference years of the hub's day-ahead LMP
    (energy + congestion + losses) in each month's onpeak and offpeak hours,
    market time. Computed once per (iso, hub, seed, nodes): well under a
    second per ISO.
    """
    iso_enum = _iso(iso)
    return _expected(iso_enum, _hub_name(iso_enum, hub, nodes), seed, _nodes(nodes))


# --- the strip --------------------------------------------------------------------------------


def _strip(iso: Iso, hub: str, as_of: date, seed: int, nodes: int | None, view: FloatArray) -> list[Quote]:
    """Quotes of one day given that day's market view (level factor, front factor)."""
    expected = _expected(iso, hub, seed, _nodes(nodes)).prices
    first_month = as_of.replace(day=1)
    last_calendar = as_of.year + CALENDARS_TRADED
    months = _months(first_month, date(last_calendar + 1, 1, 1))
    tenor = np.arange(len(months), dtype=np.float64)
    level, front = view
    move = level * (0.4 + 0.6 * np.exp(-tenor / LEVEL_FADE_MONTHS)) + front * np.exp(
        -tenor / FRONT_FADE_MONTHS
    )
    premium = np.minimum(PREMIUM_PER_MONTH * tenor, PREMIUM_CAP) + 0.005
    season = np.array([m.month - 1 for m in months])
    monthly = np.round(expected[season] * (1.0 + move[:, None]) * (1.0 + premium[:, None]), 2)
    index = {m: i for i, m in enumerate(months)}

    quotes: list[Quote] = []

    def quote(start: date, end: date, kind: ContractKind, label: str) -> None:
        covered = _months(start.replace(day=1), end)
        for j, block in enumerate(BLOCKS):
            hours = np.array([_hours(iso, max(m, start), min(_next(m), end), block) for m in covered])
            prices = np.array([monthly[index[m], j] for m in covered])
            if hours.sum() == 0:
                continue
            price = float(prices @ hours / hours.sum()) if len(covered) > 1 else float(prices[0])
            quotes.append(Quote(Contract(start, end, block, kind, label), price))

    next_month = _next(first_month)
    bom_start = as_of + timedelta(days=1)
    if (next_month - bom_start).days >= 2:
        quote(bom_start, next_month, ContractKind.BALANCE_OF_MONTH, f"BOM {first_month:%b%y}")
    month = next_month
    for _ in range(declaration(iso.value).forwards.months_traded):
        quote(month, _next(month), ContractKind.MONTH, f"{month:%b%y}")
        month = _next(month)
    quarter = date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    for _ in range(QUARTERS_TRADED):
        quarter = _add_months(quarter, 3)
        quote(
            quarter,
            _add_months(quarter, 3),
            ContractKind.QUARTER,
            f"Q{(quarter.month + 2) // 3} {quarter:%y}",
        )
    for stem, first, count in declaration(iso.value).forwards.seasonal_strips:
        start = date(as_of.year, first, 1)
        if start <= first_month:
            start = date(as_of.year + 1, first, 1)
        quote(start, _add_months(start, count), ContractKind.SEASON, f"{stem}{start:%y}")
    for year in range(as_of.year + 1, last_calendar + 1):
        quote(date(year, 1, 1), date(year + 1, 1, 1), ContractKind.CALENDAR, f"Cal{year % 100:02d}")
    return quotes


def _market_views(iso: Iso, hub: str, seed: int, days: Sequence[date]) -> list[FloatArray]:
    """The (level, front) market view of each day: AR(1) sums of clipped daily innovations.

    Innovations are fixed per calendar day, so a day's view is the same
    whichever days are asked together, and consecutive days share all but
    one innovation: the view moves a few tenths of a percent a day, a few
    percent at most.
    """
    if not days:
        return []
    ordinals = np.array([(d - _EPOCH).days for d in days], dtype=np.int64)
    lo = int(ordinals.min()) - MEMORY_DAYS
    hi = int(ordinals.max())
    shocks = np.vstack([_innovations(iso, hub, seed, year) for year in range(_year(lo), _year(hi) + 1)])
    offset = (date(_year(lo), 1, 1) - _EPOCH).days
    weights = PERSISTENCE ** np.arange(MEMORY_DAYS, dtype=np.float64)
    views: list[FloatArray] = []
    for day in ordinals:
        window = shocks[day - offset - MEMORY_DAYS + 1 : day - offset + 1][::-1]
        views.append(np.asarray(weights @ window * np.array([LEVEL_SIGMA, FRONT_SIGMA]), dtype=np.float64))
    return views


@lru_cache(maxsize=256)
def _innovations(iso: Iso, hub: str, seed: int, year: int) -> FloatArray:
    """The year's daily (level, front) innovations of one hub, unit-variance, clipped: (366, 2)."""
    key = [seed % (1 << 64), list(Iso).index(iso), zlib.crc32(hub.encode()), year, 0xF0]
    draws = np.random.default_rng(np.random.SeedSequence(key)).standard_normal((366, 2))
    # The front factor shares part of the level's move, as near and far tenors do.
    draws[:, 1] = 0.6 * draws[:, 0] + 0.8 * draws[:, 1]
    return np.clip(draws, -INNOVATION_CLIP, INNOVATION_CLIP)


def _year(ordinal: int) -> int:
    return (_EPOCH + timedelta(days=ordinal)).year


# --- expected block prices from the simulator ----------------------------------------------------


def _expected(iso: Iso, hub: str, seed: int, nodes: int) -> ExpectedPrices:
    names, prices = _expected_hubs(iso, seed, nodes)
    return ExpectedPrices(iso=iso, hub=hub, prices=prices[names.index(hub)])


@lru_cache(maxsize=16)
def _expected_hubs(iso: Iso, seed: int, nodes: int) -> tuple[tuple[str, ...], FloatArray]:
    """Every hub and zone of the ISO with its expected prices: (names, array (locations, 12, blocks)).

    One simulation of the reference years per ISO serves all its hubs.
    """
    network = build_network(iso, nodes, seed)
    aggregates = network.aggregates
    first_day = (REFERENCE_START - _EPOCH).days
    system = simulate_system(iso, network.constraints, seed, first_day, REFERENCE_DAYS)
    energy = system.energy.da_energy
    lmp = (
        energy[None, :] * (1.0 + network.loss_factors[:aggregates, None])
        + network.shift_factors[:aggregates] @ system.shadow.da
    )
    starts = system.physical.hours
    zone = iso_info(iso.value).timezone
    local_days = clock_for(zone, starts).to_local(starts) // (24 * US_PER_HOUR)
    first = int(local_days.min())
    month_by_day = np.array(
        [(_EPOCH + timedelta(days=d)).month - 1 for d in range(first, int(local_days.max()) + 1)]
    )
    month_of = month_by_day[local_days - first]
    prices = np.empty((aggregates, 12, len(BLOCKS)))
    for j, block in enumerate(BLOCKS):
        inside = block_mask_micros(starts, zone, block)
        for m in range(12):
            prices[:, m, j] = lmp[:, inside & (month_of == m)].mean(axis=1)
    prices.setflags(write=False)
    return network.locations[:aggregates], prices


@cache
def _hours(iso: Iso, start: date, end: date, block: Block) -> int:
    """Delivery hours of `block` in market days [start, end) of `iso`."""
    zone = ZoneInfo(iso_info(iso.value).timezone)
    lo = datetime(start.year, start.month, start.day, tzinfo=zone).astimezone(UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=zone).astimezone(UTC)
    first = int(lo.timestamp()) * 1_000_000
    count = int((hi - lo).total_seconds()) // 3600
    starts = first + US_PER_HOUR * np.arange(count, dtype=np.int64)
    return int(block_mask_micros(starts, iso_info(iso.value).timezone, block).sum())


# --- names and calendars ------------------------------------------------------------------------


def _iso(iso: str) -> Iso:
    try:
        return Iso(iso.strip().upper())
    except ValueError:
        known = ", ".join(i.value for i in Iso)
        raise KeyError(f"unknown ISO {iso!r}; expected one of {known}") from None


def _nodes(nodes: int | None) -> int:
    return DemoParams().nodes if nodes is None else nodes


def _hub_name(iso: Iso, hub: str, nodes: int | None) -> str:
    """The catalog's spelling of `hub` (matched case-insensitively among the ISO's hubs and zones)."""
    names, _ = location_catalog(iso, _nodes(nodes))
    aggregates = len(names) - _nodes(nodes)
    by_folded = {n.casefold(): n for n in names[:aggregates]}
    found = by_folded.get(hub.strip().casefold())
    if found is None:
        marked = ", ".join(declaration(iso.value).forwards.hubs)
        raise UnknownHub(f"unknown {iso.value} hub {hub!r}; the demo marks {marked}")
    return found


def _next(month: date) -> date:
    return _add_months(month, 1)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _months(first: date, end: date) -> list[date]:
    """First-of-month dates from `first` (a first of month) while before `end`."""
    months: list[date] = []
    month = first
    while month < end:
        months.append(month)
        month = _next(month)
    return months
