"""Demo loading: the first load, the marker, and catching up without gaps or half hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pytest

from carbon254.demo import (
    DemoMarkerError,
    DemoParams,
    floor_to,
    plan_demo,
    read_marker,
    run_plan,
    window_configs,
    write_simulation,
)
from carbon254.demo.windows import FIVE_MINUTES, HOUR
from carbon254.isos import Iso
from carbon254.schema import Dataset, LoadKind
from carbon254.simulate import SimulationConfig, count_rows
from carbon254.store import open_store

PARAMS = DemoParams(seed=254, nodes=3, isos=(Iso.ERCOT, Iso.PJM), rt5_days=1)
NOW = datetime(2025, 3, 10, 14, 37, 21, tzinfo=UTC)
END = datetime(2025, 3, 10, 14, 35, tzinfo=UTC)  # NOW floored to 5 minutes
FAR = datetime(2030, 1, 1, tzinfo=UTC)


def test_floor_to() -> None:
    assert floor_to(NOW, FIVE_MINUTES) == END
    assert floor_to(NOW, HOUR) == datetime(2025, 3, 10, 14, tzinfo=UTC)
    with pytest.raises(ValueError, match="no time zone"):
        floor_to(datetime(2025, 1, 1), HOUR)


def test_window_configs_publish_only_finished_hours() -> None:
    configs = window_configs(PARAMS, END - timedelta(days=2), END)
    hourly, *day_ahead, rt5, ordc = configs
    assert (hourly.start, hourly.end) == (
        datetime(2025, 3, 8, 14, tzinfo=UTC),
        datetime(2025, 3, 10, 14, tzinfo=UTC),
    )
    assert hourly.markets == ("RTH",)
    assert set(hourly.datasets) == {Dataset.LMP, Dataset.AS_PRICE, Dataset.LOAD, Dataset.CAPACITY_PRICE}
    assert hourly.load_kinds == (LoadKind.ACTUAL,)
    # Day-ahead results published in the two days: ERCOT's and PJM's Mar 9 to Mar 10 (13:30 local
    # has not come yet on Mar 10 at 14:35 UTC), ERCOT's day ending an hour after PJM's.
    assert {(c.isos, c.start, c.end) for c in day_ahead} == {
        ((Iso.ERCOT,), datetime(2025, 3, 9, 6, tzinfo=UTC), datetime(2025, 3, 11, 5, tzinfo=UTC)),
        ((Iso.PJM,), datetime(2025, 3, 9, 5, tzinfo=UTC), datetime(2025, 3, 11, 4, tzinfo=UTC)),
    }
    for config in day_ahead:
        assert (config.markets, config.load_kinds) == (("DAM",), (LoadKind.FORECAST,))
        assert set(config.datasets) == {Dataset.LMP, Dataset.AS_PRICE, Dataset.LOAD}
    assert (rt5.start, rt5.end, rt5.markets) == (END - timedelta(days=1), END, ("RT5",))
    assert (ordc.isos, ordc.datasets, ordc.start) == (
        (Iso.ERCOT,),
        (Dataset.ORDC_ADDER,),
        END - timedelta(days=2),
    )
    # One interval that closes no hour and crosses no publication time: RT5 and ORDC only.
    step = window_configs(PARAMS, END, END + FIVE_MINUTES)
    assert [c.markets for c in step] == [("RT5",), ()]
    # The interval that closes the 14:00 hour publishes that hour too.
    closing = window_configs(
        PARAMS, datetime(2025, 3, 10, 14, 55, tzinfo=UTC), datetime(2025, 3, 10, 15, tzinfo=UTC)
    )
    assert (closing[0].start, closing[0].end) == (
        datetime(2025, 3, 10, 14, tzinfo=UTC),
        datetime(2025, 3, 10, 15, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="5-minute boundary"):
        window_configs(PARAMS, NOW, NOW + HOUR)
    assert window_configs(PARAMS, END, END) == []


def test_the_interval_ending_at_publication_time_publishes_the_whole_next_day() -> None:
    """PJM posts at 13:30 EDT (17:30 UTC): the interval ending then carries PJM's next operating day."""
    before = window_configs(
        PARAMS, datetime(2025, 7, 1, 17, 20, tzinfo=UTC), datetime(2025, 7, 1, 17, 25, tzinfo=UTC)
    )
    assert all(c.markets != ("DAM",) for c in before)
    crossing = window_configs(
        PARAMS, datetime(2025, 7, 1, 17, 25, tzinfo=UTC), datetime(2025, 7, 1, 17, 30, tzinfo=UTC)
    )
    (day_ahead,) = [c for c in crossing if c.markets == ("DAM",)]
    assert day_ahead.isos == (Iso.PJM,)
    # July 2 in Eastern time: 04:00 UTC to 04:00 UTC.
    assert (day_ahead.start, day_ahead.end) == (
        datetime(2025, 7, 2, 4, tzinfo=UTC),
        datetime(2025, 7, 3, 4, tzinfo=UTC),
    )
    assert count_rows(day_ahead) > 0


@pytest.mark.parametrize(
    ("now", "pjm_through"),
    [
        (datetime(2025, 7, 1, 17, 29, tzinfo=UTC), datetime(2025, 7, 2, 4, tzinfo=UTC)),
        (datetime(2025, 7, 1, 17, 31, tzinfo=UTC), datetime(2025, 7, 3, 4, tzinfo=UTC)),
    ],
)
def test_first_load_holds_tomorrows_day_ahead_only_after_publication(
    tmp_path: Path, now: datetime, pjm_through: datetime
) -> None:
    data_dir = tmp_path / "data"
    params = DemoParams(seed=254, nodes=2, isos=(Iso.PJM,), rt5_days=1)
    store = open_store(data_dir)
    try:
        run_plan(store, data_dir, plan_demo(data_dir, params, days=2, now=now))
        dam = store.read("lmp", "PJM", "DAM", ["WESTERN HUB"], datetime(2025, 6, 1, tzinfo=UTC), FAR)
        starts = dam.column("interval_start").to_pylist()
        # Every hour of the history, then the operating days already published, without a gap.
        assert starts[0] == floor_to(now, HOUR) - timedelta(days=2)
        assert starts[-1] == pjm_through - HOUR
        assert len(starts) == len(set(starts)) == (pjm_through - starts[0]) // HOUR
        forecast = store.read("load", "PJM", None, None, datetime(2025, 6, 1, tzinfo=UTC), FAR)
        forecast = forecast.filter(pc.equal(forecast.column("kind"), "forecast"))
        assert pc.max(forecast.column("interval_start")).as_py() == pjm_through - HOUR
        actual_as = store.read("as_price", "PJM", "RTH", None, datetime(2025, 6, 1, tzinfo=UTC), FAR)
        assert pc.max(actual_as.column("interval_start")).as_py() == floor_to(now, HOUR) - HOUR
        # What was known just before the publication time does not include July 2.
        early = store.read(
            "lmp",
            "PJM",
            "DAM",
            ["WESTERN HUB"],
            datetime(2025, 7, 2, 4, tzinfo=UTC),
            FAR,
            as_of=datetime(2025, 7, 1, 17, 29, tzinfo=UTC),
        )
        assert early.num_rows == 0
    finally:
        store.close()


def test_first_load_then_catch_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    plan = plan_demo(data_dir, PARAMS, days=2, now=NOW)
    assert plan.first_load
    assert plan.marker.loaded_through == END
    assert plan.marker.history_start == datetime(2025, 3, 8, 14, tzinfo=UTC)
    assert read_marker(data_dir) is None

    store = open_store(data_dir)
    try:
        summary = run_plan(store, data_dir, plan)
        assert summary.total_received == plan.total_rows == sum(count_rows(c) for c in plan.configs)
        assert read_marker(data_dir) == plan.marker

        rth = store.read("lmp", "ERCOT", "RTH", ["HB_NORTH"], datetime(2025, 3, 1, tzinfo=UTC), FAR)
        # The 14:00 hour is not over at 14:35: no hourly real-time price for it yet.
        assert rth.column("interval_start")[-1].as_py() == datetime(2025, 3, 10, 13, tzinfo=UTC)
        rt5 = store.read("lmp", "ERCOT", "RT5", ["HB_NORTH"], datetime(2025, 3, 1, tzinfo=UTC), FAR)
        assert rt5.num_rows == 288  # rt5_days=1
        assert rt5.column("interval_start")[-1].as_py() == END - FIVE_MINUTES

        # Seventy minutes later: catch up from 14:35 to 15:45 with the stored params.
        later = plan_demo(data_dir, DemoParams(nodes=99), days=2, now=NOW + timedelta(minutes=70))
        assert not later.first_load
        assert later.marker.params == PARAMS
        assert later.marker.loaded_through == datetime(2025, 3, 10, 15, 45, tzinfo=UTC)
        caught = run_plan(store, data_dir, later)
        # Nothing overlapped what was stored, except capacity prices (a delivery year), republished
        # unchanged, which the store skips.
        for dataset in (Dataset.LMP, Dataset.AS_PRICE, Dataset.LOAD, Dataset.ORDC_ADDER):
            assert caught.rows_written[dataset] == caught.rows_received[dataset] > 0, dataset
        assert caught.rows_written[Dataset.CAPACITY_PRICE] == 0

        rth = store.read("lmp", "ERCOT", "RTH", ["HB_NORTH"], datetime(2025, 3, 1, tzinfo=UTC), FAR)
        assert rth.column("interval_start")[-1].as_py() == datetime(2025, 3, 10, 14, tzinfo=UTC)
        rt5 = store.read("lmp", "ERCOT", "RT5", ["HB_NORTH"], END - FIVE_MINUTES, FAR)
        starts = rt5.column("interval_start").to_pylist()
        assert starts == [END - FIVE_MINUTES + i * FIVE_MINUTES for i in range(15)]  # no gap, no repeat
        dam = store.read("lmp", "PJM", "DAM", None, datetime(2025, 3, 8, tzinfo=UTC), FAR)
        per_location = pc.value_counts(dam.column("location")).field("counts").to_pylist()
        # From 14:00 UTC two days back to the end of Mar 10 Eastern (04:00 UTC on Mar 11): by 15:45
        # UTC PJM has not yet posted Mar 11 (13:30 EDT is 17:30 UTC), so the catch-up added nothing.
        assert set(per_location) == {24 * 2 + 14}

        # Nothing to do when the marker is level with (or ahead of) the clock.
        assert plan_demo(data_dir, PARAMS, days=2, now=NOW + timedelta(minutes=72)).configs == ()
    finally:
        store.close()


def test_catch_up_equals_one_long_simulation(tmp_path: Path) -> None:
    """Loading in two steps stores exactly the rows one simulation of the whole window gives."""
    stepwise, whole = open_store(tmp_path / "a"), open_store(tmp_path / "b")
    try:
        run_plan(stepwise, tmp_path / "a", plan_demo(tmp_path / "a", PARAMS, days=1, now=NOW))
        run_plan(stepwise, tmp_path / "a", plan_demo(tmp_path / "a", PARAMS, days=1, now=NOW + HOUR))
        start = floor_to(END, HOUR) - timedelta(days=1)
        write_simulation(whole, window_configs(PARAMS, start, END + HOUR, first_load=True))
        for market in ("DAM", "RTH", "RT5"):
            # RT5 keeps only the last day of each load, so compare the day both hold.
            since = END + HOUR - timedelta(days=1) if market == "RT5" else start
            a = stepwise.read("lmp", "PJM", market, None, since, FAR)
            b = whole.read("lmp", "PJM", market, None, since, FAR)
            columns = ["location", "interval_start", "lmp", "energy", "congestion", "loss"]
            assert a.select(columns).equals(b.select(columns)), market
    finally:
        stepwise.close()
        whole.close()


def test_bad_marker_and_bad_days(tmp_path: Path) -> None:
    (tmp_path / "demo.json").write_text("{not json")
    with pytest.raises(DemoMarkerError, match="delete it to reload"):
        plan_demo(tmp_path, PARAMS, days=1, now=NOW)
    # A demo loaded before day-ahead data was published a day ahead cannot be caught up.
    (tmp_path / "demo.json").write_text('{"format": 1}')
    with pytest.raises(DemoMarkerError, match="format 1, expected 2"):
        plan_demo(tmp_path, PARAMS, days=1, now=NOW)
    with pytest.raises(ValueError, match="days must be at least 1"):
        plan_demo(tmp_path / "other", PARAMS, days=0, now=NOW)


def test_write_simulation_reports_progress(tmp_path: Path) -> None:
    calls: list[tuple[str, int]] = []

    class Recorder:
        def begin(self, description: str, total_rows: int) -> None:
            calls.append((description, total_rows))

        def advance(self, rows: int) -> None:
            calls.append(("advance", rows))

    config = SimulationConfig(start=END - HOUR, end=END, isos=(Iso.SPP,), nodes=2)
    store = open_store(tmp_path)
    try:
        summary = write_simulation(store, [config], Recorder(), description="Testing")
    finally:
        store.close()
    assert calls[0] == ("Testing", count_rows(config))
    assert sum(n for what, n in calls[1:]) == count_rows(config) == summary.total_received
