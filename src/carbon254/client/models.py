"""Pydantic models of the service's non-tabular answers: the quality report, spread statistics, ticks.

They mirror the JSON the service sends and ignore fields they do not know,
so a newer service does not break an older SDK.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class QualityGap(_Answer):
    """A run of expected intervals in which some location has no data (UTC bounds, half-open)."""

    start: datetime
    end: datetime
    intervals: int
    locations: int
    missing: int
    names: tuple[str, ...] = ()


class QualityDay(_Answer):
    """Completeness and ingest health of one ISO, dataset and market on one market day.

    `expected` is None for irregular markets (ERCOT SCED runs); only what is
    due counts (real time: ended intervals; day-ahead: once published).
    `completeness` = `covered_s` / `expected_s` (location-seconds);
    `overlaps` counts stored intervals overlapping an earlier one of the
    same location (a data problem). Lags are seconds from the ISO's
    publication to the commit.
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
    expected_s: int | None = None
    covered_s: int = 0
    completeness: float | None
    gaps: tuple[QualityGap, ...]
    off_grid: int
    overlaps: int = 0
    duplicates: int
    revisions: int
    payloads: int
    quarantined: int
    lag_median_s: float | None
    lag_max_s: float | None


class QualitySummary(_Answer):
    """Totals over the assessed days of one ISO, dataset and market."""

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
    expected_s: int | None = None
    covered_s: int = 0
    completeness: float | None
    gaps: int
    missing: int | None
    days_with_gaps: int
    overlaps: int = 0
    duplicates: int
    revisions: int
    payloads: int
    quarantined: int
    quarantined_undated: int
    lag_median_s: float | None
    lag_max_s: float | None


class QualityScope(_Answer):
    """What was assessed: market days `first_day` to `end_day` (exclusive)."""

    iso: str | None
    dataset: str
    market: str | None
    first_day: date
    end_day: date


class QualityReport(_Answer):
    """`GET /v1/quality`: one summary per (ISO, dataset, market), then one entry per market day."""

    query: QualityScope
    summary: tuple[QualitySummary, ...]
    days: tuple[QualityDay, ...]
    count: int


class SpreadStats(_Answer):
    """Duration-weighted statistics of a spread ($/MWh), the `stats` of `GET /v1/spreads?stats=true`.

    `intervals` and `hours` say how much time they cover; `p05`..`p95` are
    duration-weighted percentiles; `share_above` is the fraction of hours
    whose spread exceeds `threshold`. Price figures are None without data.
    """

    intervals: int
    hours: float
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    p05: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p95: float | None
    threshold: float
    share_above: float | None
    hours_above: float


class SpreadStatsAnswer(_Answer):
    """The part of a `/v1/spreads?stats=true` JSON answer the SDK reads."""

    stats: SpreadStats


class Tick(_Answer):
    """One streamed row: where it belongs, its interval (UTC) and its values.

    For LMPs `values` holds `lmp`, `energy`, `congestion` and `loss` in
    $/MWh (see `lmp`); other datasets carry their own value columns.
    `replay` is true for rows resent to resume after a reconnect.
    """

    dataset: str
    iso: str
    market: str | None
    location: str | None
    interval_start: datetime
    interval_end: datetime | None
    values: dict[str, float | str | None]
    replay: bool = False

    @property
    def lmp(self) -> float | None:
        """The LMP in $/MWh (None for other datasets)."""
        value = self.values.get("lmp")
        return float(value) if isinstance(value, int | float) else None


class MarkedMonth(_Answer):
    """One delivery month and block of a marked curve: `price` in $/MWh."""

    month: str
    block: str
    price: float


class ImpliedOut(_Answer):
    """A quote found redundant: the price ($/MWh) the other quotes already imply for it."""

    quote: str
    implied_price: float


class CurveMarked(_Answer):
    """A mark as stored by `POST /v1/curves`: its version of the day, monthly prices and redundant quotes.

    `months` is a list of month/block/price rows (`pandas.DataFrame([m.model_dump()
    for m in marked.months])` makes a frame of it); `quoted_through` is the first
    day past the last quoted delivery day; `prior` names the seasonal shape months
    quoted only within strips took: `history` (the hub's stored prices), `front year`
    (the curve's own first twelve months) or None.
    """

    iso: str
    hub: str
    as_of: str
    version: int
    simulated: bool
    quoted_through: str
    prior: str | None
    months: tuple[MarkedMonth, ...]
    implied: tuple[ImpliedOut, ...]
