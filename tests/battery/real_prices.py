"""ERCOT HB_SOUTH day-ahead (hourly) and real-time (15-minute) prices of 2024 from the shared data."""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from carbon254.battery import MarketPrices
from shared_data import SHARED_DATA

HISTORY = SHARED_DATA / "history" / "ercot_hb_south_dam_rtm_15min_2024-06_2025-03.csv"
CENTRAL = ZoneInfo("America/Chicago")


def hb_south() -> tuple[MarketPrices, MarketPrices]:
    """(DA hourly, RT 15-minute) prices from 2024-06-01 until the first gap, on UTC grids.

    The file's rows are 15-minute intervals in Central prevailing time, but
    both DST days (2024-11-03, 2025-03-09) are missing whole, so the series
    is regular only between them: this returns June to 2024-11-02 (155 days),
    the stretch before the first missing day. Skips the test when the file
    is not there.
    """
    if not HISTORY.is_file():
        pytest.skip(f"real ERCOT history not found at {HISTORY}")
    with HISTORY.open() as f:
        rows = list(csv.DictReader(f))
    stamps = (
        np.array(
            [
                int(datetime.fromisoformat(r["interval_start_central"]).replace(tzinfo=CENTRAL).timestamp())
                for r in rows
            ],
            dtype=np.int64,
        )
        * 1_000_000
    )
    gaps = np.flatnonzero(np.diff(stamps) != 900_000_000)
    end = int(gaps[0]) + 1 if len(gaps) else len(rows)
    assert end % 96 == 0, "the stretch before the first gap holds whole days"
    rt = np.array([float(r["HB_SOUTH_RTM"]) for r in rows[:end]])
    da = np.array([float(r["HB_SOUTH_DAM"]) for r in rows[:end:4]])
    return (
        MarketPrices.energy_only(da, 1.0, int(stamps[0])),
        MarketPrices.energy_only(rt, 0.25, int(stamps[0])),
    )
