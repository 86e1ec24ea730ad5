"""The risk reads of a stored portfolio: `risk_var`, `risk_es`, `risk_attribution`, `risk_stress`,
`risk_backtest`.

Each is one declaration like `spreads`: its `check` finds the portfolio in
the metadata database (404 when the tenant has none of that name) and names
the day-ahead prices of every location the book touches up to `as_of`
(`application.risk.plan_history`); its `compute` builds the factor history
and exposures and calls `carbon254.risk`. The portfolio version's digest is
part of each call's parameters, so caches and ETags change when it is
re-saved. The CLI commands are `carbon254 risk portfolio-var` and so on:
`carbon254 risk var|es|backtest|stress` are the file commands.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

# A module reference, not names: application.scenarios imports the operations package (for the HPFC),
# so a process that imports it first finds it half-initialized here.
from carbon254.application import scenarios as saved
from carbon254.application.answer import Answer
from carbon254.application.curves import parse_day
from carbon254.application.datasets import DatasetQuery
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.operation import (
    CallContext,
    Column,
    ColumnType,
    ExcelArgument,
    ExcelFunction,
    ExcelReader,
    Input,
    Operation,
)
from carbon254.application.risk import (
    RISK_FEATURE,
    HistoryPlan,
    Measure,
    PortfolioRequest,
    RiskRequest,
    book_exposures,
    check_measure,
    factor_history,
    market_day,
    measure,
    plan_history,
    risk_problem,
)
from carbon254.curves.model import CurveSet
from carbon254.metadata.curves import CurveMark, find_curve
from carbon254.metadata.scenarios import ScenarioRecord
from carbon254.risk import (
    Attribution,
    BacktestResult,
    ExposureMatrix,
    FactorShocks,
    RiskError,
    RiskFactor,
    RiskResult,
    ShockRule,
    StressResult,
    attribute,
    backtest,
    exceedances,
    historical_shocks,
    rolling_var,
    shocks_from_curves,
    shocks_from_rules,
    stress,
)
from carbon254.risk.factors import parse_block
from carbon254.scenarios import Scenario, ScenarioError, apply_scenario
from carbon254.scenarios.replay import PRESETS

# ---- risk_var and risk_es -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskCall:
    """A checked VaR/ES request: the portfolio and its price reads, and the measure."""

    plan: HistoryPlan
    measure: Measure

    @property
    def inputs(self) -> tuple[DatasetQuery, ...]:
        """The DAM prices of each location of the book."""
        return self.plan.inputs

    @property
    def renames(self) -> tuple[Mapping[str, str], ...]:
        """No dataset parameter is renamed."""
        return self.plan.renames

    @property
    def tz(self) -> str | None:
        """Answers carry no times."""
        return None

    def parameters(self) -> dict[str, Any]:
        """The portfolio version, the day and every setting of the measure."""
        m = self.measure
        return {
            **self.plan.parameters(),
            "method": m.method.value,
            "confidence": m.confidence,
            "horizon": m.horizon,
            "window": m.window,
            "paths": m.paths,
            "seed": m.seed,
            "copula": m.copula.value,
            "covariance": m.covariance.value,
        }


def check_risk(context: CallContext, request: RiskRequest) -> RiskCall:
    """The measure (422 naming the field), then the portfolio (404) and its window + 1 days of prices."""
    checked = check_measure(request)
    return RiskCall(plan_history(context, request, checked.window + 1), checked)


def run_risk(call: RiskCall, inputs: Sequence[Input]) -> tuple[RiskResult, Attribution]:
    """The VaR/ES of the call's book and its attribution by position and book node."""
    history = factor_history(call.plan, inputs)
    exposure = book_exposures(call.plan, history, inputs)
    result = measure(call.measure, exposure, history)
    try:
        return result, attribute(exposure, result)
    except RiskError as error:
        raise risk_problem(error, "portfolio") from None


def _query(call: RiskCall, result: RiskResult) -> dict[str, Any]:
    plan = call.plan
    return {
        "portfolio": plan.record.name,
        "version": plan.record.version,
        "as_of": plan.day.isoformat(),
        "factors": [f.label for f in result.factors],
        "curve_factors": [f.label for f in result.factors if not f.is_spot],
        "spot_factors": [f.label for f in result.factors if f.is_spot],
        "curves": [c.document() for c in plan.curves],
        "settings": result.settings,
    }


VAR_COLUMNS = (
    Column("portfolio", ColumnType.TEXT, "The portfolio's name."),
    Column("version", ColumnType.INTEGER, "The portfolio's version measured."),
    Column("as_of", ColumnType.TEXT, "Market day the history ends on, YYYY-MM-DD."),
    Column("method", ColumnType.TEXT, "historical, parametric or monte_carlo."),
    Column("confidence", ColumnType.FLOAT, "Confidence level."),
    Column("horizon_days", ColumnType.INTEGER, "Horizon, days."),
    Column("var", ColumnType.FLOAT, "Value at risk, $ (a positive loss)."),
    Column("es", ColumnType.FLOAT, "Expected shortfall: the mean loss at or beyond VaR, $."),
    Column("mean", ColumnType.FLOAT, "Mean P&L of the distribution, $."),
    Column("std", ColumnType.FLOAT, "Standard deviation of the P&L, $."),
    Column("scenarios", ColumnType.INTEGER, "Scenarios or paths the P&L was measured on (0: parametric)."),
)


def compute_var(call: RiskCall, inputs: Sequence[Input]) -> Answer:
    """One row: VaR and ES of the book, with the factors and settings in the head."""
    result, _ = run_risk(call, inputs)
    plan = call.plan
    table = pa.table(
        {
            "portfolio": pa.array([plan.record.name], pa.string()),
            "version": pa.array([plan.record.version], pa.int64()),
            "as_of": pa.array([plan.day.isoformat()], pa.string()),
            "method": pa.array([call.measure.method.value], pa.string()),
            "confidence": pa.array([result.confidence], pa.float64()),
            "horizon_days": pa.array([result.horizon], pa.int64()),
            "var": pa.array([result.var], pa.float64()),
            "es": pa.array([result.es], pa.float64()),
            "mean": pa.array([result.mean], pa.float64()),
            "std": pa.array([result.std], pa.float64()),
            "scenarios": pa.array([result.scenarios], pa.int64()),
        }
    )
    return Answer(table, {"query": _query(call, result)})


_DESCRIPTION = (
    "Market risk of a saved portfolio (POST /v1/risk/portfolios): each location's onpeak and offpeak "
    "day-ahead price (daily averages of DAM LMPs in the block's hours) are its spot risk factors; a "
    "forward's hub with a marked curve over the window adds its tenors M+1, M+2, ... as factors of the "
    "forwards' delivery months (the head's `curves` says which hubs did and why others did not); every "
    "delivery month of a position maps onto them, and the last `window` daily changes up to `as_of` "
    "(as known at the end of that day) give the P&L distribution: historical simulation, delta-normal "
    "(EWMA or sample covariance) or Monte Carlo (Gaussian or Student-t copula, or bootstrapped "
    "residuals; seeded). VaR and ES are positive losses in $."
)

_EXCEL_ARGUMENTS = (
    ExcelArgument("portfolio", "portfolio", ExcelReader.TEXT, "A saved portfolio's name."),
    ExcelArgument(
        "confidence", "confidence", ExcelReader.NUMBER, "Confidence level, e.g. 0.99 (default).", True, "0.99"
    ),
    ExcelArgument(
        "method",
        "method",
        ExcelReader.TEXT,
        "historical (default), parametric or monte_carlo.",
        True,
        "historical",
    ),
    ExcelArgument(
        "horizon", "horizon_days", ExcelReader.NUMBER, "Horizon in days, 1-10 (default 1).", True, "1"
    ),
    ExcelArgument(
        "as_of", "as_of", ExcelReader.TIME, "Market day the history ends on (default: today).", True
    ),
)

RISK_VAR: Operation[RiskRequest, RiskCall] = Operation(
    name="risk_var",
    path="risk/var",
    command=("risk", "portfolio-var"),
    summary="Value at risk and expected shortfall ($) of a saved portfolio",
    description=_DESCRIPTION + " One row.",
    feature=RISK_FEATURE,
    unit="$",
    request=RiskRequest,
    columns=VAR_COLUMNS,
    check=check_risk,
    compute=compute_var,
    needs_metadata=True,
    excel=ExcelFunction(
        id="VAR",
        description="Value at risk ($, a positive loss) of a saved portfolio.",
        arguments=_EXCEL_ARGUMENTS,
        columns=("var", "es", "method", "confidence", "horizon_days"),
        scalar="var",
    ),
)

RISK_ES: Operation[RiskRequest, RiskCall] = Operation(
    name="risk_es",
    path="risk/es",
    command=("risk", "portfolio-es"),
    summary="Expected shortfall (and VaR, $) of a saved portfolio",
    description=_DESCRIPTION + " One row, the same as risk_var's; Excel's =C254.ES puts the ES in the cell.",
    feature=RISK_FEATURE,
    unit="$",
    request=RiskRequest,
    columns=VAR_COLUMNS,
    check=check_risk,
    compute=compute_var,
    needs_metadata=True,
    excel=ExcelFunction(
        id="ES",
        description="Expected shortfall ($, the mean loss beyond VaR) of a saved portfolio.",
        arguments=_EXCEL_ARGUMENTS,
        columns=("es", "var", "method", "confidence", "horizon_days"),
        scalar="es",
    ),
)


# ---- risk_attribution ----------------------------------------------------------------------------

ATTRIBUTION_COLUMNS = (
    Column(
        "level", ColumnType.TEXT, "`book` (a node of the book hierarchy; '' is the portfolio) or `position`."
    ),
    Column("book", ColumnType.TEXT, "The book node, or the position's book."),
    Column("id", ColumnType.TEXT, "The position's id (empty for a book row)."),
    Column("standalone_var", ColumnType.FLOAT, "VaR of the node or position on its own, $."),
    Column(
        "component_var", ColumnType.FLOAT, "Its share of the portfolio's VaR, $ (positions sum to the VaR)."
    ),
    Column(
        "marginal_var",
        ColumnType.FLOAT,
        "VaR per unit of the position's amount ($ per MW or MWh; NaN for books).",
    ),
    Column("incremental_var", ColumnType.FLOAT, "The portfolio's VaR less its VaR without it, $."),
    Column(
        "diversification",
        ColumnType.FLOAT,
        "Sum of the children's standalone VaR less the node's, $ (0 for positions).",
    ),
    Column("standalone_es", ColumnType.FLOAT, "ES of the node or position on its own, $."),
    Column("component_es", ColumnType.FLOAT, "Its share of the portfolio's ES, $."),
)


def compute_attribution(call: RiskCall, inputs: Sequence[Input]) -> Answer:
    """Rows per book node (parents first) then per position; VaR and ES of the whole in the head."""
    result, a = run_risk(call, inputs)
    b, p = a.books, a.positions
    nb, n = len(b.books), len(p.ids)
    table = pa.table(
        {
            "level": pa.array(["book"] * nb + ["position"] * n, pa.string()),
            "book": pa.array([*b.books, *p.books], pa.string()),
            "id": pa.array([""] * nb + list(p.ids), pa.string()),
            "standalone_var": np.concatenate([b.standalone_var, p.standalone_var]),
            "component_var": np.concatenate([b.component_var, p.component_var]),
            "marginal_var": np.concatenate([np.full(nb, np.nan), p.marginal_var]),
            "incremental_var": np.concatenate([b.incremental_var, p.incremental_var]),
            "diversification": np.concatenate([b.diversification, np.zeros(n)]),
            "standalone_es": np.concatenate([b.standalone_es, p.standalone_es]),
            "component_es": np.concatenate([b.component_es, p.component_es]),
        }
    )
    head = {"query": _query(call, result), "var": result.var, "es": result.es}
    return Answer(table, head)


RISK_ATTRIBUTION: Operation[RiskRequest, RiskCall] = Operation(
    name="risk_attribution",
    path="risk/attribution",
    command=("risk", "attribution"),
    summary="VaR and ES of a saved portfolio broken down by book node and position ($)",
    description=_DESCRIPTION
    + " A row per book node (standalone, component, incremental VaR and the diversification of its "
    "children) and per position (standalone, component, marginal and incremental VaR).",
    feature=RISK_FEATURE,
    unit="$",
    request=RiskRequest,
    columns=ATTRIBUTION_COLUMNS,
    check=check_risk,
    compute=compute_attribution,
    needs_metadata=True,
)


# ---- risk_stress ---------------------------------------------------------------------------------

SHOCK = re.compile(r"^\s*([^:]+):([^:]+):([^:]+):\s*([+-]?\d+(?:\.\d+)?)\s*(%?)\s*$")
EVENT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$")
# Days read before an event so its first day's change (and onpeak carried over a weekend) is there.
EVENT_LEAD = 1


class StressRequest(PortfolioRequest):
    """A portfolio and the shock it is stressed by: hypothetical moves, or a past event replayed."""

    shock: str | None = Field(
        None,
        description="Hypothetical moves, `;`-separated ISO:LOCATION:BLOCK:CHANGE, e.g. "
        "`ERCOT:HB_NORTH:atc:+25;PJM:WESTERN HUB:onpeak:-10%` ($/MWh, or % of the location's price "
        "on as_of); a block (atc: every factor of the location) moves every delivery month.",
    )
    event: str | None = Field(
        None,
        description="A past event replayed on today's book: a scenario-engine preset (uri, elliott, "
        "caiso_heat_2020, polar_vortex_2014) or dates YYYY-MM-DD..YYYY-MM-DD; the moves are the sums of "
        "the stored daily changes over those days.",
    )
    scenario: str | None = Field(
        None,
        description="A saved scenario (POST /v1/scenarios) by name, its latest version: applied to the "
        "marked curves (on or before as_of) of the book's locations, each factor moves by the shocked "
        "minus the marked price of its month and block (spot factors: the prompt month's); locations "
        "without a mark do not move. Scenarios with hourly steps or a sweep are refused.",
    )


@dataclass(frozen=True, slots=True)
class ScenarioStress:
    """A saved scenario to stress with, and the marks of the book's locations it is applied to."""

    record: ScenarioRecord
    scenario: Scenario
    marks: tuple[tuple[str, CurveMark], ...]  # (the location as the book's factors name it, its mark)

    @property
    def base(self) -> CurveSet:
        """The marked monthly curves, by the factors' location names."""
        return CurveSet(monthly={location: mark.curve for location, mark in self.marks})


@dataclass(frozen=True, slots=True)
class StressCall:
    """A checked stress: the book at `as_of` and its prices, the shock rules or the event dates."""

    plan: HistoryPlan
    name: str
    rules: tuple[ShockRule, ...]
    event: tuple[date, date] | None
    scenario: ScenarioStress | None = None

    @property
    def inputs(self) -> tuple[DatasetQuery, ...]:
        """The DAM prices of each location (the event's days, or as_of's for percent shocks)."""
        return self.plan.inputs

    @property
    def renames(self) -> tuple[Mapping[str, str], ...]:
        """No dataset parameter is renamed."""
        return self.plan.renames

    @property
    def tz(self) -> str | None:
        """Answers carry no times."""
        return None

    def parameters(self) -> dict[str, Any]:
        """The portfolio version, the day and the shock."""
        event = [d.isoformat() for d in self.event] if self.event else None
        rules = [[r.iso, r.location, r.block.value, r.change, r.percent] for r in self.rules]
        scenario = (
            [self.scenario.record.digest, [m.id for _, m in self.scenario.marks]] if self.scenario else None
        )
        return {
            **self.plan.parameters(),
            "name": self.name,
            "rules": rules,
            "event": event,
            "scenario": scenario,
            "day": self.plan.day.isoformat(),
        }


def parse_shocks(text: str) -> tuple[ShockRule, ...]:
    """`ISO:LOCATION:BLOCK:CHANGE[%]` rules separated by `;`; 422 naming `shock` and the bad part."""
    rules = []
    for part in (p for p in text.split(";") if p.strip()):
        found = SHOCK.match(part)
        if found is None:
            raise bad_parameter(
                "shock",
                f"shock: {part.strip()!r} is not ISO:LOCATION:BLOCK:CHANGE (e.g. ERCOT:HB_NORTH:atc:+25)",
            )
        iso, location, block, value, percent = found.groups()
        try:
            amount = float(value)
            rule = ShockRule(
                iso.strip(),
                location.strip(),
                parse_block(block),
                change=None if percent else amount,
                percent=amount if percent else None,
            )
        except (RiskError, ValueError) as error:
            raise bad_parameter("shock", f"shock: {part.strip()!r}: {error}") from None
        rules.append(rule)
    if not rules:
        raise bad_parameter("shock", "shock: no moves given")
    return tuple(rules)


def check_stress(context: CallContext, request: StressRequest) -> StressCall:
    """Exactly one of `shock`, `event` and `scenario`, checked; then the portfolio and the prices it needs."""
    if sum(x is not None for x in (request.shock, request.event, request.scenario)) != 1:
        raise bad_parameter(
            "shock",
            "shock: give one of shock (hypothetical moves), event (a past event) or scenario (a saved one)",
        )
    if request.scenario is not None:
        return check_scenario_stress(context, request, request.scenario)
    if request.shock is not None:
        rules = parse_shocks(request.shock)
        # Percent shocks are of the price on as_of: the last two days are read for it.
        plan = plan_history(context, request, 2, parameter="as_of")
        return StressCall(plan, "hypothetical", rules, None)
    assert request.event is not None
    name = request.event.strip().lower()
    if name in PRESETS:
        preset = PRESETS[name]
        start, end = preset.start, preset.end
    else:
        found = EVENT.match(request.event)
        if found is None:
            presets = ", ".join(sorted(PRESETS))
            raise bad_parameter(
                "event",
                f"event: {request.event!r} is neither a preset ({presets}) nor YYYY-MM-DD..YYYY-MM-DD",
            )
        start, end = parse_day("event", found.group(1)), parse_day("event", found.group(2))
        name = request.event.strip()
    if end < start:
        raise bad_parameter("event", f"event: {end} is before {start}")
    plan = plan_history(context, request, (end - start).days + 1 + EVENT_LEAD, day=end, parameter="event")
    # The book is valued as of the request's day, whatever the event's dates.
    return StressCall(replace(plan, valued=market_day(request.as_of)), name, (), (start, end))


def check_scenario_stress(context: CallContext, request: StressRequest, name: str) -> StressCall:
    """The saved scenario (404 naming `scenario`), the book at `as_of` and its locations' marks.

    422 naming `scenario` for a sweep, hourly steps (risk moves monthly
    block prices), or a book none of whose locations is marked.
    """
    db = context.require_metadata()
    record = saved.saved_scenario(db, context.principal, name, None)
    scenario = saved.parse_scenario(record.definition)
    if scenario.sweep:
        raise bad_parameter("scenario", f"scenario: {record.name} has a sweep; stress a book with one point")
    if saved.needs_hours(scenario):
        raise bad_parameter(
            "scenario",
            f"scenario: {record.name} has hourly steps; a book is stressed on monthly curve prices",
        )
    plan = plan_history(context, request, 2, parameter="as_of")
    marks = []
    for iso, location in plan.locations:
        mark = find_curve(db, tenant=context.principal.tenant, iso=iso, hub=location, as_of=plan.day)
        if mark is not None:
            marks.append((location, mark))
    if not marks:
        names = ", ".join(f"{iso} {location}" for iso, location in plan.locations)
        raise bad_parameter(
            "scenario",
            f"scenario: no curve of the book's locations ({names}) is marked on or before {plan.day}",
        )
    return StressCall(plan, record.name, (), None, ScenarioStress(record, scenario, tuple(marks)))


def scenario_shocks(stressed: ScenarioStress, factors: Sequence[RiskFactor]) -> FactorShocks:
    """The moves ($/MWh) of the factors on a marked curve's months under the scenario; 422 if it fails."""
    base = stressed.base
    try:
        shocked = apply_scenario(stressed.scenario, base).curves
    except ScenarioError as error:
        raise ApiError(422, "scenario_failed", f"scenario: {error}", "scenario") from None
    moved = [
        f
        for f in factors
        if f.location in base.monthly and (f.month is None or f.month in base.monthly[f.location].months)
    ]
    return shocks_from_curves(stressed.record.name, base, shocked, moved)


def run_stress(call: StressCall, inputs: Sequence[Input]) -> StressResult:
    """The book's P&L ($) under the call's shocks."""
    history = factor_history(call.plan, inputs)
    exposure = book_exposures(call.plan, history, inputs)
    try:
        if call.scenario is not None:
            shocks = scenario_shocks(call.scenario, exposure.exposed)
        elif call.event is not None:
            shocks = historical_shocks(call.name, history, call.event[0], call.event[1], exposure.exposed)
        else:
            levels = history.levels
            shocks = shocks_from_rules(call.name, history.factors, call.rules, levels)
        return stress(exposure, _covering(shocks, exposure))
    except RiskError as error:
        which = "scenario" if call.scenario else "event" if call.event else "shock"
        raise risk_problem(error, which) from None


def _covering(shocks: FactorShocks, exposure: ExposureMatrix) -> FactorShocks:
    """The shocks with a zero move for any factor of the book they leave alone."""
    moves = dict(zip(shocks.factors, shocks.moves.tolist(), strict=True))
    factors = tuple(exposure.factors)
    return FactorShocks(shocks.name, factors, np.array([moves.get(f, 0.0) for f in factors]))


STRESS_COLUMNS = (
    Column("level", ColumnType.TEXT, "`book` (a node of the hierarchy; '' is the portfolio) or `position`."),
    Column("book", ColumnType.TEXT, "The book node, or the position's book."),
    Column("id", ColumnType.TEXT, "The position's id (empty for a book row)."),
    Column("pnl", ColumnType.FLOAT, "P&L under the shock, $ (profit positive)."),
)


def compute_stress(call: StressCall, inputs: Sequence[Input]) -> Answer:
    """Rows per book node then per position; the total and each factor's move in the head."""
    result = run_stress(call, inputs)
    nb, n = len(result.book_nodes), len(result.ids)
    table = pa.table(
        {
            "level": pa.array(["book"] * nb + ["position"] * n, pa.string()),
            "book": pa.array([*result.book_nodes, *result.books], pa.string()),
            "id": pa.array([""] * nb + list(result.ids), pa.string()),
            "pnl": np.concatenate([result.book_pnl, result.position_pnl]),
        }
    )
    head = {
        "query": {
            "portfolio": call.plan.record.name,
            "version": call.plan.record.version,
            "as_of": call.plan.day.isoformat(),
            "name": result.name,
            "scenario": (
                None
                if call.scenario is None
                else {
                    "name": call.scenario.record.name,
                    "version": call.scenario.record.version,
                    "marks": [{"hub": loc, "as_of": m.as_of.isoformat()} for loc, m in call.scenario.marks],
                }
            ),
            "curves": [c.document() for c in call.plan.curves],
        },
        "pnl": result.pnl,
        "factors": [
            {"factor": f.label, "pnl": float(v)}
            for f, v in zip(result.factors, result.factor_pnl, strict=True)
        ],
    }
    return Answer(table, head)


RISK_STRESS: Operation[StressRequest, StressCall] = Operation(
    name="risk_stress",
    path="risk/stress",
    command=("risk", "portfolio-stress"),
    summary="P&L ($) of a saved portfolio under hypothetical moves, a past event or a saved scenario",
    description="The book's delivery from `as_of` on, revalued when its factors move: by `shock` ($/MWh "
    "or % of the price on as_of), by what they did over a past `event` (the sum of the stored daily "
    "changes over its days; 422 naming the factor when the store lacks them), or by a saved `scenario` "
    "applied to the marked curves of its locations. Rows per book node and per position; P&L is "
    "exposure (MWh) x move.",
    feature=RISK_FEATURE,
    unit="$",
    request=StressRequest,
    columns=STRESS_COLUMNS,
    check=check_stress,
    compute=compute_stress,
    needs_metadata=True,
)


# ---- risk_backtest -------------------------------------------------------------------------------


class BacktestRequest(PortfolioRequest):
    """A portfolio and the rolling historical VaR tested against its daily P&L."""

    confidence: float = Field(0.99, description="Confidence level in (0, 1); Basel zones are for 0.99.")
    window: int = Field(100, description="Days each day's VaR is estimated on.")
    days: int = Field(250, description="Days tested (Basel: 250).")


@dataclass(frozen=True, slots=True)
class BacktestCall:
    """A checked backtest: the portfolio and window + days + 1 days of its prices."""

    plan: HistoryPlan
    confidence: float
    window: int
    days: int

    @property
    def inputs(self) -> tuple[DatasetQuery, ...]:
        """The DAM prices of each location of the book."""
        return self.plan.inputs

    @property
    def renames(self) -> tuple[Mapping[str, str], ...]:
        """No dataset parameter is renamed."""
        return self.plan.renames

    @property
    def tz(self) -> str | None:
        """Answers carry no times."""
        return None

    def parameters(self) -> dict[str, Any]:
        """The portfolio version, the day, the confidence, window and days."""
        return {
            **self.plan.parameters(),
            "confidence": self.confidence,
            "window": self.window,
            "days": self.days,
        }


def check_backtest(context: CallContext, request: BacktestRequest) -> BacktestCall:
    """Confidence, window and days checked (422 naming them), then the portfolio and its prices."""
    c = request.confidence
    if not (math.isfinite(c) and 0.5 <= c < 1.0):
        raise bad_parameter("confidence", f"confidence: must be in [0.5, 1), e.g. 0.99; got {c}")
    needed = math.ceil(1.0 / (1.0 - c) - 1e-9)
    if not needed <= request.window <= 2_500:
        raise bad_parameter(
            "window", f"window: must be {needed} to 2,500 days at {c:g}; got {request.window}"
        )
    if not 1 <= request.days <= 2_500:
        raise bad_parameter("days", f"days: must be 1 to 2,500; got {request.days}")
    plan = plan_history(context, request, request.window + request.days + 1)
    return BacktestCall(plan, c, request.window, request.days)


@dataclass(frozen=True, slots=True)
class Backtested:
    """A backtest's days, the book's P&L and VaR forecast of each ($), and the tests."""

    dates: tuple[date, ...]
    pnl: np.ndarray[Any, np.dtype[np.float64]]
    var: np.ndarray[Any, np.dtype[np.float64]]
    es: np.ndarray[Any, np.dtype[np.float64]]
    result: BacktestResult


def run_backtest(call: BacktestCall, inputs: Sequence[Input]) -> Backtested:
    """Today's book on each past day's price changes (its hypothetical P&L), against the rolling VaR.

    Day t's VaR is historical simulation on the `window` days before it
    (no look-ahead); an exceedance is a loss beyond it.
    """
    history = factor_history(call.plan, inputs)
    exposure = book_exposures(call.plan, history, inputs)
    try:
        factors = exposure.exposed
        pnl = history.columns(factors) @ exposure.total_on(factors)
        var, es = rolling_var(pnl, call.window, call.confidence)
        tested = pnl[call.window :]
        result = backtest(exceedances(tested, var), call.confidence)
    except RiskError as error:
        raise risk_problem(error, "window") from None
    return Backtested(history.dates[call.window :], tested, var, es, result)


BACKTEST_COLUMNS = (
    Column("date", ColumnType.TEXT, "Market day, YYYY-MM-DD."),
    Column("pnl", ColumnType.FLOAT, "The book's P&L of the day's price changes, $."),
    Column("var", ColumnType.FLOAT, "That day's VaR forecast from the window before it, $."),
    Column("es", ColumnType.FLOAT, "That day's ES forecast, $."),
    Column("exceedance", ColumnType.INTEGER, "1 when the loss exceeded the VaR, else 0."),
)


def backtest_document(result: BacktestResult) -> dict[str, Any]:
    """The tests as the `backtest` head field (the fields of `carbon254 risk backtest --format json`)."""
    c = result.christoffersen
    return {
        "n": result.n,
        "x": result.x,
        "expected": result.expected,
        "kupiec_lr": result.kupiec.lr,
        "kupiec_pvalue": result.kupiec.pvalue,
        "christoffersen_ind_lr": c.ind_lr,
        "christoffersen_ind_pvalue": c.ind_pvalue,
        "christoffersen_cc_lr": c.cc_lr,
        "christoffersen_cc_pvalue": c.cc_pvalue,
        "basel_zone": result.basel_zone.value,
    }


def compute_backtest(call: BacktestCall, inputs: Sequence[Input]) -> Answer:
    """A row per day tested; the tests in the head."""
    run = run_backtest(call, inputs)
    table = pa.table(
        {
            "date": pa.array([d.isoformat() for d in run.dates], pa.string()),
            "pnl": run.pnl,
            "var": run.var,
            "es": run.es,
            "exceedance": pa.array(run.result.exceeded.astype(np.int64), pa.int64()),
        }
    )
    head = {
        "query": {
            "portfolio": call.plan.record.name,
            "version": call.plan.record.version,
            "as_of": call.plan.day.isoformat(),
            "window": call.window,
            "confidence": call.confidence,
            "curves": [c.document() for c in call.plan.curves],
        },
        "backtest": backtest_document(run.result),
    }
    return Answer(table, head)


RISK_BACKTEST: Operation[BacktestRequest, BacktestCall] = Operation(
    name="risk_backtest",
    path="risk/backtest",
    command=("risk", "portfolio-backtest"),
    summary="Rolling historical VaR of a saved portfolio against its daily P&L: Kupiec, Christoffersen",
    description="Today's book (delivery from as_of on) is valued on each of the last `days` days' price "
    "changes, and each day's loss is compared with the historical VaR of the `window` days before it. "
    "A row per day (P&L, VaR, ES, exceedance); the head holds Kupiec's proportion-of-failures test, "
    "Christoffersen's independence and conditional-coverage tests and the Basel traffic-light zone.",
    feature=RISK_FEATURE,
    unit="$",
    request=BacktestRequest,
    columns=BACKTEST_COLUMNS,
    check=check_backtest,
    compute=compute_backtest,
    needs_metadata=True,
)

__all__ = [
    "RISK_ATTRIBUTION",
    "RISK_BACKTEST",
    "RISK_ES",
    "RISK_STRESS",
    "RISK_VAR",
    "BacktestCall",
    "BacktestRequest",
    "Backtested",
    "RiskCall",
    "StressCall",
    "StressRequest",
    "backtest_document",
    "run_backtest",
    "run_risk",
    "run_stress",
]
