"""Time presentation of canonical Arrow tables: NERC holidays, delivery blocks,
market days, query-bound parsing, calendar resampling and output time zones.

Pure functions, no I/O; all stored times are UTC and local time is only ever a
presentation choice.
"""

from carbon254.timeseries.blocks import block_mask
from carbon254.timeseries.bounds import BOUND_FORMS, Anchor, parse_bound, relative_anchor, resolve_tz
from carbon254.timeseries.days import market_day_bounds, market_day_of
from carbon254.timeseries.holidays import nerc_holidays, nerc_holidays_between
from carbon254.timeseries.present import RESAMPLE_COLUMNS, VERSION_COLUMNS, present

__all__ = [
    "BOUND_FORMS",
    "RESAMPLE_COLUMNS",
    "VERSION_COLUMNS",
    "Anchor",
    "block_mask",
    "market_day_bounds",
    "market_day_of",
    "nerc_holidays",
    "nerc_holidays_between",
    "parse_bound",
    "present",
    "relative_anchor",
    "resolve_tz",
]
