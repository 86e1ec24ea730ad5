"""Local ISO labels to UTC on both DST days: hour ending, hour index, repeated wall-clock times."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from markets_checks import utc

from carbon254.markets.localtime import hour_ending_to_utc, hour_index_to_utc, local_to_utc, repeat_order
from carbon254.markets.report import ParseError

CHICAGO = "America/Chicago"


def test_hour_ending_fall_back_day_has_25_distinct_hours_with_the_flagged_repeat() -> None:
    labels = [1, 2, 2, *range(3, 25)]
    second = [False, False, True] + [False] * 22
    start, end = hour_ending_to_utc(
        pl.Series([date(2024, 11, 3)] * 25), pl.Series(labels), CHICAGO, second_occurrence=pl.Series(second)
    )
    assert start.n_unique() == 25
    assert start[0] == utc(2024, 11, 3, 5)  # HE 1 = 00:00-01:00 CDT
    assert start[1] == utc(2024, 11, 3, 6)  # HE 2 = 01:00 CDT
    assert start[2] == utc(2024, 11, 3, 7)  # HE 2 repeated = 01:00 CST
    assert start[3] == utc(2024, 11, 3, 8)  # HE 3 = 02:00 CST
    assert end[-1] == utc(2024, 11, 4, 6)
    assert (start.diff().drop_nulls().dt.total_hours() == 1).all()


@pytest.mark.parametrize("skipped", [2, 3])
def test_hour_ending_spring_day_has_23_contiguous_hours_whichever_label_is_skipped(skipped: int) -> None:
    labels = [h for h in range(1, 25) if h != skipped]
    start, end = hour_ending_to_utc(pl.Series([date(2024, 3, 10)] * 23), pl.Series(labels), CHICAGO)
    assert start[0] == utc(2024, 3, 10, 6)
    assert end[-1] == utc(2024, 3, 11, 5)
    assert (start.diff().drop_nulls().dt.total_hours() == 1).all()


def test_hour_ending_out_of_range_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"outside 1\.\.24"):
        hour_ending_to_utc(pl.Series([date(2024, 1, 1)]), pl.Series([25]), CHICAGO)


def test_hour_index_counts_from_local_midnight_through_25_and_23_hour_days() -> None:
    start, end = hour_index_to_utc(
        pl.Series([date(2024, 11, 3)] * 2 + [date(2024, 3, 10)]),
        pl.Series([1, 25, 23]),
        "America/Los_Angeles",
    )
    assert start.to_list() == [utc(2024, 11, 3, 7), utc(2024, 11, 4, 7), utc(2024, 3, 11, 6)]
    assert end[1] == utc(2024, 11, 4, 8)
    with pytest.raises(ParseError, match="hour 24 does not exist"):
        hour_index_to_utc(pl.Series([date(2024, 3, 10)]), pl.Series([24]), "America/Los_Angeles")


def test_repeated_wall_clock_times_resolve_by_file_order_per_location() -> None:
    times = [datetime(2022, 11, 6, 1, 0)] * 4
    frame = pl.DataFrame({"t": times, "name": ["A", "B", "A", "B"]})
    out = local_to_utc(frame["t"], "America/New_York", second_occurrence=repeat_order(frame, "t", ["name"]))
    assert out.to_list() == [utc(2022, 11, 6, 5)] * 2 + [utc(2022, 11, 6, 6)] * 2


def test_a_time_in_the_spring_gap_is_refused() -> None:
    with pytest.raises(ParseError, match="does not exist"):
        local_to_utc(pl.Series([datetime(2022, 3, 13, 2, 30)]), "America/New_York")


def test_fixed_standard_time_zone_has_no_dst() -> None:
    start, _ = hour_ending_to_utc(pl.Series([date(2024, 3, 10)] * 24), pl.Series(range(1, 25)), "Etc/GMT+5")
    assert start[0] == utc(2024, 3, 10, 5) and start[23] == utc(2024, 3, 11, 4)


def test_a_time_seen_once_after_the_clock_went_back_is_standard_time() -> None:
    # As NYISO lists 2021-11-07 per location: 01:55, 01:57:48 (EDT), the clock goes back, 01:00,
    # 01:02:48 (EST). 01:02:48 has no twin, yet it comes after the clock went back.
    walls = [(1, 55, 0), (1, 57, 48), (1, 0, 0), (1, 2, 48), (2, 0, 0)]
    times = [datetime(2021, 11, 7, h, m, s) for h, m, s in walls for _ in "AB"]
    frame = pl.DataFrame({"t": times, "name": ["A", "B"] * len(walls)})
    second = repeat_order(frame, "t", ["name"])
    assert second.to_list() == [False] * 4 + [True] * 6
    out = local_to_utc(frame["t"], "America/New_York", second_occurrence=second)
    assert out.to_list()[::2] == [
        utc(2021, 11, 7, 5, 55),
        datetime(2021, 11, 7, 5, 57, 48, tzinfo=UTC),
        utc(2021, 11, 7, 6),
        datetime(2021, 11, 7, 6, 2, 48, tzinfo=UTC),
        utc(2021, 11, 7, 7),
    ]
    # Each location has its own clock: B going back does not move A's later rows.
    uneven = pl.DataFrame({"t": [times[0], times[4], times[1]], "name": ["B", "B", "A"]})
    assert repeat_order(uneven, "t", ["name"]).to_list() == [False, True, False]
