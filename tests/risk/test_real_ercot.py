"""Real prices: VaR of an ERCOT HB_SOUTH position from its day-ahead history, and a VaR backtest over it.

The history is ERCOT HB_SOUTH day-ahead settlement point prices of
2024-06-01 to 2025-03-27 (15-minute rows, the hourly DAM price repeated),
from the shared data. Its two DST days (2024-11-03 and 2025-03-09) were
removed upstream, so the daily change on the day after each spans two
days. The factor is the hub's spot price: the daily average DAM price.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import date
from itertools import pairwise

import numpy as np
import pytest
from scipy.stats import binom

from carbon254.risk import (
    FactorHistory,
    ForwardPosition,
    Portfolio,
    RiskFactor,
    backtest,
    exceedances,
    exposures,
    historical_var,
    rolling_var,
)
from carbon254.timeseries.periods import Block
from shared_data import SHARED_DATA

HISTORY = SHARED_DATA / "history" / "ercot_hb_south_dam_rtm_15min_2024-06_2025-03.csv"
SPOT = RiskFactor("ERCOT", "HB_SOUTH", Block.ATC)
MW = 50.0
JULY_HOURS = 31 * 24  # July 2025 has no DST change


def _daily_dam() -> tuple[list[date], list[float]]:
    if not HISTORY.is_file():
        pytest.skip(f"real ERCOT history not found at {HISTORY}")
    by_day: dict[str, list[float]] = defaultdict(list)
    with HISTORY.open() as f:
        for row in csv.DictReader(f):
            by_day[row["interval_start_central"][:10]].append(float(row["HB_SOUTH_DAM"]))
    days = sorted(by_day)
    assert all(len(by_day[d]) == 96 for d in days), "every kept day has 96 quarter hours"
    assert "2024-11-03" not in by_day and "2025-03-09" not in by_day
    return [date.fromisoformat(d) for d in days], [sum(by_day[d]) / 96 for d in days]


def _book() -> Portfolio:
    forward = ForwardPosition(
        "south", "Power/ERCOT", "ERCOT", "HB_SOUTH", Block.ATC, date(2025, 7, 1), date(2025, 7, 1), MW, 45.0
    )
    return Portfolio("ercot", (forward,))


def _var_by_hand(pnl: list[float], confidence: float) -> tuple[float, float]:
    ordered = sorted(pnl)
    position = (len(ordered) - 1) * (1 - confidence)
    k = math.floor(position)
    var = -(ordered[k] + (position - k) * (ordered[k + 1] - ordered[k]))
    tail = [-p for p in ordered if -p >= var]
    return var, sum(tail) / len(tail)


@pytest.mark.parametrize(
    ("confidence", "window", "horizon"), [(0.99, 250, 1), (0.95, None, 1), (0.95, 250, 5)]
)
def test_historical_var_of_a_hb_south_forward(confidence: float, window: int | None, horizon: int) -> None:
    days, prices = _daily_dam()
    history = FactorHistory.from_levels((SPOT,), days, np.array(prices)[:, None])
    assert history.days == len(days) - 1 == 297
    result = historical_var(
        exposures(_book(), (SPOT,)), history, confidence=confidence, window=window, horizon=horizon
    )

    mwh = MW * JULY_HOURS
    daily = [mwh * (prices[i] - prices[i - 1]) for i in range(1, len(prices))]
    if window is not None:
        daily = daily[-window:]
    pnl = [sum(daily[i - horizon + 1 : i + 1]) for i in range(horizon - 1, len(daily))]
    var, es = _var_by_hand(pnl, confidence)
    assert result.var == pytest.approx(var, rel=1e-9)
    assert result.es == pytest.approx(es, rel=1e-9)
    assert result.es >= result.var > 0
    # A 50 MW month of HB_SOUTH: a bad day loses hundreds of thousands of dollars.
    assert 1e5 < result.var < 1e7


def test_a_var_backtest_over_the_history() -> None:
    _, prices = _daily_dam()
    mwh = MW * JULY_HOURS
    pnl = np.array([mwh * (prices[i] - prices[i - 1]) for i in range(1, len(prices))])
    window, confidence = 100, 0.95
    var, _ = rolling_var(pnl, window, confidence)
    realised = pnl[window:]
    flags = exceedances(realised, var)
    result = backtest(flags, confidence)

    by_hand = [1 if realised[i] < -var[i] else 0 for i in range(len(realised))]
    x, n = sum(by_hand), len(by_hand)
    assert (result.n, result.x) == (n, x) == (197, x)
    p, rate = 1 - confidence, x / n
    lr = -2 * ((n - x) * math.log(1 - p) + x * math.log(p)) + 2 * (
        (n - x) * math.log(1 - rate) + x * math.log(rate)
    )
    assert result.kupiec.lr == pytest.approx(lr, rel=1e-9)
    pairs = list(pairwise(by_hand))
    counts = [pairs.count((0, 0)), pairs.count((0, 1)), pairs.count((1, 0)), pairs.count((1, 1))]
    c = result.christoffersen
    assert [c.n00, c.n01, c.n10, c.n11] == counts
    assert math.isfinite(c.ind_lr) and math.isfinite(c.cc_lr)
    cumulative = binom.cdf(x, n, p)
    expected = "green" if cumulative < 0.95 else "red" if cumulative >= 0.9999 else "yellow"
    assert result.basel_zone.value == expected
