"""VaR backtests: exceedances, Kupiec and Christoffersen by hand, edge cases, Basel zone boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from carbon254.risk import (
    BaselZone,
    RiskError,
    backtest,
    basel_zone,
    christoffersen,
    exceedances,
    kupiec,
    rolling_var,
    var_es,
)

SERIES = [0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0]


def test_exceedances_are_losses_beyond_var() -> None:
    pnl = np.array([-5.0, -10.0, 3.0, -10.5, 0.0])
    var = np.array([4.0, 10.0, 1.0, 10.0, 0.0])
    assert exceedances(pnl, var).tolist() == [True, False, False, True, False]
    with pytest.raises(RiskError, match="one VaR per P&L day"):
        exceedances(pnl, var[:3])


def test_kupiec_by_hand() -> None:
    # 3 exceedances in 10 days at 95%: p = 0.05, observed rate 0.3.
    lr = -2 * (7 * math.log(0.95) + 3 * math.log(0.05)) + 2 * (7 * math.log(0.7) + 3 * math.log(0.3))
    found = kupiec(3, 10, 0.95)
    assert found.lr == pytest.approx(lr, rel=1e-12)
    assert found.pvalue == pytest.approx(chi2.sf(lr, 1), rel=1e-12)


def test_christoffersen_by_hand() -> None:
    # Transitions of 0 0 1 1 0 0 0 1 1 1 0 0, counted by eye: 00 x4, 01 x2, 10 x2, 11 x3.
    n00, n01, n10, n11 = 4, 2, 2, 3
    pi0, pi1, pi = 2 / 6, 3 / 5, 5 / 11
    null = (n00 + n10) * math.log(1 - pi) + (n01 + n11) * math.log(pi)
    alternative = (
        n00 * math.log(1 - pi0) + n01 * math.log(pi0) + n10 * math.log(1 - pi1) + n11 * math.log(pi1)
    )
    ind = -2 * (null - alternative)
    found = christoffersen(SERIES, 0.95)
    assert (found.n00, found.n01, found.n10, found.n11) == (n00, n01, n10, n11)
    assert found.ind_lr == pytest.approx(ind, abs=1e-12)
    assert found.ind_pvalue == pytest.approx(chi2.sf(ind, 1))
    assert ind > 0.5  # exceedances that follow exceedances: not independent
    pof = kupiec(5, 12, 0.95).lr
    assert found.cc_lr == pytest.approx(pof + ind)
    assert found.cc_pvalue == pytest.approx(chi2.sf(pof + ind, 2))


def test_clustered_exceedances_fail_independence() -> None:
    clustered = [0] * 100 + [1] * 5 + [0] * 145
    spread = ([0] * 49 + [1]) * 5
    assert christoffersen(clustered, 0.99).ind_lr > christoffersen(spread, 0.99).ind_lr
    assert christoffersen(clustered, 0.99).ind_pvalue < 0.01


@pytest.mark.parametrize(
    "series",
    [[0] * 250, [1] * 250, [0, 1] * 50, [1], [0], [1, 0, 0, 0]],
    ids=["none", "all", "alternating", "one-exceedance", "one-quiet-day", "no-1-to-1"],
)
def test_edge_cases_give_numbers_not_nan(series: list[int]) -> None:
    result = backtest(series, 0.99)
    values = [
        result.kupiec.lr,
        result.kupiec.pvalue,
        result.christoffersen.ind_lr,
        result.christoffersen.ind_pvalue,
        result.christoffersen.cc_lr,
        result.christoffersen.cc_pvalue,
    ]
    assert all(math.isfinite(v) and v >= 0 for v in values)


def test_zero_exceedances_by_hand() -> None:
    # x = 0: LR = -2 n ln(1 - p) (0 ln 0 = 0); no 1s: independence has nothing to test.
    result = backtest([0] * 250, 0.99)
    assert result.kupiec.lr == pytest.approx(-2 * 250 * math.log(0.99))
    assert result.christoffersen.ind_lr == 0.0
    every = backtest([1] * 20, 0.95)
    assert every.kupiec.lr == pytest.approx(-2 * 20 * math.log(0.05))


@pytest.mark.parametrize(
    ("x", "zone"),
    [
        (0, BaselZone.GREEN),
        (4, BaselZone.GREEN),
        (5, BaselZone.YELLOW),
        (9, BaselZone.YELLOW),
        (10, BaselZone.RED),
    ],
)
def test_basel_zones_at_their_boundaries(x: int, zone: BaselZone) -> None:
    assert basel_zone(x, 250, 0.99) is zone


def test_basel_zones_scale_with_the_number_of_days() -> None:
    # 500 days at 99%: green while P(X <= x) < 95% (up to 8), red from 99.99% (from 15).
    assert [basel_zone(x, 500) for x in (8, 9, 14, 15)] == [
        BaselZone.GREEN,
        BaselZone.YELLOW,
        BaselZone.YELLOW,
        BaselZone.RED,
    ]
    with pytest.raises(RiskError, match="impossible"):
        basel_zone(11, 10)


def test_a_series_must_be_zeros_and_ones() -> None:
    with pytest.raises(RiskError, match="0 or 1"):
        backtest([0, 2, 1], 0.99)
    with pytest.raises(RiskError, match="non-empty"):
        backtest([], 0.99)


def test_rolling_var_uses_only_the_days_before() -> None:
    pnl = np.random.default_rng(4).normal(0, 100, 80)
    var, es = rolling_var(pnl, 50, 0.95)
    assert len(var) == 30
    for t in range(50, 80):
        expected = var_es(pnl[t - 50 : t], 0.95)
        assert var[t - 50] == pytest.approx(expected.var) and es[t - 50] == pytest.approx(expected.es)
