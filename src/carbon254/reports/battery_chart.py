"""A battery schedule as a chart: energy price, net dispatch (with reserve awards) and state of charge.

Three panels on one local-time axis, for a window of the schedule (a week
by default: a year of hourly bars is unreadable), so a developer can see
the battery charge in the cheap hours, discharge in the dear ones and hold
headroom for reserves.
"""

from __future__ import annotations

from io import BytesIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from carbon254.battery.asset import BatteryError
from carbon254.battery.market import US_PER_HOUR, MarketPrices, ReserveDirection
from carbon254.battery.schedule import Schedule

DEFAULT_WINDOW_US = 7 * 24 * US_PER_HOUR

_PRICE_COLOR = "#2471a3"
_CHARGE_COLOR = "#17a589"
_DISCHARGE_COLOR = "#c0392b"
_SOC_COLOR = "#7d3c98"
_RESERVE_COLORS = ("#f5b041", "#85c1e9", "#bb8fce", "#82e0aa", "#f1948a", "#aab7b8")


def window_slice(schedule: Schedule, start_us: int | None = None, end_us: int | None = None) -> slice:
    """The schedule's intervals starting in [start_us, end_us) (µs UTC); defaults: its start, 7 days on.

    Raises `BatteryError` naming `start_us`/`end_us` when the window is
    reversed or holds no interval.
    """
    starts = np.asarray(schedule.interval_start, dtype=np.int64)
    if len(starts) == 0:
        raise BatteryError("schedule: no intervals to draw")
    first = int(starts[0]) if start_us is None else start_us
    stop = first + DEFAULT_WINDOW_US if end_us is None else end_us
    if stop <= first:
        raise BatteryError(f"start_us/end_us: the window ends ({stop}) at or before it starts ({first})")
    lo = int(np.searchsorted(starts, first, side="left"))
    hi = int(np.searchsorted(starts, stop, side="left"))
    if hi <= lo:
        raise BatteryError(f"start_us/end_us: no interval of the schedule starts in [{first}, {stop})")
    return slice(lo, hi)


def battery_chart(
    schedule: Schedule,
    prices: MarketPrices | None,
    title: str,
    tz: str,
    start_us: int | None = None,
    end_us: int | None = None,
) -> Figure:
    """A three-panel figure of a schedule window in local time `tz` (IANA).

    Top: energy price ($/MWh, from `prices`, which must be on the
    schedule's grid; a note when None). Middle: net dispatch (MW, bars,
    discharge positive, charge negative), reserve awards stacked lightly
    behind it (raise-direction products up, lower-only products down when
    `prices` says which way they go). Bottom: state of charge after each
    interval (MWh). The window is the intervals starting in
    [`start_us`, `end_us`) (µs UTC; default: the first 7 days).
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise BatteryError(f"tz: {tz!r} is not an IANA time zone") from error
    if prices is not None and not np.array_equal(prices.interval_start, schedule.interval_start):
        raise BatteryError("prices: their intervals are not the schedule's")
    window = window_slice(schedule, start_us, end_us)
    starts = np.asarray(schedule.interval_start[window], dtype=np.int64)
    step_days = schedule.interval_hours / 24.0
    # Matplotlib's date numbers are days since 1970-01-01 UTC; the locator and formatter show them in `tz`.
    x = np.asarray(date2num(starts.astype("datetime64[us]")), dtype=np.float64)  # type: ignore[no-untyped-call]
    ends = x + step_days

    # A bare Figure (no pyplot): no global backend state, safe on a server's worker threads.
    figure = Figure(figsize=(11, 8), dpi=110)
    price_axes, dispatch_axes, soc_axes = figure.subplots(3, 1, sharex=True, height_ratios=(1, 1.3, 1))

    if prices is not None:
        # Each price holds for its interval: a step from its start to the next.
        energy = np.asarray(prices.energy[window], dtype=np.float64)
        price_axes.step(
            np.append(x, ends[-1]), np.append(energy, energy[-1]), where="post", color=_PRICE_COLOR
        )
    else:
        price_axes.text(0.5, 0.5, "no prices given", transform=price_axes.transAxes, ha="center")
    price_axes.set_ylabel("energy price ($/MWh)")

    _reserve_bars(dispatch_axes, schedule, prices, window, x, step_days)
    net = np.asarray(schedule.discharge_mw[window] - schedule.charge_mw[window], dtype=np.float64)
    colors = np.where(net >= 0, _DISCHARGE_COLOR, _CHARGE_COLOR).tolist()
    dispatch_axes.bar(x, net, width=step_days, align="edge", color=colors, label="net dispatch", zorder=2)
    dispatch_axes.axhline(0.0, color="#555555", linewidth=0.6)
    dispatch_axes.set_ylabel("net dispatch (MW)")
    # One bar series in two colours: the legend names the colours, then the reserve awards.
    awards = [c for c in dispatch_axes.containers if c.get_label() != "net dispatch"]
    keys = [Patch(color=_DISCHARGE_COLOR, label="discharge"), Patch(color=_CHARGE_COLOR, label="charge")]
    dispatch_axes.legend(handles=[*keys, *awards], loc="upper left", fontsize=8, ncols=4)

    # The SOC is the state after each interval: drawn at the interval's end.
    soc_axes.plot(ends, np.asarray(schedule.soc_mwh[window], dtype=np.float64), color=_SOC_COLOR)
    soc_axes.set_ylabel("state of charge (MWh)")
    soc_axes.set_xlabel(f"time ({zone.key})")

    locator = AutoDateLocator(tz=zone)  # type: ignore[no-untyped-call]
    soc_axes.xaxis.set_major_locator(locator)
    soc_axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=zone))  # type: ignore[no-untyped-call]
    soc_axes.set_xlim(float(x[0]), float(ends[-1]))
    for axes in (price_axes, dispatch_axes, soc_axes):
        axes.grid(True, alpha=0.3)
    price_axes.set_title(title)
    return figure


def battery_png(
    schedule: Schedule,
    prices: MarketPrices | None,
    title: str,
    tz: str,
    start_us: int | None = None,
    end_us: int | None = None,
) -> bytes:
    """`battery_chart` as PNG bytes."""
    figure = battery_chart(schedule, prices, title, tz, start_us, end_us)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _reserve_bars(
    axes: Axes,
    schedule: Schedule,
    prices: MarketPrices | None,
    window: slice,
    x: npt.NDArray[np.float64],
    step_days: float,
) -> None:
    """Reserve awards (MW) as light stacked bars: raise products above zero, lower-only products below."""
    directions = {p.name: p.direction for p in prices.products} if prices is not None else {}
    up = np.zeros(len(x))
    down = np.zeros(len(x))
    for i, (product, award) in enumerate(schedule.reserve_mw.items()):
        mw = np.asarray(award[window], dtype=np.float64)
        lowers_only = directions.get(product) is ReserveDirection.DOWN
        base = down if lowers_only else up
        height = -mw if lowers_only else mw
        axes.bar(
            x,
            height,
            width=step_days,
            align="edge",
            bottom=base.copy(),
            color=_RESERVE_COLORS[i % len(_RESERVE_COLORS)],
            alpha=0.35,
            label=f"{product} award",
            zorder=1,
        )
        base += height
