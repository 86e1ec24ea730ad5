"""Hand-built curves for scenario tests: an hourly curve and the monthly block curve its hours average to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from carbon254.curves.model import CurveSet, HourlyCurve, MonthlyCurve
from carbon254.isos import iso_info
from carbon254.timeseries._clock import HOUR, SECOND, clock_for
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

AS_OF = date(2025, 12, 15)
BLOCKS = (Block.ONPEAK, Block.OFFPEAK, Block.ATC)
Floats = npt.NDArray[np.float64]


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def local_hours(iso: str, first: date, months: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """UTC starts (micros) of the market hours of `months` months from `first`, and their wall clock."""
    zone = ZoneInfo(iso_info(iso).timezone)
    begin = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    last = _add_months(first, months)
    end = datetime(last.year, last.month, 1, tzinfo=zone).astimezone(UTC)
    starts = np.arange(int(begin.timestamp()) * SECOND, int(end.timestamp()) * SECOND, HOUR, dtype=np.int64)
    return starts, clock_for(iso_info(iso).timezone, starts).to_local(starts)


def hourly_curve(
    iso: str,
    hub: str,
    first: date,
    months: int,
    price: Callable[[npt.NDArray[np.int64], npt.NDArray[np.bool_]], Floats] | None = None,
) -> HourlyCurve:
    """An HPFC from `first` for `months` months; `price(local_hour_of_day, onpeak)` gives $/MWh.

    By default onpeak hours are 50 $/MWh and offpeak hours 30 $/MWh.
    """
    starts, local = local_hours(iso, first, months)
    onpeak = block_mask_local(local, Block.ONPEAK)
    hour = (local // HOUR) % 24
    prices = price(hour, onpeak) if price is not None else np.where(onpeak, 50.0, 30.0)
    return HourlyCurve(iso, hub, AS_OF, starts, np.asarray(prices, dtype=np.float64))


def monthly_of(curve: HourlyCurve, blocks: tuple[Block, ...] = BLOCKS) -> MonthlyCurve:
    """The monthly block curve whose prices are the hour averages of `curve` per (month, block)."""
    local = clock_for(iso_info(curve.iso).timezone, curve.starts).to_local(curve.starts)
    month = (local // (24 * HOUR)).astype("datetime64[D]").astype("datetime64[M]")
    codes = np.unique(month)
    prices = np.zeros((len(codes), len(blocks)))
    hours = np.zeros((len(codes), len(blocks)), dtype=np.int64)
    for j, block in enumerate(blocks):
        inside = block_mask_local(local, block)
        for i, code in enumerate(codes):
            here = inside & (month == code)
            hours[i, j] = here.sum()
            prices[i, j] = curve.prices[here].mean()
    months = tuple(date.fromisoformat(str(c) + "-01") for c in codes)
    return MonthlyCurve(
        curve.iso, curve.hub, AS_OF, months, blocks, prices, hours, quoted_through=_add_months(months[-1], 1)
    )


def curve_set(*hourly: HourlyCurve, with_hours: bool = True) -> CurveSet:
    """A curve set of the hubs' monthly curves, with their hourly curves unless `with_hours` is False."""
    return CurveSet(
        monthly={c.hub: monthly_of(c) for c in hourly},
        hourly={c.hub: c for c in hourly} if with_hours else {},
    )
