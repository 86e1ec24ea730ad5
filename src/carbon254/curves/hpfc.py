"""The hourly price forward curve (HPFC): a monthly block curve spread over its delivery hours.

Every real delivery hour of the curve's months gets a price: the month's
block price shaped by `ShapeFactors` and rescaled so that the average of each
(month, base block) over its hours equals the monthly price exactly. The base
blocks partition the hours: onpeak + 2x16 + 7x8 when the curve has them,
else onpeak + offpeak, else atc. Hours are generated on the ISO's market
clock (23 on a spring-forward day, 25 on a fall-back day) and the first
month starts on the day that makes its block hour counts equal the curve's
`hours` (a balance-of-month curve covers only its remaining days).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbon254.curves.model import HourlyCurve, MonthlyCurve
from carbon254.curves.shape import (
    HourCalendar,
    ShapeFactors,
    flat_shape,
    hour_calendar,
)
from carbon254.isos import iso_info
from carbon254.timeseries._clock import DAY, HOUR, Micros, clock_for
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

Index = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

# A (month, block) whose mean factor is below this is shaped additively: a
# ratio over a near-zero mean would blow the hours apart.
_MIN_MEAN_FACTOR = 0.05

_PARTITIONS: tuple[tuple[Block, ...], ...] = (
    (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8),
    (Block.ONPEAK, Block.OFFPEAK),
    (Block.ATC,),
)
_EPOCH_MONTH = np.datetime64("1970-01", "M")
# The finest blocks, as `hpfc_table` labels hours.
_FINEST = (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)


class CurveShapeError(ValueError):
    """A monthly curve the HPFC cannot be built from: names the month or block at fault."""


def base_blocks(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """The blocks of `blocks` that partition every hour: onpeak+2x16+7x8, onpeak+offpeak or atc."""
    for partition in _PARTITIONS:
        if all(b in blocks for b in partition):
            return partition
    named = ", ".join(b.value for b in blocks)
    raise CurveShapeError(
        f"curve blocks ({named}) cover no full set of hours: need onpeak+offpeak, onpeak+2x16+7x8 or atc"
    )


def _month_number(month: date) -> int:
    """Months since 1970-01."""
    return (month.year - 1970) * 12 + month.month - 1


def _validate(curve: MonthlyCurve) -> None:
    n, nb = len(curve.months), len(curve.blocks)
    if n == 0:
        raise CurveShapeError(f"the {curve.hub} curve has no months")
    if curve.prices.shape != (n, nb) or curve.hours.shape != (n, nb):
        raise CurveShapeError(
            f"the {curve.hub} curve's prices {curve.prices.shape} and hours {curve.hours.shape} "
            f"must both be (months, blocks) = {(n, nb)}"
        )
    numbers = [_month_number(m) for m in curve.months]
    for i, month in enumerate(curve.months):
        if month.day != 1:
            raise CurveShapeError(f"curve month {month} is not the first of a month")
        if numbers[i] != numbers[0] + i:
            raise CurveShapeError(f"curve month {month:%Y-%m} does not follow {curve.months[i - 1]:%Y-%m}")
    bad = np.argwhere(~np.isfinite(curve.prices))
    if len(bad):
        i, j = bad[0]
        raise CurveShapeError(f"curve price {curve.months[i]:%Y-%m} {curve.blocks[j].value} is not finite")


def _hours_of(zone: str, first_day: int, end_day: int) -> Micros:
    """UTC starts of every real hour of local days [first_day, end_day) (days since 1970-01-01)."""
    around = np.array([first_day * DAY, end_day * DAY], dtype=np.int64)
    clock = clock_for(zone, around)
    bounds = clock.to_utc(around)
    lo, hi = int(bounds[0]), int(bounds[1])
    starts = clock.hour_starts(lo, hi)
    kept: Micros = starts[starts < hi]
    return kept


def _first_days(
    curve: MonthlyCurve, calendar: HourCalendar, masks: list[Mask], first_day: int, days: int
) -> Index:
    """The first covered local day of each month, so that its block hours equal `curve.hours`.

    A month whose hours match the full month starts on its first day; one
    with fewer hours (a balance of month) starts on the day from which the
    remaining days hold exactly the curve's hours in every block.
    """
    offset = calendar.day - first_day
    per_day = np.stack([np.bincount(offset[m], minlength=days) for m in masks], axis=1)
    calendar_days = np.arange(first_day, first_day + days).astype("datetime64[D]")
    month_of_day = (calendar_days.astype("datetime64[M]") - _EPOCH_MONTH).astype(np.int64)
    month_of_day -= _month_number(curve.months[0])
    starts = np.empty(len(curve.months), dtype=np.int64)
    bounds = np.searchsorted(month_of_day, np.arange(len(curve.months) + 1))
    for i, month in enumerate(curve.months):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        # Hours from each day of the month to its end, per block.
        remaining = np.cumsum(per_day[lo:hi][::-1], axis=0)[::-1]
        match = np.flatnonzero((remaining == curve.hours[i]).all(axis=1))
        if len(match) == 0:
            wanted = ", ".join(
                f"{b.value} {int(h)}" for b, h in zip(curve.blocks, curve.hours[i], strict=True)
            )
            full = ", ".join(f"{b.value} {int(h)}" for b, h in zip(curve.blocks, remaining[0], strict=True))
            raise CurveShapeError(
                f"curve month {month:%Y-%m}: hours ({wanted}) match no first delivery day "
                f"(the whole month has {full})"
            )
        starts[i] = first_day + lo + int(match[0])
    return starts


def build_hpfc(curve: MonthlyCurve, shape: ShapeFactors | None = None) -> HourlyCurve:
    """The hourly price forward curve of a monthly block curve ($/MWh per UTC delivery hour).

    Each delivery hour's price is its (month, base block) price times the
    hour's shape factor, divided by the block's mean factor, so the average
    over the block's hours equals the monthly price to rounding; where the
    shape's month is additive, the factor's mean is near zero or the price
    is not positive, it is the price plus the hour's offset minus the
    block's mean offset instead. `shape=None` spreads prices flat. Hours
    are the real hours of the ISO's market clock (UTC starts in int64
    microseconds), from the first covered day of the first month (derived
    from `curve.hours`) to the end of the last month. Raises CurveShapeError
    for a malformed curve or hours no day range can give, ValueError for a
    shape of another ISO.
    """
    _validate(curve)
    shape = shape if shape is not None else flat_shape(curve.iso)
    if shape.iso.upper() != curve.iso.upper():
        raise ValueError(f"shape is for {shape.iso} but the {curve.hub} curve is {curve.iso}")
    base = base_blocks(curve.blocks)
    zone = iso_info(curve.iso).timezone
    first = np.datetime64(curve.months[0], "D").astype(np.int64)
    last = curve.months[-1]
    end_month = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    end = np.datetime64(end_month, "D").astype(np.int64)
    first_day, days = int(first), int(end - first)

    starts = _hours_of(zone, first_day, first_day + days)
    calendar = hour_calendar(starts, curve.iso)
    masks = [block_mask_local(calendar.local, b) for b in curve.blocks]
    cover = _first_days(curve, calendar, masks, first_day, days)
    month = calendar.month - _month_number(curve.months[0])
    keep = calendar.day >= cover[month]
    if not keep.all():
        starts, month = starts[keep], month[keep]
        calendar = HourCalendar(
            local=calendar.local[keep],
            day=calendar.day[keep],
            month=calendar.month[keep],
            hour_ending=calendar.hour_ending[keep],
            day_type=calendar.day_type[keep],
        )
        masks = [m[keep] for m in masks]

    nbase = len(base)
    which = np.zeros(len(starts), dtype=np.int64)
    for j, block in enumerate(base[1:], start=1):
        which[masks[curve.blocks.index(block)]] = j
    group = month * nbase + which
    groups = len(curve.months) * nbase
    target = curve.prices[:, [curve.blocks.index(b) for b in base]].reshape(-1)

    cell = calendar.cell
    factor = shape.factors.reshape(-1)[cell]
    offset = shape.offsets.reshape(-1)[cell]
    count = np.maximum(np.bincount(group, minlength=groups), 1)
    mean_factor = np.bincount(group, factor, minlength=groups) / count
    mean_offset = np.bincount(group, offset, minlength=groups) / count
    month_of_year = (np.arange(groups) // nbase + _month_number(curve.months[0])) % 12
    ratio = shape.multiplicative[month_of_year] & (target > 0) & (mean_factor > _MIN_MEAN_FACTOR)
    scale = np.divide(target, mean_factor, out=np.zeros(groups), where=ratio)
    shift = np.where(ratio, 0.0, target - mean_offset)
    prices = np.where(ratio[group], factor * scale[group], offset + shift[group])
    # One correction pass removes the last rounding of the sums, so block means match to ~1e-15.
    prices += (target - np.bincount(group, prices, minlength=groups) / count)[group]
    return HourlyCurve(
        iso=curve.iso,
        hub=curve.hub,
        as_of=curve.as_of,
        starts=starts,
        prices=prices,
        simulated=curve.simulated,
    )


def hpfc_table(h: HourlyCurve, tz: str | None = None) -> pa.Table:
    """An HPFC as a table: interval_start, interval_end (timestamps), price ($/MWh), block, hour_ending.

    Timestamps carry zone `tz` (UTC when None; the instants are the same
    either way). `block` is the finest block of the hour on the ISO's market
    clock (onpeak, 2x16 or 7x8; offpeak is 2x16 + 7x8) and `hour_ending`
    its local hour-ending 1..24.
    """
    zone = tz or "UTC"
    calendar = hour_calendar(h.starts, h.iso)
    label = np.full(len(h.starts), Block.ONPEAK.value, dtype=object)
    for block in _FINEST[1:]:
        label[block_mask_local(calendar.local, block)] = block.value
    stamp = pa.timestamp("us", zone)
    return pa.table(
        {
            "interval_start": pa.array(h.starts, type=pa.int64()).cast(stamp),
            "interval_end": pa.array(h.starts + HOUR, type=pa.int64()).cast(stamp),
            "price": pa.array(h.prices, type=pa.float64()),
            "block": pa.array(label, type=pa.string()).dictionary_encode(),
            "hour_ending": pa.array(calendar.hour_ending + 1, type=pa.int8()),
        }
    )
