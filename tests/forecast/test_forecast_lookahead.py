"""No forecast can see the prices it forecasts: changing any price at or after day D leaves D's forecast
unchanged, for every model and through the backtest harness; exogenous values of D itself are used."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from forecast_data import synthetic_data

from carbon254.forecast import (
    BacktestSpec,
    Conformal,
    DayAheadData,
    Ensemble,
    Forecaster,
    GbmParams,
    Lear,
    LearEnsemble,
    LightGbm,
    Naive,
    Periodic,
    SeasonalNaive,
    XgBoost,
    backtest,
)

SMALL_TREES = GbmParams(n_estimators=40, learning_rate=0.2, leaves=8)
MODELS: list[Forecaster] = [
    Naive(),
    SeasonalNaive(),
    Lear(35),
    LearEnsemble((28, 35)),
    LightGbm(SMALL_TREES, calibration_days=35),
    XgBoost(SMALL_TREES, calibration_days=35),
    Ensemble((Lear(35), LightGbm(SMALL_TREES, calibration_days=35))),
    Conformal(Lear(28), holdout_days=7),
    Periodic(XgBoost(SMALL_TREES, calibration_days=35), 7),
]
D = 60


def _scrambled(
    data: DayAheadData, first: int, *, prices: bool = True, exogenous: bool = False
) -> DayAheadData:
    """`data` with prices (and/or exogenous values) of days `first` onwards replaced by wild values."""
    rng = np.random.default_rng(99)
    p = data.prices.copy()
    e = data.exogenous.copy()
    if prices:
        p[first:] = rng.uniform(-500, 3000, p[first:].shape)
    if exogenous:
        e[:, first:] = rng.uniform(0, 1e5, e[:, first:].shape)
    return DayAheadData(data.days, p, e, data.exogenous_names, data.observed)


def _forecast(model: Forecaster, data: DayAheadData, d: int) -> np.ndarray:
    history = data.known_at(d)
    return model.fit(history, seed=1).predict_day(history).point


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__ + "-" + m.name)
def test_prices_from_the_forecast_day_on_do_not_change_its_forecast(model: Forecaster) -> None:
    data = synthetic_data(75)
    original = _forecast(model, data, D)
    assert np.array_equal(_forecast(model, _scrambled(data, D), D), original)
    # Exogenous values after D are unknown at D too.
    assert np.array_equal(
        _forecast(model, _scrambled(data, D + 1, prices=False, exogenous=True), D), original
    )


@pytest.mark.parametrize(
    "model", [Lear(35), LightGbm(SMALL_TREES, calibration_days=35)], ids=lambda m: m.name
)
def test_the_forecast_days_own_exogenous_forecast_is_used(model: Forecaster) -> None:
    """The canary: the same check does see a change in what is known (D's load forecast)."""
    data = synthetic_data(75)
    changed = _scrambled(data, D, prices=False, exogenous=True)
    assert not np.array_equal(_forecast(model, changed, D), _forecast(model, data, D))


def test_the_harness_forecasts_each_day_from_the_days_before_it() -> None:
    data = synthetic_data(75)
    start = data.days[D].astype(object)
    spec = BacktestSpec(start, start + timedelta(days=9), recalibrate_every=5)
    model = Ensemble((Lear(35), LightGbm(SMALL_TREES, calibration_days=35)))
    before = backtest(model, data, spec)
    after = backtest(model, _scrambled(data, D + 5), spec)
    # Days D..D+4 were forecast before the scrambled prices existed; D+5 on see scrambled lags.
    assert np.array_equal(after.forecast[:5], before.forecast[:5])
    assert not np.array_equal(after.forecast[5:], before.forecast[5:])
