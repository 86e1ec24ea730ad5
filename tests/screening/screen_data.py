"""Hand-solvable LMPs for the fleet screen: nodes whose optimal schedule and revenue are known by hand.

A 10 MW / 20 MWh battery with a round trip of 0.81 (0.9 each way), empty
at the start and the end, over days of four-hour blocks priced
[low, low, high, high]: it charges 10 MW for two hours (18 MWh stored) and
sells the 16.2 MWh that come back out in the next two. Each block earns
16.2 x high - 20 x low ($) and discharges 16.2 MWh, as long as the spread
beats the losses (high x 0.81 > low).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from carbon254.schema import TIMESTAMP
from carbon254.store import open_store

START = datetime(2024, 3, 1, tzinfo=UTC)
DAYS = 2
HOURS = 24 * DAYS
BLOCKS = HOURS // 4
BATTERY = {"power_mw": 10.0, "energy_mwh": 20.0, "round_trip_efficiency": 0.81, "initial_soc_mwh": 0.0}
WINDOW = {"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-03"}
# Each node's block prices ($/MWh): (low, high). FLAT never trades; GAPPY lacks hours.
SPREADS = {
    "WIDE": (10.0, 50.0),
    "NARROW": (10.0, 30.0),
    "MIDDLE": (20.0, 45.0),
    "LOSSY": (40.0, 45.0),  # 45 x 0.81 < 40: the losses eat the spread, no trade
    "FLAT": (30.0, 30.0),
}
GAPPY = "GAPPY"
GAP_HOURS = (5, 6, 7)
DISCHARGED_PER_BLOCK = 16.2
CHARGED_PER_BLOCK = 20.0


def block_revenue(low: float, high: float) -> float:
    """One block's revenue ($) when it trades, 0 when the spread does not beat the losses."""
    return max(0.0, DISCHARGED_PER_BLOCK * high - CHARGED_PER_BLOCK * low)


def prices(low: float, high: float, hours: int = HOURS) -> list[float]:
    """Hourly prices in blocks of [low, low, high, high] ($/MWh)."""
    return [low if h % 4 < 2 else high for h in range(hours)]


def lmp_rows(
    location: str, values: list[float], *, skip: tuple[int, ...] = (), start: datetime = START
) -> pa.Table:
    """Canonical hourly PJM DAM rows of `location` at `values` ($/MWh), leaving out the hours in `skip`."""
    hours = [h for h in range(len(values)) if h not in skip]
    starts = [start + timedelta(hours=h) for h in hours]
    lmps = [values[h] for h in hours]
    n = len(hours)
    return pa.table(
        {
            "iso": ["PJM"] * n,
            "market": ["DAM"] * n,
            "location": [location] * n,
            "location_type": ["node"] * n,
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array([s + timedelta(hours=1) for s in starts], TIMESTAMP),
            "lmp": lmps,
            "energy": lmps,
            "congestion": [0.0] * n,
            "loss": [0.0] * n,
        }
    )


def write_nodes(data_dir: Path) -> None:
    """The hand-solvable nodes (`screen_data.SPREADS`) and one with a gap, in an embedded store."""
    store = open_store(data_dir)
    try:
        for location, (low, high) in SPREADS.items():
            store.write("lmp", lmp_rows(location, prices(low, high)))
        store.write("lmp", lmp_rows(GAPPY, prices(10.0, 90.0), skip=GAP_HOURS))
    finally:
        store.close()
