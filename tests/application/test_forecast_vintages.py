"""Store-backed backtests cannot look ahead: a value published after a forecast was made never changes it.

The store keeps every version of a price with the instant it was
published. A day-ahead forecast of day D is made at 09:00 market time on
D-1; a revision of D-1's prices published after that must leave the
forecast of D exactly as it was, and the same revision published before it
must change it (so the test can fail).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from carbon254.application.forecast import issued_at
from carbon254.application.forecast_vintages import StoreVintages, read_dayahead
from carbon254.forecast import BacktestSpec, Lear, SeasonalNaive, backtest
from carbon254.schema import TIMESTAMP
from carbon254.store import Store, open_store
from forecast_store_data import HUB, ISO, ZONE, dayahead_table

FIRST = date(2025, 6, 1)
DAYS = 150
TEST_START = date(2025, 10, 1)
TEST_END = date(2025, 10, 14)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path)
    s.write("lmp", dayahead_table(FIRST, DAYS))
    yield s
    s.close()


def _vintages(store: Store) -> StoreVintages:
    final = read_dayahead(store, ISO, HUB, FIRST, FIRST + timedelta(days=DAYS), None)
    return StoreVintages(store, ISO, HUB, final, 120)


def _revise(store: Store, day: date, published: datetime, add: float) -> None:
    """Store a revision of every hour of `day`: its prices + `add`, published at `published`."""
    start = datetime.combine(day, time(0), ZONE).astimezone(UTC)
    rows = store.read("lmp", ISO, "DAM", [HUB], start, start + timedelta(days=1))
    revised = rows
    for column in ("lmp", "energy"):
        revised = revised.set_column(
            revised.schema.get_field_index(column), column, pc.add(rows.column(column), add)
        )
    at = pa.array([published] * revised.num_rows, TIMESTAMP)
    store.write("lmp", revised.set_column(revised.schema.get_field_index("published_at"), "published_at", at))


def _forecast_of(store: Store, day: date) -> np.ndarray:
    result = backtest(Lear(), _vintages(store), BacktestSpec(day, day))
    return result.forecast[0]


def test_a_revision_published_after_the_forecast_was_made_never_changes_it(store: Store) -> None:
    target = TEST_START
    before = _forecast_of(store, target)
    made = issued_at(ISO, target)
    _revise(store, target - timedelta(days=1), made + timedelta(hours=2), 40.0)
    assert np.array_equal(_forecast_of(store, target), before)
    # The day after the target does see it: it was forecast after the revision came out.
    assert _vintages(store).known_at(_index(target) + 1).prices[-2].mean() > 60


def test_the_same_revision_published_before_the_forecast_changes_it(store: Store) -> None:
    target = TEST_START
    before = _forecast_of(store, target)
    _revise(store, target - timedelta(days=1), issued_at(ISO, target) - timedelta(hours=1), 40.0)
    assert not np.allclose(_forecast_of(store, target), before)


def _index(day: date) -> int:
    return (day - FIRST).days


def test_a_store_backtest_scores_against_the_final_prices_and_beats_the_seasonal_naive(store: Store) -> None:
    vintages = _vintages(store)
    spec = BacktestSpec(TEST_START, TEST_END, recalibrate_every=7)
    lear = backtest(Lear(), vintages, spec)
    naive = backtest(SeasonalNaive(), vintages, spec)
    final = vintages.final
    rows = slice(_index(TEST_START), _index(TEST_END) + 1)
    assert np.array_equal(lear.actual, final.prices[rows])
    assert lear.metrics.n == naive.metrics.n == 14 * 24 - 0  # no DST change in the window
    assert lear.metrics.mae < naive.metrics.mae
    # Each day's history ends the day before it, read as known the morning before.
    history = vintages.known_at(_index(TEST_END))
    assert history.target_day == np.datetime64(TEST_END)
    assert np.array_equal(history.prices[-1], final.prices[_index(TEST_END) - 1])


def test_a_day_whose_eve_was_published_late_is_refused_by_name(tmp_path: Path) -> None:
    table = dayahead_table(FIRST, 60)
    late_day = FIRST + timedelta(days=50)
    late = datetime.combine(late_day + timedelta(days=1), time(12), ZONE).astimezone(UTC)
    starts = table.column("interval_start").cast(pa.int64()).to_numpy()
    on_late_day = (starts >= _micros(late_day)) & (starts < _micros(late_day + timedelta(days=1)))
    published = np.where(
        on_late_day,
        int(late.timestamp() * 1_000_000),
        table.column("published_at").cast(pa.int64()).to_numpy(),
    )
    table = table.set_column(
        table.schema.get_field_index("published_at"),
        "published_at",
        pa.array(published, pa.int64()).cast(TIMESTAMP),
    )
    s = open_store(tmp_path)
    try:
        s.write("lmp", table)
        vintages = StoreVintages(
            s, ISO, HUB, read_dayahead(s, ISO, HUB, FIRST, FIRST + timedelta(days=60), None), 30
        )
        with pytest.raises(ValueError, match=f"the prices of {late_day} were not known"):
            vintages.known_at(51)
        # The next morning the late day is still missing from the middle of the history.
        with pytest.raises(ValueError, match=f"no rows on {late_day}"):
            vintages.known_at(52)
        assert vintages.known_at(53).target_day == np.datetime64(late_day + timedelta(days=3))
    finally:
        s.close()


def _micros(day: date) -> int:
    return int(datetime.combine(day, time(0), ZONE).timestamp() * 1_000_000)
