"""Replays: the history a scenario needs, the event's moves against its baseline, and missing history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

from carbon254.scenarios.engine import apply_scenario
from carbon254.scenarios.loading import load_scenario
from carbon254.scenarios.replay import HistoryNeed, MissingHistory, history_needs, list_presets

from .curves import curve_set, hourly_curve, local_hours

HUB = "HB_NORTH"
CUSTOM = """\
name: r
steps:
  - type: replay
    iso: ERCOT
    location: HB_NORTH
    market: DAM
    start: 2021-02-15
    end: 2021-02-16
    mode: {mode}
    apply_from: 2026-02-10
"""


def _history(event_price: dict[tuple[int, int], float]) -> pa.Table:
    """Hourly ERCOT prices: 20 $/MWh over the 14 baseline days, then the event days (60 unless overridden)."""
    zone = ZoneInfo("US/Central")
    starts, prices = [], []
    for d in range(16):
        day = date(2021, 2, 1) + timedelta(days=d)
        for h in range(24):
            local = datetime(day.year, day.month, day.day, h, tzinfo=zone)
            starts.append(local.astimezone(UTC))
            prices.append(20.0 if d < 14 else event_price.get((d - 14, h), 60.0))
    return pa.table({"interval_start": pa.array(starts, pa.timestamp("us", "UTC")), "lmp": pa.array(prices)})


def test_presets_and_needs() -> None:
    names = [p.name for p in list_presets()]
    assert names == ["caiso_heat_2020", "elliott", "polar_vortex_2014", "uri"]
    scenario = load_scenario(
        "name: u\nsteps:\n  - {type: replay, preset: uri}\n  - {type: replay, preset: uri}\n"
    )
    assert history_needs(scenario) == [
        HistoryNeed("ERCOT", "HB_NORTH", "DAM", date(2021, 1, 30), date(2021, 2, 20))
    ]
    assert history_needs(load_scenario(CUSTOM.format(mode="ratio")))[0].start == date(2021, 2, 1)


@pytest.mark.parametrize(("mode", "day1", "day2_h18"), [("ratio", 3.0, 5.0), ("difference", 40.0, 80.0)])
def test_replay_moves_the_mapped_days(mode: str, day1: float, day2_h18: float) -> None:
    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 2, 1), 1))
    scenario = load_scenario(CUSTOM.format(mode=mode))
    need = history_needs(scenario)[0]
    result = apply_scenario(scenario, base, history={need: _history({(1, 17): 100.0, (1, 3): 20.0})})
    _, local = local_hours("ERCOT", date(2026, 2, 1), 1)
    day = (local // (86_400 * 10**6)).astype("datetime64[D]")
    hour = (local // 3_600_000_000) % 24
    before, after = base.hourly[HUB].prices, result.curves.hourly[HUB].prices
    moved = after / before if mode == "ratio" else after - before
    neutral = 1.0 if mode == "ratio" else 0.0
    first = day == np.datetime64("2026-02-10")
    second = day == np.datetime64("2026-02-11")
    np.testing.assert_allclose(moved[first], day1)
    np.testing.assert_allclose(moved[second & (hour == 17)], day2_h18)  # hour ending 18
    np.testing.assert_allclose(moved[second & (hour == 3)], neutral)
    np.testing.assert_allclose(moved[~first & ~second], neutral)
    assert result.curves.monthly[HUB].prices[0, 0] > 50.0


def test_missing_history_names_event_location_market_and_dates() -> None:
    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 2, 1), 1))
    scenario = load_scenario("name: u\nsteps:\n  - {type: replay, preset: uri}\n")
    with pytest.raises(MissingHistory) as caught:
        apply_scenario(scenario, base)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "replay uri" in message and "ERCOT HB_NORTH DAM 2021-01-30..2021-02-20" in message
    empty = pa.table(
        {"interval_start": pa.array([], pa.timestamp("us", "UTC")), "lmp": pa.array([], pa.float64())}
    )
    with pytest.raises(MissingHistory, match="not in the store"):
        apply_scenario(scenario, base, history={history_needs(scenario)[0]: empty})


def test_default_apply_from_is_the_same_day_in_the_first_curve_year() -> None:
    base = curve_set(hourly_curve("ERCOT", HUB, date(2026, 1, 1), 14))
    scenario = load_scenario(CUSTOM.format(mode="ratio").replace("    apply_from: 2026-02-10\n", ""))
    result = apply_scenario(scenario, base, history={history_needs(scenario)[0]: _history({})})
    _, local = local_hours("ERCOT", date(2026, 1, 1), 14)
    day = (local // (86_400 * 10**6)).astype("datetime64[D]")
    moved = result.curves.hourly[HUB].prices / base.hourly[HUB].prices
    on_event = (day == np.datetime64("2026-02-15")) | (day == np.datetime64("2026-02-16"))
    np.testing.assert_allclose(moved[on_event], 3.0)
    np.testing.assert_allclose(moved[~on_event], 1.0)
