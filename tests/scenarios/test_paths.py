"""Price paths: seeded reproducibility, mean convergence to the curve, negative hours, volatility scaling."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pytest

from carbon254.scenarios.engine import apply_scenario
from carbon254.scenarios.loading import load_scenario
from carbon254.scenarios.summary import summarize

from .curves import Floats, curve_set, hourly_curve

HUB = "HB_NORTH"


def _paths(text: str, months: int = 1) -> Floats:
    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 3, 1), months))
    return apply_scenario(load_scenario(text), base).paths[HUB].values


def test_same_seed_same_paths_bit_for_bit_and_different_seed_differs() -> None:
    text = (
        "name: p\nseed: {seed}\nsteps:\n  - {{type: paths, n_paths: 20, jump_intensity: 50, jump_sd: 0.3}}\n"
    )
    a, b, c = _paths(text.format(seed=1)), _paths(text.format(seed=1)), _paths(text.format(seed=2))
    assert a.shape == (20, 743)  # March: the spring-forward day has 23 hours
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)


def test_unseeded_runs_repeat_too() -> None:
    text = "name: p\nsteps:\n  - {type: paths, n_paths: 5}\n"
    assert _paths(text).tobytes() == _paths(text).tobytes()


def test_path_mean_converges_to_the_curve_with_jumps() -> None:
    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 3, 1), 1))
    text = (
        "name: p\nseed: 11\nsteps:\n  - {type: paths, n_paths: 4000, kappa: 0.5, sigma: 4,"
        " jump_intensity: 20, jump_mean: 0.5, jump_sd: 0.4}\n"
    )
    values = apply_scenario(load_scenario(text), base).paths[HUB].values
    curve = base.hourly[HUB].prices
    # Each hour's mean within 3% of the curve; the month's mean within 1%.
    assert np.max(np.abs(values.mean(axis=0) / curve - 1)) < 0.03
    assert abs(values.mean() / curve.mean() - 1) < 0.01
    assert values.std(axis=0).mean() > 5.0  # the paths really move


def test_negative_curve_hours_move_in_level_space() -> None:
    def negative_midday(hour: npt.NDArray[np.int64], onpeak: npt.NDArray[np.bool_]) -> Floats:
        return np.where((hour >= 10) & (hour <= 14), -5.0, 40.0)

    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 4, 1), 1, negative_midday))
    text = "name: p\nseed: 3\nsteps:\n  - {type: paths, n_paths: 3000}\n"
    values = apply_scenario(load_scenario(text), base).paths[HUB].values
    curve = base.hourly[HUB].prices
    negative = curve < 0
    assert np.isfinite(values).all()
    assert (values[:, negative] > 0).any() and (values[:, negative] < -5).any()
    np.testing.assert_allclose(values[:, negative].mean(axis=0), -5.0, atol=1.5)


def test_volatility_step_scales_path_spread_and_summary_has_bands() -> None:
    calm = "name: p\nseed: 5\nsteps:\n  - {type: paths, n_paths: 500}\n"
    wild = "name: p\nseed: 5\nsteps:\n  - {type: volatility, factor: 2}\n  - {type: paths, n_paths: 500}\n"
    spread = _paths(wild).std(axis=0).mean() / _paths(calm).std(axis=0).mean()
    assert 1.7 < spread < 2.4
    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 1, 1), 24))
    result = apply_scenario(load_scenario(calm), base)
    rows = summarize(result).rows
    assert [r.year for r in rows] == [2026, 2027]
    for row in rows:
        assert row.p5 is not None and row.p50 is not None and row.p95 is not None
        assert row.p5 < row.p50 < row.p95
    monthly = base.monthly[HUB]
    first_year = np.array([m.year == 2026 for m in monthly.months])
    hours = monthly.hours[first_year, 2]
    assert rows[0].atc == pytest.approx((monthly.prices[first_year, 2] * hours).sum() / hours.sum())
    assert rows[0].onpeak == 50.0 and rows[0].offpeak == 30.0
