"""Every model beats the seasonal naive on a series with known structure; ensembles and refit schedules."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from forecast_data import synthetic_data

from carbon254.forecast import (
    BacktestResult,
    BacktestSpec,
    DayAheadData,
    Ensemble,
    Forecaster,
    ForecastError,
    GbmParams,
    Lear,
    LearEnsemble,
    LightGbm,
    Naive,
    NeuralNet,
    Periodic,
    XgBoost,
    backtest,
    model_by_name,
)
from carbon254.forecast.periodic import _fits

TREES = GbmParams(n_estimators=150, learning_rate=0.1, leaves=15, min_child_samples=10)
TEST_DAYS = 28


@pytest.fixture(scope="module")
def data() -> DayAheadData:
    return synthetic_data(150)


def _run(model: Forecaster, data: DayAheadData, every: int = 7) -> BacktestResult:
    start = data.days[-TEST_DAYS].astype(object)
    return backtest(model, data, BacktestSpec(start, recalibrate_every=every))


@pytest.mark.parametrize(
    ("model", "bound"),
    [
        (Naive(), 1.0),
        (Lear(120), 0.75),
        (LearEnsemble((56, 120)), 0.75),
        (LightGbm(TREES), 0.8),
        (XgBoost(TREES), 0.8),
        (Ensemble((Lear(120), LightGbm(TREES))), 0.7),
        (NeuralNet(hidden=(32,), members=2), 0.85),
    ],
    ids=lambda m: getattr(m, "name", ""),
)
def test_each_model_beats_the_seasonal_naive(model: Forecaster, bound: float, data: DayAheadData) -> None:
    result = _run(model, data)
    # The seasonal naive's MAE over the same hours, computed here from the data.
    first = len(data) - TEST_DAYS
    naive_mae = np.mean(np.abs(data.prices[first:] - data.prices[first - 7 : -7]))
    assert result.metrics.mae < bound * naive_mae
    assert result.metrics.rmae == pytest.approx(result.metrics.mae / naive_mae)


def test_an_ensemble_is_the_mean_of_its_members_and_keeps_each(data: DayAheadData) -> None:
    model = Ensemble((LearEnsemble((56, 120)), LightGbm(TREES)), weights=(3.0, 1.0))
    result = _run(model, data, every=14)
    assert result.member_names == ("lear_56", "lear_120", "lear_ensemble", "lightgbm")
    lear = result.member("lear_ensemble").forecast
    assert np.allclose(lear, (result.member("lear_56").forecast + result.member("lear_120").forecast) / 2)
    assert np.allclose(result.forecast, 0.75 * lear + 0.25 * result.member("lightgbm").forecast)
    alone = _run(Lear(120), data, every=14)
    assert np.array_equal(result.member("lear_120").forecast, alone.forecast)
    assert result.member("lear_120").metrics == alone.metrics


def test_a_periodic_model_refits_on_anchor_days_only(data: DayAheadData) -> None:
    model = Periodic(LightGbm(TREES), 7)
    _fits.clear()
    daily = _run(model, data, every=1)
    # 28 test days hold four or five anchors (days whose number since 1970 is a multiple of 7).
    first = len(data) - TEST_DAYS
    anchors = sum(int(d.astype(np.int64)) % 7 == 0 for d in data.days[first:])
    assert len(_fits) == anchors + (int(data.days[first].astype(np.int64)) % 7 != 0)
    # Each day's forecast is the plain model fitted at its anchor day.
    for d in (first, first + 9, len(data) - 1):
        anchor = d - int(data.days[d].astype(np.int64)) % 7
        expected = LightGbm(TREES).fit(data.known_at(anchor)).predict_day(data.known_at(d)).point
        assert np.array_equal(daily.forecast[d - first], expected)


def test_fits_are_reproducible_for_a_seed(data: DayAheadData) -> None:
    history = data.known_at(120)
    a = XgBoost(TREES).fit(history, seed=3).predict_day(history).point
    b = XgBoost(TREES).fit(history, seed=3).predict_day(history).point
    c = XgBoost(TREES).fit(history, seed=4).predict_day(history).point
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_a_network_fit_is_reproducible_for_a_seed(data: DayAheadData) -> None:
    history = data.known_at(120)
    net = NeuralNet(hidden=(16,), members=1, max_iter=60)
    a = net.fit(history, seed=3).predict_day(history).point
    assert np.array_equal(a, net.fit(history, seed=3).predict_day(history).point)
    assert not np.array_equal(a, net.fit(history, seed=4).predict_day(history).point)
    with pytest.raises(ForecastError, match="neural needs at least 67 days of prices, got 40"):
        net.fit(data.known_at(40))


def test_models_by_name_and_bad_names() -> None:
    assert model_by_name("best").name == "best"
    assert model_by_name("neural").name == "neural"
    assert isinstance(model_by_name("lightgbm"), Periodic)
    assert isinstance(model_by_name("lightgbm", tree_refit_days=1), LightGbm)
    with pytest.raises(ForecastError, match="model: 'prophet' is not one of naive, seasonal_naive"):
        model_by_name("prophet")
    with pytest.raises(ForecastError, match="calibration_days: 10; need at least 21"):
        Lear(10)


def test_too_little_history_is_refused_naming_what_is_needed(data: DayAheadData) -> None:
    start = data.days[10].astype(object)
    with pytest.raises(
        ForecastError, match="test_start: lear needs 21 days of prices before the first test day"
    ):
        backtest(Lear(), data, BacktestSpec(start, start + timedelta(days=3)))
