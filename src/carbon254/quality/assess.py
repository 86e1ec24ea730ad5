"""Completeness per ISO, dataset, market and market day: expected vs covered time, gaps, overlaps, revisions.

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
* **Due.** Only what can exist is expected: a real-time market's grid
  intervals that have ended by `now`, a day-ahead market's (or a load
  forecast's) whole day once the ISO's usual publication time on the day
  before has passed (`quality.due`). `now` is a parameter (default: the
  clock), so an assessment can be repeated exactly.
* **Expected** = locations x due grid intervals of the market day, where
  locations are those with any data for the dataset, ISO and market in the
  assessed days. When those days hold nothing at all, the `REFERENCE_DAYS`
  before them supply the locations and interval length, so an outage reads
  as 0 % complete rather than "not applicable". `expected_s` is the same in
  location-seconds.
* **Covered** (`covered_s`) = location-seconds of the due part of the day
  that stored intervals cover, each second once. Intervals may vary in
  length (NYISO's extra real-time runs split a 5-minute interval in parts):
  completeness = covered / expected time, never a count of rows.
* **Present** = expected (location, grid interval) pairs that stored
  intervals cover fully, whatever their number; a gap is a run of grid
  intervals some location does not fully cover. Intervals that are not
  one grid interval (off the grid or of another length) are counted in
  `off_grid`: they are neither missing, duplicates nor extra.
* **Overlaps** count intervals that begin before an earlier interval of the
  same location ends: their shared time would be counted twice by a
  time-weighted mean. Parsers never produce them, so any is a problem
  (e.g. rows stored under an older interval convention).
* **Revisions** come from the store (stored versions that changed an earlier
  one); duplicates refused, quarantines and lag from the ingest ledger.

All arithmetic is vectorized over the store's per-pair coverage (NumPy,
`quality.timeline`); only gaps and days are built in Python.
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
from carbon254.quality.due import due_until
from carbon254.quality.model import DayQuality, Gap, MarketQuality, MarketSummary, QualityReport
from carbon254.quality.payloads import LedgerFigures, PayloadStats, ledger_figures
from carbon254.quality.timeline import US, Timeline, timeline
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
    expected_s: int | None
    covered_s: int
    off_grid: int
    overlaps: int
    revisions: int
    gaps: tuple[Gap, ...]


def _day_of(starts: I64, bounds: I64) -> I64:
    return np.asarray(np.searchsorted(bounds, starts, side="right") - 1, dtype=np.int64)


def _count_days(
    coverage: pa.Table, basis: pa.Table, grid: Grid, days: Sequence[MarketDay], due: Sequence[datetime]
) -> list[_DayCounts]:
    """Expected and covered time, present pairs, gaps, off-grid, overlaps and revisions per day.

    `coverage` holds the window's pairs, `basis` supplies the locations and
    `due[i]` says up to when day i's intervals are due. Times are seconds
    from the window's start, which lies on every grid (a local midnight).
    """
    names = pc.unique(basis.column("location")).sort()
    n_loc, n_days = len(names), len(days)
    w_lo = _us(days[0].start)
    day_lo = np.array([(_us(d.start) - w_lo) // US for d in days], dtype=np.int64)
    w_hi = (_us(days[-1].end) - w_lo) // US
    due_hi = np.array([(_us(t) - w_lo) // US for t in due], dtype=np.int64)
    revisions = np.bincount(
        _day_of((_starts_us(coverage) - w_lo) // US, day_lo),
        weights=np.asarray(coverage.column("revisions").to_numpy(), dtype=np.float64),
        minlength=n_days,
    )
    line = timeline(coverage, names, w_lo)
    day_idx = _day_of(line.start, day_lo)
    overlaps = np.bincount(day_idx[line.overlaps], minlength=n_days)

    if grid.step_s is None or not grid.regular:
        present = np.bincount(day_idx, minlength=n_days)
        covered = line.covered(day_lo, due_hi)
        return [
            _DayCounts(None, int(n), None, int(c), 0, int(o), int(r), ())
            for n, c, o, r in zip(present, covered, overlaps, revisions, strict=True)
        ]

    step = grid.step_s
    # Only grid intervals that have ended by the due time are owed.
    due_hi = day_lo + (due_hi - day_lo) // step * step
    covered = line.covered(day_lo, due_hi)
    irregular = (line.start % step != 0) | (line.end - line.start != step)
    off_grid = np.bincount(day_idx[irregular], minlength=n_days)
    first_slot, due_slot = day_lo // step, due_hi // step
    missing, holes = _missing_per_slot(line, step, w_hi)
    gaps = _gaps(missing, holes, first_slot, due_slot, [str(n) for n in names.to_pylist()], w_lo, step)
    out: list[_DayCounts] = []
    for i in range(n_days):
        a, b = int(first_slot[i]), int(due_slot[i])
        expected = n_loc * (b - a)
        out.append(
            _DayCounts(
                expected=expected,
                present=expected - int(missing[a:b].sum()),
                expected_s=expected * step,
                covered_s=int(covered[i]),
                off_grid=int(off_grid[i]),
                overlaps=int(overlaps[i]),
                revisions=int(revisions[i]),
                gaps=gaps[i],
            )
        )
    return out


def _missing_per_slot(line: Timeline, step: int, end: int) -> tuple[I64, tuple[I64, I64, I64]]:
    """Locations not fully covering each grid slot of [0, end), and the holes as slot ranges.

    Returns the count per slot and (location, first slot, end slot) of each
    hole: a slot a hole touches is not fully covered, and two holes of one
    location that touch the same slot count it once.
    """
    loc, h0, h1 = line.holes(0, end)
    k0 = h0 // step
    k1 = -(-h1 // step)
    same = np.zeros(len(loc), dtype=np.bool_)
    same[1:] = loc[1:] == loc[:-1]
    k0 = np.where(same, np.maximum(k0, np.concatenate([[0], k1[:-1]])), k0)
    keep = k1 > k0
    loc, k0, k1 = loc[keep], k0[keep], k1[keep]
    n_slots = -(-end // step)
    diff = np.zeros(n_slots + 1, dtype=np.int64)
    np.add.at(diff, k0, 1)
    np.add.at(diff, k1, -1)
    return np.cumsum(diff[:-1]), (loc, k0, k1)


def _gaps(
    missing: I64,
    holes: tuple[I64, I64, I64],
    first_slot: I64,
    due_slot: I64,
    names: list[str],
    w_lo: int,
    step: int,
) -> list[tuple[Gap, ...]]:
    """Each day's gaps: maximal runs of its due slots with a location missing, and who misses them.

    Runs never cross a day's start. Every hole lies in the runs it touches,
    so each run's locations come from matching holes to runs by position
    (sorted searches), not by scanning every hole for every run.
    """
    n_slots = len(missing)
    due = np.zeros(n_slots + 1, dtype=np.int64)
    np.add.at(due, first_slot, 1)
    np.add.at(due, due_slot, -1)
    flag = (missing > 0) & (np.cumsum(due[:-1]) > 0)
    day_start = np.zeros(n_slots, dtype=np.bool_)
    day_start[first_slot[first_slot < n_slots]] = True
    before = np.concatenate([[False], flag[:-1]]) & ~day_start
    after = np.concatenate([flag[1:], [False]]) & ~np.concatenate([day_start[1:], [True]])
    g0 = np.flatnonzero(flag & ~before)
    g1 = np.flatnonzero(flag & ~after) + 1
    cum = np.concatenate([[0], np.cumsum(missing)])
    # Holes to runs: a hole [k0, k1) touches runs r with g0[r] < k1 and g1[r] > k0.
    loc, k0, k1 = holes
    r0 = np.searchsorted(g1, k0, side="right")
    r1 = np.searchsorted(g0, k1, side="left")
    count = np.maximum(r1 - r0, 0)
    run = np.repeat(r0, count) + (np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count))
    # (run, location) pairs, each once, sorted by run then location.
    pairs = np.sort(run * len(names) + np.repeat(loc, count))
    pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])] if len(pairs) else pairs
    pair_run, pair_loc = pairs // len(names), pairs % len(names)
    bounds = np.searchsorted(pair_run, np.arange(len(g0) + 1))
    day = np.searchsorted(first_slot, g0, side="right") - 1
    out: list[list[Gap]] = [[] for _ in first_slot]
    for r in range(len(g0)):
        absent = pair_loc[bounds[r] : bounds[r + 1]]
        out[int(day[r])].append(
            Gap(
                start=_at(w_lo + int(g0[r]) * step * US),
                end=_at(w_lo + int(g1[r]) * step * US),
                intervals=int(g1[r] - g0[r]),
                locations=len(absent),
                missing=int(cum[g1[r]] - cum[g0[r]]),
                names=tuple(names[j] for j in absent) if len(absent) <= MAX_GAP_NAMES else (),
            )
        )
    return [tuple(g) for g in out]


def assess(
    store: Store,
    iso: str,
    dataset: Dataset | str,
    market: str | None,
    first_day: date,
    end_day: date,
    ledger: Iterable[LedgerEntry] = (),
    *,
    now: datetime | None = None,
) -> MarketQuality:
    """Completeness, gaps, overlaps, revisions, duplicates and ingest lag of one market per market day.

    Covers the market days `first_day` to `end_day` (exclusive) in the ISO's
    market time, as due at `now` (UTC-aware; default the current time): a
    real-time day counts only its intervals ended by then, a day-ahead day
    nothing before its publication time. `market` is the stored market name
    (load kind for `load`) and must be None exactly for datasets without a
    market column (`ordc_adder`). `ledger` supplies the ingest-ledger
    entries (any ISO or dataset; the others are skipped). Gap bounds are
    UTC, times in seconds. Raises ValueError for an empty day range, a naive
    `now`, or a market given to a dataset without markets (or missing for
    one with), KeyError for an unknown ISO or dataset.
    """
    spec_ = spec(dataset)
    iso_name = iso_info(iso).iso.value
    days = market_days(iso_name, first_day, end_day)
    at = datetime.now(UTC) if now is None else now
    due = [due_until(iso_name, spec_.name, market, d, at) for d in days]
    lo, hi = days[0].start, days[-1].end
    coverage = store.coverage(spec_.name, iso_name, market, lo, hi)
    basis = coverage
    if coverage.num_rows == 0:
        basis = store.coverage(spec_.name, iso_name, market, lo - timedelta(days=REFERENCE_DAYS), lo)
    grid = infer_grid(basis)
    has_data = basis.num_rows > 0
    n_loc = len(pc.unique(basis.column("location")))
    counts = (
        _count_days(coverage, basis, grid, days, due)
        if has_data
        else [_DayCounts(None, 0, None, 0, 0, 0, 0, ()) for _ in days]
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
        expected=counts.expected,
        present=counts.present,
        expected_s=counts.expected_s,
        covered_s=counts.covered_s,
        completeness=counts.covered_s / counts.expected_s if counts.expected_s else None,
        gaps=counts.gaps,
        off_grid=counts.off_grid,
        overlaps=counts.overlaps,
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
    expected_s = sum(r.expected_s or 0 for r in rows) if applicable else None
    present = sum(r.present for r in rows)
    covered_s = sum(r.covered_s for r in rows)
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
        expected_s=expected_s,
        covered_s=covered_s,
        completeness=covered_s / expected_s if expected_s else None,
        gaps=sum(len(r.gaps) for r in rows),
        missing=expected - present if expected is not None else None,
        days_with_gaps=sum(1 for r in rows if r.gaps),
        overlaps=sum(r.overlaps for r in rows),
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
    now: datetime | None = None,
) -> QualityReport:
    """`assess` for each ISO of `isos` and each of its markets (or only `market`) over the same market days.

    An ISO lacking `market` is left out. With `skip_empty`, markets with no
    data in or just before the window are left out too (used when no ISO was
    named). `ledger` is read once by the caller and shared by every market;
    `now` (UTC-aware, default the current time) says what is due, the same
    instant for every market.
    """
    at = datetime.now(UTC) if now is None else now
    spec_ = spec(dataset)
    out: list[MarketQuality] = []
    for iso in isos:
        markets = markets_of(store, iso, spec_.name)
        if market is not None:
            markets = [m for m in markets if m == market]
        for m in markets:
            result = assess(store, iso, spec_.name, m, first_day, end_day, ledger, now=at)
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
    *,
    now: datetime | None = None,
) -> list[date]:
    """The market days from `first_day` to `end_day` (exclusive) on which a due interval is missing.

    This is what `ingest --gaps` backfills. Days of irregular markets, and of
    markets with no data in or just before the range, are never reported
    (nothing is expected of them), nor is what is not due yet (`assess`).
    """
    result = assess(store, iso, dataset, market, first_day, end_day, now=now)
    return [d.day for d in result.days if d.gaps]
