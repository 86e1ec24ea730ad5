"""A `CurveSet` as Arrow IPC bytes and back: how a sweep's tasks receive the curves they shock.

The plan writes the base set to the object store once; each task, in any
process or on any machine, reads the same bytes, so every point of the
sweep starts from exactly the same curves.
"""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from carbon254.curves import CurveSet, HourlyCurve, MonthlyCurve
from carbon254.timeseries.periods import Block

_MONTHLY = pa.schema(
    [
        ("hub", pa.string()),
        ("iso", pa.string()),
        ("as_of", pa.date32()),
        ("quoted_through", pa.date32()),
        ("simulated", pa.bool_()),
        ("month", pa.date32()),
        ("block", pa.string()),
        ("price", pa.float64()),
        ("hours", pa.int64()),
    ]
)
_HOURLY = pa.schema(
    [
        ("hub", pa.string()),
        ("iso", pa.string()),
        ("as_of", pa.date32()),
        ("simulated", pa.bool_()),
        ("start", pa.int64()),
        ("price", pa.float64()),
    ]
)


def _table_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def curve_set_bytes(curves: CurveSet) -> tuple[bytes, bytes]:
    """The monthly and the hourly curves of `curves` as two Arrow IPC streams (prices $/MWh, UTC µs)."""
    monthly: dict[str, list[object]] = {name: [] for name in _MONTHLY.names}
    for hub, curve in curves.monthly.items():
        for i, month in enumerate(curve.months):
            for j, block in enumerate(curve.blocks):
                for name, value in (
                    ("hub", hub),
                    ("iso", curve.iso),
                    ("as_of", curve.as_of),
                    ("quoted_through", curve.quoted_through),
                    ("simulated", curve.simulated),
                    ("month", month),
                    ("block", block.value),
                    ("price", float(curve.prices[i, j])),
                    ("hours", int(curve.hours[i, j])),
                ):
                    monthly[name].append(value)
    hourly = [
        pa.table(
            {
                "hub": pa.array([hub] * len(h.starts), pa.string()),
                "iso": pa.array([h.iso] * len(h.starts), pa.string()),
                "as_of": pa.array([h.as_of] * len(h.starts), pa.date32()),
                "simulated": pa.array([h.simulated] * len(h.starts), pa.bool_()),
                "start": pa.array(h.starts, pa.int64()),
                "price": pa.array(h.prices, pa.float64()),
            },
            schema=_HOURLY,
        )
        for hub, h in curves.hourly.items()
    ]
    hours = pa.concat_tables(hourly) if hourly else _HOURLY.empty_table()
    return _table_bytes(pa.table(monthly, schema=_MONTHLY)), _table_bytes(hours)


def curve_set_of(monthly_bytes: bytes, hourly_bytes: bytes) -> CurveSet:
    """The `CurveSet` that `curve_set_bytes` wrote, exactly (same months, blocks, hours, prices)."""
    monthly = ipc.open_stream(monthly_bytes).read_all()
    hourly = ipc.open_stream(hourly_bytes).read_all()
    curves: dict[str, MonthlyCurve] = {}
    for hub in dict.fromkeys(monthly.column("hub").to_pylist()):
        rows = monthly.filter(pc.equal(monthly.column("hub"), hub))
        blocks = tuple(Block(b) for b in dict.fromkeys(rows.column("block").to_pylist()))
        months: tuple[date, ...] = tuple(dict.fromkeys(rows.column("month").to_pylist()))
        shape = (len(months), len(blocks))
        first = rows.slice(0, 1).to_pylist()[0]
        curves[hub] = MonthlyCurve(
            iso=first["iso"],
            hub=hub,
            as_of=first["as_of"],
            months=months,
            blocks=blocks,
            prices=rows.column("price").to_numpy().reshape(shape).copy(),
            hours=rows.column("hours").to_numpy().reshape(shape).astype(np.int64),
            quoted_through=first["quoted_through"],
            simulated=first["simulated"],
        )
    hours: dict[str, HourlyCurve] = {}
    for hub in dict.fromkeys(hourly.column("hub").to_pylist()):
        rows = hourly.filter(pc.equal(hourly.column("hub"), hub))
        first = rows.slice(0, 1).to_pylist()[0]
        hours[hub] = HourlyCurve(
            iso=first["iso"],
            hub=hub,
            as_of=first["as_of"],
            starts=rows.column("start").to_numpy().copy(),
            prices=rows.column("price").to_numpy().copy(),
            simulated=first["simulated"],
        )
    return CurveSet(monthly=curves, hourly=hours)
