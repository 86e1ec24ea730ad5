"""Intervals live on a UTC grid, so DST days have 23 or 25 local hours with no gaps or duplicates."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from simulate_tables import collect, utc

from carbon254.isos import ISOS, Iso
from carbon254.schema import Dataset
from carbon254.simulate import SimulationConfig

# (ISO, local day, expected local hours): spring forward, fall back, and MISO,
# whose market runs on Eastern Standard Time all year.
CASES = [
    (Iso.ERCOT, date(2024, 3, 10), 23),
    (Iso.ERCOT, date(2024, 11, 3), 25),
    (Iso.CAISO, date(2024, 3, 10), 23),
    (Iso.PJM, date(2024, 11, 3), 25),
    (Iso.NYISO, date(2024, 3, 10), 23),
    (Iso.MISO, date(2024, 3, 10), 24),
    (Iso.MISO, date(2024, 11, 3), 24),
]


@pytest.mark.parametrize(("iso", "day", "hours"), CASES)
def test_dst_days_have_the_right_number_of_local_hours(iso: Iso, day: date, hours: int) -> None:
    tz = ZoneInfo(ISOS[iso].timezone)
    config = SimulationConfig(
        start=utc(day.year, day.month, day.day) - timedelta(days=1),
        end=utc(day.year, day.month, day.day) + timedelta(days=2),
        isos=(iso,),
        nodes=2,
        datasets=(Dataset.LMP, Dataset.LOAD),
    )
    tables = collect(config)
    lmp = pl.from_arrow(tables[Dataset.LMP])
    assert isinstance(lmp, pl.DataFrame)
    hub = lmp.filter(pl.col("location") == lmp["location"][0])
    for market, per_hour in (("DAM", 1), ("RTH", 1), ("RT5", 12)):
        starts = hub.filter(pl.col("market") == market)["interval_start"].sort().to_list()
        gaps = np.diff(np.array([s.timestamp() for s in starts]))
        assert set(gaps.tolist()) == {3600 / per_hour}  # contiguous, no duplicates
        local_days = [s.astimezone(tz).date() for s in starts]
        assert local_days.count(day) == hours * per_hour
    load = pl.from_arrow(tables[Dataset.LOAD])
    assert isinstance(load, pl.DataFrame)
    zone = load.filter((pl.col("zone") == load["zone"][0]) & (pl.col("kind") == "actual"))
    assert [s.astimezone(tz).date() for s in zone["interval_start"].to_list()].count(day) == hours


def test_fall_back_hour_is_two_distinct_intervals_with_their_own_prices() -> None:
    # 01:00-02:00 Central happens twice on 2024-11-03: 06:00Z (CDT) and 07:00Z (CST).
    config = SimulationConfig(
        start=utc(2024, 11, 3, 6), end=utc(2024, 11, 3, 8), isos=(Iso.ERCOT,), nodes=2, markets=("DAM",)
    )
    lmp = pl.from_arrow(collect(config)[Dataset.LMP])
    assert isinstance(lmp, pl.DataFrame)
    hub = lmp.filter(pl.col("location") == "HB_NORTH").sort("interval_start")
    local = [s.astimezone(ZoneInfo("America/Chicago")) for s in hub["interval_start"].to_list()]
    assert [t.hour for t in local] == [1, 1]
    assert local[0].utcoffset() != local[1].utcoffset()
