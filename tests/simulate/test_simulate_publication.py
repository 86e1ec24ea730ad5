"""Day-ahead results come out once a day, at each ISO's publication time, the day before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from simulate_tables import collect, utc

from carbon254.isos import ISOS, Iso
from carbon254.schema import Dataset, LoadKind
from carbon254.simulate import SimulationConfig, count_rows, simulate
from carbon254.simulate.publication import day_ahead_known_until


@pytest.mark.parametrize("iso", list(Iso))
def test_day_ahead_rows_are_published_at_the_isos_publication_time(iso: Iso) -> None:
    """LMPs, ancillary prices and the load forecast of an operating day all appear at one instant."""
    info = ISOS[iso]
    # Two days around the spring-forward change, so one operating day has 23 hours.
    config = SimulationConfig(
        start=utc(2025, 3, 8), end=utc(2025, 3, 11), isos=(iso,), nodes=2, markets=("DAM", "RTH")
    )
    tables = collect(config)
    frames = [
        pl.from_arrow(tables[Dataset.LMP]).filter(pl.col("market") == "DAM"),
        pl.from_arrow(tables[Dataset.AS_PRICE]).filter(pl.col("market") == "DAM"),
        pl.from_arrow(tables[Dataset.LOAD]).filter(pl.col("kind") == "forecast"),
    ]
    for frame in frames:
        assert isinstance(frame, pl.DataFrame) and frame.height > 0
        local = frame.select(
            pl.col("interval_start").dt.convert_time_zone(info.timezone).dt.date().alias("day"),
            pl.col("published_at").dt.convert_time_zone(info.timezone).alias("published"),
        )
        per_day = local.group_by("day").agg(pl.col("published").unique())
        for day, published in per_day.iter_rows():
            assert len(published) == 1, (day, published)  # the whole day at once
            expected = datetime.combine(day - timedelta(days=1), info.da_publication, info.zoneinfo)
            assert published[0] == expected
    issued = frames[2]
    assert (issued["forecast_issued_at"] < issued["published_at"]).all()

    rth = pl.from_arrow(tables[Dataset.LMP]).filter(pl.col("market") == "RTH")
    assert isinstance(rth, pl.DataFrame)
    assert (rth["published_at"] == rth["interval_end"]).all()


@pytest.mark.parametrize(
    ("iso", "moment", "known_until"),
    [
        # PJM posts at 13:30 Eastern: a minute before, tomorrow is not known yet.
        (Iso.PJM, datetime(2025, 7, 1, 17, 29, tzinfo=UTC), datetime(2025, 7, 2, 4, tzinfo=UTC)),
        (Iso.PJM, datetime(2025, 7, 1, 17, 30, tzinfo=UTC), datetime(2025, 7, 3, 4, tzinfo=UTC)),
        # NYISO at 11:00 Eastern (EST in January).
        (Iso.NYISO, datetime(2025, 1, 15, 15, 59, tzinfo=UTC), datetime(2025, 1, 16, 5, tzinfo=UTC)),
        (Iso.NYISO, datetime(2025, 1, 15, 16, 0, tzinfo=UTC), datetime(2025, 1, 17, 5, tzinfo=UTC)),
        # MISO's market day is EST all year: 14:00 EST is 19:00 UTC even in July.
        (Iso.MISO, datetime(2025, 7, 1, 18, 59, tzinfo=UTC), datetime(2025, 7, 2, 5, tzinfo=UTC)),
        (Iso.MISO, datetime(2025, 7, 1, 19, 0, tzinfo=UTC), datetime(2025, 7, 3, 5, tzinfo=UTC)),
        # ERCOT on Saturday 2025-03-08 after 13:30 CST knows Sunday, a 23-hour day ending 05:00 UTC.
        (Iso.ERCOT, datetime(2025, 3, 8, 19, 30, tzinfo=UTC), datetime(2025, 3, 10, 5, tzinfo=UTC)),
        # CAISO at 13:00 Pacific; just after midnight local, today was known since yesterday.
        (Iso.CAISO, datetime(2025, 7, 1, 7, 5, tzinfo=UTC), datetime(2025, 7, 2, 7, tzinfo=UTC)),
    ],
)
def test_day_ahead_known_until(iso: Iso, moment: datetime, known_until: datetime) -> None:
    assert day_ahead_known_until(iso, moment) == known_until


def test_day_ahead_known_until_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        day_ahead_known_until(Iso.PJM, datetime(2025, 7, 1, 12))


@pytest.mark.parametrize("kinds", [(LoadKind.ACTUAL,), (LoadKind.FORECAST,), ()])
def test_load_kinds_select_the_load_rows(kinds: tuple[LoadKind, ...]) -> None:
    config = SimulationConfig(
        start=utc(2025, 6, 1),
        end=utc(2025, 6, 2, 5),
        isos=(Iso.ERCOT, Iso.NYISO),
        nodes=2,
        datasets=(Dataset.LOAD,),
        load_kinds=kinds,
    )
    rows = [t for _, t in simulate(config)]
    assert sum(t.num_rows for t in rows) == count_rows(config)
    seen = {k for t in rows for k in t.column("kind").to_pylist()}
    assert seen == {k.value for k in kinds}


def test_load_kinds_reject_duplicates_and_unknowns() -> None:
    with pytest.raises(ValueError, match="duplicates"):
        SimulationConfig(start=utc(2025, 1, 1), end=utc(2025, 1, 2), load_kinds=(LoadKind.ACTUAL,) * 2)
    with pytest.raises(ValueError):
        SimulationConfig(start=utc(2025, 1, 1), end=utc(2025, 1, 2), load_kinds=("guess",))  # type: ignore[arg-type]
