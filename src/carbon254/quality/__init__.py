"""Data quality: expected vs present intervals per ISO, dataset, market and market day.

Pure library code over the `Store` interface and the ingest ledger (no web
or CLI imports): `assess` one market, `quality_report` several, and
`days_with_gaps` for a gap-targeted backfill. See `quality.assess` for how
each figure is defined and `quality.due` for what is expected when.
"""

from carbon254.quality.assess import (
    MAX_GAP_NAMES,
    REFERENCE_DAYS,
    REGULAR_SHARE,
    Grid,
    assess,
    days_with_gaps,
    infer_grid,
    markets_of,
    quality_report,
)
from carbon254.quality.calendar import (
    MarketDay,
    day_range,
    day_start,
    market_day_of,
    market_day_range,
    market_days,
)
from carbon254.quality.due import due_until, publication_time, publishes_ahead
from carbon254.quality.model import DayQuality, Gap, MarketQuality, MarketSummary, QualityReport
from carbon254.quality.payloads import LedgerFigures, PayloadStats, ledger_figures

__all__ = [
    "MAX_GAP_NAMES",
    "REFERENCE_DAYS",
    "REGULAR_SHARE",
    "DayQuality",
    "Gap",
    "Grid",
    "LedgerFigures",
    "MarketDay",
    "MarketQuality",
    "MarketSummary",
    "PayloadStats",
    "QualityReport",
    "assess",
    "day_range",
    "day_start",
    "days_with_gaps",
    "due_until",
    "infer_grid",
    "ledger_figures",
    "market_day_of",
    "market_day_range",
    "market_days",
    "markets_of",
    "publication_time",
    "publishes_ahead",
    "quality_report",
]
