"""The live feed: each published interval is stored whole, readable at once, and continues the series."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carbon254.demo import (
    FeedRunner,
    LiveFeed,
    MarkerKeeper,
    Published,
    plan_demo,
    read_marker,
    replay_seconds_ahead,
    run_plan,
    window_configs,
    write_simulation,
)
from carbon254.demo.marker import DemoParams
from carbon254.demo.windows import FIVE_MINUTES, HOUR
from carbon254.isos import Iso
from carbon254.simulate import simulated_locations
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

PARAMS = DemoParams(seed=254, nodes=3, isos=(Iso.ERCOT, Iso.NYISO), rt5_days=1)
NOW = datetime(2025, 7, 1, 16, 42, tzinfo=UTC)
LOADED = datetime(2025, 7, 1, 16, 40, tzinfo=UTC)
FAR = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def loaded(tmp_path: Path) -> Iterator[tuple[Path, ParquetStore]]:
    """A data dir with one day of demo data for ERCOT and NYISO, loaded through 16:40 UTC."""
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    run_plan(store, data_dir, plan_demo(data_dir, PARAMS, days=1, now=NOW))
    try:
        yield data_dir, store
    finally:
        store.close()


def _rt5(store: ParquetStore, iso: str, since: datetime) -> list[datetime]:
    table = store.read("lmp", iso, "RT5", None, since, FAR)
    return sorted(set(table.column("interval_start").to_pylist()))


def test_publish_next_writes_one_interval_readable_by_another_reader(
    loaded: tuple[Path, ParquetStore],
) -> None:
    data_dir, store = loaded
    seen: list[Published] = []
    feed = LiveFeed(store, PARAMS, LOADED, on_publish=seen.append)

    published = feed.publish_next()

    assert (published.interval_start, published.interval_end) == (LOADED, LOADED + FIVE_MINUTES)
    assert not published.hour_completed
    assert seen == [published]
    assert feed.next_start == LOADED + FIVE_MINUTES
    nodes = sum(simulated_locations(iso, PARAMS.nodes).num_rows for iso in PARAMS.isos)
    assert published.rows_written == {"lmp": nodes, "ordc_adder": 1}

    reader = open_store(data_dir)  # a separate store object, as the service holds
    try:
        for iso in ("ERCOT", "NYISO"):
            rows = reader.read("lmp", iso, "RT5", None, LOADED, LOADED + FIVE_MINUTES)
            assert rows.num_rows == simulated_locations(Iso(iso), PARAMS.nodes).num_rows
        ordc = reader.read("ordc_adder", "ERCOT", None, None, LOADED, FAR)
        assert ordc.num_rows == 1
    finally:
        reader.close()


def test_the_interval_closing_an_hour_publishes_the_hour(loaded: tuple[Path, ParquetStore]) -> None:
    _, store = loaded
    feed = LiveFeed(store, PARAMS, LOADED)
    first, second = feed.publish_next(), feed.publish_next()  # 16:40-16:45, 16:45-16:50
    third, fourth = feed.publish_next(), feed.publish_next()  # 16:50-16:55, 16:55-17:00
    assert not (first.hour_completed or second.hour_completed or third.hour_completed)
    assert fourth.hour_completed
    assert set(fourth.rows_written) >= {"lmp", "as_price", "load", "ordc_adder"}

    hour = datetime(2025, 7, 1, 16, tzinfo=UTC)
    rth = store.read("lmp", "NYISO", "RTH", ["N.Y.C."], hour - timedelta(hours=2), FAR)
    assert rth.column("interval_start").to_pylist()[-1] == hour
    assert not fourth.day_ahead
    # Day-ahead prices were loaded through today (Central), the feed adds none before 13:30 CDT.
    dam = store.read("lmp", "ERCOT", "DAM", ["HB_NORTH"], hour, FAR)
    assert dam.column("interval_start").to_pylist()[-1] == datetime(2025, 7, 2, 4, tzinfo=UTC)
    assert _rt5(store, "ERCOT", hour)[-1] == hour + timedelta(minutes=55)


def test_feed_publishes_the_next_operating_day_when_the_publication_time_passes(
    loaded: tuple[Path, ParquetStore],
) -> None:
    """ERCOT posts at 13:30 CDT (18:30 UTC), NYISO at 11:00 EDT (15:00 UTC, before the load)."""
    _, store = loaded
    feed = LiveFeed(store, PARAMS, datetime(2025, 7, 1, 18, 20, tzinfo=UTC))
    before = feed.publish_next()  # 18:20-18:25
    assert before.day_ahead == ()
    crossing = feed.publish_next()  # 18:25-18:30: ERCOT's publication time
    assert crossing.day_ahead == (Iso.ERCOT,)
    after = feed.publish_next()
    assert after.day_ahead == ()

    tomorrow = datetime(2025, 7, 2, 5, tzinfo=UTC)  # July 2, Central time
    dam = store.read("lmp", "ERCOT", "DAM", ["HB_NORTH"], tomorrow, FAR)
    assert dam.column("interval_start").to_pylist() == [tomorrow + i * HOUR for i in range(24)]
    assert set(dam.column("published_at").to_pylist()) == {datetime(2025, 7, 1, 18, 30, tzinfo=UTC)}
    for dataset, market in (("as_price", "DAM"), ("load", None)):
        rows = store.read(dataset, "ERCOT", market, None, tomorrow, FAR)
        assert rows.num_rows > 0 and set(rows.column("published_at").to_pylist()) == {
            datetime(2025, 7, 1, 18, 30, tzinfo=UTC)
        }
    known_before = store.read(
        "lmp", "ERCOT", "DAM", ["HB_NORTH"], tomorrow, FAR, as_of=datetime(2025, 7, 1, 18, 29, tzinfo=UTC)
    )
    assert known_before.num_rows == 0
    # NYISO had posted July 2 at 11:00 EDT, before the demo was loaded at 16:42 UTC.
    nyiso = store.read("lmp", "NYISO", "DAM", ["N.Y.C."], datetime(2025, 7, 2, 4, tzinfo=UTC), FAR)
    assert nyiso.num_rows == 24


def test_feed_continues_the_stored_series_exactly(loaded: tuple[Path, ParquetStore], tmp_path: Path) -> None:
    _, store = loaded
    feed = LiveFeed(store, PARAMS, LOADED)
    for _ in range(3):
        feed.publish_next()
    reference = open_store(tmp_path / "reference")
    try:
        write_simulation(
            reference, window_configs(PARAMS, LOADED - timedelta(hours=1), LOADED + 3 * FIVE_MINUTES)
        )
        columns = ["location", "interval_start", "lmp", "energy", "congestion", "loss"]
        for iso in ("ERCOT", "NYISO"):
            fed = store.read("lmp", iso, "RT5", None, LOADED - timedelta(hours=1), FAR).select(columns)
            one_run = reference.read("lmp", iso, "RT5", None, LOADED - timedelta(hours=1), FAR).select(
                columns
            )
            assert fed.equals(one_run), iso
    finally:
        reference.close()


def test_runner_replays_every_n_seconds_and_stops_promptly(loaded: tuple[Path, ParquetStore]) -> None:
    data_dir, store = loaded
    keeper = MarkerKeeper(data_dir, read_marker(data_dir))  # type: ignore[arg-type]
    arrived = threading.Event()
    count = 0

    def on_publish(p: Published) -> None:
        nonlocal count
        keeper.advance(p.interval_end)
        count += 1
        if count == 3:
            arrived.set()

    runner = FeedRunner(LiveFeed(store, PARAMS, LOADED, on_publish=on_publish), every=0.05).start()
    try:
        assert arrived.wait(20), "the runner did not publish three intervals"
    finally:
        started = time.monotonic()
        assert runner.stop(timeout=10)
        assert time.monotonic() - started < 5
    assert not runner.running
    marker = read_marker(data_dir)
    assert marker is not None and marker.loaded_through >= LOADED + 3 * FIVE_MINUTES
    assert _rt5(store, "ERCOT", LOADED)[:3] == [LOADED + i * FIVE_MINUTES for i in range(3)]
    assert replay_seconds_ahead(marker.loaded_through, now=NOW) >= 3 * 300 - 300


def test_runner_follows_the_wall_clock(loaded: tuple[Path, ParquetStore]) -> None:
    """With no replay speed-up an interval is published only once it has ended on the clock."""
    _, store = loaded
    clock = [LOADED + timedelta(minutes=4, seconds=59)]  # 16:44:59: the 16:40 interval is not over
    published = threading.Event()
    feed = LiveFeed(store, PARAMS, LOADED, on_publish=lambda p: published.set())
    runner = FeedRunner(feed, clock=lambda: clock[0])
    assert feed.seconds_until_due(clock[0]) == pytest.approx(1.0)
    runner.start()
    try:
        assert not published.wait(0.5)
        clock[0] = LOADED + timedelta(minutes=11)  # 16:51: two intervals are over
        # The runner sleeps until the interval was due by the old clock (<= 1 s), then catches up.
        deadline = time.monotonic() + 10
        while feed.next_start < LOADED + 2 * FIVE_MINUTES and time.monotonic() < deadline:
            time.sleep(0.05)
        assert feed.next_start == LOADED + 2 * FIVE_MINUTES
    finally:
        assert runner.stop(timeout=10)


def test_runner_survives_a_failed_publish(loaded: tuple[Path, ParquetStore]) -> None:
    _, store = loaded
    errors: list[BaseException] = []

    class Broken(LiveFeed):
        def publish_next(self) -> Published:
            raise OSError("disk full")

    runner = FeedRunner(Broken(store, PARAMS, LOADED), every=0.01, on_error=errors.append).start()
    deadline = time.monotonic() + 5
    while not errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.running
    assert runner.stop(timeout=10)
    assert isinstance(errors[0], OSError)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="5-minute boundary"):
        LiveFeed(None, PARAMS, NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        FeedRunner(LiveFeed(None, PARAMS, LOADED), every=0)  # type: ignore[arg-type]
