"""The live sub-hourly forecaster: gaps on the grid, a fit on short histories, commits folded in."""

from __future__ import annotations

import numpy as np
import pytest

from carbon254.forecast import FIVE_MINUTES_US, ForecastError
from carbon254.forecast.subhourly_live import MIN_INTERVALS, fit_live, fold

T0 = 1_700_000_100_000_000 - 1_700_000_100_000_000 % FIVE_MINUTES_US


def _series(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    prices = 40 + 10 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 2, n)
    return T0 + FIVE_MINUTES_US * t.astype(np.int64), prices


def test_fit_live_uses_the_daily_term_only_with_days_of_history() -> None:
    short, long = _series(MIN_INTERVALS + 10), _series(288 * 4)
    assert fit_live(*short)[0].season == 0
    model, state = fit_live(*long)
    assert model.season == 288 and state.last_start_us == long[0][-1]
    assert state.recent[0] == long[1][-1]
    with pytest.raises(ForecastError, match=f"at least {MIN_INTERVALS}"):
        fit_live(*_series(MIN_INTERVALS - 1))
    # Missing intervals count once carried over: a day with a gap is still a day.
    starts, prices = _series(MIN_INTERVALS)
    model, state = fit_live(np.delete(starts, [5, 6, 100]), np.delete(prices, [5, 6, 100]))
    assert state.last_start_us == starts[-1] and model.season == 0


def test_fold_matches_a_state_started_on_the_whole_series() -> None:
    starts, prices = _series(288 * 4)
    model, state = fit_live(starts[:-5], prices[:-5])
    revised = prices.copy()
    revised[-8] += 7.5  # an older interval the state still remembers, revised in the same commit
    # The commit's rows out of order: the revision, then the new intervals newest first.
    folded = fold(
        model,
        state,
        np.concatenate(([starts[-8]], starts[-5:][::-1])),
        np.concatenate(([revised[-8]], revised[-5:][::-1])),
    )
    expected = model.start(starts, revised)
    assert folded.last_start_us == expected.last_start_us
    np.testing.assert_array_equal(folded.recent, expected.recent)
    forecast = model.predict(folded)
    assert forecast.interval_start[0] == starts[-1] + FIVE_MINUTES_US


def test_fold_ignores_intervals_older_than_the_state_remembers_and_revises_the_newest() -> None:
    starts, prices = _series(288 * 4)
    model, state = fit_live(starts, prices)
    too_old = starts[-1] - FIVE_MINUTES_US * len(state.recent)
    assert fold(model, state, np.array([too_old]), np.array([999.0])) == state
    revised = fold(model, state, np.array([starts[-1]]), np.array([61.0]))
    assert revised.recent[0] == 61.0 and revised.last_start_us == state.last_start_us
    assert model.predict(revised).point[0] != model.predict(state).point[0]
    with pytest.raises(ForecastError, match="grid"):
        fold(model, state, np.array([starts[-3] + 1]), np.array([1.0]))
