"""Spread statistics: duration-weighted, and equal to the plain ones for regular intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon254.schema import TIMESTAMP
from carbon254.spreads import spread_stats

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def series(lengths_min: list[float], values: list[float | None]) -> pa.Table:
    starts, ends, t = [], [], T0
    for minutes in lengths_min:
        starts.append(t)
        t = t + timedelta(minutes=minutes)
        ends.append(t)
    return pa.table(
        {
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array(ends, TIMESTAMP),
            "spread": pa.array(values, pa.float64()),
        }
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1000, 1000, allow_nan=False).map(lambda x: round(x, 2)), min_size=1, max_size=200))
def test_regular_intervals_give_the_plain_statistics(values: list[float]) -> None:
    stats = spread_stats(series([60] * len(values), values))
    array = np.asarray(values)
    assert stats.intervals == len(values)
    assert stats.hours == len(values)
    assert stats.mean == pytest.approx(array.mean(), abs=1e-5)
    assert stats.std == pytest.approx(array.std(), abs=1e-5)
    assert (stats.min, stats.max) == (pytest.approx(array.min()), pytest.approx(array.max()))
    for name, q in (("p05", 5), ("p25", 25), ("p50", 50), ("p75", 75), ("p95", 95)):
        assert getattr(stats, name) == pytest.approx(np.percentile(array, q, method="inverted_cdf"), abs=1e-6)
    assert stats.share_above == pytest.approx((array > 0).mean(), abs=1e-6)


def test_irregular_intervals_weigh_by_duration() -> None:
    # 50 minutes at 10, 10 minutes at 70: the hour's mean is 20, not 40.
    stats = spread_stats(series([50, 10], [10.0, 70.0]), threshold=15.0)
    assert stats.intervals == 2
    assert stats.hours == 1.0
    assert stats.mean == 20.0
    assert stats.std == pytest.approx(np.sqrt((50 * 100 + 10 * 2500) / 60), abs=1e-6)
    assert stats.p50 == 10.0  # half the time lies at 10
    assert stats.p95 == 70.0
    assert stats.share_above == pytest.approx(1 / 6, abs=1e-6)
    assert stats.hours_above == pytest.approx(1 / 6, abs=1e-6)


def test_nulls_are_left_out_and_an_empty_series_has_no_figures() -> None:
    stats = spread_stats(series([60, 60, 60], [5.0, None, 7.0]))
    assert (stats.intervals, stats.hours, stats.mean) == (2, 2.0, 6.0)
    empty = spread_stats(series([60], [None]))
    assert empty.intervals == 0
    assert empty.mean is None and empty.p50 is None and empty.share_above is None
    assert empty.hours_above == 0.0
