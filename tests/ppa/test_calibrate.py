"""Fitting the path model to history: it recovers the parameters of paths it drew itself."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.ppa import PpaError, calibrate_paths
from carbon254.ppa.hourly import MonthGrid
from carbon254.ppa.price_paths import PathModel, path_generator
from carbon254.scenarios import PathsStep

from .hours import US_PER_HOUR, years


def _history(step: PathsStep, seed: int) -> tuple[np.ndarray, np.ndarray]:
    starts = years(2021, 3)
    hour = np.arange(len(starts))
    curve = 40 + 12 * np.sin(2 * np.pi * (hour % 24) / 24) + 8 * np.cos(2 * np.pi * hour / 8766)
    model = PathModel.of(step, curve, MonthGrid.of(starts).month_of_hour)
    return starts, model.draw([path_generator(seed, 0)])[0].astype(np.float64)


def test_mean_reversion_and_volatility_are_recovered_from_three_years() -> None:
    truth = PathsStep(n_paths=1, kappa=0.5, sigma=4.0)
    starts, prices = _history(truth, seed=2)
    fitted = calibrate_paths(starts, prices, n_paths=250)
    assert fitted.n_paths == 250
    assert 0.35 <= fitted.kappa <= 0.7
    assert 3.3 <= fitted.sigma <= 4.7
    assert fitted.jump_intensity < 3  # a stray outlier or two, not a jump process


def test_jumps_are_counted_and_signed() -> None:
    truth = PathsStep(n_paths=1, kappa=0.2, sigma=2.0, jump_intensity=8, jump_mean=0.5, jump_sd=0.2)
    starts, prices = _history(truth, seed=4)
    fitted = calibrate_paths(starts, prices)
    assert 4 <= fitted.jump_intensity <= 12
    assert fitted.jump_mean > 0.15
    assert 0.15 <= fitted.kappa <= 0.3 and 1.6 <= fitted.sigma <= 2.5


def test_short_or_never_positive_history_is_refused() -> None:
    starts = years(2021, 1)[: 24 * 30]
    with pytest.raises(PpaError, match="prices: 30 usable days"):
        calibrate_paths(starts, np.full(len(starts), 30.0))
    starts = years(2021, 1)
    with pytest.raises(PpaError, match="prices: 0 usable days"):
        calibrate_paths(starts, np.full(len(starts), -5.0))
    assert (starts % US_PER_HOUR == 0).all()
