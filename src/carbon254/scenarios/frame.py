"""Where each hour of an hourly curve falls: its local month, block, hour of day, day and year.

Steps act per (month, block) and rebuild monthly block prices from hours, so
every hour is classified once into a month and one of three atomic blocks -
onpeak, 2x16, 7x8 - whose unions are the five standard blocks (offpeak =
2x16 + 7x8, atc = all three). The classification depends only on the hours'
UTC starts and the ISO, so it is cached by the identity of the `starts`
array: scenario results share their base curve's array, and a sweep of a
thousand scenarios classifies the hours once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from carbon254.isos import iso_info
from carbon254.timeseries._clock import DAY, HOUR, clock_for
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

Ints = npt.NDArray[np.int64]
ONPEAK, TWO_BY_16, SEVEN_BY_8 = 0, 1, 2
ATOMS = 3
BLOCK_ATOMS: dict[Block, tuple[int, ...]] = {
    Block.ONPEAK: (ONPEAK,),
    Block.TWO_BY_16: (TWO_BY_16,),
    Block.SEVEN_BY_8: (SEVEN_BY_8,),
    Block.OFFPEAK: (TWO_BY_16, SEVEN_BY_8),
    Block.ATC: (ONPEAK, TWO_BY_16, SEVEN_BY_8),
}
_CACHE_SIZE = 32


def month_code(day: date) -> int:
    """Months since January 1970 of the month containing `day`."""
    return (day.year - 1970) * 12 + day.month - 1


def code_month(code: int) -> date:
    """The first day of the month with `month_code` `code`."""
    return date(1970 + code // 12, code % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class HourFrame:
    """The local calendar of an hourly curve's hours (arrays aligned with the curve's `starts`).

    `months` are the month codes the hours cover, ascending; `month` indexes
    into them; `atom` is onpeak (0), 2x16 (1) or 7x8 (2); `group` is
    month * 3 + atom and `counts` the hours per group; `hour_of_day` is the
    local hour 0-23 (hour-ending minus one); `day` is the local date as days
    since 1970-01-01; `year` the local calendar year.
    """

    months: Ints
    month: Ints
    atom: Ints
    group: Ints
    counts: npt.NDArray[np.float64]
    hour_of_day: Ints
    day: Ints
    year: Ints

    @property
    def n_groups(self) -> int:
        """Number of (month, atom) groups."""
        return len(self.months) * ATOMS


_frames: OrderedDict[int, tuple[Ints, str, HourFrame]] = OrderedDict()


def _build(iso: str, starts: Ints) -> HourFrame:
    local = clock_for(iso_info(iso).timezone, starts).to_local(starts)
    day = local // DAY
    month_codes = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    months, month = np.unique(month_codes, return_inverse=True)
    atom = np.full(len(starts), SEVEN_BY_8, dtype=np.int64)
    atom[block_mask_local(local, Block.TWO_BY_16)] = TWO_BY_16
    atom[block_mask_local(local, Block.ONPEAK)] = ONPEAK
    month = month.astype(np.int64)
    group = month * ATOMS + atom
    counts = np.bincount(group, minlength=len(months) * ATOMS).astype(np.float64)
    year = month_codes // 12 + 1970
    hour_of_day = (local // HOUR) % 24
    for array in (months, month, atom, group, counts, hour_of_day, day, year):
        array.setflags(write=False)  # shared through the cache
    return HourFrame(months, month, atom, group, counts, hour_of_day, day, year)


def hour_frame(iso: str, starts: Ints) -> HourFrame:
    """The frame of hourly `starts` (UTC microseconds) on `iso`'s market clock, cached by array identity.

    Curves are immutable by contract: an array changed in place after its
    first use would keep its old frame.
    """
    key = id(starts)
    hit = _frames.get(key)
    if hit is not None and hit[0] is starts and hit[1] == iso:
        _frames.move_to_end(key)
        return hit[2]
    frame = _build(iso, starts)
    _frames[key] = (starts, iso, frame)  # holding `starts` keeps its id from being reused
    if len(_frames) > _CACHE_SIZE:
        _frames.popitem(last=False)
    return frame
