"""ERCOT real-time ORDC price adders ($/MWh) per 5-minute interval.

The reserve adder is the shortage adder already inside the simulated ERCOT
real-time energy price, so adders are zero (to the cent) most of the time and
rise exactly when real-time prices spike. The reliability deployment adder is
zero except during rare afternoon deployment events.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from carbon254.schema import ORDC_ADDER_SCHEMA
from carbon254.simulate.clock import FIVE_MINUTES
from carbon254.simulate.columns import constant, floats, null_timestamps, timestamps
from carbon254.simulate.rounding import from_cents, to_cents
from carbon254.simulate.system import System


def ordc_table(system: System, start_us: int, end_us: int) -> Iterator[pa.Table]:
    """One `ordc_adder` batch for the block's 5-minute intervals in [start_us, end_us).

    Only an ISO whose model has ORDC adders (ERCOT) gets any rows.
    """
    if not system.model.ordc_adders:
        return
    five = system.physical.five
    inside = (five >= start_us) & (five < end_us)
    if not inside.any():
        return
    start = five[inside]
    rows = start.size
    yield pa.Table.from_arrays(
        [
            constant(system.model.iso.value, rows),
            timestamps(start),
            timestamps(start + FIVE_MINUTES),
            floats(from_cents(to_cents(system.energy.rt_shortage[inside]))),
            floats(from_cents(to_cents(system.energy.rt_reliability[inside]))),
            timestamps(start + FIVE_MINUTES),
            null_timestamps(rows),
        ],
        schema=ORDC_ADDER_SCHEMA,
    )
