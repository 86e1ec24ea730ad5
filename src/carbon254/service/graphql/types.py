"""GraphQL object types: one row type per dataset, the location catalog and the quality report.

Row fields are the REST response columns in camelCase, in the same order
and units; times are ISO-8601 `DateTime`s in the query's `tz` (UTC by
default), so a row reads exactly like the matching `/v1/<dataset>` JSON row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import strawberry

from carbon254.application.quality import QualityResponse
from carbon254.quality import DayQuality, Gap, MarketSummary


@strawberry.type(description="Locational marginal price ($/MWh) of one location and interval.")
class LmpRow:
    interval_start: datetime
    interval_end: datetime
    iso: str
    market: str
    location: str
    lmp: float | None
    energy: float | None
    congestion: float | None
    loss: float | None
    # Resampled answers only: the share of the bucket with data (0-1) and the intervals averaged.
    coverage: float | None = None
    intervals: int | None = None


@strawberry.type(description="Ancillary service clearing price ($/MW-h) of one region, product and interval.")
class AsPriceRow:
    interval_start: datetime
    interval_end: datetime
    iso: str
    market: str
    region: str
    product: str
    price: float | None
    # Resampled answers only: the share of the bucket with data (0-1) and the intervals averaged.
    coverage: float | None = None
    intervals: int | None = None


@strawberry.type(description="Cleared capacity price ($/MW-day) of one auction, zone and delivery period.")
class CapacityPriceRow:
    delivery_start: datetime
    delivery_end: datetime
    iso: str
    auction: str
    zone: str
    price: float | None


@strawberry.type(description="ERCOT real-time ORDC adders ($/MWh) of one interval.")
class OrdcAdderRow:
    interval_start: datetime
    interval_end: datetime
    iso: str
    rt_reserve_adder: float | None
    rt_reliability_deployment_adder: float | None
    # Resampled answers only: the share of the bucket with data (0-1) and the intervals averaged.
    coverage: float | None = None
    intervals: int | None = None


@strawberry.type(description="Load (MW) of one zone and interval; forecasts carry their issue time.")
class LoadRow:
    interval_start: datetime
    interval_end: datetime
    iso: str
    zone: str
    kind: str
    mw: float | None
    forecast_issued_at: datetime | None
    # Resampled answers only: the share of the bucket with data (0-1) and the intervals averaged.
    coverage: float | None = None
    intervals: int | None = None


@strawberry.type(description="A priced location; `source` is `ingested` or `simulated`.")
class Location:
    iso: str
    location: str
    location_type: str | None
    source: str


@strawberry.type(
    description="A run of expected intervals (UTC, half-open) in which some location has no data."
)
class QualityGap:
    start: datetime
    end: datetime
    intervals: int
    locations: int
    missing: int
    names: list[str]

    @staticmethod
    def of(gap: Gap) -> QualityGap:
        """The GraphQL view of a quality gap."""
        return QualityGap(
            start=gap.start,
            end=gap.end,
            intervals=gap.intervals,
            locations=gap.locations,
            missing=gap.missing,
            names=list(gap.names),
        )


@strawberry.type(
    description="Completeness and ingest health of one ISO, dataset and market on one market day."
)
class QualityDay:
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
    # Location-seconds outgrow GraphQL's 32-bit Int; Float holds them exactly.
    expected_s: float | None
    covered_s: float
    completeness: float | None
    gaps: list[QualityGap]
    off_grid: int
    overlaps: int
    duplicates: int
    revisions: int
    payloads: int
    quarantined: int
    lag_median_s: float | None
    lag_max_s: float | None

    @staticmethod
    def of(day: DayQuality) -> QualityDay:
        """The GraphQL view of one assessed market day."""
        values = day.model_dump()
        values["gaps"] = [QualityGap.of(g) for g in day.gaps]
        return QualityDay(**values)


@strawberry.type(description="Totals over the assessed days of one ISO, dataset and market.")
class QualitySummary:
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
    expected_s: float | None
    covered_s: float
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

    @staticmethod
    def of(summary: MarketSummary) -> QualitySummary:
        """The GraphQL view of one market's totals."""
        return QualitySummary(**summary.model_dump())


@strawberry.type(description="Data quality per ISO, dataset, market and market day, as `GET /v1/quality`.")
class Quality:
    iso: str | None
    dataset: str
    market: str | None
    first_day: date
    end_day: date
    summary: list[QualitySummary]
    days: list[QualityDay]
    count: int

    @staticmethod
    def of(answer: QualityResponse) -> Quality:
        """The GraphQL view of a quality answer."""
        q = answer.query
        return Quality(
            iso=q.iso,
            dataset=q.dataset,
            market=q.market,
            first_day=q.first_day,
            end_day=q.end_day,
            summary=[QualitySummary.of(s) for s in answer.summary],
            days=[QualityDay.of(d) for d in answer.days],
            count=answer.count,
        )


Row = TypeVar("Row")


def _values(column: pa.ChunkedArray) -> list[object]:
    """A column as Python values; NaN (a mean over no value) becomes null, as in REST JSON."""
    if pa.types.is_floating(column.type) and np.isnan(column.to_numpy(zero_copy_only=False)).any():
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    values: list[object] = column.to_pylist()
    return values


def to_rows(row_type: Callable[..., Row], table: pa.Table, columns: Sequence[str]) -> list[Row]:
    """One `row_type` per table row, each field filled from the column of the same (snake_case) name."""
    values = [_values(table.column(name)) for name in columns]
    return [row_type(**dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True)]
