"""Spreads interval by interval: same grids, mixed granularities, irregular intervals, nulls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbon254.schema import TIMESTAMP
from carbon254.spreads import SPREAD_SCHEMA, spread_intervals

T0 = datetime(2024, 7, 1, 5, tzinfo=UTC)


def prices(
    starts: list[datetime],
    ends: list[datetime],
    lmp: list[float | None],
    energy: list[float | None] | None = None,
    congestion: list[float | None] | None = None,
    loss: list[float | None] | None = None,
) -> pa.Table:
    n = len(starts)
    return pa.table(
        {
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array(ends, TIMESTAMP),
            "lmp": pa.array(lmp, pa.float64()),
            "energy": pa.array(energy if energy is not None else [None] * n, pa.float64()),
            "congestion": pa.array(congestion if congestion is not None else [None] * n, pa.float64()),
            "loss": pa.array(loss if loss is not None else [None] * n, pa.float64()),
        }
    )


def regular(first: datetime, step: timedelta, values: list[float | None], **components: list) -> pa.Table:
    starts = [first + step * i for i in range(len(values))]
    return prices(starts, [s + step for s in starts], values, **components)


HOUR, FIVE = timedelta(hours=1), timedelta(minutes=5)


def test_same_intervals_subtract_one_to_one_with_components() -> None:
    node = regular(
        T0, HOUR, [30.0, 41.5, 25.0], energy=[28, 28, 24], congestion=[1.5, 13, 0.5], loss=[0.5, 0.5, 0.5]
    )
    hub = regular(
        T0, HOUR, [28.0, 30.0, 25.0], energy=[28, 28, 24], congestion=[-0.2, 1.6, 0.8], loss=[0.2, 0.4, 0.2]
    )
    out = spread_intervals(node, hub)
    assert out.schema == SPREAD_SCHEMA
    assert out.column("spread").to_pylist() == [2.0, 11.5, 0.0]
    assert out.column("congestion_spread").to_pylist() == [1.7, 11.4, -0.3]
    assert out.column("loss_spread").to_pylist() == [0.3, 0.1, 0.3]
    assert out.column("energy_spread").to_pylist() == [0.0, 0.0, 0.0]
    assert out.column("location_lmp").to_pylist() == [30.0, 41.5, 25.0]
    assert out.column("minus_lmp").to_pylist() == [28.0, 30.0, 25.0]
    # Subtracting equal prices gives +0.0, never -0.0.
    assert str(out.column("spread")[2].as_py()) == "0.0"


def test_only_intervals_priced_on_both_sides_are_kept() -> None:
    node = regular(T0, HOUR, [30.0, None, 25.0, 20.0])
    hub = regular(T0 + HOUR, HOUR, [28.0, 30.0, 25.0, 1.0])
    out = spread_intervals(node, hub)
    assert out.column("interval_start").to_pylist() == [T0 + 2 * HOUR, T0 + 3 * HOUR]
    assert out.column("spread").to_pylist() == [-5.0, -5.0]
    assert out.column("energy_spread").null_count == 2


def test_day_ahead_minus_real_time_averages_real_time_onto_the_hour() -> None:
    day_ahead = regular(T0, HOUR, [40.0, 50.0])
    real_time = regular(T0, FIVE, [float(v) for v in range(24)])
    out = spread_intervals(day_ahead, real_time)
    assert out.column("interval_start").to_pylist() == [T0, T0 + HOUR]
    assert out.column("interval_end").to_pylist() == [T0 + HOUR, T0 + 2 * HOUR]
    assert out.column("minus_lmp").to_pylist() == [np.mean(range(12)), np.mean(range(12, 24))]
    assert out.column("spread").to_pylist() == [40.0 - 5.5, 50.0 - 17.5]
    # The other way round, the answer is on the coarser (day-ahead) intervals too.
    reverse = spread_intervals(real_time, day_ahead)
    assert reverse.column("spread").to_pylist() == [5.5 - 40.0, 17.5 - 50.0]
    assert reverse.column("location_lmp").to_pylist() == [5.5, 17.5]


def test_missing_real_time_intervals_average_what_is_there() -> None:
    day_ahead = regular(T0, HOUR, [40.0])
    real_time = regular(T0, FIVE, [10.0] * 6 + [None] * 3 + [22.0] * 3)
    out = spread_intervals(day_ahead, real_time)
    assert out.column("minus_lmp").to_pylist() == [(6 * 10 + 3 * 22) / 9]


def test_irregular_intervals_weigh_by_overlap_and_split_at_the_boundary() -> None:
    # NYISO-style: a re-run interval [00:55, 00:57:48), then [00:57:48, 01:02:00) straddling the hour.
    day_ahead = regular(T0, HOUR, [40.0, 60.0])
    stamps = [
        T0 + timedelta(minutes=55),
        T0 + timedelta(minutes=57, seconds=48),
        T0 + timedelta(hours=1, minutes=2),
    ]
    real_time = prices(
        [T0, *stamps[:2]],
        [stamps[0], stamps[1], stamps[2]],
        [30.0, 90.0, 120.0],
    )
    out = spread_intervals(day_ahead, real_time)
    first_hour = (55 * 60 * 30.0 + 168 * 90.0 + 132 * 120.0) / 3600
    assert out.column("minus_lmp").to_pylist() == [round(first_hour, 6), 120.0]
    assert out.column("spread").to_pylist() == [round(40.0 - first_hour, 6), -60.0]


def test_no_common_time_gives_an_empty_table_of_the_schema() -> None:
    node = regular(T0, HOUR, [30.0])
    hub = regular(T0 + 5 * HOUR, HOUR, [28.0])
    assert spread_intervals(node, hub).num_rows == 0
    assert spread_intervals(node, hub.slice(0, 0)).schema == SPREAD_SCHEMA


def test_unsorted_input_is_sorted_by_time() -> None:
    node = regular(T0, HOUR, [1.0, 2.0, 3.0]).take([2, 0, 1])
    hub = regular(T0, HOUR, [0.0, 0.0, 0.0])
    assert spread_intervals(node, hub).column("spread").to_pylist() == [1.0, 2.0, 3.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-500, 5000, allow_nan=False).map(lambda x: round(x, 2)),
            st.floats(-500, 5000, allow_nan=False).map(lambda x: round(x, 2)),
        ),
        min_size=1,
        max_size=48,
    )
)
def test_same_grid_spread_is_the_difference(pairs: list[tuple[float, float]]) -> None:
    node = regular(T0, FIVE, [a for a, _ in pairs])
    hub = regular(T0, FIVE, [b for _, b in pairs])
    out = spread_intervals(node, hub)
    assert out.num_rows == len(pairs)
    assert out.column("spread").to_pylist() == pytest.approx([a - b for a, b in pairs], abs=1e-6)
