"""ISO-local wall-clock times to UTC, the way ISOs actually label them.

ISOs publish prevailing local time without an offset, so the fall-back hour
appears twice and the spring-forward hour not at all. Three labelling styles
cover every report:

- a wall-clock instant (`local_to_utc`), whose repeated fall-back values are
  told apart by a flag the ISO gives (ERCOT `DSTFlag`, ISO-NE `02X`) or by
  file order, the clock going back (`repeat_order`, NYISO and ISO-NE 5-minute);
- an hour-ending label on a market date (`hour_ending_to_utc`, ERCOT, MISO,
  ISO-NE, NYISO DA): the hour that ends at wall-clock HE:00;
- an hour index counted from local midnight (`hour_index_to_utc`, CAISO
  `OPR_HR`, which runs to 25 on the fall-back day and 23 in spring).

All functions are vectorized over Polars series and return
`Datetime("us", "UTC")`.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from carbon254.markets.report import ParseError

UTC_DATETIME = pl.Datetime("us", "UTC")


def repeat_order(frame: pl.DataFrame, time_column: str, by: list[str]) -> pl.Series:
    """True for the rows that come after the wall clock went back, per `by` group in file order.

    ISOs that publish the fall-back hour's wall-clock times without a flag
    list them in the order they happened: the daylight-time pass, then the
    standard-time pass. The clock going back shows as a row whose time is not
    later than an earlier row's of the same group; from that row on, every
    ambiguous time of the group is the standard-time (second) instance, even
    one whose label appears only once (an off-grid 01:02:48 that only the
    second pass has). The flag is meaningful only for ambiguous times:
    `local_to_utc` ignores it elsewhere.
    """
    t = pl.col(time_column)
    if not by:
        back = (t <= t.cum_max().shift(1)).fill_null(False)
        return frame.select(back.cum_max().alias("second"))["second"]
    back = (t <= t.cum_max().shift(1).over(by)).fill_null(False)
    return frame.select(back.cum_max().over(by).alias("second"))["second"]


def local_to_utc(
    naive: pl.Series, tz: str, *, second_occurrence: pl.Series | None = None, what: str = "time"
) -> pl.Series:
    """Wall-clock times in `tz` to UTC instants.

    `second_occurrence` marks the values that mean the second (standard-time)
    instance of an ambiguous fall-back time; where it is null or absent the
    first instance is meant. A wall-clock time that does not exist in `tz`
    (inside the spring-forward gap) raises `ParseError` naming the first.
    """
    ambiguous: pl.Expr
    if second_occurrence is None:
        ambiguous = pl.lit("earliest")
    else:
        ambiguous = (
            pl.when(pl.lit(second_occurrence).fill_null(False))
            .then(pl.lit("latest"))
            .otherwise(pl.lit("earliest"))
        )
    frame = pl.DataFrame({"t": naive.cast(pl.Datetime("us"))})
    localized = frame.select(
        pl.col("t").dt.replace_time_zone(tz, ambiguous=ambiguous, non_existent="null").alias("u")
    )["u"]
    missing = localized.is_null() & frame["t"].is_not_null()
    if missing.any():
        first = frame["t"].filter(missing)[0]
        raise ParseError(f"{what} {first:%Y-%m-%d %H:%M} does not exist in {tz} (it falls in the DST gap)")
    return localized.dt.convert_time_zone("UTC")


def hour_ending_to_utc(
    day: pl.Series, hour_ending: pl.Series, tz: str, *, second_occurrence: pl.Series | None = None
) -> tuple[pl.Series, pl.Series]:
    """(start, end) in UTC of hour-ending labels `1..24` on market dates `day`.

    The hour labelled HE n starts at wall-clock n-1:00. On the fall-back day
    the repeated hour (HE 2 in US zones) carries the ISO's flag in
    `second_occurrence`. On the spring-forward day the ISO skips one label;
    if the label it keeps starts inside the gap (e.g. HE 3 at 02:00), the
    hour is the one that ends at its wall-clock end instead.
    """
    hours = hour_ending.cast(pl.Int64)
    bad = (hours < 1) | (hours > 24)
    if bad.any():
        raise ParseError(f"hour ending {hours.filter(bad)[0]} is outside 1..24")
    frame = pl.DataFrame({"day": day.cast(pl.Date), "he": hours})
    if second_occurrence is not None:
        frame = frame.with_columns(second=second_occurrence.fill_null(False))
    else:
        frame = frame.with_columns(second=pl.lit(False))
    ambiguous = pl.when(pl.col("second")).then(pl.lit("latest")).otherwise(pl.lit("earliest"))
    day_start = pl.col("day").cast(pl.Datetime("us"))
    solved = frame.select(
        (day_start + pl.duration(hours=pl.col("he") - 1))
        .dt.replace_time_zone(tz, ambiguous=ambiguous, non_existent="null")
        .alias("s"),
        (day_start + pl.duration(hours=pl.col("he")))
        .dt.replace_time_zone(tz, ambiguous="latest", non_existent="null")
        .alias("e"),
    )
    start = solved["s"].dt.convert_time_zone("UTC")
    from_end = solved["e"].dt.convert_time_zone("UTC") - timedelta(hours=1)
    start = start.fill_null(from_end)
    if start.is_null().any():
        row = int(start.is_null().arg_max() or 0)
        raise ParseError(f"hour ending {frame['he'][row]} on {frame['day'][row]} does not exist in {tz}")
    return start, start + timedelta(hours=1)


def hour_index_to_utc(day: pl.Series, hour_index: pl.Series, tz: str) -> tuple[pl.Series, pl.Series]:
    """(start, end) in UTC of the n-th hour (1-based) of each local market day.

    Counting from local midnight makes the fall-back day's hours 1..25 and the
    spring-forward day's 1..23 unambiguous; an index beyond the day's length
    raises `ParseError`.
    """
    frame = pl.DataFrame({"day": day.cast(pl.Date), "n": hour_index.cast(pl.Int64)})
    local = frame.select(
        pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone(tz, ambiguous="earliest").alias("m0"),
        (pl.col("day") + timedelta(days=1))
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(tz, ambiguous="earliest")
        .alias("m1"),
        pl.col("n"),
    ).with_columns(pl.col("m0", "m1").dt.convert_time_zone("UTC"))
    start = local.select(pl.col("m0") + pl.duration(hours=pl.col("n") - 1))["m0"]
    next_midnight = local["m1"]
    end = start + timedelta(hours=1)
    bad = (frame["n"] < 1) | (end > next_midnight)
    if bad.any():
        row = int(bad.arg_max() or 0)
        raise ParseError(f"hour {frame['n'][row]} does not exist on {frame['day'][row]} in {tz}")
    return start, end
