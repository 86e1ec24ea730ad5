"""The reads of marked forward curves: `curve`, `curve_diff`, `curve_hpfc`, `node_curve`, `curve_history`.

Each is one declaration like `spreads`: its `check` finds the marks in the
metadata database (the caller's own before the shared demo marks; 404 when
none is marked) and names the stored prices it reads (the hub's history for
the HPFC's shape, a node's and its hub's for the basis), and its `compute`
calls `carbon254.curves`. A mark's id is part of each call's parameters, so
the cache and ETags change the moment a hub is re-marked. Marking itself
writes, and lives in `application.curves`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from carbon254.application.answer import Answer
from carbon254.application.curves import (
    CURVES_FEATURE,
    HISTORY_DAYS,
    find_mark,
    history_query,
    parse_day,
    parse_month,
)
from carbon254.application.datasets import DatasetQuery
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import Principal, entitle_data
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
)
from carbon254.application.params import parse_tz, required_text
from carbon254.config import Settings
from carbon254.curves import (
    HourlyCurve,
    MonthlyCurve,
    build_hpfc,
    curve_returns,
    estimate_basis,
    estimate_shape,
    hpfc_table,
    node_curve,
)
from carbon254.curves.hours import month_start_utc
from carbon254.metadata.curves import CurveMark, curve_history
from carbon254.metadata.database import MetadataDatabase
from carbon254.schema import Dataset
from carbon254.store.base import Store
from carbon254.timeseries.periods import Block

NO_RENAMES: tuple[Mapping[str, str], ...] = ()


# The trailing arguments of every Excel function reading a mark: which day, and the ISO if ambiguous.
MARK_EXCEL_ARGUMENTS = (
    ExcelArgument(
        "as_of",
        "as_of",
        ExcelReader.TIME,
        "Market day of the mark (a date cell or 2026-12-04; default: the latest).",
        True,
    ),
    ExcelArgument(
        "iso", "iso", ExcelReader.TEXT, "ISO/RTO (default: the one whose marks name the hub).", True
    ),
)


class MarkRequest(OperationRequest):
    """Which mark: the hub's latest on or before `as_of` (latest of all when omitted)."""

    hub: str = Field(description="The hub, as marked (any case), e.g. HB_NORTH.")
    iso: str | None = Field(
        None, description="ISO/RTO of the hub, e.g. ERCOT (any case); needed only if two ISOs mark the name."
    )
    as_of: str | None = Field(
        None, description="Market day YYYY-MM-DD: the mark of that day or the last before."
    )
    version: int | None = Field(None, description="A mark's version of that day (default: its latest).")


class CurveRequest(MarkRequest):
    """A mark's prices, optionally one month or one block of them."""

    month: str | None = Field(
        None, description="Keep one delivery month: YYYY-MM, or M+1 (the prompt month as marked), M+2, ..."
    )
    block: Block | None = Field(None, description="Keep one block (onpeak, offpeak, atc, 2x16, 7x8).")


@dataclass(frozen=True, slots=True)
class MarkRead:
    """A checked read of one mark: nothing from the market store."""

    mark: CurveMark
    block: Block | None
    month: date | None = None
    inputs: tuple[DatasetQuery, ...] = ()
    renames: tuple[Mapping[str, str], ...] = NO_RENAMES
    tz: str | None = None

    def parameters(self) -> dict[str, Any]:
        """The mark (its id changes with every re-mark), the block and the month kept."""
        return {
            "mark": self.mark.id,
            "block": self.block.value if self.block else None,
            "month": self.month.isoformat() if self.month else None,
        }


def _requested_mark(context: CallContext, request: MarkRequest) -> CurveMark:
    """The mark a request names (own before shared); 404 when the hub has none on or before `as_of`."""
    return find_mark(
        context.require_metadata(),
        context.principal,
        request.iso,
        request.hub,
        request.as_of,
        request.version,
    )


def check_curve(context: CallContext, request: CurveRequest) -> MarkRead:
    """The mark `request` names and the month and block kept."""
    mark = _requested_mark(context, request)
    month = parse_month("month", request.month, mark.curve.as_of) if request.month else None
    return MarkRead(mark, request.block, month)


CURVE_COLUMNS = (
    Column("iso", ColumnType.TEXT, "The ISO/RTO."),
    Column("hub", ColumnType.TEXT, "The hub (or node, for node curves)."),
    Column("as_of", ColumnType.TEXT, "The market day of the mark, YYYY-MM-DD."),
    Column("version", ColumnType.INTEGER, "The mark's version of that day."),
    Column("month", ColumnType.TEXT, "Delivery month, YYYY-MM."),
    Column("block", ColumnType.TEXT, "Delivery block: onpeak, offpeak, atc, 2x16 or 7x8."),
    Column("price", ColumnType.FLOAT, "Forward price of the month and block, $/MWh."),
    Column("hours", ColumnType.INTEGER, "Delivery hours of the block in the month that the curve covers."),
    Column("extrapolated", ColumnType.INTEGER, "1 past the last quoted delivery day, else 0."),
)


def curve_rows(
    curve: MonthlyCurve, mark: CurveMark, block: Block | None, month: date | None = None
) -> pa.Table:
    """The rows of `CURVE_COLUMNS` for `curve`, month by month, blocks in the curve's order."""
    months = [f"{m:%Y-%m}" for m in curve.months for _ in curve.blocks]
    blocks = [b.value for _ in curve.months for b in curve.blocks]
    extrapolated = [int(m >= curve.quoted_through) for m in curve.months for _ in curve.blocks]
    n = len(months)
    table = pa.table(
        {
            "iso": pa.array([curve.iso] * n, pa.string()),
            "hub": pa.array([curve.hub] * n, pa.string()),
            "as_of": pa.array([curve.as_of.isoformat()] * n, pa.string()),
            "version": pa.array([mark.version] * n, pa.int64()),
            "month": pa.array(months, pa.string()),
            "block": pa.array(blocks, pa.string()),
            "price": pa.array(curve.prices.reshape(-1), pa.float64()),
            "hours": pa.array(curve.hours.reshape(-1), pa.int64()),
            "extrapolated": pa.array(extrapolated, pa.int64()),
        }
    )
    if block is not None:
        if block not in curve.blocks:
            shown = ", ".join(b.value for b in curve.blocks)
            raise bad_parameter(
                "block", f"block: the {curve.hub} curve has no {block.value} prices; it has {shown}"
            )
        table = table.filter(pc.equal(table.column("block"), block.value))
    if month is not None:
        if month not in curve.months:
            raise bad_parameter(
                "month",
                f"month: {month:%Y-%m} is not on the {curve.hub} curve "
                f"({curve.months[0]:%Y-%m}..{curve.months[-1]:%Y-%m})",
            )
        table = table.filter(pc.equal(table.column("month"), f"{month:%Y-%m}"))
    return table


def _mark_head(mark: CurveMark) -> dict[str, Any]:
    curve = mark.curve
    return {
        "simulated": curve.simulated,
        "query": {
            "iso": curve.iso,
            "hub": curve.hub,
            "as_of": curve.as_of.isoformat(),
            "version": mark.version,
            "quoted_through": curve.quoted_through.isoformat(),
            "owner": "shared" if mark.owner is None else "tenant",
        },
    }


def compute_curve(read: MarkRead, inputs: Sequence[Input]) -> Answer:
    """The mark's monthly block prices."""
    return Answer(curve_rows(read.mark.curve, read.mark, read.block, read.month), _mark_head(read.mark))


CURVE: Operation[CurveRequest, MarkRead] = Operation(
    name="curve",
    path="curves",
    command=("curve", "show"),
    needs_metadata=True,
    summary="A marked forward curve: monthly block prices of a hub as marked on a day",
    description=(
        "The hub's forward curve as marked on `as_of` (or the last mark before; the latest when "
        "omitted): one row per delivery month and block, with the block's hours in the month. Marks are "
        "versioned: `version` reads an earlier mark of the same day. The caller's own marks take "
        "precedence over the shared (demo) marks of the same hub and day."
    ),
    feature=CURVES_FEATURE,
    unit="$/MWh",
    request=CurveRequest,
    columns=CURVE_COLUMNS,
    check=check_curve,
    compute=compute_curve,
    excel=ExcelFunction(
        id="CURVE",
        description=(
            "Forward price ($/MWh) of a hub's marked curve: one number for a month and block, "
            "else the whole curve (month, block, price)."
        ),
        arguments=(
            ExcelArgument("hub", "hub", ExcelReader.LOCATION, "The hub, e.g. HB_NORTH or WESTERN HUB."),
            ExcelArgument(
                "month",
                "month",
                ExcelReader.MONTH,
                "Delivery month: 2027-01, M+1 (the prompt month as marked) or a date cell; omit for all.",
                True,
            ),
            ExcelArgument(
                "block", "block", ExcelReader.TEXT, "onpeak, offpeak, atc, 2x16 or 7x8; omit for all.", True
            ),
            *MARK_EXCEL_ARGUMENTS,
        ),
        columns=("month", "block", "price"),
        scalar="price",
        scalar_when=("month", "block"),
    ),
)


class CurveDiffRequest(OperationRequest):
    """Two marks of one hub: `as_of` against `against` (an earlier day, usually)."""

    iso: str = Field(description="ISO/RTO of the hub, e.g. ERCOT (any case).")
    hub: str = Field(description="The hub, as marked (any case).")
    as_of: str = Field(description="Market day YYYY-MM-DD of the newer mark (or the last before).")
    against: str = Field(description="Market day YYYY-MM-DD of the mark compared with (or the last before).")
    block: Block | None = Field(None, description="Keep one block.")


@dataclass(frozen=True, slots=True)
class DiffRead:
    """Two checked marks of one hub."""

    mark: CurveMark
    against: CurveMark
    block: Block | None
    inputs: tuple[DatasetQuery, ...] = ()
    renames: tuple[Mapping[str, str], ...] = NO_RENAMES
    tz: str | None = None

    def parameters(self) -> dict[str, Any]:
        """Both marks and the block kept."""
        return {
            "mark": self.mark.id,
            "against": self.against.id,
            "block": self.block.value if self.block else None,
        }


def check_diff(context: CallContext, request: CurveDiffRequest) -> DiffRead:
    """The two marks; 404 for either missing."""
    mark = find_mark(
        context.require_metadata(), context.principal, request.iso, request.hub, request.as_of, None
    )
    against = find_mark(
        context.require_metadata(), context.principal, request.iso, request.hub, request.against, None
    )
    return DiffRead(mark, against, request.block)


DIFF_COLUMNS = (
    Column("month", ColumnType.TEXT, "Delivery month, YYYY-MM (on both curves)."),
    Column("block", ColumnType.TEXT, "Delivery block."),
    Column("price", ColumnType.FLOAT, "Price on the `as_of` mark, $/MWh."),
    Column("against_price", ColumnType.FLOAT, "Price on the `against` mark, $/MWh."),
    Column("change", ColumnType.FLOAT, "price - against_price, $/MWh."),
    Column("change_pct", ColumnType.FLOAT, "change / |against_price| x 100, % (null where against is 0)."),
)


def compute_diff(read: DiffRead, inputs: Sequence[Input]) -> Answer:
    """Month by month and block by block, the change between the two marks (months on both only)."""
    new, old = read.mark.curve, read.against.curve
    blocks = [b for b in new.blocks if b in old.blocks and (read.block is None or b is read.block)]
    months = [m for m in new.months if m in old.months]
    rows: dict[str, list[Any]] = {c.name: [] for c in DIFF_COLUMNS}
    for month in months:
        for block in blocks:
            price, before = new.price(month, block), old.price(month, block)
            rows["month"].append(f"{month:%Y-%m}")
            rows["block"].append(block.value)
            rows["price"].append(price)
            rows["against_price"].append(before)
            rows["change"].append(price - before)
            rows["change_pct"].append((price - before) / abs(before) * 100 if before != 0 else None)
    head = _mark_head(read.mark)
    head["query"] |= {
        "against": read.against.curve.as_of.isoformat(),
        "against_version": read.against.version,
    }
    head["simulated"] = new.simulated or old.simulated
    return Answer(pa.table({c.name: pa.array(rows[c.name], _ARROW[c.type]) for c in DIFF_COLUMNS}), head)


_ARROW = {ColumnType.TEXT: pa.string(), ColumnType.FLOAT: pa.float64(), ColumnType.INTEGER: pa.int64()}

CURVE_DIFF: Operation[CurveDiffRequest, DiffRead] = Operation(
    name="curve_diff",
    path="curves/diff",
    command=("curve", "diff"),
    needs_metadata=True,
    summary="How a hub's forward curve moved between two marks, by month and block",
    description=(
        "The mark of `as_of` minus the mark of `against` (each the last on or before its day), for every "
        "month and block on both curves, in $/MWh and percent."
    ),
    feature=CURVES_FEATURE,
    unit="$/MWh",
    request=CurveDiffRequest,
    columns=DIFF_COLUMNS,
    check=check_diff,
    compute=compute_diff,
)


class HpfcRequest(OperationRequest):
    """A mark shaped to hours with shape factors from the hub's stored day-ahead history."""

    iso: str | None = Field(
        None, description="ISO/RTO of the hub, e.g. ERCOT (any case); needed only if two ISOs mark the name."
    )
    hub: str = Field(description="The hub, as marked (any case).")
    as_of: str | None = Field(None, description="Market day of the mark (default: the latest).")
    start: str | None = Field(
        None, description="First delivery month kept, YYYY-MM or M+k (default: the curve's first)."
    )
    end: str | None = Field(
        None, description="Delivery month to stop before, YYYY-MM or M+k (default: after the last)."
    )
    tz: str | None = Field(
        None, description="IANA zone of output times, or `iso` for market time (default UTC)."
    )


@dataclass(frozen=True, slots=True)
class HpfcRead:
    """A mark and, when the store holds the hub's prices, the history its hourly shape is estimated from."""

    mark: CurveMark
    start: date | None
    end: date | None
    inputs: tuple[DatasetQuery, ...]
    tz: str | None
    renames: tuple[Mapping[str, str], ...]

    def parameters(self) -> dict[str, Any]:
        """The mark and the months kept."""
        return {
            "mark": self.mark.id,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def check_hpfc(context: CallContext, request: HpfcRequest) -> HpfcRead:
    """The mark, the months kept and the hub's history (none: the HPFC is shaped flat within blocks)."""
    mark = find_mark(
        context.require_metadata(), context.principal, request.iso, request.hub, request.as_of, None
    )
    start = parse_month("start", request.start, mark.curve.as_of) if request.start else None
    end = parse_month("end", request.end, mark.curve.as_of) if request.end else None
    if start and end and end <= start:
        raise bad_parameter("end", "end: must be a later month than start")
    curve = mark.curve
    entitle_data(context.principal, curve.iso, Dataset.LMP)
    history = history_query(context.store, context.settings, curve.iso, curve.hub, curve.as_of, "hub")
    inputs = (history,) if history is not None else ()
    tz = parse_tz(request.tz, curve.iso)
    return HpfcRead(mark, start, end, inputs, tz, tuple({"locations": "hub"} for _ in inputs))


HPFC_COLUMNS = (
    Column("interval_start", ColumnType.TIMESTAMP, "Start of the delivery hour, in `tz`."),
    Column("interval_end", ColumnType.TIMESTAMP, "End of the delivery hour, exclusive."),
    Column("block", ColumnType.TEXT, "The hour's finest block: onpeak, 2x16 or 7x8."),
    Column(
        "price", ColumnType.FLOAT, "Hourly forward price, $/MWh; each month and block averages to the mark."
    ),
)


def compute_hpfc(read: HpfcRead, inputs: Sequence[Input]) -> Answer:
    """The HPFC of the mark: shaped from the hub's history when there is some, else flat within blocks."""
    curve = read.mark.curve
    history = inputs[0].rows if inputs else None
    shape = estimate_shape(history, iso=curve.iso) if history is not None and history.num_rows else None
    hourly = build_hpfc(curve, shape)
    if read.start is not None or read.end is not None:
        keep = np.ones(len(hourly.starts), dtype=np.bool_)
        if read.start is not None:
            keep &= hourly.starts >= month_start_utc(curve.iso, read.start)
        if read.end is not None:
            keep &= hourly.starts < month_start_utc(curve.iso, read.end)
        hourly = replace(hourly, starts=hourly.starts[keep], prices=hourly.prices[keep])
    table = hpfc_table(hourly, read.tz)
    head = _mark_head(read.mark)
    head["query"] |= {
        "shape": "history" if shape is not None else "flat",
        "tz": read.tz or "UTC",
    }
    if shape is not None:
        head["query"]["shape_hours"] = int(shape.hours)
    return Answer(table.select([c.name for c in HPFC_COLUMNS]), head)


def mark_hpfc(
    store: Store, settings: Settings, principal: Principal, metadata: MetadataDatabase, mark: CurveMark
) -> HourlyCurve:
    """The HPFC of `mark` exactly as `curve_hpfc` answers it (shape from the hub's history, if stored)."""
    curve = mark.curve
    request = HpfcRequest.model_validate(
        {"iso": curve.iso, "hub": curve.hub, "as_of": curve.as_of.isoformat()}
    )
    table = CURVE_HPFC.call(store, settings, principal, request, metadata).answer(store).table
    starts = table.column("interval_start").cast(pa.int64()).to_numpy()
    return HourlyCurve(
        curve.iso, curve.hub, curve.as_of, starts, table.column("price").to_numpy(), curve.simulated
    )


CURVE_HPFC: Operation[HpfcRequest, HpfcRead] = Operation(
    name="curve_hpfc",
    path="curves/hpfc",
    command=("curve", "hpfc"),
    needs_metadata=True,
    summary="Hourly price forward curve (HPFC) of a marked hub curve",
    description=(
        "The mark's monthly block prices shaped to every delivery hour with hour-of-day x day-type x "
        f"month shape factors estimated from the hub's stored day-ahead prices (the {HISTORY_DAYS} days "
        "before the mark, as known on its day; NERC holidays shaped as Sundays), then rescaled so each "
        "month and block averages exactly to its mark. Without stored history the hours of a block are "
        "flat (`query.shape` says which)."
    ),
    feature=CURVES_FEATURE,
    unit="$/MWh",
    request=HpfcRequest,
    columns=HPFC_COLUMNS,
    check=check_hpfc,
    compute=compute_hpfc,
    excel=ExcelFunction(
        id="HPFC",
        description="Hourly forward prices ($/MWh) of a hub's marked curve, in the ISO's market time.",
        arguments=(
            ExcelArgument("hub", "hub", ExcelReader.LOCATION, "The hub, e.g. HB_NORTH or WESTERN HUB."),
            ExcelArgument(
                "start_month",
                "start",
                ExcelReader.MONTH,
                "First delivery month (2027-01, M+1 or a date cell; default: the curve's first).",
                True,
            ),
            ExcelArgument(
                "end_month",
                "end",
                ExcelReader.MONTH,
                "Delivery month to stop before (2027-02, M+2 or a date cell; default: after the last).",
                True,
            ),
            *MARK_EXCEL_ARGUMENTS,
        ),
        columns=("interval_start", "block", "price"),
        fixed=(("tz", "iso"),),
    ),
)


Estimator = Literal["median", "mean"]
ESTIMATORS: dict[str, Estimator] = {"median": "median", "mean": "mean"}


class NodeCurveRequest(OperationRequest):
    """A node's forward curve: its hub's mark plus the basis estimated from stored prices."""

    iso: str = Field(description="ISO/RTO, e.g. ERCOT (any case).")
    hub: str = Field(description="The hub whose mark the node curve starts from (any case).")
    node: str = Field(description="The node (or zone) priced, as the catalog names it (any case).")
    as_of: str | None = Field(None, description="Market day of the hub's mark (default: the latest).")
    estimator: str = Field(
        "median", description="Basis per month of year and block: median (default, robust to spikes) or mean."
    )


@dataclass(frozen=True, slots=True)
class NodeRead:
    """The hub's mark and the node's and hub's day-ahead history before it."""

    mark: CurveMark
    node: str
    estimator: Estimator
    inputs: tuple[DatasetQuery, ...]
    renames: tuple[Mapping[str, str], ...] = ({"locations": "node"}, {"locations": "hub"})
    tz: str | None = None

    def parameters(self) -> dict[str, Any]:
        """The mark, the node and the estimator."""
        return {"mark": self.mark.id, "node": self.node, "estimator": self.estimator}


def check_node(context: CallContext, request: NodeCurveRequest) -> NodeRead:
    """The mark and both histories; 404 when the store holds no day-ahead prices of the node or hub."""
    estimator = ESTIMATORS.get(request.estimator.strip().lower())
    if estimator is None:
        raise bad_parameter("estimator", "estimator: median or mean")
    mark = find_mark(
        context.require_metadata(), context.principal, request.iso, request.hub, request.as_of, None
    )
    curve = mark.curve
    entitle_data(context.principal, curve.iso, Dataset.LMP)
    node_name = required_text("node", request.node)
    node = history_query(context.store, context.settings, curve.iso, node_name, curve.as_of, "node")
    hub = history_query(context.store, context.settings, curve.iso, curve.hub, curve.as_of, "hub")
    for query, name, parameter in ((node, request.node, "node"), (hub, curve.hub, "hub")):
        if query is None:
            raise ApiError(
                404,
                "history_not_found",
                f"{parameter}: no stored {curve.iso} day-ahead prices of {name} in the {HISTORY_DAYS} days "
                f"before {curve.as_of}; a node curve needs both histories to estimate the basis",
                parameter,
            )
    assert node is not None and hub is not None
    return NodeRead(mark, request.node.strip(), estimator, (node, hub))


NODE_COLUMNS = (
    *CURVE_COLUMNS,
    Column("basis", ColumnType.FLOAT, "Node minus hub for the month of year and block, $/MWh."),
)


def compute_node(read: NodeRead, inputs: Sequence[Input]) -> Answer:
    """The node curve: the hub's mark plus the basis by month of year and block."""
    node_input, hub_input = inputs
    hub_curve = read.mark.curve
    name = (node_input.query.locations or (read.node,))[0]
    basis = estimate_basis(
        node_input.rows, hub_input.rows, iso=hub_curve.iso, window_days=HISTORY_DAYS, estimator=read.estimator
    )
    curve = node_curve(hub_curve, basis, name)
    table = curve_rows(curve, read.mark, None)
    spread = curve.prices.reshape(-1) - hub_curve.prices.reshape(-1)
    head = _mark_head(read.mark)
    head["query"] |= {"node": name, "estimator": read.estimator, "history_days": HISTORY_DAYS}
    return Answer(table.append_column("basis", pa.array(spread, pa.float64())), head)


NODE_CURVE: Operation[NodeCurveRequest, NodeRead] = Operation(
    name="node_curve",
    path="curves/node",
    command=("curve", "node"),
    needs_metadata=True,
    summary="A node's forward curve: its hub's mark plus the basis estimated from stored prices",
    description=(
        "Node = hub + basis. The basis of each month of year and block is the median (or mean) of the "
        f"node's day-ahead LMP minus the hub's over the hours both have in the {HISTORY_DAYS} days before "
        "the mark (as known on its day); a month without history takes the block's all-year basis."
    ),
    feature=CURVES_FEATURE,
    unit="$/MWh",
    request=NodeCurveRequest,
    columns=NODE_COLUMNS,
    check=check_node,
    compute=compute_node,
)


def check_quotes(context: CallContext, request: MarkRequest) -> MarkRead:
    """The mark whose quotes are asked for."""
    return MarkRead(_requested_mark(context, request), None)


QUOTE_COLUMNS = (
    Column("start", ColumnType.TEXT, "First delivery day, YYYY-MM-DD (inclusive)."),
    Column("end", ColumnType.TEXT, "Delivery day to stop before, YYYY-MM-DD (exclusive)."),
    Column("block", ColumnType.TEXT, "Delivery block."),
    Column("price", ColumnType.FLOAT, "Quoted price, $/MWh."),
    Column("label", ColumnType.TEXT, "The contract as the market names it (BOM, Jan27, Q1 27, Cal27, ...)."),
    Column(
        "implied_price", ColumnType.FLOAT, "For a redundant quote, the price the others imply; else null."
    ),
)


def compute_quotes(read: MarkRead, inputs: Sequence[Input]) -> Answer:
    """The mark's quotes in the order marked, with the implied price of each redundant one."""
    implied = {i.quote: i.implied_price for i in read.mark.implied}
    quotes = read.mark.quotes
    table = pa.table(
        {
            "start": pa.array([q.contract.start.isoformat() for q in quotes], pa.string()),
            "end": pa.array([q.contract.end.isoformat() for q in quotes], pa.string()),
            "block": pa.array([q.contract.block.value for q in quotes], pa.string()),
            "price": pa.array([q.price for q in quotes], pa.float64()),
            "label": pa.array([q.contract.label for q in quotes], pa.string()),
            "implied_price": pa.array([implied.get(q) for q in quotes], pa.float64()),
        }
    )
    return Answer(table, _mark_head(read.mark))


CURVE_QUOTES: Operation[MarkRequest, MarkRead] = Operation(
    name="curve_quotes",
    path="curves/quotes",
    command=("curve", "quotes"),
    needs_metadata=True,
    summary="The quotes a forward curve was marked from",
    description=(
        "The quotes of a mark as `start,end,block,price,label` (a file `curve build --quotes` reads back), "
        "with the price the other quotes imply for each one found redundant. The demo's marks carry "
        "their simulated quotes: a starting point for marking your own."
    ),
    feature=CURVES_FEATURE,
    unit="$/MWh",
    request=MarkRequest,
    columns=QUOTE_COLUMNS,
    check=check_quotes,
    compute=compute_quotes,
)


class CurveHistoryRequest(OperationRequest):
    """A hub's marks over a window, as daily changes of each relative tenor (M+1, M+2, ...)."""

    iso: str = Field(description="ISO/RTO of the hub, e.g. ERCOT (any case).")
    hub: str = Field(description="The hub, as marked (any case).")
    start: str = Field(description="First as-of day, YYYY-MM-DD (inclusive).")
    end: str = Field(description="As-of day to stop before, YYYY-MM-DD (exclusive).")
    block: Block = Field(Block.ONPEAK, description="The block whose prices change (default onpeak).")


@dataclass(frozen=True, slots=True)
class HistoryRead:
    """The hub's marks in the window, one per as-of day (own before shared)."""

    marks: tuple[CurveMark, ...]
    block: Block
    inputs: tuple[DatasetQuery, ...] = ()
    renames: tuple[Mapping[str, str], ...] = NO_RENAMES
    tz: str | None = None

    def parameters(self) -> dict[str, Any]:
        """Every mark read (a re-mark changes the answer) and the block."""
        return {"marks": [m.id for m in self.marks], "block": self.block.value}


def check_history(context: CallContext, request: CurveHistoryRequest) -> HistoryRead:
    """The marks of each as-of day in [start, end); 422 unless there are two to difference."""
    db = context.require_metadata()
    mark = find_mark(db, context.principal, request.iso, request.hub, None)
    start, end = parse_day("start", request.start), parse_day("end", request.end)
    if end <= start:
        raise bad_parameter("end", "end: must be after start")
    marks = curve_history(
        db, tenant=context.principal.tenant, iso=mark.iso, hub=mark.hub, start=start, end=end
    )
    if len(marks) < 2:
        raise bad_parameter(
            "start", f"start: {len(marks)} mark(s) of {mark.hub} from {start} to {end}; returns need two"
        )
    return HistoryRead(tuple(marks), request.block)


HISTORY_COLUMNS = (
    Column("as_of", ColumnType.TEXT, "The later mark's day, YYYY-MM-DD."),
    Column("tenor", ColumnType.INTEGER, "Months ahead of the as-of month (1 = M+1)."),
    Column("month", ColumnType.TEXT, "The delivery month that tenor is on the as-of day, YYYY-MM."),
    Column("price", ColumnType.FLOAT, "The tenor's price on the as-of day, $/MWh."),
    Column("change", ColumnType.FLOAT, "Change from the previous mark, $/MWh (includes a month roll)."),
    Column("log_return", ColumnType.FLOAT, "ln(price / previous price); null where either is not positive."),
)


def compute_history(read: HistoryRead, inputs: Sequence[Input]) -> Answer:
    """Day-over-day changes of every tenor all marks reach, for risk (constant-maturity tenors)."""
    curves = [m.curve for m in read.marks]
    try:
        returns = curve_returns(curves, read.block)
    except ValueError as exc:
        raise bad_parameter("block", f"block: {exc}") from None
    by_day = {c.as_of: c for c in curves}
    rows: dict[str, list[Any]] = {c.name: [] for c in HISTORY_COLUMNS}
    for i, day in enumerate(returns.dates):
        curve = by_day[day]
        for k, tenor in enumerate(returns.tenors.tolist()):
            month = date(day.year + (day.month - 1 + tenor) // 12, (day.month - 1 + tenor) % 12 + 1, 1)
            log = float(returns.log[i, k])
            rows["as_of"].append(day.isoformat())
            rows["tenor"].append(tenor)
            rows["month"].append(f"{month:%Y-%m}")
            rows["price"].append(curve.price(month, read.block))
            rows["change"].append(float(returns.absolute[i, k]))
            rows["log_return"].append(log if np.isfinite(log) else None)
    head = _mark_head(read.marks[-1])
    head["simulated"] = any(c.simulated for c in curves)
    head["query"] |= {"start": read.marks[0].curve.as_of.isoformat(), "block": read.block.value}
    table = pa.table({c.name: pa.array(rows[c.name], _ARROW[c.type]) for c in HISTORY_COLUMNS})
    return Answer(table, head)


CURVE_HISTORY: Operation[CurveHistoryRequest, HistoryRead] = Operation(
    name="curve_history",
    path="curves/history",
    command=("curve", "history"),
    needs_metadata=True,
    summary="Daily changes of a hub's forward curve by tenor (M+1, M+2, ...), the risk engine's factors",
    description=(
        "For each marking day in [start, end) after the first, the change of every tenor M+k (k months "
        "after the as-of month, as far as every mark reaches) from the previous mark, in $/MWh and as a "
        "log return. Tenors are constant-maturity: when the as-of day moves into a new month, M+1 rolls to "
        "the next contract and the change includes the roll."
    ),
    feature=CURVES_FEATURE,
    unit="$/MWh",
    request=CurveHistoryRequest,
    columns=HISTORY_COLUMNS,
    check=check_history,
    compute=compute_history,
)
