from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from carbon254.curves import BasisError, MonthlyCurve, estimate_basis, node_curve
from carbon254.timeseries.periods import Block

ZONE = "America/Chicago"
# Jan 2024: 22 business days (Jan 1 is a NERC holiday) -> 352 onpeak hours, 9 weekend/holiday days -> 144
# 2x16 hours, 31 x 8 = 248 7x8 hours. Feb 2024: 21 business days -> 336 onpeak, 8 x 16 = 128 2x16, 232 7x8.
SPREAD = {1: {"onpeak": 2.0, "2x16": -1.0, "7x8": -3.0}, 2: {"onpeak": 5.0, "2x16": 0.0, "7x8": -2.0}}


def finest_block(local: pd.Timestamp) -> str:
    if local.hour < 6 or local.hour > 21:
        return "7x8"
    weekend = local.weekday() >= 5 or local.date() == date(2024, 1, 1)
    return "2x16" if weekend else "onpeak"


def series(utc: pd.DatetimeIndex, lmp: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "interval_start": pa.array(utc.as_unit("us"), type=pa.timestamp("us", "UTC")),
            "lmp": pa.array(lmp, type=pa.float64()),
        }
    )


def node_and_hub() -> tuple[pa.Table, pa.Table]:
    lo = pd.Timestamp("2024-01-01", tz=ZONE).tz_convert("UTC")
    hi = pd.Timestamp("2024-03-01", tz=ZONE).tz_convert("UTC")
    utc = pd.date_range(lo, hi, freq="h", inclusive="left")
    local = utc.tz_convert(ZONE)
    hub = 30.0 + 10.0 * np.sin(np.arange(len(utc)) / 5.0)
    spread = np.array([SPREAD[t.month][finest_block(t)] for t in local])
    # Three congested January onpeak hours: the median ignores them, the mean does not.
    congested = np.flatnonzero((local.month == 1) & (local.day == 10) & np.isin(local.hour, [15, 16, 17]))
    spread[congested] = 300.0
    node = series(utc, hub + spread)
    # The hub misses two February hours: they count for neither.
    hub_rows = np.ones(len(utc), dtype=bool)
    hub_rows[[1000, 1001]] = False
    return node, series(utc[hub_rows], hub[hub_rows])


def test_basis_is_the_hand_computed_median_per_month_and_block() -> None:
    node, hub = node_and_hub()
    basis = estimate_basis(node, hub, iso="ERCOT")
    assert basis.value(1, Block.ONPEAK) == pytest.approx(2.0)
    assert basis.value(1, Block.TWO_BY_16) == pytest.approx(-1.0)
    assert basis.value(1, Block.SEVEN_BY_8) == pytest.approx(-3.0)
    # January offpeak: 248 hours at -3 and 144 at -1 -> median -3.
    assert basis.value(1, Block.OFFPEAK) == pytest.approx(-3.0)
    # January atc: 248 x -3, 144 x -1, 349 x 2, 3 x 300 -> the 372nd/373rd values are -1.
    assert basis.value(1, Block.ATC) == pytest.approx(-1.0)
    assert basis.value(2, Block.ONPEAK) == pytest.approx(5.0)
    # February offpeak: 232 x -2 and 128 x 0 -> -2; atc: 232 x -2, 128 x 0, 336 x 5 -> 0.
    assert basis.value(2, Block.OFFPEAK) == pytest.approx(-2.0)
    assert basis.value(2, Block.ATC) == pytest.approx(0.0)
    j = basis.blocks.index(Block.ONPEAK)
    assert basis.counts[0, j] == 352
    assert basis.counts[1, basis.blocks.index(Block.ATC)] == 696 - 2
    assert not basis.fell_back[:2].any()
    assert basis.fell_back[2:].all()
    # Months without data take the block's median over all months: onpeak 349 x 2, 336 x 5, 3 x 300 -> 2.
    assert basis.value(7, Block.ONPEAK) == pytest.approx(2.0)
    assert basis.counts[6].sum() == 0


def test_the_mean_estimator_feels_the_congested_hours() -> None:
    node, hub = node_and_hub()
    basis = estimate_basis(node, hub, iso="ERCOT", estimator="mean")
    assert basis.value(1, Block.ONPEAK) == pytest.approx((349 * 2.0 + 3 * 300.0) / 352)
    assert basis.value(1, Block.OFFPEAK) == pytest.approx((248 * -3.0 + 144 * -1.0) / 392)
    assert basis.estimator == "mean"


def test_the_window_keeps_only_recent_hours() -> None:
    node, hub = node_and_hub()
    basis = estimate_basis(node, hub, iso="ERCOT", window_days=20)
    assert basis.fell_back[0].all()  # January is older than 20 days before the end of February
    assert basis.value(1, Block.ONPEAK) == pytest.approx(5.0)
    assert basis.first_hour.date() >= date(2024, 2, 9)


def test_node_curve_is_hub_plus_basis_of_the_month_of_year() -> None:
    node, hub = node_and_hub()
    basis = estimate_basis(node, hub, iso="ERCOT")
    months = (date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1))
    blocks = (Block.ONPEAK, Block.OFFPEAK)
    hub_curve = MonthlyCurve(
        iso="ERCOT",
        hub="HB_NORTH",
        as_of=date(2024, 11, 20),
        months=months,
        blocks=blocks,
        prices=np.array([[50.0, 30.0], [60.0, 40.0], [55.0, 35.0]]),
        hours=np.array([[336, 408], [352, 392], [320, 352]], dtype=np.int64),
        quoted_through=date(2025, 3, 1),
    )
    node_prices = node_curve(hub_curve, basis, "CW_BASIS_NODE")
    assert node_prices.hub == "CW_BASIS_NODE"
    assert node_prices.iso == "ERCOT"
    assert node_prices.months == months
    np.testing.assert_array_equal(node_prices.hours, hub_curve.hours)
    # December falls back to the all-months medians: onpeak 2; offpeak over 248 x -3, 232 x -2,
    # 144 x -1 and 126 x 0 (two February 2x16 hours lack a hub price) -> -2.
    expected = np.array(
        [
            [50.0 + 2.0, 30.0 - 2.0],
            [60.0 + 2.0, 40.0 - 3.0],
            [55.0 + 5.0, 35.0 - 2.0],
        ]
    )
    np.testing.assert_allclose(node_prices.prices, expected)
    assert node_prices.price(date(2025, 1, 1), Block.ONPEAK) == pytest.approx(62.0)


def test_bad_inputs_are_refused_by_name() -> None:
    node, hub = node_and_hub()
    with pytest.raises(ValueError, match="estimator"):
        estimate_basis(node, hub, iso="ERCOT", estimator="max")  # type: ignore[arg-type]
    with pytest.raises(BasisError, match="no hour in common"):
        estimate_basis(node.slice(0, 100), hub.slice(200, 100), iso="ERCOT")
    basis = estimate_basis(node, hub, iso="ERCOT")
    other = MonthlyCurve(
        iso="PJM",
        hub="WESTERN HUB",
        as_of=date(2024, 1, 1),
        months=(date(2024, 1, 1),),
        blocks=(Block.ATC,),
        prices=np.array([[40.0]]),
        hours=np.array([[744]], dtype=np.int64),
        quoted_through=date(2024, 2, 1),
    )
    with pytest.raises(BasisError, match="PJM"):
        node_curve(other, basis, "X")
