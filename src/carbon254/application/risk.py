"""A stored book's market risk as every surface asks for it: portfolios in, VaR/ES, attribution, stress out.

Portfolios are position files (`carbon254.risk.position_file`) saved per
tenant by name (`save_book`; each save a version, a malformed file refused
whole with every line and field at fault) and read back by name and
optional version (`find_book`). A risk request names a portfolio and how to
measure it; `plan_risk` checks it into a `RiskPlan` that names the stored
prices it reads, and `factor_history` turns those prices into the
`FactorHistory` the domain measures on.

Risk factors. Every location the book touches (a forward's hub, a basis
position's node and hub, a load's zone) has two SPOT factors: its onpeak
and its offpeak day-ahead price, each the day's average of the location's
DAM LMPs in that block's hours (days in the ISO's market time). Onpeak has
no hours on weekends and NERC holidays: its price is carried over those
days (a zero change) and the next weekday's change spans the gap. A day
without any stored price is missing history, refused naming the factor
and the day.

A forward's hub whose curve is marked (`carbon254.metadata.curves`: the
tenant's own marks before the shared ones) over the whole window adds
CURVE factors: the hub's monthly block prices by tenor M+1, M+2, ...
(`carbon254.risk.calendar_curve_history`; a day without a mark is a zero
change, the next mark carries the move). Forward positions on that hub map
their delivery months onto them, so a Cal strip moves with its tenors, not
with the day-ahead price; the current month and months beyond the curve's
reach stay on spot. Every other position (load, basis, PPA, battery) keeps
spot factors, so a basis position's two legs move consistently. A hub is
measured on spot instead when it has no mark, when its marks start after
the window's first day or stop more than `LEAD_DAYS` before `as_of`, or
when its marks lack onpeak/offpeak (or atc) prices; the answer says which
hubs came from curves and why the others did not (`CurveSource`).

Reproducibility: the history ends on the request's `as_of` market day
(default: today, UTC) and is read as it was known at the end of that day,
so a later revision of a price does not change yesterday's VaR; curve marks
are those marked for days up to `as_of` (their ids are part of the call's
parameters, so a re-mark of one of those days shows as a new answer).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from pydantic import Field

from carbon254.application.curves import parse_day
from carbon254.application.datasets import DatasetQuery, with_catalog_names
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import Principal, entitle_feature
from carbon254.application.operation import CallContext, Input, OperationRequest
from carbon254.isos import iso_info
from carbon254.metadata.curves import CurveMark, curve_history
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.portfolios import (
    InvalidPortfolio,
    PortfolioRecord,
    UnknownPortfolio,
    get_portfolio,
    list_portfolios,
    portfolio_name,
    save_portfolio,
)
from carbon254.risk import (
    BasisPosition,
    BatteryPosition,
    Copula,
    CovarianceMethod,
    EmptyPortfolio,
    ExposureMatrix,
    FactorHistory,
    ForwardPosition,
    HourlyPosition,
    LoadObligation,
    MissingHistory,
    Portfolio,
    PositionFileError,
    PpaPosition,
    RiskError,
    RiskFactor,
    RiskMethod,
    RiskResult,
    UnknownFactor,
    calendar_curve_history,
    engine_positions,
    exposures,
    historical_var,
    monte_carlo_var,
    parametric_var,
    parse_positions,
)
from carbon254.risk.engines import hour_of_day
from carbon254.risk.position_file import OPTIONAL, REQUIRED
from carbon254.schema import Dataset
from carbon254.timeseries._clock import DAY, clock_for
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

Floats = npt.NDArray[np.float64]

RISK_FEATURE = "risk"
# The factor blocks of every location: onpeak and offpeak partition every hour of every day.
FACTOR_BLOCKS = (Block.ONPEAK, Block.OFFPEAK)
DEFAULT_WINDOW = 250
MAX_WINDOW = 2_500
MAX_HORIZON = 10
# A Monte Carlo run in a request (not a job) stays well under a second on a small book.
MAX_PATHS = 200_000
MAX_BACKTEST_DAYS = 2_500
# Days read before the window so the onpeak price of a window starting after a long weekend or
# holiday has a weekday to carry over from.
LEAD_DAYS = 7
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class Method(StrEnum):
    """How the P&L distribution is obtained (`carbon254.risk.RiskMethod`)."""

    HISTORICAL = "historical"
    PARAMETRIC = "parametric"
    MONTE_CARLO = "monte_carlo"


# ---- portfolios --------------------------------------------------------------------------------


def positions_problem(error: PositionFileError | RiskError) -> ApiError:
    """A 422 `invalid_positions` naming every bad line and field (or the whole file's problem)."""
    return ApiError(422, "invalid_positions", f"positions: {error}", "positions")


def check_positions(text: str, name: str) -> Portfolio:
    """The portfolio a position file holds; 422 naming every bad line and field, nothing kept otherwise."""
    try:
        return parse_positions(text, name)
    except (PositionFileError, RiskError) as error:
        raise positions_problem(error) from None


def csv_from_records(records: Sequence[object]) -> str:
    """JSON positions (objects with the position file's fields) as position-file CSV text.

    Columns are the file's (`carbon254.risk.position_file`), in its order;
    a field not among them is a 422 naming it, as is an item that is not an
    object. The text is then checked like any uploaded file.
    """
    known = (*REQUIRED, *OPTIONAL)
    rows: list[dict[str, str]] = []
    for i, item in enumerate(records, start=1):
        if not isinstance(item, dict):
            raise bad_parameter("positions", f"positions: item {i} is not an object with the file's fields")
        unknown = sorted(str(k) for k in item if str(k).lower() not in known)
        if unknown:
            raise bad_parameter(
                "positions",
                f"positions: item {i} has unknown field(s) {', '.join(unknown)}; "
                f"the fields are {', '.join(known)}",
            )
        row = {}
        for key, value in item.items():
            if isinstance(value, list):
                value = ";".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = json.dumps(value)
            row[str(key).lower()] = "" if value is None else str(value)
        rows.append(row)
    if not rows:
        raise bad_parameter("positions", "positions: no positions given; a portfolio needs at least one")
    columns = [c for c in known if any(c in r for r in rows)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def save_book(db: MetadataDatabase, principal: Principal, name: str, text: str) -> PortfolioRecord:
    """Check position-file `text` and store it as the next version of the tenant's portfolio `name`.

    403 without the `risk` feature; 422 naming the name, or every bad line
    and field of the file (then nothing is stored).
    """
    entitle_feature(principal, RISK_FEATURE)
    try:
        checked = portfolio_name(name)
    except InvalidPortfolio as error:
        raise bad_parameter("name", str(error)) from None
    portfolio = check_positions(text, checked)
    return save_portfolio(
        db,
        owner=principal.tenant,
        name=checked,
        csv=text,
        positions=len(portfolio.positions),
        created_by=principal.subject,
    )


def find_book(
    db: MetadataDatabase,
    principal: Principal,
    name: str,
    version: int | None = None,
    parameter: str = "portfolio",
) -> tuple[PortfolioRecord, Portfolio]:
    """The tenant's portfolio `name` (latest version unless `version`) and its positions.

    403 without the `risk` feature; 404 naming `parameter` when there is no
    such portfolio or version; 422 for a version below 1.
    """
    entitle_feature(principal, RISK_FEATURE)
    if version is not None and version < 1:
        raise bad_parameter("version", "version: versions start at 1")
    try:
        record = get_portfolio(db, owner=principal.tenant, name=name, version=version)
    except UnknownPortfolio as error:
        raise ApiError(
            404,
            "portfolio_not_found",
            f"{parameter}: {error}; save one with POST /v1/risk/portfolios or `carbon254 risk portfolio "
            "save`",
            parameter,
        ) from None
    return record, check_positions(record.csv, record.name)


def books(db: MetadataDatabase, principal: Principal) -> list[PortfolioRecord]:
    """The latest version of each of the tenant's portfolios; 403 without the `risk` feature."""
    entitle_feature(principal, RISK_FEATURE)
    return list_portfolios(db, owner=principal.tenant)


# ---- requests and plans -------------------------------------------------------------------------


class PortfolioRequest(OperationRequest):
    """Which stored portfolio, and the market day its risk is measured on."""

    portfolio: str = Field(description="A saved portfolio's name (any case), e.g. demo_book.")
    version: int | None = Field(None, description="The portfolio's version (default: its latest).")
    as_of: str | None = Field(
        None,
        description="Market day YYYY-MM-DD (or today-1d) the history ends on, read as known at its end, so "
        "the answer can be reproduced; default: today (UTC). Delivery before it carries no risk.",
    )


class RiskRequest(PortfolioRequest):
    """A portfolio, and how its VaR and ES are measured."""

    method: str = Field(
        "historical", description="historical (simulation), parametric (delta-normal) or monte_carlo."
    )
    confidence: float = Field(0.99, description="Confidence level in (0, 1): 0.95, 0.975, 0.99, 0.999.")
    horizon_days: int = Field(
        1,
        description="Horizon, days (1-10): overlapping h-day changes (historical), square-root-of-time "
        "(parametric and Monte Carlo copulas).",
    )
    window: int = Field(DEFAULT_WINDOW, description="Days of daily price changes the model is estimated on.")
    paths: int = Field(10_000, description="Monte Carlo: simulated paths.")
    seed: int = Field(0, description="Monte Carlo: the random seed (same seed, same answer).")
    copula: str = Field(
        "gaussian",
        description="Monte Carlo: gaussian, student_t or bootstrap (filtered historical residuals).",
    )
    covariance: str = Field(
        "ewma", description="Parametric and Monte Carlo: ewma (RiskMetrics lambda 0.94) or sample covariance."
    )


@dataclass(frozen=True, slots=True)
class Measure:
    """A checked choice of method and its settings."""

    method: Method
    confidence: float
    horizon: int
    window: int
    paths: int
    seed: int
    copula: Copula
    covariance: CovarianceMethod


@dataclass(frozen=True, slots=True)
class CurveSource:
    """Whether the forwards on one hub are measured on its marked curve, and the marks (or why not).

    `hub` is the name the positions give, `location` the catalog's;
    `marks` are the hub's marks over the history (ascending as-of days),
    `blocks` the curve blocks used; `reason` says why the hub stays on spot
    factors when `used` is False.
    """

    iso: str
    hub: str
    location: str
    marks: tuple[CurveMark, ...]
    blocks: tuple[Block, ...]
    reason: str | None

    @property
    def used(self) -> bool:
        """Whether the hub's forwards map onto its curve factors."""
        return self.reason is None

    def document(self) -> dict[str, Any]:
        """The source as the answers' `query.curves` items: hub, used, marks, first and last, reason."""
        return {
            "iso": self.iso,
            "hub": self.location,
            "used": self.used,
            "marks": len(self.marks),
            "first": self.marks[0].as_of.isoformat() if self.marks else None,
            "last": self.marks[-1].as_of.isoformat() if self.marks else None,
            "blocks": [b.value for b in self.blocks],
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """The portfolio, the market day, and the DAM prices of each of its locations over the days read.

    `locations[i]` (ISO, catalog name) is what `inputs[i]` reads; `first`
    and `day` bound the market days the factor history covers (inclusive).
    """

    record: PortfolioRecord
    portfolio: Portfolio
    day: date
    first: date
    locations: tuple[tuple[str, str], ...]
    inputs: tuple[DatasetQuery, ...]
    renames: tuple[Mapping[str, str], ...]
    curves: tuple[CurveSource, ...] = ()
    valued: date | None = None
    tz: str | None = None

    @property
    def book_day(self) -> date:
        """The market day the book is valued on: delivery after it carries risk (default: `day`)."""
        return self.valued or self.day

    @property
    def on_curves(self) -> frozenset[str]:
        """Ids of the forward positions whose hub is measured on its curve."""
        used = {(c.iso, c.hub) for c in self.curves if c.used}
        forwards = (p for p in self.portfolio.positions if isinstance(p, ForwardPosition))
        return frozenset(p.id for p in forwards if (p.iso, p.hub) in used)

    def parameters(self) -> dict[str, Any]:
        """The portfolio version's digest (changes with each save), the market days and the marks read."""
        return {
            "portfolio": [self.record.name, self.record.version, self.record.digest],
            "as_of": self.day.isoformat(),
            "valued": self.book_day.isoformat(),
            "curves": [[c.iso, c.location, [m.id for m in c.marks]] for c in self.curves if c.used],
        }


def parse_method(text: str) -> Method:
    """The method `text` names (any case); 422 naming `method` otherwise."""
    try:
        return Method(text.strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in Method)
        raise bad_parameter("method", f"method: {text!r} is not one of {names}") from None


def check_measure(request: RiskRequest) -> Measure:
    """The request's method and settings, each checked; 422 naming the field at fault."""
    method = parse_method(request.method)
    c = request.confidence
    if not (math.isfinite(c) and 0.5 <= c < 1.0):
        raise bad_parameter("confidence", f"confidence: must be in [0.5, 1), e.g. 0.99; got {c}")
    if not 1 <= request.horizon_days <= MAX_HORIZON:
        raise bad_parameter(
            "horizon_days", f"horizon_days: must be 1 to {MAX_HORIZON}; got {request.horizon_days}"
        )
    needed = math.ceil(1.0 / (1.0 - c) - 1e-9)
    if not request.horizon_days + 1 <= request.window <= MAX_WINDOW:
        raise bad_parameter(
            "window", f"window: must be {request.horizon_days + 1} to {MAX_WINDOW} days; got {request.window}"
        )
    if method is Method.HISTORICAL and request.window - request.horizon_days + 1 < needed:
        raise bad_parameter(
            "window",
            f"window: historical VaR at {c:g} needs {needed} scenarios; {request.window} days at a "
            f"{request.horizon_days}-day horizon give {request.window - request.horizon_days + 1}",
        )
    if method is Method.MONTE_CARLO and request.paths > MAX_PATHS:
        raise bad_parameter(
            "paths",
            f"paths: {request.paths:,} is more than one request draws ({MAX_PATHS:,}); submit it as a "
            "`risk_var` job (POST /v1/jobs with kind risk_var)",
        )
    if method is Method.MONTE_CARLO and request.paths < needed:
        raise bad_parameter("paths", f"paths: at {c:g} at least {needed} are needed; got {request.paths}")
    try:
        copula = Copula(request.copula.strip().lower())
    except ValueError:
        names = ", ".join(k.value for k in Copula)
        raise bad_parameter("copula", f"copula: {request.copula!r} is not one of {names}") from None
    try:
        covariance = CovarianceMethod(request.covariance.strip().lower())
    except ValueError:
        names = ", ".join(k.value for k in CovarianceMethod)
        raise bad_parameter(
            "covariance", f"covariance: {request.covariance!r} is not one of {names}"
        ) from None
    return Measure(
        method, c, request.horizon_days, request.window, request.paths, request.seed, copula, covariance
    )


def book_locations(portfolio: Portfolio) -> tuple[tuple[str, str], ...]:
    """Every (ISO, location) whose price a position moves with, in order of first appearance."""
    found: dict[tuple[str, str], None] = {}
    for p in portfolio.positions:
        if isinstance(p, ForwardPosition):
            found[(p.iso, p.hub)] = None
        elif isinstance(p, BasisPosition):
            found[(p.iso, p.node)] = None
            found[(p.iso, p.hub)] = None
        elif isinstance(p, LoadObligation | HourlyPosition | PpaPosition | BatteryPosition):
            found[(p.iso, p.location)] = None
    return tuple(found)


def market_day(text: str | None) -> date:
    """The request's `as_of` market day (default: today, UTC); 422 naming `as_of`."""
    return parse_day("as_of", text) if text else datetime.now(UTC).date()


def plan_history(
    context: CallContext,
    request: PortfolioRequest,
    days: int,
    day: date | None = None,
    parameter: str = "window",
) -> HistoryPlan:
    """The portfolio `request` names and the DAM reads of `days` market days of its locations up to `as_of`.

    Each location is one query, known at the end of the last day; 404
    naming the portfolio's position location the store does not hold, 422
    (naming `parameter`) when the days exceed the service's range limit.
    """
    entitle_feature(context.principal, RISK_FEATURE)
    record, portfolio = find_book(
        context.require_metadata(), context.principal, request.portfolio, request.version
    )
    last = day if day is not None else market_day(request.as_of)
    first = last - timedelta(days=days - 1)
    end = last + timedelta(days=1)
    locations: list[tuple[str, str]] = []
    inputs: list[DatasetQuery] = []
    catalogs: dict[str, pa.Table] = {}
    for iso, location in book_locations(portfolio):
        query = context.query(
            Dataset.LMP,
            iso=iso,
            rename={"start": parameter, "end": "as_of", "as_of": "as_of", "locations": "portfolio"},
            market="DAM",
            locations=[location],
            start=(first - timedelta(days=LEAD_DAYS)).isoformat(),
            end=end.isoformat(),
            tz="iso",
            as_of=f"{end.isoformat()}T00:00",
        )
        if iso not in catalogs:
            catalogs[iso] = context.store.locations(iso=iso)
        try:
            query = with_catalog_names(catalogs[iso], query)
        except ApiError as error:
            raise ApiError(
                404,
                "unknown_location",
                f"portfolio: {record.name} prices {iso} {location}, which the store has no day-ahead "
                f"prices of ({error.message})",
                "portfolio",
                error.suggestions,
            ) from None
        assert query.locations is not None
        locations.append((iso, query.locations[0]))
        inputs.append(query)
    catalog = dict(zip(book_locations(portfolio), locations, strict=True))
    curves = tuple(
        curve_source(context, iso, hub, catalog[(iso, hub)][1], first, last)
        for iso, hub in forward_hubs(portfolio)
    )
    return HistoryPlan(
        record,
        portfolio,
        last,
        first,
        tuple(locations),
        tuple(inputs),
        tuple({} for _ in inputs),
        curves,
    )


def forward_hubs(portfolio: Portfolio) -> tuple[tuple[str, str], ...]:
    """Every (ISO, hub) a forward position of the book is on, in order of first appearance."""
    found = {(p.iso, p.hub): None for p in portfolio.positions if isinstance(p, ForwardPosition)}
    return tuple(found)


def curve_blocks(marks: Sequence[CurveMark]) -> tuple[Block, ...]:
    """The blocks every mark prices: onpeak and offpeak, else atc; () when the marks share neither."""
    common = set.intersection(*(set(m.curve.blocks) for m in marks))
    for blocks in ((Block.ONPEAK, Block.OFFPEAK), (Block.ATC,)):
        if set(blocks) <= common:
            return blocks
    return ()


def curve_source(
    context: CallContext, iso: str, hub: str, location: str, first: date, last: date
) -> CurveSource:
    """The marks of `location` from `LEAD_DAYS` before `first` to `last`, and whether they cover the history.

    They do when a mark falls on or before `first` (so the first day's
    change has a previous mark), the latest is at most `LEAD_DAYS` before
    `last` (a curve left unmarked longer would show no risk), and every
    mark prices the same blocks (`curve_blocks`).
    """
    marks = tuple(
        curve_history(
            context.require_metadata(),
            tenant=context.principal.tenant,
            iso=iso,
            hub=location,
            start=first - timedelta(days=LEAD_DAYS),
            end=last + timedelta(days=1),
        )
    )
    reason = None
    blocks: tuple[Block, ...] = ()
    if not marks:
        reason = f"no curve of {iso} {location} is marked from {first - timedelta(days=LEAD_DAYS)} to {last}"
    elif marks[0].as_of > first:
        reason = (
            f"the marks of {iso} {location} start on {marks[0].as_of}, after the window's first day {first}: "
            "use a shorter window to measure its forwards on the curve"
        )
    elif marks[-1].as_of < last - timedelta(days=LEAD_DAYS):
        reason = (
            f"the latest mark of {iso} {location} is of {marks[-1].as_of}, "
            f"over {LEAD_DAYS} days before {last}"
        )
    else:
        blocks = curve_blocks(marks)
        if not blocks:
            reason = f"the marks of {iso} {location} do not all price onpeak and offpeak (or atc)"
    return CurveSource(iso, hub, location, marks, blocks, reason)


# ---- factor history ------------------------------------------------------------------------------


def location_factors(locations: Sequence[tuple[str, str]]) -> tuple[RiskFactor, ...]:
    """The spot factors of `locations`: onpeak and offpeak of each, in order."""
    return tuple(RiskFactor(iso, name, block) for iso, name in locations for block in FACTOR_BLOCKS)


def daily_block_prices(iso: str, rows: pa.Table, first: date, last: date) -> Floats:
    """Daily average DAM price ($/MWh) of onpeak and offpeak hours, days `first`..`last` of market time.

    Shape (days, 2). A day with prices but no onpeak hours (weekend, NERC
    holiday) carries the previous onpeak price; a day without any price
    stays NaN (missing history).
    """
    n = (last - first).days + 1
    sums = np.zeros((n, 2))
    counts = np.zeros((n, 2))
    if rows.num_rows:
        starts = rows.column("interval_start").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
        prices = rows.column("lmp").to_numpy(zero_copy_only=False).astype(np.float64)
        local = clock_for(iso_info(iso).timezone, starts).to_local(starts)
        day = local // DAY - (first - date(1970, 1, 1)).days
        onpeak = block_mask_local(local, Block.ONPEAK)
        keep = (day >= 0) & (day < n) & np.isfinite(prices)
        column = np.where(onpeak, 0, 1)
        np.add.at(sums, (day[keep], column[keep]), prices[keep])
        np.add.at(counts, (day[keep], column[keep]), 1.0)
    levels = np.divide(sums, counts, out=np.full((n, 2), np.nan), where=counts > 0)
    priced = counts.sum(axis=1) > 0
    for i in range(1, n):
        if priced[i] and counts[i, 0] == 0:
            levels[i, 0] = levels[i - 1, 0]
    result: Floats = levels
    return result


def factor_history(plan: HistoryPlan, inputs: Sequence[Input]) -> FactorHistory:
    """Daily changes ($/MWh) of the plan's spot factors over its days (the module docstring's rule)."""
    lead = plan.first - timedelta(days=LEAD_DAYS)
    columns = [
        daily_block_prices(iso, i.rows, lead, plan.day)
        for (iso, _), i in zip(plan.locations, inputs, strict=True)
    ]
    levels = np.concatenate(columns, axis=1)[LEAD_DAYS:]
    days = [plan.first + timedelta(days=k) for k in range(levels.shape[0])]
    try:
        spot = FactorHistory.from_levels(location_factors(plan.locations), days, levels)
        parts = [spot] + [
            calendar_curve_history(
                [m.curve for m in c.marks], c.blocks, spot.dates, location=c.location, as_of=plan.book_day
            )
            for c in plan.curves
            if c.used
        ]
    except RiskError as error:
        raise risk_problem(error, "window") from None
    if len(parts) == 1:
        return spot
    return FactorHistory(
        tuple(f for part in parts for f in part.factors),
        spot.dates,
        np.concatenate([part.changes for part in parts], axis=1),
        np.concatenate([part.levels for part in parts if part.levels is not None]),
    )


def risk_problem(error: RiskError, parameter: str) -> ApiError:
    """A domain refusal as a 422: missing history names the factor and day, unknown factors the position."""
    if isinstance(error, MissingHistory):
        return ApiError(422, "missing_history", f"{parameter}: {error}", parameter)
    if isinstance(error, UnknownFactor | EmptyPortfolio):
        return ApiError(422, "invalid_portfolio", f"portfolio: {error}", "portfolio")
    return bad_parameter(parameter, f"{parameter}: {error}")


def typical_day(iso: str, rows: pa.Table) -> Floats:
    """The average DAM price ($/MWh) of each market-time hour beginning 0-23 over `rows`; NaN where none."""
    sums = np.zeros(24)
    counts = np.zeros(24)
    if rows.num_rows:
        starts = rows.column("interval_start").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
        prices = rows.column("lmp").to_numpy(zero_copy_only=False).astype(np.float64)
        hour = hour_of_day(iso, starts)
        keep = np.isfinite(prices)
        np.add.at(sums, hour[keep], prices[keep])
        np.add.at(counts, hour[keep], 1.0)
    result: Floats = np.divide(sums, counts, out=np.full(24, np.nan), where=counts > 0)
    return result


def book_portfolio(plan: HistoryPlan, inputs: Sequence[Input]) -> Portfolio:
    """The plan's portfolio with its PPA and battery positions made hourly by their engines.

    Each is priced on its location's typical day over the DAM prices read
    (`typical_day`); 422 naming the portfolio when an engine refuses one.
    """
    days = {
        located: typical_day(iso, i.rows)
        for located, (iso, _), i in zip(book_locations(plan.portfolio), plan.locations, inputs, strict=True)
    }
    try:
        return engine_positions(plan.portfolio, days)
    except RiskError as error:
        raise risk_problem(error, "portfolio") from None


def book_exposures(plan: HistoryPlan, history: FactorHistory, inputs: Sequence[Input]) -> ExposureMatrix:
    """The book's MWh on the history's factors, delivery from the day after `as_of` on; 422 if none is left.

    PPAs and batteries are first made hourly (`book_portfolio`). Forwards
    on a hub measured on its curve map onto its tenor factors (spot for
    months the curve does not reach); everything else onto spot.
    """
    try:
        matrix = exposures(
            book_portfolio(plan, inputs),
            history.factors,
            as_of=plan.book_day + timedelta(days=1),
            monthly=plan.on_curves,
        )
    except RiskError as error:
        raise risk_problem(error, "portfolio") from None
    if not matrix.exposed:
        raise bad_parameter(
            "as_of",
            f"as_of: every position of {plan.record.name} has delivered by {plan.book_day}; "
            "nothing is at risk",
        )
    return matrix


def measure(measure: Measure, exposure: ExposureMatrix, history: FactorHistory) -> RiskResult:
    """VaR and ES ($) of `exposure` on `history` by the measure's method; 422 for the domain's refusals."""
    try:
        if measure.method is Method.HISTORICAL:
            return historical_var(
                exposure,
                history,
                confidence=measure.confidence,
                horizon=measure.horizon,
                window=measure.window,
            )
        if measure.method is Method.PARAMETRIC:
            return parametric_var(
                exposure,
                history,
                confidence=measure.confidence,
                horizon=measure.horizon,
                covariance=measure.covariance,
                window=measure.window,
            )
        return monte_carlo_var(
            exposure,
            history,
            confidence=measure.confidence,
            horizon=measure.horizon,
            paths=measure.paths,
            copula=measure.copula,
            covariance=measure.covariance,
            window=measure.window,
            seed=measure.seed,
        )
    except RiskError as error:
        raise risk_problem(error, "window") from None


__all__ = [
    "DEFAULT_WINDOW",
    "FACTOR_BLOCKS",
    "MAX_UPLOAD_BYTES",
    "RISK_FEATURE",
    "CurveSource",
    "HistoryPlan",
    "Measure",
    "Method",
    "PortfolioRequest",
    "RiskMethod",
    "RiskRequest",
    "book_exposures",
    "book_locations",
    "book_portfolio",
    "books",
    "check_measure",
    "csv_from_records",
    "daily_block_prices",
    "factor_history",
    "find_book",
    "location_factors",
    "market_day",
    "measure",
    "plan_history",
    "risk_problem",
    "save_book",
    "typical_day",
]
