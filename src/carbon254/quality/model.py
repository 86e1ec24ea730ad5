"""Typed results of a data-quality assessment (frozen Pydantic models, JSON-ready).

Times are UTC; a `day` is the ISO's market day (its local calendar day in
`IsoInfo.timezone`: 23 or 25 hours on DST days in prevailing-time ISOs, always
24 hours in MISO, which keeps Eastern Standard Time). Counts of intervals are
(location, interval) pairs. Lags are seconds from the ISO's publication to
our commit.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Gap(_Frozen):
    """A maximal run of due grid intervals of one market day that some location does not fully cover.

    `start`/`end` bound the run (UTC, half-open); `intervals` is its length in
    grid intervals; `locations` how many locations miss time in at least one
    interval of it; `missing` the (location, interval) pairs not fully
    covered in it. `names` lists the missing locations when there are at
    most `MAX_GAP_NAMES` of them (empty otherwise: too many to be useful).
    """

    start: datetime
    end: datetime
    intervals: int
    locations: int
    missing: int
    names: tuple[str, ...] = ()


class DayQuality(_Frozen):
    """Completeness and ingest health of one ISO, dataset and market on one market day.

    `expected` = locations x the day's grid intervals due at the assessment
    time (real time: ended by then; day-ahead: all, once published), None
    when the market's intervals are irregular (e.g. ERCOT SCED runs) or
    nothing is known about it; `present` = those (location, interval) pairs
    that stored intervals cover fully. `expected_s` and `covered_s` are the
    same in location-seconds, covered time counted once however many
    intervals share it; `completeness` = covered_s / expected_s (None when
    nothing is due). `off_grid` counts stored intervals that are not one
    grid interval (off the grid or of another length, such as NYISO's extra
    real-time runs): they count for the time they cover. `overlaps` counts
    stored intervals that begin before an earlier one of the same location
    ends, a problem: their shared time would be weighed twice. `revisions`
    counts stored versions that changed an earlier one. The ledger figures
    (`payloads`, `duplicates`, `quarantined`, lags) cover every payload
    whose intervals touch the day, so a payload spanning two days counts on
    both.
    """

    iso: str
    dataset: str
    market: str | None
    day: date
    start: datetime
    end: datetime
    hours: int
    interval_minutes: float | None
    locations: int
    expected: int | None
    present: int
    expected_s: int | None
    covered_s: int
    completeness: float | None
    gaps: tuple[Gap, ...]
    off_grid: int
    overlaps: int
    duplicates: int
    revisions: int
    payloads: int
    quarantined: int
    lag_median_s: float | None
    lag_max_s: float | None


class MarketSummary(_Frozen):
    """Totals over the assessed days of one ISO, dataset and market.

    `completeness` = sum(covered_s) / sum(expected_s) over the days (None
    when not applicable or nothing is due); `overlaps` sums the days'.
    Ledger figures count each payload once, however many days it spans.
    `quarantined_undated` counts quarantined payloads whose intervals are
    unknown (they failed before parsing), which no day can claim; they are
    counted whatever the window.
    """

    iso: str
    dataset: str
    market: str | None
    first_day: date
    last_day: date
    days: int
    interval_minutes: float | None
    regular: bool
    locations: int
    expected: int | None
    present: int
    expected_s: int | None
    covered_s: int
    completeness: float | None
    gaps: int
    missing: int | None
    days_with_gaps: int
    overlaps: int
    duplicates: int
    revisions: int
    payloads: int
    quarantined: int
    quarantined_undated: int
    lag_median_s: float | None
    lag_max_s: float | None


class MarketQuality(_Frozen):
    """The assessment of one ISO, dataset and market over consecutive market days.

    `has_data` is false when neither the window nor the reference days
    before it hold any row (then nothing is expected).
    """

    summary: MarketSummary
    days: tuple[DayQuality, ...]
    has_data: bool


class QualityReport(_Frozen):
    """Assessments of several markets (and ISOs) over one span of market days."""

    dataset: str
    first_day: date
    end_day: date = Field(description="Exclusive.")
    markets: tuple[MarketQuality, ...]

    @property
    def summaries(self) -> list[MarketSummary]:
        """One summary per market, in report order."""
        return [m.summary for m in self.markets]

    @property
    def days(self) -> list[DayQuality]:
        """Every day row of every market, in report order."""
        return [d for m in self.markets for d in m.days]
