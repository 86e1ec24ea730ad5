"""The battery chart: three labelled panels, the window it draws, local time, PNG bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.dates import date2num, num2date

from carbon254.battery import BatteryError
from carbon254.battery.market import MarketPrices, ReserveDirection, ReservePrices, ReserveProduct
from carbon254.battery.schedule import Schedule
from carbon254.reports.battery_chart import battery_chart, battery_png

US_PER_HOUR = 3_600_000_000
START = datetime(2024, 7, 1, 5, tzinfo=UTC)  # midnight in Chicago
START_US = int(START.timestamp()) * 1_000_000
HOURS = 24 * 10


def _schedule(reserves: bool = False) -> Schedule:
    rng = np.random.default_rng(11)
    starts = START_US + np.arange(HOURS, dtype=np.int64) * US_PER_HOUR
    net = rng.uniform(-100, 100, HOURS)
    awards = {"REGUP": rng.uniform(0, 10, HOURS), "REGDN": rng.uniform(0, 10, HOURS)} if reserves else {}
    return Schedule(
        interval_start=starts,
        interval_hours=1.0,
        charge_mw=np.clip(-net, 0, None),
        discharge_mw=np.clip(net, 0, None),
        soc_mwh=rng.uniform(0, 400, HOURS),
        cash={"energy": rng.normal(0, 100, HOURS)},
        reserve_mw=awards,
    )


def _prices(schedule: Schedule) -> MarketPrices:
    rng = np.random.default_rng(5)
    up = ReserveProduct("REGUP", ReserveDirection.UP, 1.0, 0.1)
    down = ReserveProduct("REGDN", ReserveDirection.DOWN, 1.0, 0.1)
    return MarketPrices(
        schedule.interval_start,
        1.0,
        rng.normal(40, 25, HOURS),
        (ReservePrices(up, rng.uniform(0, 20, HOURS)), ReservePrices(down, rng.uniform(0, 20, HOURS))),
    )


def _bars(container: BarContainer) -> tuple[list[float], list[float]]:
    """Each bar's left edge (Matplotlib date number) and height."""
    return [bar.get_x() for bar in container.patches], [bar.get_height() for bar in container.patches]


def _net_bars(axes: Axes) -> BarContainer:
    (net,) = [c for c in axes.containers if c.get_label() == "net dispatch"]
    assert isinstance(net, BarContainer)
    return net


def test_png_bytes() -> None:
    schedule = _schedule()
    png = battery_png(schedule, _prices(schedule), "HB_SOUTH 100 MW / 400 MWh", "America/Chicago")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 10_000


def test_three_labelled_panels_in_local_time() -> None:
    schedule = _schedule()
    figure = battery_chart(schedule, _prices(schedule), "HB_SOUTH", "America/Chicago")
    price, dispatch, soc = figure.axes
    assert len(figure.axes) == 3
    assert price.get_ylabel() == "energy price ($/MWh)"
    assert dispatch.get_ylabel() == "net dispatch (MW)"
    assert soc.get_ylabel() == "state of charge (MWh)"
    assert soc.get_xlabel() == "time (America/Chicago)"
    assert price.get_title() == "HB_SOUTH"
    # Daily ticks fall on Chicago's midnights (05:00 UTC in July), not on UTC's.
    ticks = soc.xaxis.get_majorticklocs()
    assert len(ticks) >= 3
    utc_hours = {num2date(t).astimezone(UTC).hour for t in ticks}
    assert utc_hours == {5}


def test_the_default_window_is_the_first_week() -> None:
    schedule = _schedule()
    prices = _prices(schedule)
    figure = battery_chart(schedule, prices, "", "America/Chicago")
    price, dispatch, soc = figure.axes
    left, heights = _bars(_net_bars(dispatch))
    assert len(left) == 7 * 24
    expected_x = date2num(schedule.interval_start[: 7 * 24].astype("datetime64[us]"))
    np.testing.assert_allclose(left, expected_x)
    np.testing.assert_allclose(heights, (schedule.discharge_mw - schedule.charge_mw)[: 7 * 24])
    np.testing.assert_allclose(soc.lines[0].get_ydata(), schedule.soc_mwh[: 7 * 24])
    # The price step holds each interval's price, the last repeated to close the final step.
    np.testing.assert_allclose(price.lines[0].get_ydata()[:-1], prices.energy[: 7 * 24])


def test_a_given_window_selects_its_intervals() -> None:
    schedule = _schedule()
    start = START_US + 48 * US_PER_HOUR
    end = START_US + 54 * US_PER_HOUR + 1  # intervals starting at hours 48 to 54, both included
    figure = battery_chart(schedule, None, "", "America/Chicago", start_us=start, end_us=end)
    _, dispatch, soc = figure.axes
    left, heights = _bars(_net_bars(dispatch))
    assert len(left) == 7
    np.testing.assert_allclose(heights, (schedule.discharge_mw - schedule.charge_mw)[48:55])
    np.testing.assert_allclose(soc.lines[0].get_ydata(), schedule.soc_mwh[48:55])
    lo, hi = soc.get_xlim()
    assert lo == pytest.approx(date2num(np.datetime64(start, "us")))
    assert hi == pytest.approx(date2num(np.datetime64(START_US + 55 * US_PER_HOUR, "us")))
    # A start alone runs a week on, or to the schedule's end.
    _, dispatch, _ = battery_chart(schedule, None, "", "UTC", start_us=START_US + 200 * US_PER_HOUR).axes
    assert len(_net_bars(dispatch).patches) == HOURS - 200


def test_reserve_awards_are_stacked_by_direction() -> None:
    schedule = _schedule(reserves=True)
    figure = battery_chart(schedule, _prices(schedule), "", "America/Chicago")
    dispatch = figure.axes[1]
    by_label = {c.get_label(): c for c in dispatch.containers if isinstance(c, BarContainer)}
    assert set(by_label) == {"net dispatch", "REGUP award", "REGDN award"}
    _, up = _bars(by_label["REGUP award"])
    _, down = _bars(by_label["REGDN award"])
    np.testing.assert_allclose(up, schedule.reserve_mw["REGUP"][: 7 * 24])
    np.testing.assert_allclose(down, -schedule.reserve_mw["REGDN"][: 7 * 24])


def test_bad_windows_and_zones_name_the_field() -> None:
    schedule = _schedule()
    with pytest.raises(BatteryError, match="start_us"):
        battery_chart(schedule, None, "", "UTC", start_us=START_US - 10 * US_PER_HOUR, end_us=START_US)
    with pytest.raises(BatteryError, match="end_us"):
        battery_chart(schedule, None, "", "UTC", start_us=START_US + US_PER_HOUR, end_us=START_US)
    with pytest.raises(BatteryError, match="tz"):
        battery_chart(schedule, None, "", "Mars/Olympus")
    with pytest.raises(BatteryError, match="prices"):
        battery_chart(schedule, MarketPrices.energy_only(np.zeros(HOURS), 1.0), "", "UTC")
