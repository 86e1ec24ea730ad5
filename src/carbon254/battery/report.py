"""A schedule as tables: the revenue stack by month and the interval-by-interval dispatch.

The revenue stack is what a developer shows an investor: each stream's
dollars by calendar month of the ISO's market time, with the cycling and
degradation beside them. The dispatch table is what a chart or a
spreadsheet reads: one row per interval, MW and MWh, prices beside.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import polars as pl

from carbon254.battery.asset import Battery, BatteryError
from carbon254.battery.market import MarketPrices
from carbon254.battery.schedule import AUX, DA_ENERGY, DEGRADATION, ENERGY, RT_ENERGY, Floats, Schedule

_ENERGY_STREAMS = (ENERGY, DA_ENERGY, RT_ENERGY)
TOTAL = "total"
# The stack's own columns, which a cash stream may not be named.
_STACK_COLUMNS = frozenset(
    {"month", "net_revenue", "discharged_mwh", "charged_mwh", "cycles", "degradation_cost"}
)


def stream_order(schedule: Schedule) -> list[str]:
    """The schedule's cash streams in stack order: energy, reserves (schedule order), aux, degradation."""
    energy = [s for s in _ENERGY_STREAMS if s in schedule.cash]
    tail = [s for s in (AUX, DEGRADATION) if s in schedule.cash]
    reserves = [s for s in schedule.cash if s not in _ENERGY_STREAMS and s not in (AUX, DEGRADATION)]
    return [*energy, *reserves, *tail]


def revenue_stack(schedule: Schedule, battery: Battery, tz: str) -> pl.DataFrame:
    """Revenue by stream ($) per calendar month of `tz` (IANA), with throughput, cycles and degradation cost.

    One row per month holding intervals (by each interval's start in `tz`,
    the ISO's market time; `month` as "YYYY-MM"), then a `total` row. Columns:
    each cash stream ($, in `stream_order`), `net_revenue` ($, every stream
    together), `discharged_mwh` and `charged_mwh` (MWh at the terminals,
    reserve deployment included), `cycles` (discharged over
    `battery.energy_mwh`: equivalent full cycles) and `degradation_cost`
    ($, positive: minus the degradation stream, 0 without one).
    """
    zone = _zone(tz)
    _check_lengths(schedule)
    streams = stream_order(schedule)
    clash = sorted(_STACK_COLUMNS & set(streams))
    if clash:
        raise BatteryError(f"cash stream {clash[0]!r} has the name of a revenue-stack column")
    intervals = pl.DataFrame(
        {
            "interval_start": np.asarray(schedule.interval_start, dtype=np.int64),
            **{s: np.asarray(schedule.cash[s], dtype=np.float64) for s in streams},
            "discharged_mwh": schedule.discharged_mwh,
            "charged_mwh": schedule.charged_mwh,
        }
    ).with_columns(
        pl.from_epoch("interval_start", time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(zone.key)
        .dt.strftime("%Y-%m")
        .alias("month")
    )
    sums = [pl.col(c).sum() for c in (*streams, "discharged_mwh", "charged_mwh")]
    monthly = intervals.group_by("month").agg(sums).sort("month")
    total = monthly.select(sums).with_columns(pl.lit(TOTAL).alias("month"))
    stacked = pl.concat([monthly, total.select(monthly.columns)])
    degradation = pl.col(DEGRADATION) if DEGRADATION in streams else pl.lit(0.0)
    net = pl.sum_horizontal([pl.col(s) for s in streams]) if streams else pl.lit(0.0)
    return stacked.select(
        "month",
        *streams,
        net.cast(pl.Float64).alias("net_revenue"),
        "discharged_mwh",
        "charged_mwh",
        (pl.col("discharged_mwh") / battery.energy_mwh).alias("cycles"),
        (-degradation).cast(pl.Float64).alias("degradation_cost"),
    )


def dispatch_table(schedule: Schedule, prices: MarketPrices | None = None) -> pl.DataFrame:
    """The schedule interval by interval: MW, SOC (MWh), reserve awards (MW) and, given `prices`, $/MWh.

    Columns: `interval_start` (Datetime µs UTC), `charge_mw`, `discharge_mw`,
    `net_mw` (discharge − charge, MW), `soc_mwh` (after the interval), a
    `<product>_mw` per reserve award; with `prices` (on the schedule's grid)
    `energy_price` ($/MWh) and a `<product>_price` ($/MW-h) per reserve
    product priced.
    """
    _check_lengths(schedule)
    columns: dict[str, Floats] = {
        "charge_mw": np.asarray(schedule.charge_mw, dtype=np.float64),
        "discharge_mw": np.asarray(schedule.discharge_mw, dtype=np.float64),
        "net_mw": np.asarray(schedule.discharge_mw - schedule.charge_mw, dtype=np.float64),
        "soc_mwh": np.asarray(schedule.soc_mwh, dtype=np.float64),
    }
    for product, award in schedule.reserve_mw.items():
        columns[f"{product}_mw"] = np.asarray(award, dtype=np.float64)
    if prices is not None:
        if len(prices) != len(schedule) or not np.array_equal(prices.interval_start, schedule.interval_start):
            raise BatteryError("prices: their intervals are not the schedule's")
        columns["energy_price"] = np.asarray(prices.energy, dtype=np.float64)
        for reserve in prices.reserves:
            columns[f"{reserve.product.name}_price"] = np.asarray(reserve.prices, dtype=np.float64)
    starts = pl.Series("interval_start", np.asarray(schedule.interval_start, dtype=np.int64))
    return pl.DataFrame([pl.from_epoch(starts, time_unit="us").dt.replace_time_zone("UTC")]).with_columns(
        **{name: pl.Series(values) for name, values in columns.items()}
    )


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise BatteryError(f"tz: {tz!r} is not an IANA time zone") from error


def _check_lengths(schedule: Schedule) -> None:
    n = len(schedule)  # the charge series' length
    series = {
        "interval_start": schedule.interval_start,
        "discharge_mw": schedule.discharge_mw,
        "soc_mwh": schedule.soc_mwh,
        **{f"cash[{s}]": v for s, v in schedule.cash.items()},
        **{f"reserve_mw[{p}]": v for p, v in schedule.reserve_mw.items()},
    }
    for name, values in series.items():
        if len(values) != n:
            raise BatteryError(f"schedule {name}: {len(values)} values for {n} intervals")
