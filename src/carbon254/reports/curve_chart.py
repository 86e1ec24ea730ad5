"""A forward curve as a PNG: monthly block prices as steps, the HPFC's hours beneath, a scenario beside.

Used by `carbon254 curve chart` and the SDK's `Client.curve_chart`, so a
trader can see a mark (and what a scenario does to it) without a notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import numpy as np
import numpy.typing as npt
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from carbon254.curves.model import HourlyCurve, MonthlyCurve

_BLOCK_COLORS = {
    "onpeak": "#c0392b",
    "offpeak": "#2471a3",
    "atc": "#7d3c98",
    "2x16": "#d68910",
    "7x8": "#17a589",
}


@dataclass(frozen=True, slots=True)
class CurveSeries:
    """One monthly curve to draw and how to label it (the mark, or a scenario of it)."""

    curve: MonthlyCurve
    label: str
    dashed: bool = False


def _month_edges(months: Sequence[date]) -> npt.NDArray[np.datetime64]:
    """The months' first days and the day after the last month, as datetime64 (step edges)."""
    last = months[-1]
    following = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return np.array([*months, following], dtype="datetime64[D]")


def curve_png(series: Sequence[CurveSeries], hourly: HourlyCurve | None = None, *, title: str = "") -> bytes:
    """A PNG (bytes) of monthly block prices ($/MWh) as steps over delivery months, the HPFC's hours in grey.

    The first series sets the title's hub and as-of unless `title` is given.
    """
    if not series:
        raise ValueError("nothing to draw: give at least one curve")
    # A bare Figure (no pyplot): no global backend state, safe on a server's worker threads.
    figure = Figure(figsize=(11, 5.5), dpi=110)
    axes = figure.subplots()
    if hourly is not None and len(hourly.starts):
        times = (hourly.starts // 1_000_000).astype("datetime64[s]")
        axes.plot(times, hourly.prices, color="#b3b6b7", linewidth=0.4, label="HPFC (hourly)", zorder=1)
    for item in series:
        edges = _month_edges(item.curve.months)
        for j, block in enumerate(item.curve.blocks):
            values = np.append(item.curve.prices[:, j], item.curve.prices[-1, j])
            axes.step(
                edges,
                values,
                where="post",
                color=_BLOCK_COLORS.get(block.value, "#333333"),
                linestyle="--" if item.dashed else "-",
                linewidth=1.8,
                label=f"{item.label} {block.value}",
                zorder=2,
            )
    first = series[0].curve
    axes.set_title(title or f"{first.iso} {first.hub} forward curve as of {first.as_of}")
    axes.set_ylabel("$/MWh")
    axes.xaxis.set_major_formatter(DateFormatter("%Y-%m"))  # type: ignore[no-untyped-call]
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, ncols=2)
    if first.simulated:
        axes.text(0.99, 0.01, "simulated", transform=axes.transAxes, ha="right", va="bottom", color="#888")
    figure.autofmt_xdate()
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
