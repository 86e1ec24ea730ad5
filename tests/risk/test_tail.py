"""VaR and ES of a P&L sample: the empirical quantile, the tail mean, weights, and their scenarios."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbon254.risk import RiskError, var_es
from carbon254.risk.tail import tail, tails


def _by_hand(pnl: list[float], confidence: float) -> tuple[float, float]:
    """VaR interpolated at position (n - 1)(1 - C) of the ascending P&L; ES the mean loss >= VaR."""
    ordered = sorted(pnl)
    position = (len(ordered) - 1) * (1 - confidence)
    k = int(position)
    frac = position - k
    upper = ordered[k + 1] if k + 1 < len(ordered) else ordered[k]
    quantile = ordered[k] + frac * (upper - ordered[k])
    var = -quantile
    losses = [-p for p in pnl if -p >= var - 1e-12]
    return var, sum(losses) / len(losses)


@pytest.mark.parametrize("confidence", [0.95, 0.975, 0.99, 0.999])
def test_var_and_es_are_the_empirical_quantile_and_the_tail_mean(confidence: float) -> None:
    pnl = list(np.random.default_rng(3).standard_t(4, 1500) * 1000.0)
    found = var_es(np.array(pnl), confidence)
    var, es = _by_hand(pnl, confidence)
    assert found.var == pytest.approx(var, rel=1e-12)
    assert found.es == pytest.approx(es, rel=1e-12)
    assert found.es >= found.var


def test_a_small_sample_by_hand() -> None:
    # Ten scenarios, 80%: position 9 x 0.2 = 1.8 between the 2nd (-40) and 3rd (-10) worst P&L.
    pnl = np.array([5.0, -10.0, 20.0, -100.0, 3.0, -40.0, 7.0, 0.0, 12.0, 1.0])
    found = var_es(pnl, 0.8)
    assert found.var == pytest.approx(40 - 0.8 * 30)  # 16
    assert found.es == pytest.approx((100 + 40) / 2)  # losses >= 16: 100 and 40
    assert found.confidence == 0.8


def test_the_scenarios_of_var_and_es_rebuild_them() -> None:
    pnl = np.random.default_rng(5).normal(0, 10, 1000)
    found = tail(pnl, 0.99)
    assert -(found.var_coef @ pnl[found.var_rows]) == pytest.approx(found.var)
    assert -(found.es_coef @ pnl[found.es_rows]) == pytest.approx(found.es)
    assert len(found.es_rows) == 10  # 999 x 0.01 = 9.99: the ten worst
    near = tail(pnl, 0.99, neighbours=5)
    assert len(near.var_rows) == 10
    assert -(near.var_coef @ pnl[near.var_rows]) == pytest.approx(found.var)


def test_age_weights_take_the_first_scenario_reaching_the_tail_share() -> None:
    pnl = np.array([-50.0, -30.0, -20.0, 10.0])
    weights = np.array([0.05, 0.1, 0.25, 0.6])
    # Worst first: -50 (cumulative 0.05), -30 (0.15) reaches 10%: VaR 30, ES (0.05*50 + 0.1*30) / 0.15.
    found = tail(pnl, 0.9, weights)
    assert found.var == pytest.approx(30.0)
    assert found.es == pytest.approx((0.05 * 50 + 0.1 * 30) / 0.15)
    var, es = tails(pnl[:, None], 0.9, weights)
    assert var[0] == pytest.approx(30.0) and es[0] == pytest.approx(found.es)


def test_many_columns_match_one_at_a_time() -> None:
    rng = np.random.default_rng(9)
    matrix = rng.normal(0, 1, (400, 6))
    var, es = tails(matrix, 0.975)
    for j in range(6):
        one = var_es(matrix[:, j], 0.975)
        assert var[j] == pytest.approx(one.var) and es[j] == pytest.approx(one.es)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 99.0, math.nan])
def test_a_confidence_outside_zero_one_is_refused(confidence: float) -> None:
    with pytest.raises(RiskError, match="confidence"):
        var_es(np.array([1.0, 2.0]), confidence)


def test_empty_and_non_finite_samples_are_refused() -> None:
    with pytest.raises(RiskError, match="no scenarios"):
        var_es(np.array([]), 0.99)
    with pytest.raises(RiskError, match="finite"):
        var_es(np.array([1.0, np.nan]), 0.99)
