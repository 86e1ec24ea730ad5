from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from carbon254.curves import PriorError, seasonal_prior
from carbon254.timeseries.periods import Block

ZONE = "America/New_York"


def history(start: str, end: str, level: dict[int, float], onpeak_premium: float = 0.0) -> pa.Table:
    lo = pd.Timestamp(start, tz=ZONE).tz_convert("UTC")
    hi = pd.Timestamp(end, tz=ZONE).tz_convert("UTC")
    utc = pd.date_range(lo, hi, freq="h", inclusive="left")
    local = utc.tz_convert(ZONE)
    price = np.array([level[m] for m in local.month])
    peak_hour = (local.hour >= 6) & (local.hour <= 21) & (local.day_of_week < 5)
    price = price + onpeak_premium * peak_hour
    return pa.table(
        {
            "interval_start": pa.array(utc.as_unit("us"), type=pa.timestamp("us", "UTC")),
            "lmp": pa.array(price, type=pa.float64()),
        }
    )


def test_levels_are_the_monthly_means_relative_to_their_average() -> None:
    # Summer and winter peaks, a cheap spring: levels 40..70, mean 50.
    level = {
        m: v for m, v in zip(range(1, 13), [60, 55, 45, 40, 40, 50, 70, 70, 50, 40, 40, 40], strict=True)
    }
    table = history("2023-01-01", "2025-01-01", {m: float(v) for m, v in level.items()})
    prior = seasonal_prior(table, iso="PJM", blocks=(Block.ATC, Block.OFFPEAK))
    assert set(prior) == {Block.ATC, Block.OFFPEAK}
    expected = [v - 50.0 for v in level.values()]
    for block in (Block.ATC, Block.OFFPEAK):
        assert len(prior[block]) == 12
        np.testing.assert_allclose(prior[block], expected, atol=1e-9)
        assert sum(prior[block]) == pytest.approx(0.0, abs=1e-9)


def test_a_constant_block_premium_is_not_seasonality() -> None:
    level = {m: 30.0 + m for m in range(1, 13)}
    table = history("2024-01-01", "2025-01-01", level, onpeak_premium=25.0)
    prior = seasonal_prior(table, iso="PJM", blocks=(Block.ONPEAK, Block.SEVEN_BY_8))
    expected = [m - 6.5 for m in range(1, 13)]
    np.testing.assert_allclose(prior[Block.ONPEAK], expected, atol=1e-9)
    np.testing.assert_allclose(prior[Block.SEVEN_BY_8], expected, atol=1e-9)


def test_years_count_equally_and_uncovered_months_are_zero() -> None:
    # January twice (at 80 and 40: mean 60), February and March once; April..December never.
    first = history("2023-01-01", "2023-02-01", {1: 80.0})
    second = history("2024-01-01", "2024-04-01", {1: 40.0, 2: 50.0, 3: 40.0})
    table = pa.concat_tables([first, second])
    prior = seasonal_prior(table, iso="PJM", blocks=(Block.ATC,))[Block.ATC]
    assert prior[:3] == pytest.approx((10.0, 0.0, -10.0))
    assert prior[3:] == (0.0,) * 9


def test_a_spike_does_not_make_its_month_expensive() -> None:
    level = {m: 40.0 for m in range(1, 13)}
    table = history("2024-01-01", "2025-01-01", level)
    price = table.column("lmp").to_numpy().copy()
    price[1000] = 9000.0  # one February hour at the cap
    prior = seasonal_prior(table.set_column(1, "lmp", pa.array(price)), iso="PJM", blocks=(Block.ATC,))
    assert max(abs(v) for v in prior[Block.ATC]) < 1e-9


def test_no_blocks_or_no_hours_of_a_block_are_refused() -> None:
    table = history("2024-01-06", "2024-01-07", {1: 40.0})  # a Saturday: no onpeak hour
    with pytest.raises(PriorError, match="onpeak"):
        seasonal_prior(table, iso="PJM", blocks=(Block.ATC, Block.ONPEAK))
    with pytest.raises(PriorError, match="at least one block"):
        seasonal_prior(table, iso="PJM", blocks=())
