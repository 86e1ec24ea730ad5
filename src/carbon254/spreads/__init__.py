"""Price spreads: node minus hub (basis), day-ahead minus real-time, any location minus any other.

Pure functions over canonical LMP tables, no I/O: `spread_intervals` aligns
two price series interval by interval (averaging the finer one onto the
coarser one's intervals when their granularities differ) and subtracts them;
`spread_stats` summarises a spread series, weighting every interval by its
duration.
"""

from carbon254.spreads.align import SPREAD_SCHEMA, spread_intervals
from carbon254.spreads.stats import PERCENTILES, SpreadStats, spread_stats

__all__ = ["PERCENTILES", "SPREAD_SCHEMA", "SpreadStats", "spread_intervals", "spread_stats"]
