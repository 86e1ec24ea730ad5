"""Day-ahead forecasts against actual prices as a chart: one line per model, the P10-P90 band shaded.

The x axis is the market's local clock (the forecasting grid: delivery day
and hour slot), over a window of the test (two weeks by default: a year of
hourly lines is unreadable). Hours filled in at DST changes are drawn but
the actual price line breaks there, since nothing was published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import numpy as np
import numpy.typing as npt
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from carbon254.forecast import BacktestResult, ForecastError
from carbon254.forecast.days import HOURS, Days, Floats, Mask

DEFAULT_DAYS = 14
_ACTUAL_COLOR = "#1c2833"
_BAND_COLOR = "#85c1e9"
_LINE_COLORS = ("#c0392b", "#2471a3", "#17a589", "#d68910", "#7d3c98", "#566573")


@dataclass(frozen=True, slots=True)
class ForecastLine:
    """One model's forecasts (days, 24) $/MWh and the legend label."""

    label: str
    values: Floats


@dataclass(frozen=True, slots=True)
class Band:
    """A prediction band: lower and upper quantiles (days, 24) $/MWh, and its legend label."""

    lower: Floats
    upper: Floats
    label: str = "P10-P90"


def _window(days: Days, first_day: date | None, n_days: int) -> slice:
    if n_days < 1:
        raise ForecastError(f"n_days: {n_days}; need at least 1")
    if len(days) == 0:
        raise ForecastError("days: nothing to draw")
    start = 0
    if first_day is not None:
        wanted = np.datetime64(first_day, "D")
        start = int(np.searchsorted(days, wanted))
        if start >= len(days) or days[start] != wanted:
            raise ForecastError(f"first_day: {wanted} is not one of the days ({days[0]} to {days[-1]})")
    return slice(start, min(start + n_days, len(days)))


def forecast_chart(
    days: Days,
    actual: Floats,
    lines: Sequence[ForecastLine],
    *,
    band: Band | None = None,
    observed: Mask | None = None,
    title: str = "",
    first_day: date | None = None,
    n_days: int = DEFAULT_DAYS,
) -> Figure:
    """A figure of actual prices ($/MWh) and forecasts over `n_days` local days from `first_day`.

    `days` (m,) are the delivery dates and every array is (m, 24). `band`
    shades a prediction interval; `observed` False marks filled-in hours
    (the actual line breaks there). Raises `ForecastError` for shapes that
    do not match or a window outside the days.
    """
    m = len(days)
    arrays: list[tuple[str, npt.NDArray[np.generic]]] = [("actual", actual)]
    arrays += [(f"forecast {line.label}", line.values) for line in lines]
    if band is not None:
        arrays += [("band lower", band.lower), ("band upper", band.upper)]
    if observed is not None:
        arrays.append(("observed", observed))
    for name, values in arrays:
        if values.shape != (m, HOURS):
            raise ForecastError(f"{name}: shape {values.shape}, expected ({m}, {HOURS})")
    window = _window(days, first_day, n_days)
    shown = days[window]
    # Local wall-clock hours of the grid: delivery day plus hour slot.
    times = (shown.astype("datetime64[h]")[:, None] + np.arange(HOURS)).reshape(-1)

    def flat(values: Floats) -> Floats:
        return np.asarray(values[window], dtype=np.float64).reshape(-1)

    # A bare Figure (no pyplot): no global backend state, safe on a server's worker threads.
    figure = Figure(figsize=(12, 5.5), dpi=110)
    axes = figure.subplots()
    if band is not None:
        axes.fill_between(
            times,
            flat(band.lower),
            flat(band.upper),
            color=_BAND_COLOR,
            alpha=0.45,
            label=band.label,
            step=None,
        )
    real = flat(actual)
    if observed is not None:
        real = np.where(np.asarray(observed[window]).reshape(-1), real, np.nan)
    axes.plot(times, real, color=_ACTUAL_COLOR, linewidth=1.6, label="actual")
    for i, line in enumerate(lines):
        axes.plot(
            times,
            flat(line.values),
            color=_LINE_COLORS[i % len(_LINE_COLORS)],
            linewidth=1.1,
            label=line.label,
        )
    axes.set_ylabel("price ($/MWh)")
    axes.set_xlabel("delivery day and hour (market time)")
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.set_xlim(times[0], times[-1] + np.timedelta64(1, "h"))
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, ncols=4)
    axes.set_title(title or f"Day-ahead forecasts, {shown[0]} to {shown[-1]}")
    return figure


def backtest_chart(
    results: Sequence[BacktestResult],
    *,
    title: str = "",
    first_day: date | None = None,
    n_days: int = DEFAULT_DAYS,
) -> Figure:
    """`forecast_chart` of backtests over the same days: actuals of the first, each model's forecast, and
    the P10-P90 band (lowest to highest quantile) of the first result that has quantiles."""
    if not results:
        raise ForecastError("results: give at least one backtest")
    head = results[0]
    for r in results[1:]:
        if not np.array_equal(r.days, head.days):
            raise ForecastError(f"results: {r.model} covers other days than {head.model}")
    band = None
    for r in results:
        if r.quantiles is not None:
            lo, hi = r.levels[0], r.levels[-1]
            label = f"{r.model} P{lo * 100:g}-P{hi * 100:g}"
            band = Band(r.quantiles[:, 0], r.quantiles[:, -1], label)
            break
    lines = [ForecastLine(r.model, r.forecast) for r in results]
    return forecast_chart(
        head.days,
        head.actual,
        lines,
        band=band,
        observed=head.observed,
        title=title,
        first_day=first_day,
        n_days=n_days,
    )


def figure_png(figure: Figure) -> bytes:
    """A figure as PNG bytes."""
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def backtest_png(
    results: Sequence[BacktestResult],
    *,
    title: str = "",
    first_day: date | None = None,
    n_days: int = DEFAULT_DAYS,
) -> bytes:
    """`backtest_chart` as PNG bytes."""
    return figure_png(backtest_chart(results, title=title, first_day=first_day, n_days=n_days))
