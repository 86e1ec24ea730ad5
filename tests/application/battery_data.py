"""Test data for the battery operations: a month of simulated ERCOT and PJM prices, and a node with a gap.

    fill_battery_store(store)   # ERCOT and PJM, January 2024: DAM, RTH (and RT5 for its last 3 days)
                                # LMPs with DAM and RTH ancillary prices; plus GAP_NODE (ERCOT DAM)

Shared by the application, service, CLI and SDK battery tests (each imports
this module from `tests/application`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from carbon254.demo import write_simulation
from carbon254.isos import Iso
from carbon254.schema import TIMESTAMP, Dataset
from carbon254.simulate import SimulationConfig
from carbon254.store import Store

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 2, 1, tzinfo=UTC)
RT5_FROM = datetime(2024, 1, 29, tzinfo=UTC)
HUB = "HB_NORTH"
# An ERCOT node with day-ahead prices for January except GAP_HOURS hours from GAP_FROM.
GAP_NODE = "GAP_NODE"
GAP_FROM = datetime(2024, 1, 10, 6, tzinfo=UTC)
GAP_HOURS = 5


def gap_node_table() -> pa.Table:
    """Hourly DAM LMPs of `GAP_NODE` over January 2024 with `GAP_HOURS` hours missing from `GAP_FROM`."""
    hours = int((END - START) / timedelta(hours=1))
    first = np.datetime64(START.replace(tzinfo=None), "us")
    starts = first + np.arange(hours) * np.timedelta64(3600, "s")
    skip = int((GAP_FROM - START) / timedelta(hours=1))
    keep = np.ones(hours, dtype=bool)
    keep[skip : skip + GAP_HOURS] = False
    starts = starts[keep]
    n = len(starts)
    energy = 25.0 + 15.0 * np.sin(np.arange(hours)[keep] * 2 * np.pi / 24)
    return pa.table(
        {
            "iso": ["ERCOT"] * n,
            "market": ["DAM"] * n,
            "location": [GAP_NODE] * n,
            "location_type": ["node"] * n,
            "interval_start": pa.array(starts).cast(TIMESTAMP),
            "interval_end": pa.array(starts + np.timedelta64(3600, "s")).cast(TIMESTAMP),
            "lmp": energy,
            "energy": energy,
            "congestion": np.zeros(n),
            "loss": np.zeros(n),
            "published_at": pa.nulls(n, TIMESTAMP),
        }
    )


def fill_battery_store(store: Store) -> None:
    """Write the battery tests' data set into `store` (see the module docstring)."""
    config = SimulationConfig(
        start=START,
        end=END,
        isos=(Iso.ERCOT, Iso.PJM),
        nodes=2,
        markets=("DAM", "RTH", "RT5"),
        rt5_start=RT5_FROM,
        datasets=(Dataset.LMP, Dataset.AS_PRICE),
    )
    write_simulation(store, [config])
    store.write("lmp", gap_node_table())
