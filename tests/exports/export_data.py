"""Rows the export tests store: PJM day-ahead LMPs across the US fall-back, ERCOT ORDC adders."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from carbon254.schema import TIMESTAMP

# Ten days of hours around the US fall-back (2024-11-03), so the repeated hour is exported too.
START = datetime(2024, 10, 29, tzinfo=UTC)
HOURS = 10 * 24
# Sorted differently from how a request may list them; one name would be a formula in a careless XLSX.
LOCATIONS = ("WESTERN HUB", "=CMD", "AEP", "BGE", "PSEG")


def _times(start: datetime, count: int, step_s: int) -> tuple[pa.Array, pa.Array]:
    first = np.datetime64(start.replace(tzinfo=None), "us")
    starts = first + np.arange(count) * np.timedelta64(step_s, "s")
    return pa.array(starts).cast(TIMESTAMP), pa.array(starts + np.timedelta64(step_s, "s")).cast(TIMESTAMP)


def lmp_table(location: str, index: int) -> pa.Table:
    """Hourly PJM day-ahead LMPs with irrational-looking values, so float text is exercised."""
    starts, ends = _times(START, HOURS, 3600)
    energy = 20.0 + (np.arange(HOURS) % 24) / 7.0 + index
    congestion = np.where(np.arange(HOURS) % 5 == 0, -0.0, 1.0 / 3.0)
    loss = np.full(HOURS, 0.1 * (index + 1))
    return pa.table(
        {
            "iso": ["PJM"] * HOURS,
            "market": ["DAM"] * HOURS,
            "location": [location] * HOURS,
            "location_type": ["hub"] * HOURS,
            "interval_start": starts,
            "interval_end": ends,
            "lmp": energy + congestion + loss,
            "energy": energy,
            "congestion": congestion,
            "loss": loss,
            "published_at": pa.nulls(HOURS, TIMESTAMP),
        }
    )


def ordc_table() -> pa.Table:
    """ERCOT ORDC adders in 15-minute intervals over the same ten days."""
    n = HOURS * 4
    starts, ends = _times(START, n, 900)
    return pa.table(
        {
            "iso": ["ERCOT"] * n,
            "interval_start": starts,
            "interval_end": ends,
            "rt_reserve_adder": np.round(np.arange(n) * 0.01, 2),
            "rt_reliability_deployment_adder": np.zeros(n),
        }
    )
