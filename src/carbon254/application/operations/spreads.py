"""`spreads`: one location's LMP minus another's (basis, DA-RT), by interval or resampled by block.

The declaration: the parameters (`SpreadsRequest`), the check that turns
them into two LMP reads, and the computation, which calls the `spreads`
domain package and `timeseries.present`. Everything else (REST
`/v1/spreads`, the GraphQL field, the CLI command, the SDK method, Excel's
`=C254.BASIS`) follows from `SPREADS` (see `carbon254.application.operation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from pydantic import Field

from carbon254.application.answer import Answer
from carbon254.application.datasets import DatasetQuery
from carbon254.application.errors import bad_parameter
from carbon254.application.operation import (
    CallContext,
    Column,
    ColumnType,
    ExcelArgument,
    ExcelFunction,
    ExcelReader,
    Input,
    Operation,
    OperationRequest,
    stats_head,
)
from carbon254.schema import Dataset
from carbon254.spreads import SpreadStats, spread_intervals, spread_stats
from carbon254.timeseries import BOUND_FORMS, RESAMPLE_COLUMNS, present
from carbon254.timeseries.layout import Layout
from carbon254.timeseries.periods import Block, Resample


class SpreadsRequest(OperationRequest):
    """A spread's parameters: `location` in `market` minus `minus` in `minus_market` (default `market`)."""

    iso: str = Field(description="ISO/RTO, e.g. ERCOT, PJM, CAISO (any case).")
    market: str = Field(description="Market of `location`, e.g. DAM, RT5, RTH.")
    location: str = Field(description="The location priced, e.g. a node (any case).")
    minus: str = Field(description="The location subtracted, e.g. its hub (any case).")
    start: str = Field(description=f"Inclusive start: {BOUND_FORMS}.")
    end: str = Field(description="Exclusive end, same forms as `start`.")
    minus_market: str | None = Field(
        None,
        description="Market of `minus` (default: `market`); DAM minus minus_market=RT5 is the DA-RT spread.",
    )
    tz: str | None = Field(
        None, description="IANA zone for input and output times, or `iso` for market time."
    )
    block: Block | None = Field(None, description="Keep only one delivery block's hours (ISO market time).")
    resample: Resample | None = Field(
        None, description="Average the spread into calendar buckets of `tz`, else of the ISO's market time."
    )
    as_of: str | None = Field(
        None, description="Use the prices as they were known at this instant; same forms as `start`."
    )
    stats: bool = Field(False, description="Add summary statistics of the spread (JSON `stats`).")
    threshold: float = Field(0.0, description="$/MWh: the statistics report the share of hours above it.")


@dataclass(frozen=True, slots=True)
class SpreadsCall:
    """A checked spread: the two LMP reads (location, then minus) and how to present the result."""

    location: DatasetQuery
    minus: DatasetQuery
    tz: str | None
    block: Block | None
    resample: Resample | None
    stats: bool
    threshold: float

    @property
    def inputs(self) -> tuple[DatasetQuery, ...]:
        """The two reads, at interval level and in UTC (presentation comes after subtracting)."""
        return (self.location, self.minus)

    @property
    def renames(self) -> tuple[Mapping[str, str], ...]:
        """The reads' `locations` are the caller's `location` and `minus` (and `minus_market`)."""
        return (LOCATION_NAMES, MINUS_NAMES)

    def parameters(self) -> dict[str, Any]:
        """What shapes the answer beyond the two reads."""
        return {
            "tz": self.tz,
            "block": self.block.value if self.block else None,
            "resample": self.resample.value if self.resample else None,
            "stats": self.stats,
            "threshold": self.threshold,
        }


LOCATION_NAMES = {"locations": "location"}
MINUS_NAMES = {"locations": "minus", "market": "minus_market"}


def check_spreads(context: CallContext, request: SpreadsRequest) -> SpreadsCall:
    """The two LMP reads a spread needs; 422 naming the parameter, 404 for an unknown ISO or market."""
    common = {"start": request.start, "end": request.end, "tz": request.tz, "as_of": request.as_of}
    presentation = context.query(
        Dataset.LMP,
        iso=request.iso,
        market=request.market,
        locations=[request.location],
        rename=LOCATION_NAMES,
        block=request.block,
        resample=request.resample,
        **common,
    )
    minus = context.query(
        Dataset.LMP,
        iso=request.iso,
        market=request.minus_market or request.market,
        locations=[request.minus],
        rename=MINUS_NAMES if request.minus_market else {"locations": "minus"},
        **common,
    )
    same_market = minus.market == presentation.market
    if same_market and request.minus.strip().casefold() == request.location.strip().casefold():
        raise bad_parameter(
            "minus",
            "minus names the same location and market as location; a spread needs two different series",
        )
    # Read at interval level in UTC: blocks, buckets and zones apply to the spread, not to the legs.
    location = replace(presentation, tz=None, block=None, resample=None)
    minus = replace(minus, tz=None)
    if not (abs(request.threshold) < 1e9):
        raise bad_parameter("threshold", "threshold must be a finite $/MWh value below 1e9 in magnitude")
    return SpreadsCall(
        location=location,
        minus=minus,
        tz=presentation.tz,
        block=presentation.block,
        resample=presentation.resample,
        stats=request.stats,
        threshold=request.threshold,
    )


SPREAD_LAYOUT = Layout(
    time_column="interval_start",
    end_column="interval_end",
    key=("iso", "location", "minus", "interval_start"),
    location_column="location",
)

SPREAD_COLUMNS = (
    Column("interval_start", ColumnType.TIMESTAMP, "Start of the interval (or bucket), in `tz`."),
    Column("interval_end", ColumnType.TIMESTAMP, "End of the interval (or bucket), exclusive."),
    Column("iso", ColumnType.TEXT, "The ISO/RTO."),
    Column("location", ColumnType.TEXT, "The location priced, as the catalog spells it."),
    Column("minus", ColumnType.TEXT, "The location subtracted, as the catalog spells it."),
    Column("spread", ColumnType.FLOAT, "LMP of `location` minus LMP of `minus`, $/MWh."),
    Column("energy_spread", ColumnType.FLOAT, "Energy component difference, $/MWh."),
    Column("congestion_spread", ColumnType.FLOAT, "Congestion component difference, $/MWh."),
    Column("loss_spread", ColumnType.FLOAT, "Loss component difference, $/MWh."),
    Column("location_lmp", ColumnType.FLOAT, "LMP of `location`, $/MWh."),
    Column("minus_lmp", ColumnType.FLOAT, "LMP of `minus`, $/MWh (averaged onto the coarser intervals)."),
    Column(
        "coverage", ColumnType.FLOAT, "Resampled only: share of the bucket's duration with a spread (0-1)."
    ),
    Column("intervals", ColumnType.INTEGER, "Resampled only: spread intervals averaged into the bucket."),
)


def compute_spreads(call: SpreadsCall, inputs: Sequence[Input]) -> Answer:
    """The spread rows (`SPREAD_COLUMNS`), and its statistics over the block's intervals when asked."""
    location, minus = inputs
    intervals = spread_intervals(location.rows, minus.rows)
    iso = location.query.iso.value
    names = {
        "iso": iso,
        "location": (location.query.locations or ("",))[0],
        "minus": (minus.query.locations or ("",))[0],
    }
    constant = [pa.array([value] * intervals.num_rows, pa.string()) for value in names.values()]
    table = pa.Table.from_arrays(
        [*intervals.columns[:2], *constant, *intervals.columns[2:]],
        names=[*intervals.column_names[:2], *names, *intervals.column_names[2:]],
    )
    shown = present(table, SPREAD_LAYOUT, iso, tz=call.tz, resample=call.resample, block=call.block)
    wanted = [c.name for c in SPREAD_COLUMNS if c.name not in RESAMPLE_COLUMNS or call.resample]
    head: dict[str, Any] = {"query": _describe(call, location.query, minus.query)}
    if call.stats:
        # Statistics describe the block's interval spreads, whatever the resampling of the rows.
        in_block = present(table, SPREAD_LAYOUT, iso, tz=None, resample=None, block=call.block)
        head |= stats_head(spread_stats(in_block, call.threshold))
    return Answer(shown.select(wanted), head)


def _describe(call: SpreadsCall, location: DatasetQuery, minus: DatasetQuery) -> dict[str, Any]:
    zone = ZoneInfo(call.tz or "UTC")
    return {
        "iso": location.iso.value,
        "market": location.market,
        "location": (location.locations or (None,))[0],
        "minus": (minus.locations or (None,))[0],
        "minus_market": minus.market,
        "start": location.start.astimezone(zone).isoformat(),
        "end": location.end.astimezone(zone).isoformat(),
        "tz": call.tz or "UTC",
        "block": call.block.value if call.block else None,
        "resample": call.resample.value if call.resample else None,
        "as_of": location.as_of.astimezone(zone).isoformat() if location.as_of else None,
        "stats": call.stats,
        "threshold": call.threshold,
    }


SPREADS: Operation[SpreadsRequest, SpreadsCall] = Operation(
    name="spreads",
    summary="Spread between two LMP series: node minus hub (basis), DA minus RT, any A minus B",
    description=(
        "LMP of `location` minus LMP of `minus` per interval, with the energy, congestion and loss "
        "differences. Series of different granularity (DAM hourly minus RT5) are compared on the "
        "coarser intervals, the finer one averaged onto them by overlap. `block` keeps one delivery "
        "block; `resample` then averages the spread into calendar buckets (duration-weighted, with "
        "`coverage` and `intervals`). `stats=true` adds duration-weighted statistics of the interval "
        "spreads in the block (mean, std, min, max, percentiles, share of hours above `threshold`)."
    ),
    feature="spreads",
    unit="$/MWh",
    request=SpreadsRequest,
    columns=SPREAD_COLUMNS,
    check=check_spreads,
    compute=compute_spreads,
    stats=SpreadStats,
    excel=ExcelFunction(
        id="BASIS",
        description=(
            "Basis ($/MWh): node minus hub LMP per interval, with its energy, congestion and loss parts "
            "(any location minus any other; minus_market gives DA minus RT)."
        ),
        arguments=(
            ExcelArgument(
                "iso", "iso", ExcelReader.TEXT, "ISO/RTO, e.g. ERCOT, PJM, CAISO, MISO, SPP, NYISO, ISONE."
            ),
            ExcelArgument(
                "node", "location", ExcelReader.LOCATION, "The node (or zone) priced against the hub."
            ),
            ExcelArgument("hub", "minus", ExcelReader.LOCATION, "The hub, e.g. HB_NORTH or WESTERN HUB."),
            ExcelArgument(
                "start",
                "start",
                ExcelReader.TIME,
                "First day or time (inclusive), ISO market time: a date cell, or text like 2024-03-01 "
                "or today-30d.",
            ),
            ExcelArgument(
                "end", "end", ExcelReader.TIME, "Day or time to stop before (exclusive), same forms as start."
            ),
            ExcelArgument(
                "market", "market", ExcelReader.TEXT, "Market: DAM (default), RTH, RT5, RT15.", True, "DAM"
            ),
            ExcelArgument(
                "minus_market",
                "minus_market",
                ExcelReader.TEXT,
                "Market of the hub (default: market); DAM with RT5 here is the DA-RT spread.",
                True,
            ),
            ExcelArgument(
                "resample",
                "resample",
                ExcelReader.TEXT,
                "Average into hourly, daily or monthly buckets.",
                True,
            ),
            ExcelArgument(
                "block",
                "block",
                ExcelReader.TEXT,
                "Keep one delivery block: onpeak, offpeak, 2x16, 7x8 or atc.",
                True,
            ),
        ),
        columns=(
            "interval_start",
            "interval_end",
            "location_lmp",
            "minus_lmp",
            "spread",
            "energy_spread",
            "congestion_spread",
            "loss_spread",
        ),
        fixed=(("tz", "iso"),),
    ),
)
