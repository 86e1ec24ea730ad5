"""Stored prices for the risk tests: seeded hourly DAM random walks over a span without NERC holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from carbon254.schema import TIMESTAMP
from carbon254.store import Source, Store

FIRST = date(2024, 1, 2)
LAST = date(2024, 5, 20)
AS_OF = LAST.isoformat()
PUBLISHED = datetime(2023, 12, 1, tzinfo=UTC)
ZONES = {"ERCOT": ZoneInfo("America/Chicago"), "PJM": ZoneInfo("America/New_York")}
# June 2024 in any US zone: 20 weekdays x 16 onpeak hours of 720; the rest is offpeak.
JUNE_OFFPEAK_HOURS = 720 - 20 * 16
JUNE_ONPEAK_HOURS = 20 * 16

BOOK = (
    "id,book,kind,iso,location,hub,block,start,end,mw,price\n"
    "n1,Power/ERCOT,forward,ERCOT,HB_NORTH,,offpeak,2024-06,2024-06,10,40\n"
)
MIXED = (
    "id,book,kind,iso,location,hub,block,start,end,mw,price\n"
    "n1,Power/ERCOT,forward,ERCOT,HB_NORTH,,offpeak,2024-06,2024-06,10,40\n"
    "n2,Power/ERCOT,forward,ERCOT,HB_NORTH,,onpeak,2024-06,2024-06,-5,50\n"
    "b1,Power/ERCOT/Basis,basis,ERCOT,NODE_A,HB_NORTH,atc,2024-06,2024-06,3,-1\n"
    "w1,Power/PJM,forward,PJM,WESTERN HUB,,onpeak,2024-06,2024-06,8,60\n"
)


def hourly(iso: str, location: str, seed: int, location_type: str = "hub") -> pa.Table:
    """Hourly DAM prices of FIRST..LAST (local days, and a day either side): a daily walk, hourly noise."""
    rng = np.random.default_rng(seed)
    start = datetime.combine(FIRST - timedelta(days=1), datetime.min.time(), ZONES[iso]).astimezone(UTC)
    hours = ((LAST - FIRST).days + 3) * 24
    starts = np.datetime64(start.replace(tzinfo=None), "us") + np.arange(hours) * np.timedelta64(3600, "s")
    level = 40.0 + np.cumsum(rng.normal(0.0, 3.0, hours // 24 + 1))
    lmp = level[np.arange(hours) // 24] + rng.normal(0.0, 4.0, hours) + 10.0 * (np.arange(hours) % 24 > 12)
    return pa.table(
        {
            "iso": [iso] * hours,
            "market": ["DAM"] * hours,
            "location": [location] * hours,
            "location_type": [location_type] * hours,
            "interval_start": pa.array(starts).cast(TIMESTAMP),
            "interval_end": pa.array(starts + np.timedelta64(3600, "s")).cast(TIMESTAMP),
            "lmp": lmp,
            "energy": lmp,
            "congestion": np.zeros(hours),
            "loss": np.zeros(hours),
            "published_at": pa.array([PUBLISHED] * hours, TIMESTAMP),
        }
    )


def fill(store: Store) -> None:
    store.write("lmp", hourly("ERCOT", "HB_NORTH", 1))
    store.write("lmp", hourly("ERCOT", "NODE_A", 2, "node"), source=Source.SIMULATED)
    store.write("lmp", hourly("PJM", "WESTERN HUB", 3))
    store.write("lmp", hourly("PJM", "EASTERN HUB", 4))
