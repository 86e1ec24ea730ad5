"""Completeness per ISO, dataset, market and market day: expected vs present intervals, gaps, revisions.

How the figures are defined (and why):

* **Interval length** is inferred from the stored rows, not from the market's
  name: the most common `interval_end - interval_start` among the stored
  (location, interval) pairs.
* **Regular or not.** A market is regular when that length divides an hour
  (5, 15, 30, 60 minutes ...) and at least `REGULAR_SHARE` of the pairs both
  have that length and start on its grid (multiples of the length from the
  hour). Irregular markets, such as ERCOT `SCED` whose rows carry the
  timestamps of each SCED run, or capacity auctions with year-long delivery
  periods, get `expected = completeness = None` and no gaps: only what is
  present is reported, since any "expected" count would be invented.
* **Expected** = locations x intervals in the market day, where locations
  are those with any data for the dataset, ISO and market in the assessed
  days. When those days hold nothing at all, the `REFERENCE_DAYS` before
  them supply the locations and interval length, so an outage reads as 0 %
  complete rather than "not applicable".
* **Present** = distinct stored (location, interval) pairs on the grid; a
  revision does not count twice. Pairs off the grid are counted in
  `off_grid` only.
* **Revisions** come from the store (stored versions that changed an earlier
  one); duplicates refused, quarantines and lag from the ingest ledger.

All arithmetic is vectorized over the store's per-pair coverage (NumPy);
only gaps and days are built in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.ingest.ledger import LedgerEntry
from carbon254.isos import iso_info
from carbon254.quality.calendar import MarketDay, market_days
from carbon254.quality.model import DayQuality, Gap, MarketQuality, MarketSummary, QualityReport
from carbon254.quality.payloads import LedgerFigures, PayloadStats, ledger_figures
from carbon254.schema import Dataset, spec
from carbon254.store.base import Store

# Share of pairs that must have the common length and sit on its grid for a
# market to count as regular. Half, not nearly all: NYISO real time adds
# extra off-grid RTD runs (up to ~7% of a day's stamps) to a regular 5-minute
# grid, while truly irregular markets (ERCOT SCED run times) are almost
# never on a grid.
REGULAR_SHARE = 0.5
REFERENCE_DAYS = 7  # days before an empty window that supply locations and interval length
MAX_GAP_NAMES = 20  # a gap lists its missing locations by name up to this many
US = 1_000_000

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Grid:
    """A market's inferred interval length (seconds) and whether its intervals are regular."""

    step_s: int | None
    regular: bool

    @property
    def minutes(self) -> float | None:
        """Interval length in minutes, None when irregular or unknown."""
        return self.step_s / 60 if self.step_s is not None and self.regular else None


def _us(ts: datetime) -> int:
    return int(ts.timestamp() * US)


def _at(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def _starts_us(coverage: pa.Table) -> I64:
    return np.asarray(coverage.column("interval_start").cast(pa.int64()).to_numpy(), dtype=np.int64)


def infer_grid(coverage: pa.Table) -> Grid:
    """The interval length and regularity of a market from its `Store.coverage` rows.

    The length is the most common `duration_s` (ties: the shortest). See the
    module docstring for what makes a market regular. No rows: unknown.
    """
    if coverage.num_rows == 0:
        return Grid(None, False)
    durations = np.asarray(coverage.column("duration_s").to_numpy(), dtype=np.int64)
    values, counts = np.unique(durations, return_counts=True)
    step = int(values[int(np.argmax(counts))])
    if step <= 0 or 3600 % step:
        return Grid(step, False)
    n = len(durations)
    same_length = np.count_nonzero(durations == step) / n
    on_grid = np.count_nonzero(_starts_us(coverage) % (step * US) == 0) / n
    return Grid(step, bool(same_length >= REGULAR_SHARE and on_grid >= REGULAR_SHARE))


@dataclass(frozen=True, slots=True)
class _DayCounts:
    expected: int | None
    present: int
    off_grid: int
    revisions: int
    gaps: tuple[Gap, ...]


def _location_index(coverage: pa.Table, names: pa.Array) -> I64:
    idx = pc.index_in(coverage.column("location"), value_set=names)
    return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _day_of(starts: I64, days: Sequence[MarketDay]) -> I64:
    bounds = np.array([_us(d.start) for d in days], dtype=np.int64)
    return np.asarray(np.searchsorted(bounds, starts, side="right") - 1, dtype=np.int64)


def _count_days(
    coverage: pa.Table, basis: pa.Table, grid: Grid, days: Sequence[MarketDay]
) -> list[_DayCounts]:
    """Expected, present, off-grid, revisions and gaps per day (coverage: the window's pairs)."""
    names = pc.unique(basis.column("location")).sort()
    n_loc = len(names)
    starts = _starts_us(coverage)
    day_idx = _day_of(starts, days)
    n_days = len(days)
    revisions = np.bincount(
        day_idx,
        weights=np.asarray(coverage.column("revisions").to_numpy(), dtype=np.float64),
        minlength=n_days,
    )
    if grid.step_s is None or not grid.regular:
        present = np.bincount(day_idx, minlength=n_days)
        return [_DayCounts(None, int(present[i]), 0, int(revisions[i]), ()) for i in range(n_days)]

    step = grid.step_s * US
    w_lo = _us(days[0].start)
    rel = starts - w_lo
    on = rel % step == 0
    slot = rel[on] // step
    locs = _location_index(coverage, names)[on]
    n_slots = (_us(days[-1].end) - w_lo) // step
    per_slot = np.bincount(slot, minlength=n_slots)
    missing = n_loc - per_slot
    off_grid = np.bincount(day_idx[~on], minlength=n_days)
    order = np.argsort(slot, kind="stable")
    slot_sorted, locs_sorted = slot[order], locs[order]
    name_list: list[str] = names.to_pylist()

    out: list[_DayCounts] = []
    for i, day in enumerate(days):
        a = (_us(day.start) - w_lo) // step
        b = (_us(day.end) - w_lo) // step
        miss = missing[a:b]
        gaps: list[Gap] = []
        flags = np.concatenate([[0], (miss > 0).astype(np.int8), [0]])
        edges = np.diff(flags)
        for r0, r1 in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            g0, g1 = a + int(r0), a + int(r1)
            i0 = int(np.searchsorted(slot_sorted, g0, side="left"))
            i1 = int(np.searchsorted(slot_sorted, g1, side="left"))
            held = np.bincount(locs_sorted[i0:i1], minlength=n_loc)
            absent = np.flatnonzero(held < g1 - g0)
            gaps.append(
                Gap(
                    start=_at(w_lo + g0 * step),
                    end=_at(w_lo + g1 * step),
                    intervals=g1 - g0,
                    locations=len(absent),
                    missing=int(miss[int(r0) : int(r1)].sum()),
                    names=tuple(name_list[j] for j in absent) if len(absent) <= MAX_GAP_NAMES else (),
                )
            )
        out.append(
            _DayCounts(
                expected=n_loc * int(b - a),
                present=int(per_slot[a:b].sum()),
                off_grid=int(off_grid[i]),
                revisions=int(revisions[i]),
                gaps=tuple(gaps),
            )
        )
    return out


def assess(
    store: Store,
    iso: str,
    dataset: Dataset | str,
    market: str | None,
    first_day: date,
    end_day: date,
    ledger: Iterable[LedgerEntry] = (),
) -> MarketQuality:
    """Completeness, gaps, revisions, duplicates and ingest lag of one ISO, dataset and market per market day.

    Covers the market days `first_day` to `end_day` (exclusive) in the ISO's
    market time. `market` is the stored market name (load kind for `load`)
    and must be None exactly for datasets without a market column
    (`ordc_adder`). `ledger` supplies the ingest-ledger entries (any ISO or
    dataset; the others are skipped). Gap bounds are UTC, lags in seconds.
    Raises ValueError for an empty day range or a market given to a
    dataset without markets (or missing for one with), KeyError for an
    unknown ISO or dataset.
    """
    spec_ = spec(dataset)
    iso_name = iso_info(iso).iso.value
    days = market_days(iso_name, first_day, end_day)
    lo, hi = days[0].start, days[-1].end
    coverage = store.coverage(spec_.name, iso_name, market, lo, hi)
    basis = coverage
    if coverage.num_rows == 0:
        basis = store.coverage(spec_.name, iso_name, market, lo - timedelta(days=REFERENCE_DAYS), lo)
    grid = infer_grid(basis)
    has_data = basis.num_rows > 0
    n_loc = len(pc.unique(basis.column("location")))
    counts = (
        _count_days(coverage, basis, grid, days)
        if has_data
        else [_DayCounts(None, 0, 0, 0, ()) for _ in days]
    )
    figures = ledger_figures(ledger, iso_name, spec_.name.value, market, days)
    rows = tuple(
        _day_row(iso_name, spec_.name.value, market, d, grid, n_loc, c, p)
        for d, c, p in zip(days, counts, figures.days, strict=True)
    )
    return MarketQuality(
        summary=_summary(iso_name, spec_.name.value, market, rows, grid, n_loc, figures),
        days=rows,
        has_data=has_data,
    )


def _day_row(
    iso: str,
    dataset: str,
    market: str | None,
    day: MarketDay,
    grid: Grid,
    n_loc: int,
    counts: _DayCounts,
    payloads: PayloadStats,
) -> DayQuality:
    expected = counts.expected
    return DayQuality(
        iso=iso,
        dataset=dataset,
        market=market,
        day=day.day,
        start=day.start,
        end=day.end,
        hours=day.seconds // 3600,
        interval_minutes=grid.minutes,
        locations=n_loc,
        expected=expected,
        present=counts.present,
        completeness=counts.present / expected if expected else None,
        gaps=counts.gaps,
        off_grid=counts.off_grid,
        duplicates=payloads.duplicates,
        revisions=counts.revisions,
        payloads=payloads.payloads,
        quarantined=payloads.quarantined,
        lag_median_s=payloads.lag_median_s,
        lag_max_s=payloads.lag_max_s,
    )


def _summary(
    iso: str,
    dataset: str,
    market: str | None,
    rows: Sequence[DayQuality],
    grid: Grid,
    n_loc: int,
    figures: LedgerFigures,
) -> MarketSummary:
    applicable = all(r.expected is not None for r in rows)
    expected = sum(r.expected or 0 for r in rows) if applicable else None
    present = sum(r.present for r in rows)
    return MarketSummary(
        iso=iso,
        dataset=dataset,
        market=market,
        first_day=rows[0].day,
        last_day=rows[-1].day,
        days=len(rows),
        interval_minutes=grid.minutes,
        regular=grid.regular,
        locations=n_loc,
        expected=expected,
        present=present,
        completeness=present / expected if expected else None,
        gaps=sum(len(r.gaps) for r in rows),
        missing=expected - present if expected is not None else None,
        days_with_gaps=sum(1 for r in rows if r.gaps),
        duplicates=figures.window.duplicates,
        revisions=sum(r.revisions for r in rows),
        payloads=figures.window.payloads,
        quarantined=figures.window.quarantined,
        quarantined_undated=figures.quarantined_undated,
        lag_median_s=figures.window.lag_median_s,
        lag_max_s=figures.window.lag_max_s,
    )


def markets_of(store: Store, iso: str, dataset: Dataset | str) -> list[str | None]:
    """Markets to assess for a dataset and ISO: those with data, or [None] for a dataset without markets."""
    spec_ = spec(dataset)
    if spec_.market_column is None:
        return [None]
    return list(store.markets(spec_.name, iso_info(iso).iso.value))


def quality_report(
    store: Store,
    dataset: Dataset | str,
    first_day: date,
    end_day: date,
    *,
    isos: Sequence[str],
    market: str | None = None,
    ledger: Sequence[LedgerEntry] = (),
    skip_empty: bool = False,
) -> QualityReport:
    """`assess` for each ISO of `isos` and each of its markets (or only `market`) over the same market days.

    An ISO lacking `market` is left out. With `skip_empty`, markets with no
    data in or just before the window are left out too (used when no ISO was
    named). `ledger` is read once by the caller and shared by every market.
    """
    spec_ = spec(dataset)
    out: list[MarketQuality] = []
    for iso in isos:
        markets = markets_of(store, iso, spec_.name)
        if market is not None:
            markets = [m for m in markets if m == market]
        for m in markets:
            result = assess(store, iso, spec_.name, m, first_day, end_day, ledger)
            if result.has_data or not skip_empty:
                out.append(result)
    return QualityReport(dataset=spec_.name.value, first_day=first_day, end_day=end_day, markets=tuple(out))


def days_with_gaps(
    store: Store,
    iso: str,
    dataset: Dataset | str,
    market: str | None,
    first_day: date,
    end_day: date,
) -> list[date]:
    """The market days from `first_day` to `end_day` (exclusive) on which some expected interval is missing.

    This is what `ingest --gaps` backfills. Days of irregular markets, and of
    markets with no data in or just before the range, are never reported
    (nothing is expected of them).
    """
    result = assess(store, iso, dataset, market, first_day, end_day)
    return [d.day for d in result.days if d.gaps]
