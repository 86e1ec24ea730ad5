from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from carbon254.curves import (
    CurveShapeError,
    MonthlyCurve,
    ShapeFactors,
    build_hpfc,
    flat_shape,
    hpfc_table,
)
from carbon254.timeseries import block_mask
from carbon254.timeseries.periods import Block

ZONE = "America/Chicago"


def month_hours(iso: str, zone: str, start: date, end: date, blocks: tuple[Block, ...]) -> np.ndarray:
    """Block hours of each month from local day `start` to `end` (exclusive), by the block classifier."""
    lo = pd.Timestamp(start, tz=zone).tz_convert("UTC")
    hi = pd.Timestamp(end, tz=zone).tz_convert("UTC")
    utc = pd.date_range(lo, hi, freq="h", inclusive="left")
    starts = pa.array(utc.as_unit("us"), type=pa.timestamp("us", "UTC"))
    month = utc.tz_convert(zone).tz_localize(None).to_period("M")
    rows = []
    for period in month.unique():
        at = np.asarray(month == period)
        rows.append([int(np.asarray(block_mask(starts, iso, b))[at].sum()) for b in blocks])
    return np.array(rows, dtype=np.int64)


def curve(
    prices: np.ndarray,
    blocks: tuple[Block, ...],
    first: date = date(2024, 1, 1),
    months: int = 12,
    covered_from: date | None = None,
    iso: str = "ERCOT",
) -> MonthlyCurve:
    numbers = [first.year * 12 + first.month - 1 + i for i in range(months)]
    firsts = tuple(date(n // 12, n % 12 + 1, 1) for n in numbers)
    last = firsts[-1]
    end = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    hours = month_hours(iso, ZONE, covered_from or first, end, blocks)
    return MonthlyCurve(
        iso=iso,
        hub="HB_NORTH",
        as_of=covered_from or first,
        months=firsts,
        blocks=blocks,
        prices=prices,
        hours=hours,
        quoted_through=end,
    )


def random_shape(seed: int = 7, iso: str = "ERCOT") -> ShapeFactors:
    rng = np.random.default_rng(seed)
    flat = flat_shape(iso)
    factors = rng.uniform(0.4, 2.0, size=flat.factors.shape)
    return ShapeFactors(
        iso=iso,
        factors=factors,
        offsets=(factors - 1.0) * 40.0,
        multiplicative=np.ones(12, dtype=np.bool_),
        counts=flat.counts,
        fallback_months=(),
        first_hour=None,
        last_hour=None,
        hours=0,
    )


def onpeak_hours_of(table: pd.DataFrame, day: date) -> pd.DataFrame:
    return table[(table["interval_start"].dt.date == day) & (table["block"].astype(str) == "onpeak")]


def block_means(c: MonthlyCurve, table: pa.Table) -> dict[tuple[int, Block], tuple[float, int]]:
    """(month index, block) -> (mean price, hours) of an HPFC table, grouped in market time."""
    frame = table.to_pandas()
    local = frame["interval_start"].dt.tz_convert(ZONE)
    month = local.dt.year * 12 + local.dt.month - (c.months[0].year * 12 + c.months[0].month)
    labels = frame["block"].astype(str)
    members = {
        Block.ONPEAK: labels == "onpeak",
        Block.TWO_BY_16: labels == "2x16",
        Block.SEVEN_BY_8: labels == "7x8",
        Block.OFFPEAK: labels != "onpeak",
        Block.ATC: labels == labels,
    }
    out = {}
    for i in range(len(c.months)):
        for b in c.blocks:
            chosen = frame["price"][(month == i) & members[b]]
            out[(i, b)] = (float(chosen.mean()), len(chosen))
    return out


def prices_for(months: int, blocks: tuple[Block, ...], seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(20.0, 120.0, size=(months, len(blocks)))


def test_block_averages_equal_the_monthly_prices_with_dst_and_holidays() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    c = curve(prices_for(12, blocks), blocks)
    h = build_hpfc(c, random_shape())
    means = block_means(c, hpfc_table(h))
    for (i, b), (mean, hours) in means.items():
        j = c.blocks.index(b)
        assert hours == c.hours[i, j]
        assert mean == pytest.approx(c.prices[i, j], rel=1e-9)
    # The shape really moved prices: hours are not all at their block price.
    assert np.ptp(h.prices[:300]) > 10.0


def test_hour_counts_follow_the_market_clock() -> None:
    blocks = (Block.ATC,)
    c = curve(np.full((12, 1), 40.0), blocks)
    h = build_hpfc(c)
    assert len(h.starts) == 8784  # 2024 is a leap year
    assert np.all(np.diff(h.starts) == 3_600_000_000)
    local = pd.to_datetime(h.starts, unit="us", utc=True).tz_convert(ZONE)
    per_month = pd.Series(1, index=local).groupby(local.month).sum()
    assert per_month[3] == 743
    assert per_month[11] == 721
    assert per_month[1] == 744
    assert local[0] == pd.Timestamp("2024-01-01 00:00", tz=ZONE)
    assert local[-1] == pd.Timestamp("2024-12-31 23:00", tz=ZONE)
    np.testing.assert_allclose(h.prices, 40.0)


def test_finest_blocks_are_used_when_the_curve_has_them() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)
    raw = prices_for(3, (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8))
    c0 = curve(np.zeros((3, 4)), blocks, first=date(2024, 10, 1), months=3)
    offpeak = (raw[:, 1] * c0.hours[:, 2] + raw[:, 2] * c0.hours[:, 3]) / c0.hours[:, 1]
    prices = np.column_stack([raw[:, 0], offpeak, raw[:, 1], raw[:, 2]])
    c = curve(prices, blocks, first=date(2024, 10, 1), months=3)
    h = build_hpfc(c, random_shape())
    for (i, b), (mean, hours) in block_means(c, hpfc_table(h)).items():
        j = c.blocks.index(b)
        assert hours == c.hours[i, j]
        assert mean == pytest.approx(c.prices[i, j], rel=1e-9), (i, b)


def test_a_balance_of_month_first_month_starts_at_its_first_covered_day() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    c = curve(prices_for(3, blocks), blocks, first=date(2024, 3, 1), months=3, covered_from=date(2024, 3, 15))
    h = build_hpfc(c, random_shape())
    local = pd.to_datetime(h.starts, unit="us", utc=True).tz_convert(ZONE)
    assert local[0] == pd.Timestamp("2024-03-15 00:00", tz=ZONE)
    assert (local.month == 3).sum() == 17 * 24  # Mar 15-31, after the clock change
    for (i, b), (mean, hours) in block_means(c, hpfc_table(h)).items():
        j = c.blocks.index(b)
        assert hours == c.hours[i, j]
        assert mean == pytest.approx(c.prices[i, j], rel=1e-9)


def test_holidays_are_offpeak_hours() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    c = curve(np.tile([80.0, 30.0], (12, 1)), blocks)
    table = hpfc_table(build_hpfc(c), ZONE).to_pandas()
    july4 = table[table["interval_start"].dt.date == date(2024, 7, 4)]
    assert len(july4) == 24
    assert set(july4["block"].astype(str)) == {"2x16", "7x8"}
    np.testing.assert_allclose(july4["price"], 30.0)
    july5 = table[(table["interval_start"].dt.date == date(2024, 7, 5)) & (table["hour_ending"] == 7)]
    assert july5["block"].astype(str).tolist() == ["onpeak"]
    assert july5["price"].tolist() == [80.0]


def test_shape_ratios_survive_inside_a_block() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    c = curve(prices_for(12, blocks), blocks)
    shape = random_shape()
    h = build_hpfc(c, shape)
    table = hpfc_table(h, ZONE).to_pandas()
    # Two onpeak hours of the same month: their prices relate as their factors.
    day = onpeak_hours_of(table, date(2024, 6, 12))
    he = day["hour_ending"].to_numpy()
    expected = shape.factors[5, 0, he[1] - 1] / shape.factors[5, 0, he[0] - 1]
    assert day["price"].iloc[1] / day["price"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_negative_prices_and_additive_months_still_average_exactly() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    prices = prices_for(12, blocks)
    prices[3] = [-12.0, 4.0]  # a negative April onpeak: a ratio would flip the shape
    shape = random_shape()
    additive = shape.multiplicative.copy()
    additive[4] = False  # May shaped by offsets
    shape = ShapeFactors(
        iso="ERCOT",
        factors=shape.factors,
        offsets=shape.offsets,
        multiplicative=additive,
        counts=shape.counts,
        fallback_months=(),
        first_hour=None,
        last_hour=None,
        hours=0,
    )
    c = curve(prices, blocks)
    h = build_hpfc(c, shape)
    for (i, b), (mean, _) in block_means(c, hpfc_table(h)).items():
        assert mean == pytest.approx(c.prices[i, c.blocks.index(b)], rel=1e-9, abs=1e-9)
    table = hpfc_table(h, ZONE).to_pandas()
    may = onpeak_hours_of(table, date(2024, 5, 14))
    he = may["hour_ending"].to_numpy()
    assert may["price"].iloc[1] - may["price"].iloc[0] == pytest.approx(
        shape.offsets[4, 0, he[1] - 1] - shape.offsets[4, 0, he[0] - 1], rel=1e-9
    )


def test_ten_years_of_hours() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    c = curve(prices_for(120, blocks), blocks, first=date(2026, 1, 1), months=120)
    h = build_hpfc(c, random_shape())
    assert len(h.starts) == int(c.hours.sum())
    assert len(h.starts) == 87_648  # 2026-2035, two leap years


def test_hours_no_day_range_gives_are_refused_naming_the_month() -> None:
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    c = curve(prices_for(2, blocks), blocks, months=2)
    hours = c.hours.copy()
    hours[1, 0] += 1
    bad = MonthlyCurve(c.iso, c.hub, c.as_of, c.months, c.blocks, c.prices, hours, c.quoted_through)
    with pytest.raises(CurveShapeError, match="2024-02"):
        build_hpfc(bad)


def test_curves_that_cover_no_full_set_of_hours_are_refused() -> None:
    c = curve(np.full((1, 1), 50.0), (Block.ONPEAK,), months=1)
    with pytest.raises(CurveShapeError, match="onpeak"):
        build_hpfc(c)
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    c = curve(prices_for(1, blocks), blocks, months=1)
    with pytest.raises(ValueError, match="PJM"):
        build_hpfc(c, flat_shape("PJM"))
    broken = c.prices.copy()
    broken[0, 1] = np.nan
    with pytest.raises(CurveShapeError, match="2024-01 offpeak"):
        build_hpfc(MonthlyCurve(c.iso, c.hub, c.as_of, c.months, blocks, broken, c.hours, c.quoted_through))


def test_table_columns_and_zone() -> None:
    blocks = (Block.ATC,)
    h = build_hpfc(curve(np.full((1, 1), 25.0), blocks, first=date(2024, 11, 1), months=1))
    table = hpfc_table(h, ZONE)
    assert table.column_names == ["interval_start", "interval_end", "price", "block", "hour_ending"]
    assert table.schema.field("interval_start").type == pa.timestamp("us", ZONE)
    frame = table.to_pandas()
    fall_back = frame[frame["interval_start"].dt.date == date(2024, 11, 3)]
    assert len(fall_back) == 25
    assert (fall_back["hour_ending"] == 2).sum() == 2
    assert (frame["interval_end"] - frame["interval_start"]).eq(pd.Timedelta(hours=1)).all()


def test_months_must_be_consecutive_firsts_of_month() -> None:
    blocks = (Block.ATC,)
    c = curve(np.full((2, 1), 30.0), blocks, months=2)
    months = (date(2024, 1, 1), date(2024, 3, 1))
    gap = MonthlyCurve(c.iso, c.hub, c.as_of, months, blocks, c.prices, c.hours, c.quoted_through)
    with pytest.raises(CurveShapeError, match="2024-03 does not follow 2024-01"):
        build_hpfc(gap)
    months = (date(2024, 1, 15), date(2024, 2, 1))
    mid = MonthlyCurve(c.iso, c.hub, c.as_of, months, blocks, c.prices, c.hours, c.quoted_through)
    with pytest.raises(CurveShapeError, match="2024-01-15 is not the first"):
        build_hpfc(mid)
