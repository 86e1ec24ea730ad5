"""Historical simulation: the book's P&L under each past day, windows, horizons, BRW and Hull–White."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from carbon254.risk import (
    FactorHistory,
    MissingHistory,
    RiskError,
    RiskMethod,
    UnknownFactor,
    exposures,
    historical_var,
)

from .books import FACTORS, NORTH, book, book_exposure, dates, normal_history


def _quantile_var(pnl: list[float], confidence: float) -> float:
    ordered = sorted(pnl)
    position = (len(ordered) - 1) * (1 - confidence)
    k = int(position)
    return -(ordered[k] + (position - k) * (ordered[k + 1] - ordered[k]))


def _pnl_by_hand(history: FactorHistory, first: int = 0) -> list[float]:
    exposure = book_exposure()
    return [
        sum(exposure[f] * history.changes[day, f] for f in range(len(FACTORS)))
        for day in range(first, history.days)
    ]


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_var_is_the_empirical_quantile_of_the_books_pnl(confidence: float) -> None:
    history = normal_history(300)
    result = historical_var(exposures(book(), FACTORS), history, confidence=confidence)
    pnl = _pnl_by_hand(history)
    assert result.var == pytest.approx(_quantile_var(pnl, confidence), rel=1e-10)
    tail = [-p for p in pnl if -p >= result.var - 1e-9]
    assert result.es == pytest.approx(sum(tail) / len(tail), rel=1e-10)
    assert result.es >= result.var
    assert result.method is RiskMethod.HISTORICAL and result.scenarios == 300
    np.testing.assert_allclose(result.pnl, pnl)
    assert result.scenario_dates == history.dates
    assert result.var_dates and all(d in history.dates for d in result.var_dates)


def test_the_window_takes_the_latest_days() -> None:
    history = normal_history(300)
    result = historical_var(exposures(book(), FACTORS), history, confidence=0.99, window=120)
    assert result.var == pytest.approx(_quantile_var(_pnl_by_hand(history, 180), 0.99), rel=1e-10)
    assert result.scenario_dates == history.dates[180:]


def test_a_longer_horizon_uses_overlapping_sums_of_days() -> None:
    history = normal_history(250)
    daily = _pnl_by_hand(history)
    five_day = [sum(daily[i - 4 : i + 1]) for i in range(4, len(daily))]
    result = historical_var(exposures(book(), FACTORS), history, confidence=0.975, horizon=5)
    assert result.scenarios == 246
    assert result.var == pytest.approx(_quantile_var(five_day, 0.975), rel=1e-10)
    assert result.scenario_dates[0] == history.dates[4]


def test_age_weights_favour_recent_days() -> None:
    # A crash 200 days ago counts less under BRW than under equal weights.
    changes = np.zeros((400, 4))
    changes[:, 0] = np.random.default_rng(1).normal(0, 1, 400)
    changes[200:203, 0] = -40.0
    history = FactorHistory(FACTORS, dates(400), changes)
    book_exposures = exposures(book(), FACTORS)
    equal = historical_var(book_exposures, history, confidence=0.99)
    aged = historical_var(book_exposures, history, confidence=0.99, age_weighting=0.98)
    assert aged.var < equal.var
    # By hand: weights 0.98^age normalised; sort worst first and take the first reaching 1%.
    pnl = _pnl_by_hand(history)
    weights = [0.98 ** (399 - i) for i in range(400)]
    total = sum(weights)
    cumulative = 0.0
    for p, w in sorted(zip(pnl, weights, strict=True)):
        cumulative += w / total
        if cumulative >= 0.01 - 1e-12:
            assert aged.var == pytest.approx(-p)
            break


def test_hull_white_scales_each_day_to_todays_volatility() -> None:
    rng = np.random.default_rng(2)
    calm = rng.normal(0, 1, 200)
    wild = rng.normal(0, 4, 100)
    changes = np.zeros((300, 4))
    changes[:, 0] = np.concatenate([calm, wild])
    history = FactorHistory(FACTORS, dates(300), changes)
    lam = 0.94
    seed = float(np.mean(changes[:, 0] ** 2))
    variance = seed
    sigmas = []
    for change in changes[:, 0]:
        sigmas.append(math.sqrt(variance))
        variance = lam * variance + (1 - lam) * change * change
    now = math.sqrt(variance)
    scaled = [c * now / s for c, s in zip(changes[:, 0], sigmas, strict=True)]
    exposure = book_exposure()[0]
    result = historical_var(exposures(book(), FACTORS), history, confidence=0.99, volatility_scaling=lam)
    assert result.var == pytest.approx(_quantile_var([exposure * s for s in scaled], 0.99), rel=1e-9)
    plain = historical_var(exposures(book(), FACTORS), history, confidence=0.99)
    assert result.var != pytest.approx(plain.var)


def test_too_few_days_for_the_tail_is_refused() -> None:
    history = normal_history(99)
    with pytest.raises(MissingHistory, match="at least 100 scenarios"):
        historical_var(exposures(book(), FACTORS), history, confidence=0.99)
    with pytest.raises(MissingHistory, match="window"):
        historical_var(exposures(book(), FACTORS), history, confidence=0.95, window=150)


def test_missing_history_names_the_factor_and_day() -> None:
    history = normal_history(200)
    changes = history.changes.copy()
    changes[37, 1] = np.nan
    broken = FactorHistory(FACTORS, history.dates, changes)
    with pytest.raises(MissingHistory, match=rf"ERCOT:HB_HOUSTON:atc:spot is missing on {history.dates[37]}"):
        historical_var(exposures(book(), FACTORS), broken)
    # A factor the book does not touch may have holes.
    changes[:, :] = history.changes
    changes[5, 3] = np.nan
    ercot_only = exposures(book().subset(["north", "houston"]), FACTORS)
    assert historical_var(ercot_only, FactorHistory(FACTORS, history.dates, changes)).var > 0


def test_factors_without_history_and_bad_settings_are_refused() -> None:
    history = FactorHistory((NORTH,), dates(200), np.zeros((200, 1)))
    with pytest.raises(UnknownFactor, match="HB_HOUSTON"):
        historical_var(exposures(book(), FACTORS), history)
    full = normal_history(200)
    for settings in ({"horizon": 0}, {"confidence": 1.5}, {"age_weighting": 1.0}, {"window": 0}):
        with pytest.raises(RiskError):
            historical_var(exposures(book(), FACTORS), full, **settings)  # type: ignore[arg-type]


def test_dates_must_increase() -> None:
    with pytest.raises(RiskError, match="dates"):
        FactorHistory((NORTH,), (date(2024, 1, 2), date(2024, 1, 1)), np.zeros((2, 1)))
