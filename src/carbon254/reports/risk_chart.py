"""A VaR backtest as a chart: daily P&L bars, the -VaR line they are judged against, exceedances marked.

One panel over the backtest's days: P&L bars ($; gains and losses in two
colours), the VaR forecast of each day drawn as a loss (-VaR, a step
line), and each day whose loss exceeded its VaR marked, with the count and
the expected count in the legend, so a risk manager sees at a glance
whether and when the model was beaten.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO

import numpy as np
import numpy.typing as npt
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from carbon254.risk.backtest import exceedances
from carbon254.risk.errors import RiskError

Floats = npt.NDArray[np.float64]

_GAIN_COLOR = "#7fb3d5"
_LOSS_COLOR = "#e59866"
_VAR_COLOR = "#1f3a93"
_EXCEEDED_COLOR = "#c0392b"


def backtest_chart(
    days: Sequence[date], pnl: Floats, var: Floats, title: str, confidence: float | None = None
) -> Figure:
    """A figure of daily P&L ($, bars) against -VaR ($, line) with exceedances (P&L < -VaR) marked.

    `days`, `pnl` and `var` are aligned, one per day (VaR positive, as
    forecast for that day). `confidence`, when given, sets the expected
    exceedance count shown in the legend. Raises RiskError for misaligned
    or empty inputs.
    """
    values = np.asarray(pnl, dtype=np.float64)
    forecast = np.asarray(var, dtype=np.float64)
    if len(days) == 0:
        raise RiskError("days: nothing to draw")
    if values.shape != (len(days),) or forecast.shape != (len(days),):
        raise RiskError(
            f"pnl and var: need one value per day ({len(days)}), got {values.shape} and {forecast.shape}"
        )
    hit = exceedances(values, forecast)
    x = np.asarray(date2num(np.array(days, dtype="datetime64[D]")), dtype=np.float64)  # type: ignore[no-untyped-call]

    # A bare Figure (no pyplot): no global backend state, safe on a server's worker threads.
    figure = Figure(figsize=(11, 5), dpi=110)
    axes = figure.subplots()
    colors = np.where(values >= 0, _GAIN_COLOR, _LOSS_COLOR).tolist()
    axes.bar(x, values, width=0.8, color=colors, label="P&L", zorder=2)
    (line,) = axes.step(x, -forecast, where="mid", color=_VAR_COLOR, linewidth=1.2, label="-VaR", zorder=3)
    count = int(hit.sum())
    expected = f", {len(days) * (1 - confidence):.1f} expected" if confidence is not None else ""
    marks = axes.scatter(
        x[hit],
        values[hit],
        marker="v",
        s=42,
        color=_EXCEEDED_COLOR,
        label=f"exceedances ({count}{expected})",
        zorder=4,
    )
    axes.axhline(0.0, color="#555555", linewidth=0.6)
    keys = [Patch(color=_GAIN_COLOR, label="P&L gain"), Patch(color=_LOSS_COLOR, label="P&L loss")]
    # The bars are one series in two colours: the legend names the colours instead.
    axes.legend(handles=[*keys, line, marks], loc="lower left", fontsize=8, ncols=4)
    axes.set_ylabel("P&L ($)")
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.set_xlim(float(x[0]) - 1, float(x[-1]) + 1)
    axes.grid(True, alpha=0.3)
    axes.set_title(title)
    return figure


def backtest_png(
    days: Sequence[date], pnl: Floats, var: Floats, title: str, confidence: float | None = None
) -> bytes:
    """`backtest_chart` as PNG bytes."""
    figure = backtest_chart(days, pnl, var, title, confidence)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
