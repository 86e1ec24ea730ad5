"""The PPA operations: `ppa_npv`, `ppa_breakeven`, `ppa_cashflows` and the `ppa_value` document.

All four check the same request into the same plan (`application.ppa`: the
hub's mark, the contract, the plant and the stored histories) and run the
same valuation; they differ in what they answer. `ppa_npv` is one row
led by the NPV (Excel's `=C254.PPA_NPV`, one number in its cell),
`ppa_breakeven` one row led by the breakeven fixed price
(`=C254.PPA_BREAKEVEN`), `ppa_cashflows` the settlement month by month, and
`ppa_value` the whole valuation with the Monte Carlo distribution and the
risk waterfall: the answer of `POST /v1/ppa/value`, GraphQL's `ppaValue`,
the SDK's `ppa_value` and `carbon254 ppa value`, a document richer than rows
whose surfaces are written by hand over `ppa_result`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
from pydantic import Field

from carbon254.application.answer import Answer
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
    OperationCall,
)
from carbon254.application.ppa import (
    PPA_FEATURE,
    PpaPlan,
    PpaRequest,
    PpaRun,
    path_model,
    plan_ppa,
    refused,
    run_ppa,
)
from carbon254.formats import text_frame
from carbon254.ppa import Axis, Percentiles, PpaError, sensitivity, settle
from carbon254.ppa.distribution import PERCENTILES
from carbon254.reports.ppa_chart import npv_png
from carbon254.store.base import Store

HISTOGRAM_BINS = 40
# What each risk's spread over the paths measures, for answers ($, the side's view).
RISK_DESCRIPTIONS = {
    "price": "NPV on a hub price path at P50 volume, less the NPV on the curve.",
    "shape": "Value of the hourly shape (capture against the month's baseload price) on the path's prices.",
    "basis": "Settling at the node, with monthly basis noise, instead of the hub, on the path's prices.",
    "volume": "NPV with the path's annual volumes on the curve, less the NPV at P50 volume.",
}
_TYPES = {ColumnType.TEXT: pa.string(), ColumnType.FLOAT: pa.float64(), ColumnType.INTEGER: pa.int64()}


@dataclass(frozen=True, slots=True)
class PpaCall:
    """A checked PPA operation: the plan (mark, contract, plant, reads)."""

    plan: PpaPlan

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The hub's (and the node's) stored day-ahead history."""
        return self.plan.inputs

    @property
    def renames(self) -> tuple[Any, ...]:
        """Each read's parameter as the caller named it (`hub`, `node`)."""
        return self.plan.renames

    @property
    def tz(self) -> str | None:
        """The zone months are shown in."""
        return self.plan.tz

    def parameters(self) -> dict[str, Any]:
        """The plan's parameters."""
        return self.plan.parameters()


def check_ppa(context: CallContext, request: PpaRequest) -> PpaCall:
    """The plan of `request` (see `application.ppa.plan_ppa`)."""
    return PpaCall(plan_ppa(context, request))


def check_breakeven(context: CallContext, request: PpaRequest) -> PpaCall:
    """The plan of a breakeven: a fixed price needs no strike (it is what is asked for)."""
    return PpaCall(plan_ppa(context, request, priced=False))


def describe(run: PpaRun) -> dict[str, Any]:
    """The request as understood, for answers: the mark, where it settles, the term, the plant."""
    plan, market = run.plan, run.market
    curve = plan.mark.curve
    return {
        "iso": curve.iso,
        "hub": curve.hub,
        "node": plan.node,
        "settlement_point": plan.settlement_point,
        "mark": plan.mark.id,
        "as_of": curve.as_of.isoformat(),
        "contract": plan.contract.model_dump(mode="json", exclude_none=True),
        "side": plan.side,
        "start": plan.first_month.isoformat()[:7],
        "end": plan.last_month.isoformat()[:7],
        "technology": "solar" if plan.site is not None else "flat",
        "capacity_mw": plan.capacity_mw,
        "site": None
        if plan.site is None
        else {
            "latitude": plan.site.latitude,
            "longitude": plan.site.longitude,
            "tracking": plan.site.tracking,
        },
        "discount_rate": plan.discount_rate,
        "shape": market.shape,
        "extrapolated_from": None
        if market.extrapolated_from is None
        else market.extrapolated_from.isoformat()[:7],
        "curve_escalation": plan.curve_escalation,
        "paths": run.distribution.n_paths if run.distribution is not None else 0,
        "seed": plan.seed,
        "tz": plan.tz or "UTC",
    }


def _row(columns: Sequence[Column], values: dict[str, Any]) -> pa.Table:
    return pa.table({c.name: pa.array([values[c.name]], _TYPES[c.type]) for c in columns})


# ---- ppa_npv ----------------------------------------------------------------------------------------

NPV_COLUMNS = (
    Column("settlement_point", ColumnType.TEXT, "Where the contract settles: the node, else the hub."),
    Column(
        "npv", ColumnType.FLOAT, "Net present value of the settlement on the forward curve, $ (P50 volume)."
    ),
    Column(
        "npv_p90_volume", ColumnType.FLOAT, "NPV with P90 volume (output exceeded in nine years of ten), $."
    ),
    Column("settlement", ColumnType.FLOAT, "Undiscounted settlement over the term, $."),
    Column("annual_settlement", ColumnType.FLOAT, "Expected settlement per year of the term, $."),
    Column(
        "npv_p5",
        ColumnType.FLOAT,
        "5th percentile of NPV over the Monte Carlo paths, $ (null without paths).",
    ),
    Column("npv_p50", ColumnType.FLOAT, "Median NPV over the paths, $ (null without paths)."),
    Column("npv_p95", ColumnType.FLOAT, "95th percentile of NPV over the paths, $ (null without paths)."),
)


def summary_values(run: PpaRun) -> dict[str, Any]:
    """Every figure of the one-row answers, by column name."""
    v = run.valuation
    spread = Percentiles.of(run.distribution.npv) if run.distribution is not None else None
    quantiles = {p: getattr(spread, f"p{p}") for p in (5, 50, 95)} if spread is not None else {}
    return {
        "settlement_point": run.plan.settlement_point,
        "npv": v.npv,
        "npv_p90_volume": run.p90_npv,
        "settlement": v.settlement,
        "annual_settlement": v.annual_settlement,
        "npv_p5": quantiles.get(5),
        "npv_p50": quantiles.get(50),
        "npv_p95": quantiles.get(95),
        "breakeven": v.breakeven,
        "capture_price": v.capture_price,
        "baseload_price": v.baseload_price,
        "capture_rate": v.capture_rate,
        "volume_mwh": v.volume_mwh,
    }


def compute_npv(call: PpaCall, inputs: Sequence[Input]) -> Answer:
    """One row: the NPV, its P90-volume value and, with paths, its spread."""
    run = run_ppa(call.plan, inputs)
    return Answer(_row(NPV_COLUMNS, summary_values(run)), {"query": describe(run)})


_DESCRIPTION = (
    "A power purchase agreement valued on the hub's hourly forward curve (the mark shaped with its stored "
    "day-ahead history, carried past the mark's last month at `curve_escalation` a year), settled at the "
    "hub or at a node (hub plus the basis estimated from both histories), against a solar plant's hourly "
    "output (pvlib: clear sky with a cloudiness model at the site, single-axis or fixed) or a flat block. "
    "Virtual contracts settle the difference: a fixed price pays the buyer volume x (price - strike) each "
    "hour; cash is discounted monthly at `discount_rate`. With `paths`, Monte Carlo price paths (the "
    "scenario engine's mean-reverting model with jumps, calibrated to the hub's history) and annual "
    "volume draws give the NPV's distribution."
)

# The arguments every PPA Excel function takes, in order.
_EXCEL_ARGUMENTS = (
    ExcelArgument("hub", "hub", ExcelReader.LOCATION, "The settlement hub, as marked, e.g. HB_NORTH."),
    ExcelArgument(
        "contract", "contract", ExcelReader.TEXT, "fixed, collar, index_plus or floating_discount."
    ),
    ExcelArgument("strike", "strike", ExcelReader.NUMBER, "Fixed price, $/MWh (fixed).", True),
    ExcelArgument("term_years", "term_years", ExcelReader.NUMBER, "Term, years (default 10).", True),
    ExcelArgument(
        "capacity_mw", "capacity_mw", ExcelReader.NUMBER, "Plant capacity, MW AC (default 100).", True
    ),
    ExcelArgument(
        "discount_rate", "discount_rate", ExcelReader.NUMBER, "Annual discount rate (default 0.08).", True
    ),
    ExcelArgument("floor", "floor", ExcelReader.NUMBER, "Collar floor, $/MWh.", True),
    ExcelArgument("cap", "cap", ExcelReader.NUMBER, "Collar cap, $/MWh.", True),
    ExcelArgument("start_month", "start", ExcelReader.MONTH, "First delivery month (default M+1).", True),
    ExcelArgument("technology", "technology", ExcelReader.TEXT, "solar (default) or flat.", True),
    ExcelArgument("node", "node", ExcelReader.TEXT, "Settle at this node instead of the hub.", True),
    ExcelArgument("as_of", "as_of", ExcelReader.TIME, "Market day of the mark (default: the latest).", True),
)

PPA_NPV: Operation[PpaRequest, PpaCall] = Operation(
    name="ppa_npv",
    path="ppa/npv",
    command=("ppa", "npv"),
    needs_metadata=True,
    summary="NPV of a PPA on a hub's forward curve, at P50 and P90 volume (and its Monte Carlo spread)",
    description=_DESCRIPTION,
    feature=PPA_FEATURE,
    unit="$",
    request=PpaRequest,
    columns=NPV_COLUMNS,
    check=check_ppa,
    compute=compute_npv,
    excel=ExcelFunction(
        id="PPA_NPV",
        description="NPV ($) to the buyer of a virtual PPA settled at a hub, on its marked forward curve.",
        arguments=_EXCEL_ARGUMENTS,
        columns=tuple(c.name for c in NPV_COLUMNS),
        scalar="npv",
        scalar_when=("hub",),
    ),
)


# ---- ppa_breakeven --------------------------------------------------------------------------------

BREAKEVEN_COLUMNS = (
    Column("settlement_point", ColumnType.TEXT, "Where the contract settles: the node, else the hub."),
    Column("breakeven", ColumnType.FLOAT, "The fixed price that makes the NPV zero, $/MWh."),
    Column("capture_price", ColumnType.FLOAT, "Volume-weighted settlement price, $/MWh."),
    Column("baseload_price", ColumnType.FLOAT, "Time-weighted settlement price (around the clock), $/MWh."),
    Column("capture_rate", ColumnType.FLOAT, "capture_price / baseload_price."),
    Column("volume_mwh", ColumnType.FLOAT, "Volume settled over the term, MWh (P50)."),
)


def compute_breakeven(call: PpaCall, inputs: Sequence[Input]) -> Answer:
    """One row: the breakeven fixed price and the capture price and rate behind it."""
    run = run_ppa(call.plan, inputs)
    return Answer(_row(BREAKEVEN_COLUMNS, summary_values(run)), {"query": describe(run)})


PPA_BREAKEVEN: Operation[PpaRequest, PpaCall] = Operation(
    name="ppa_breakeven",
    path="ppa/breakeven",
    command=("ppa", "breakeven"),
    needs_metadata=True,
    summary="Breakeven fixed price of a PPA on a hub's forward curve, with its capture price and rate",
    description=_DESCRIPTION
    + " The breakeven is the strike of a fixed-price contract on the same volume whose NPV is zero.",
    feature=PPA_FEATURE,
    unit="$/MWh",
    request=PpaRequest,
    columns=BREAKEVEN_COLUMNS,
    check=check_breakeven,
    compute=compute_breakeven,
    excel=ExcelFunction(
        id="PPA_BREAKEVEN",
        description="Breakeven fixed price ($/MWh) of a PPA at a hub: the strike whose NPV is zero.",
        arguments=_EXCEL_ARGUMENTS,
        columns=tuple(c.name for c in BREAKEVEN_COLUMNS),
        scalar="breakeven",
        scalar_when=("hub",),
    ),
)


# ---- ppa_cashflows --------------------------------------------------------------------------------

CASHFLOW_COLUMNS = (
    Column("month", ColumnType.TEXT, "Delivery month of `tz`, YYYY-MM."),
    Column("volume_mwh", ColumnType.FLOAT, "Volume settled, MWh."),
    Column("capture_price", ColumnType.FLOAT, "Volume-weighted settlement price, $/MWh."),
    Column("settlement", ColumnType.FLOAT, "Settlement cash of the month, $ (from `side`'s view)."),
    Column("discounted", ColumnType.FLOAT, "The settlement discounted to the valuation date, $."),
)


def monthly_table(run: PpaRun) -> pa.Table:
    """The settlement by delivery month of the plan's zone: volume, capture price, cash, discounted cash."""
    plan, market = run.plan, run.market
    settled = settle(plan.contract, market.starts, market.price, market.mwh, side=plan.side)
    factors = plan.discount.factors(market.starts, int(market.starts[0]))
    frame = pl.DataFrame(
        {
            "at": pl.Series(market.starts, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            "mwh": settled.mwh,
            "price_mwh": settled.mwh * settled.price,
            "cash": settled.cash,
            "discounted": settled.cash * factors,
        }
    )
    month = pl.col("at").dt.convert_time_zone(plan.tz or "UTC").dt.strftime("%Y-%m")
    return (
        frame.group_by(month.alias("month"), maintain_order=True)
        .agg(pl.sum("mwh"), pl.sum("price_mwh"), pl.sum("cash"), pl.sum("discounted"))
        .select(
            "month",
            pl.col("mwh").alias("volume_mwh"),
            pl.when(pl.col("mwh") > 0).then(pl.col("price_mwh") / pl.col("mwh")).alias("capture_price"),
            pl.col("cash").alias("settlement"),
            "discounted",
        )
        .to_arrow()
    )


def compute_cashflows(call: PpaCall, inputs: Sequence[Input]) -> Answer:
    """The settlement month by month."""
    run = run_ppa(call.plan, inputs, paths=0)
    return Answer(monthly_table(run), {"query": describe(run)})


PPA_CASHFLOWS: Operation[PpaRequest, PpaCall] = Operation(
    name="ppa_cashflows",
    path="ppa/cashflows",
    command=("ppa", "cashflows"),
    needs_metadata=True,
    summary="Settlement cash flows of a PPA on a hub's forward curve, month by month",
    description=_DESCRIPTION,
    feature=PPA_FEATURE,
    unit="$",
    request=PpaRequest,
    columns=CASHFLOW_COLUMNS,
    check=check_ppa,
    compute=compute_cashflows,
    excel=ExcelFunction(
        id="PPA_CASHFLOWS",
        description="Monthly settlement ($) of a PPA at a hub, in the ISO's market time.",
        arguments=_EXCEL_ARGUMENTS,
        columns=tuple(c.name for c in CASHFLOW_COLUMNS),
        fixed=(("tz", "iso"),),
    ),
)


# ---- ppa_sensitivity --------------------------------------------------------------------------------

SENSITIVITY_AXES = (
    "strike", "floor", "cap", "adder", "discount", "escalator", "rec_price", "basis", "volatility", "p_level"
)  # fmt: skip
MAX_SENSITIVITY_POINTS = 25


class PpaSensitivityRequest(PpaRequest):
    """A PPA valuation and the input varied: `axis` over `values`."""

    axis: str = Field(
        description="The input varied: strike, floor, cap, adder, discount, escalator, rec_price (contract "
        "terms), basis (node minus hub, $/MWh), volatility (of the Monte Carlo paths) or p_level "
        "(generation exceedance probability, 0.9 = P90)."
    )
    values: str = Field(description="Comma-separated values of the axis, e.g. 30,35,40 (at most 25).")


@dataclass(frozen=True, slots=True)
class SensitivityCall(PpaCall):
    """A checked sensitivity: the plan, the axis and its values."""

    axis: Axis = "strike"
    values: tuple[float, ...] = ()

    def parameters(self) -> dict[str, Any]:
        """The plan's parameters, the axis and its values."""
        return {**self.plan.parameters(), "axis": self.axis, "values": list(self.values)}


def check_sensitivity(context: CallContext, request: PpaSensitivityRequest) -> SensitivityCall:
    """The plan, and the axis and values checked (422 naming `axis` or `values`)."""
    axis = request.axis.strip().lower()
    if axis not in SENSITIVITY_AXES:
        raise bad_parameter("axis", f"axis: {request.axis!r} is not one of {', '.join(SENSITIVITY_AXES)}")
    try:
        values = tuple(float(v) for v in request.values.split(",") if v.strip())
    except ValueError:
        message = f"values: {request.values!r} is not a comma-separated list of numbers"
        raise bad_parameter("values", message) from None
    if not values or len(values) > MAX_SENSITIVITY_POINTS:
        raise bad_parameter("values", f"values: give 1 to {MAX_SENSITIVITY_POINTS} numbers")
    plan = plan_ppa(context, request, priced=axis != "strike")
    return SensitivityCall(plan, cast(Axis, axis), values)


SENSITIVITY_COLUMNS = (
    Column("axis", ColumnType.TEXT, "The input varied."),
    Column("value", ColumnType.FLOAT, "Its value ($/MWh, fraction or probability, by axis)."),
    Column("npv", ColumnType.FLOAT, "NPV, $ (volatility: the mean over the paths)."),
    Column("settlement", ColumnType.FLOAT, "Undiscounted settlement, $."),
    Column("breakeven", ColumnType.FLOAT, "Breakeven fixed price, $/MWh."),
    Column("npv_p10", ColumnType.FLOAT, "Volatility: 10th percentile of NPV over the paths, $ (else null)."),
    Column("npv_p90", ColumnType.FLOAT, "Volatility: 90th percentile of NPV over the paths, $ (else null)."),
)


def compute_sensitivity(call: SensitivityCall, inputs: Sequence[Input]) -> Answer:
    """One row per value of the axis."""
    run = run_ppa(call.plan, inputs, paths=0)
    plan, market = call.plan, run.market
    price = market.hub if call.axis == "basis" else market.price
    try:
        table = sensitivity(
            plan.contract,
            market.starts,
            price,
            market.mwh,
            plan.discount,
            axis=call.axis,
            values=call.values,
            side=plan.side,
            uncertainty=plan.volume,
            years=plan.term_years,
            model=path_model(plan, market),
            n_paths=max(plan.paths, 200),
            seed=plan.seed,
        )
    except PpaError as exc:
        raise refused(exc) from None
    return Answer(table.select([c.name for c in SENSITIVITY_COLUMNS]).to_arrow(), {"query": describe(run)})


PPA_SENSITIVITY: Operation[PpaSensitivityRequest, SensitivityCall] = Operation(
    name="ppa_sensitivity",
    path="ppa/sensitivity",
    command=("ppa", "sensitivity"),
    needs_metadata=True,
    summary="How a PPA's NPV moves with one input: strike, collar bounds, basis, volatility or P-level",
    description=_DESCRIPTION
    + " One row per value of `axis`, every other input as the request gives it; volatility runs "
    "`paths` Monte Carlo paths (at least 200) per value.",
    feature=PPA_FEATURE,
    unit="$",
    request=PpaSensitivityRequest,
    columns=SENSITIVITY_COLUMNS,
    check=check_sensitivity,
    compute=compute_sensitivity,
)


# ---- ppa_value: the whole valuation -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PpaResult:
    """A valued PPA as every surface shows it: the request understood, the figures, the tables.

    `annual` is the settlement by contract year of `tz` (volume, capture
    price, settlement, discounted); `distribution` the NPV over the Monte
    Carlo paths (None without paths); `waterfall` the steps from the value
    of the volume at the baseload price to the contract's value; `risks`
    the spread of each risk on its own over the paths (None without paths).
    """

    query: dict[str, Any]
    summary: dict[str, Any]
    annual: pa.Table
    distribution: dict[str, Any] | None
    waterfall: list[dict[str, Any]]
    risks: list[dict[str, Any]] | None
    simulated: bool
    run: PpaRun


def annual_table(monthly: pa.Table) -> pa.Table:
    """The monthly table summed by calendar year (capture price weighted by volume)."""
    frame = pl.from_arrow(monthly)
    assert isinstance(frame, pl.DataFrame)
    return (
        frame.with_columns(pl.col("month").str.slice(0, 4).cast(pl.Int64).alias("year"))
        .group_by("year", maintain_order=True)
        .agg(
            pl.sum("volume_mwh"),
            (pl.col("capture_price").fill_null(0.0) * pl.col("volume_mwh")).sum().alias("priced"),
            pl.sum("settlement"),
            pl.sum("discounted"),
        )
        .select(
            "year",
            "volume_mwh",
            pl.when(pl.col("volume_mwh") > 0)
            .then(pl.col("priced") / pl.col("volume_mwh"))
            .alias("capture_price"),
            "settlement",
            "discounted",
        )
        .to_arrow()
    )


def _percentiles(spread: Percentiles, name: str) -> list[dict[str, Any]]:
    return [{"percentile": p, name: getattr(spread, f"p{p}")} for p in PERCENTILES]


def result_of(run: PpaRun, simulated: bool) -> PpaResult:
    """Shape a run into the result every surface shows."""
    summary = {k: _finite(v) for k, v in summary_values(run).items()}
    distribution = None
    if run.distribution is not None:
        npv = run.distribution.npv
        counts, edges = np.histogram(npv, bins=HISTOGRAM_BINS)
        distribution = {
            "paths": run.distribution.n_paths,
            "mean": float(npv.mean()),
            "std": float(npv.std()),
            "percentiles": _percentiles(Percentiles.of(npv), "npv"),
            "histogram": [
                {"low": float(lo), "high": float(hi), "paths": int(n)}
                for lo, hi, n in zip(edges[:-1], edges[1:], counts, strict=True)
            ],
        }
    steps = [{"step": s.label, "value": s.delta, "cumulative": s.cumulative} for s in run.waterfall]
    risks = None
    if run.risk is not None:
        risks = [
            {
                "risk": c.name,
                "description": RISK_DESCRIPTIONS[c.name],
                "mean": c.mean,
                "percentiles": _percentiles(c.percentiles, "value"),
            }
            for c in run.risk.components
        ]
    return PpaResult(
        describe(run), summary, annual_table(monthly_table(run)), distribution, steps, risks, simulated, run
    )


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not np.isfinite(value) else value


def ppa_result(call: OperationCall[PpaCall], store: Store) -> PpaResult:
    """Read the call's histories, value the PPA and shape the result (403/404/422 as `ApiError`)."""
    inputs, simulated = call.read(store)
    return result_of(run_ppa(call.checked.plan, inputs), simulated)


def compute_value(call: PpaCall, inputs: Sequence[Input]) -> Answer:
    """The settlement by year; the summary, distribution and waterfall in the head."""
    result = result_of(run_ppa(call.plan, inputs), False)
    head: dict[str, Any] = {
        "query": result.query,
        "summary": result.summary,
        "distribution": result.distribution,
        "waterfall": result.waterfall,
        "risks": result.risks,
    }
    return Answer(result.annual, head)


def result_json(result: PpaResult) -> bytes:
    """The answer of `POST /v1/ppa/value` (and `ppa value --hub ... --format json`) as JSON bytes.

    `{"simulated", "unit", "query", "summary", "annual": [...], "distribution": {...} | null,
    "waterfall": [...], "risks": [...] | null}` (see `PpaResult`).
    """
    document = {
        "simulated": result.simulated,
        "unit": "$",
        "query": result.query,
        "summary": result.summary,
        "annual": text_frame(result.annual).to_dicts(),
        "distribution": result.distribution,
        "waterfall": result.waterfall,
        "risks": result.risks,
    }
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)


def chart_png(result: PpaResult) -> bytes:
    """A PNG of the NPV distribution over the paths, P5/P50/P95 marked; 422 naming `paths` without any."""
    run = result.run
    if run.distribution is None:
        raise bad_parameter(
            "paths", "paths: the chart shows the NPV over Monte Carlo paths; ask for paths >= 100"
        )
    query = result.query
    title = (
        f"{query['iso']} {query['settlement_point']} {query['contract']['type']} PPA, "
        f"{query['start']} to {query['end']} ({query['side']})"
    )
    return npv_png(run.distribution, title)


PPA_VALUE: Operation[PpaRequest, PpaCall] = Operation(
    name="ppa_value",
    path="ppa/value",
    command=("ppa", "value"),
    needs_metadata=True,
    summary="Value a PPA: NPV at P50/P90, breakeven, capture rate, NPV distribution and risk waterfall",
    description=_DESCRIPTION
    + " The answer is the settlement by year with the summary, the NPV distribution over the paths "
    "(P5-P95 and a histogram), the waterfall from the volume's value at the baseload price to the "
    "contract's value, and each risk's own spread.",
    feature=PPA_FEATURE,
    unit="$",
    request=PpaRequest,
    columns=(
        Column("year", ColumnType.INTEGER, "Calendar year of `tz`."),
        Column("volume_mwh", ColumnType.FLOAT, "Volume settled, MWh."),
        Column("capture_price", ColumnType.FLOAT, "Volume-weighted settlement price, $/MWh."),
        Column("settlement", ColumnType.FLOAT, "Settlement, $."),
        Column("discounted", ColumnType.FLOAT, "Discounted settlement, $."),
    ),
    check=check_ppa,
    compute=compute_value,
)
