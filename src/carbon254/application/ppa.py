"""Valuing a PPA against a marked curve: the request, the plan of what it reads, and the run.

A PPA is valued on the hub's hourly forward curve (`curve_hpfc`: the mark
shaped with the hub's stored day-ahead history), carried past the mark's
last month by `extend_curve` for long terms; settled at a node, the node's
prices are the hub's plus the basis `node_curve` estimates from both
stored histories. The volume is a solar plant's hourly output (pvlib,
`carbon254.ppa`) at the given site, the ISO's representative site by
default, or a flat block. Monte Carlo paths come from the scenario engine's
path model calibrated to the hub's history.

`plan_ppa` checks a request into a plan (the mark, the contract, the site,
the stored reads) without reading prices; `run_ppa` reads nothing itself:
it takes the plan and the rows the operation layer read, and returns the
domain's valuation, distribution and risk decomposition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from carbon254.application.curves import HISTORY_DAYS, find_mark, history_query, parse_month
from carbon254.application.datasets import DatasetQuery
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import entitle_data, entitle_feature
from carbon254.application.operation import CallContext, Input, OperationRequest
from carbon254.application.params import parse_tz
from carbon254.curves import (
    HourlyCurve,
    MonthlyCurve,
    build_hpfc,
    estimate_basis,
    estimate_shape,
    extend_curve,
    hourly_history,
    node_curve,
)
from carbon254.curves.hours import month_start_utc
from carbon254.isos import declaration
from carbon254.metadata.curves import CurveMark
from carbon254.ppa import (
    Contract,
    DiscountCurve,
    PpaDistribution,
    PpaError,
    RiskDecomposition,
    SettleAt,
    SolarSite,
    Valuation,
    VolumeUncertainty,
    WaterfallStep,
    calibrate_paths,
    parse_contract,
    risk_decomposition,
    simulate_ppa,
    solar_profile,
    value_ppa,
    waterfall,
)
from carbon254.scenarios import PathsStep
from carbon254.schema import Dataset

PPA_FEATURE = "ppa"
US_PER_HOUR = 3_600_000_000
MONTHS_PER_YEAR = 12
CONTRACT_TYPES = ("fixed", "collar", "index_plus", "floating_discount")
# Paths a request may simulate inline; more run as the `ppa_simulate` job (about a second per
# 1,000 paths of 20 hourly years on one core).
INLINE_PATHS = 2_000
MAX_PATHS = 100_000

Floats = npt.NDArray[np.float64]
Side = Literal["buyer", "seller"]


class PpaRequest(OperationRequest):
    """The contract, where it settles, the plant whose output it covers and how cash is discounted."""

    hub: str = Field(description="The settlement hub, as marked (any case), e.g. HB_NORTH.")
    iso: str | None = Field(
        None, description="ISO/RTO of the hub (any case); needed only if two ISOs mark it."
    )
    node: str | None = Field(
        None, description="Settle at this node instead: the hub's prices plus the node's estimated basis."
    )
    as_of: str | None = Field(None, description="Market day of the hub's mark (default: the latest).")
    contract: str = Field(
        "fixed",
        description="fixed (strike), collar (floor and cap), index_plus (adder) or floating_discount "
        "(discount, optional floor).",
    )
    strike: float | None = Field(None, description="Fixed price, $/MWh (fixed).")
    floor: float | None = Field(None, description="Floor, $/MWh (collar; optional for floating_discount).")
    cap: float | None = Field(None, description="Cap, $/MWh (collar).")
    adder: float | None = Field(None, description="Adder to the index, $/MWh (index_plus).")
    discount: float | None = Field(None, description="Discount to the index, fraction (floating_discount).")
    start: str | None = Field(
        None, description="First delivery month, YYYY-MM or M+k of the mark (default: M+1, the prompt month)."
    )
    term_years: int = Field(10, description="Term, years (1-25).")
    escalator: float = Field(0.0, description="Annual escalation of the contract prices, fraction (0.02).")
    negative_price: str = Field(
        "settle", description="settle: hours below $0 settle like any other; curtail: they settle no volume."
    )
    rec_price: float = Field(0.0, description="REC price the buyer pays per MWh, $/MWh.")
    volume: str = Field(
        "as_generated",
        description="as_generated, baseload (the average MW around the clock) or shaped (the plant's "
        "month x hour-of-day profile).",
    )
    side: str = Field("buyer", description="Whose view: buyer (offtaker) or seller (generator).")
    technology: str = Field(
        "solar", description="solar (pvlib at the site) or flat (capacity_mw in every hour)."
    )
    capacity_mw: float = Field(100.0, description="Plant capacity, MW AC.")
    latitude: float | None = Field(None, description="Site latitude, degrees (default: the ISO's site).")
    longitude: float | None = Field(None, description="Site longitude, degrees (default: the ISO's site).")
    tracking: str = Field("single_axis", description="Solar mounting: single_axis or fixed.")
    degradation: float = Field(0.005, description="Output lost per year of operation, fraction.")
    volume_sd: float = Field(
        0.05, description="Year-to-year standard deviation of annual output (weather), fraction of P50."
    )
    resource_sd: float = Field(
        0.04,
        description="Standard deviation of the resource estimate itself (the same every year), fraction of "
        "P50; with volume_sd it sets the P90 over the term.",
    )
    discount_rate: float = Field(0.08, description="Annual discount rate, fraction (0.08).")
    curve_escalation: float = Field(
        0.02,
        description="Annual price growth assumed past the marked curve's last month, fraction: later "
        "months repeat the last marked year, escalated.",
    )
    paths: int = Field(
        0, description=f"Monte Carlo price paths (0: deterministic only; at most {INLINE_PATHS} inline)."
    )
    seed: int = Field(0, description="Seed of the Monte Carlo paths: the same seed gives the same answer.")
    volatility: float | None = Field(
        None,
        description="Annualized volatility of log price for the paths (default: calibrated to the hub's "
        "stored history).",
    )
    basis_sd: float = Field(0.0, description="Standard deviation of the node's hourly basis, $/MWh (paths).")
    price_volume_correlation: float = Field(
        0.0, description="Correlation of annual output with the annual price level (paths), -1..1."
    )
    tz: str | None = Field(
        "iso", description="IANA zone months are shown in; `iso` (default) is the ISO's market time."
    )


@dataclass(frozen=True, slots=True)
class PpaPlan:
    """A checked PPA request: the mark, the contract, the plant, the months and the stored reads.

    `inputs` are the hub's day-ahead history (its hourly shape and the
    paths' calibration) and, for a node, the node's (its basis); either may
    be absent when the store holds none (the HPFC is then flat within
    blocks, and a node cannot be valued).
    """

    mark: CurveMark
    node: str | None
    contract: Contract
    side: Side
    site: SolarSite | None
    capacity_mw: float
    degradation: float
    volume: VolumeUncertainty
    first_month: date
    end_month: date
    discount_rate: float
    curve_escalation: float
    paths: int
    seed: int
    volatility: float | None
    basis_sd: float
    price_volume_correlation: float
    inputs: tuple[DatasetQuery, ...]
    renames: tuple[Mapping[str, str], ...]
    tz: str | None

    @property
    def iso(self) -> str:
        """The ISO of the mark."""
        return self.mark.curve.iso

    @property
    def last_month(self) -> date:
        """The term's last delivery month (`end_month` is the first after it)."""
        end = self.end_month
        return date(end.year - (end.month == 1), (end.month - 2) % 12 + 1, 1)

    @property
    def term_years(self) -> int:
        """Whole years from the first delivery month to the end month."""
        months = (self.end_month.year - self.first_month.year) * MONTHS_PER_YEAR
        return (months + self.end_month.month - self.first_month.month) // MONTHS_PER_YEAR

    @property
    def discount(self) -> DiscountCurve:
        """Cash discounted at `discount_rate`, compounded annually, each month's paid at its end."""
        return DiscountCurve.flat(self.discount_rate)

    @property
    def settlement_point(self) -> str:
        """Where the contract settles: the node, else the hub."""
        return self.node or self.mark.curve.hub

    def parameters(self) -> dict[str, Any]:
        """Everything that shapes the answer beyond the inputs (part of the cache key)."""
        return {
            "mark": self.mark.id,
            "node": self.node,
            "contract": self.contract.model_dump(mode="json"),
            "side": self.side,
            "site": None if self.site is None else _site_document(self.site),
            "capacity_mw": self.capacity_mw,
            "degradation": self.degradation,
            "volume_sd": [self.volume.interannual_sd, self.volume.long_term_sd],
            "months": [self.first_month.isoformat(), self.end_month.isoformat()],
            "discount_rate": self.discount_rate,
            "curve_escalation": self.curve_escalation,
            "paths": self.paths,
            "seed": self.seed,
            "volatility": self.volatility,
            "basis_sd": self.basis_sd,
            "price_volume_correlation": self.price_volume_correlation,
        }


def _site_document(site: SolarSite) -> dict[str, Any]:
    return {
        "latitude": site.latitude,
        "longitude": site.longitude,
        "capacity_mw": site.capacity_mw,
        "tracking": site.tracking,
    }


def _finite(parameter: str, value: float, low: float | None = None, high: float | None = None) -> float:
    if not math.isfinite(value):
        raise bad_parameter(parameter, f"{parameter}: must be a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (
            f"between {low:g} and {high:g}"
            if low is not None and high is not None
            else (f"at least {low:g}" if low is not None else f"at most {high:g}")
        )
        raise bad_parameter(parameter, f"{parameter}: {value:g} must be {bounds}")
    return value


def _choice(parameter: str, text: str, options: Sequence[str]) -> str:
    value = text.strip().lower()
    if value not in options:
        raise bad_parameter(parameter, f"{parameter}: {text!r} is not one of {', '.join(options)}")
    return value


def contract_of(request: PpaRequest, *, priced: bool = True) -> Contract:
    """The domain contract of the request's flat fields; 422 naming the field the domain refuses.

    Its start and term are left to the hours valued (the plan's months in
    the ISO's market time), so escalation steps from the first of them.
    `priced=False` lets a fixed price go without its strike: a breakeven
    asks for the strike, so none is given (its volume and terms are what
    count).
    """
    kind = _choice("contract", request.contract, CONTRACT_TYPES)
    terms: dict[str, object] = {
        "type": kind,
        "escalator": request.escalator,
        "negative_price": request.negative_price.strip().lower(),
        "rec_price": request.rec_price,
        "volume": request.volume.strip().lower(),
    }
    needed = {
        "fixed": ("strike",),
        "collar": ("floor", "cap"),
        "index_plus": ("adder",),
        "floating_discount": ("discount",),
    }[kind]
    if not priced and kind == "fixed" and request.strike is None:
        terms["strike"] = 0.0
        needed = ()
    for name in needed:
        if getattr(request, name) is None:
            raise bad_parameter(name, f"{name}: a {kind} contract needs {' and '.join(needed)}")
    for name in ("strike", "floor", "cap", "adder", "discount"):
        value = getattr(request, name)
        if value is not None:
            terms[name] = value
    return contract_from_terms(terms)


def contract_from_terms(terms: Mapping[str, object]) -> Contract:
    """A contract document (the JSON `carbon254 ppa value --contract` reads) checked; 422 naming the field."""
    try:
        return parse_contract(terms)
    except PpaError as exc:
        raise refused(exc) from None


def _default_site(iso: str) -> tuple[float, float]:
    model = declaration(iso).simulation().model
    return model.latitude, model.longitude


def plan_ppa(context: CallContext, request: PpaRequest, *, priced: bool = True) -> PpaPlan:
    """Check `request` into a plan naming the stored reads; reads no prices.

    `priced=False` plans a breakeven: a fixed price needs no strike.

    The caller needs the `ppa` and `curves` features and the ISO's LMPs
    (403); the hub needs a mark (404 saying how to mark one), a node the
    stored histories of node and hub (404); every other field is refused
    with a 422 naming it.
    """
    entitle_feature(context.principal, context.feature)
    mark = _mark(context, request)
    curve = mark.curve
    entitle_data(context.principal, curve.iso, Dataset.LMP)
    first_month = (
        parse_month("start", request.start, curve.as_of)
        if request.start
        else parse_month("start", "M+1", curve.as_of)
    )
    if not 1 <= request.term_years <= 25:
        raise bad_parameter("term_years", f"term_years: {request.term_years} must be between 1 and 25")
    end_index = (
        first_month.year * MONTHS_PER_YEAR + first_month.month - 1 + MONTHS_PER_YEAR * request.term_years
    )
    end_month = date(end_index // MONTHS_PER_YEAR, end_index % MONTHS_PER_YEAR + 1, 1)
    if first_month < curve.months[0]:
        raise bad_parameter(
            "start",
            f"start: {first_month:%Y-%m} is before the {curve.hub} mark's first month "
            f"{curve.months[0]:%Y-%m}",
        )
    contract = contract_of(request, priced=priced)
    side: Side = "seller" if _choice("side", request.side, ("buyer", "seller")) == "seller" else "buyer"
    technology = _choice("technology", request.technology, ("solar", "flat"))
    capacity = _finite("capacity_mw", request.capacity_mw, 0.0)
    if capacity <= 0:
        raise bad_parameter("capacity_mw", "capacity_mw: must be positive")
    site = None
    if technology == "solar":
        latitude, longitude = _default_site(curve.iso)
        site = _site(request, capacity, latitude, longitude)
    paths = request.paths
    if not 0 <= paths <= MAX_PATHS:
        raise bad_parameter("paths", f"paths: {paths} must be between 0 and {MAX_PATHS}")
    volatility = None if request.volatility is None else _finite("volatility", request.volatility, 0.0, 20.0)
    node = request.node.strip() if request.node and request.node.strip() else None
    hub_history = history_query(context.store, context.settings, curve.iso, curve.hub, curve.as_of, "hub")
    reads: list[DatasetQuery] = [] if hub_history is None else [hub_history]
    renames: list[Mapping[str, str]] = [] if hub_history is None else [{"locations": "hub"}]
    if node is not None:
        node_history = history_query(context.store, context.settings, curve.iso, node, curve.as_of, "node")
        if node_history is None or hub_history is None:
            raise ApiError(
                404,
                "history_not_found",
                f"node: no stored {curve.iso} day-ahead prices of "
                f"{node if node_history is None else curve.hub} "
                f"in the {HISTORY_DAYS} days before {curve.as_of}; settling at a node needs both histories "
                "to estimate its basis",
                "node",
            )
        reads.append(node_history)
        renames.append({"locations": "node"})
    return PpaPlan(
        mark=mark,
        node=node,
        contract=contract,
        side=side,
        site=site,
        capacity_mw=capacity,
        degradation=_finite("degradation", request.degradation, 0.0, 0.2),
        volume=VolumeUncertainty(
            _finite("volume_sd", request.volume_sd, 0.0, 0.5),
            _finite("resource_sd", request.resource_sd, 0.0, 0.5),
        ),
        first_month=first_month,
        end_month=end_month,
        discount_rate=_finite("discount_rate", request.discount_rate, -0.05, 1.0),
        curve_escalation=_finite("curve_escalation", request.curve_escalation, -0.5, 0.5),
        paths=paths,
        seed=request.seed,
        volatility=volatility,
        basis_sd=_finite("basis_sd", request.basis_sd, 0.0),
        price_volume_correlation=_finite(
            "price_volume_correlation", request.price_volume_correlation, -1.0, 1.0
        ),
        inputs=tuple(reads),
        renames=tuple(renames),
        tz=parse_tz(request.tz, curve.iso),
    )


def _mark(context: CallContext, request: PpaRequest) -> CurveMark:
    return find_mark(context.require_metadata(), context.principal, request.iso, request.hub, request.as_of)


def _site(request: PpaRequest, capacity: float, latitude: float, longitude: float) -> SolarSite:
    tracking: Literal["fixed", "single_axis"] = (
        "fixed"
        if _choice("tracking", request.tracking, ("single_axis", "fixed")) == "fixed"
        else "single_axis"
    )
    lat = _finite("latitude", request.latitude if request.latitude is not None else latitude, -90.0, 90.0)
    lon = _finite(
        "longitude", request.longitude if request.longitude is not None else longitude, -180.0, 180.0
    )
    try:
        return SolarSite(latitude=lat, longitude=lon, capacity_mw=capacity, tracking=tracking)
    except PpaError as exc:
        raise refused(exc) from None


@dataclass(frozen=True, slots=True)
class PpaMarket:
    """The hourly prices and volume a PPA is valued on, over its term (UTC hour starts, microseconds).

    `hub` is the hub's HPFC ($/MWh), `price` the settlement point's (the
    hub's, or hub + basis at a node), `mwh` the P50 volume per hour (MWh).
    `extrapolated_from` is the first month past the mark's last (None when
    the mark covers the term).
    """

    starts: npt.NDArray[np.int64]
    hub: Floats
    price: Floats
    mwh: Floats
    history: HourlyCurve | None
    shape: str
    extrapolated_from: date | None


def ppa_market(plan: PpaPlan, inputs: Sequence[Input]) -> PpaMarket:
    """The term's hourly hub and settlement prices and P50 volume, from the mark and the read histories."""
    curve = plan.mark.curve
    hub_rows = inputs[0].rows if inputs else None
    shape = estimate_shape(hub_rows, iso=curve.iso) if hub_rows is not None and hub_rows.num_rows else None
    extended = extend_curve(curve, plan.last_month, escalation=plan.curve_escalation)
    hub = _term(build_hpfc(extended, shape), plan)
    price = hub.prices
    if plan.node is not None:
        basis = estimate_basis(
            inputs[1].rows, inputs[0].rows, iso=curve.iso, window_days=HISTORY_DAYS, estimator="median"
        )
        node_monthly: MonthlyCurve = node_curve(extended, basis, plan.node)
        price = _term(build_hpfc(node_monthly, shape), plan).prices
    mwh = _volume(plan, hub.starts)
    history = None
    if hub_rows is not None and hub_rows.num_rows:
        hourly = hourly_history(hub_rows)
        history = HourlyCurve(curve.iso, curve.hub, curve.as_of, hourly.starts, hourly.prices)
    marked_end = curve.months[-1]
    beyond = date(marked_end.year + marked_end.month // 12, marked_end.month % 12 + 1, 1)
    return PpaMarket(
        starts=hub.starts,
        hub=hub.prices,
        price=price,
        mwh=mwh,
        history=history,
        shape="history" if shape is not None else "flat",
        extrapolated_from=beyond if beyond < plan.end_month else None,
    )


def _term(hourly: HourlyCurve, plan: PpaPlan) -> HourlyCurve:
    """The hours of the contract's months, in the ISO's market time."""
    lo = month_start_utc(plan.iso, plan.first_month)
    hi = month_start_utc(plan.iso, plan.end_month)
    keep = (hourly.starts >= lo) & (hourly.starts < hi)
    return replace(hourly, starts=hourly.starts[keep], prices=hourly.prices[keep])


def _volume(plan: PpaPlan, starts: npt.NDArray[np.int64]) -> Floats:
    if plan.site is None:
        return np.full(len(starts), plan.capacity_mw)
    try:
        return solar_profile(plan.site, starts, degradation=plan.degradation)
    except PpaError as exc:
        raise refused(exc) from None


def path_model(plan: PpaPlan, market: PpaMarket) -> PathsStep:
    """The price-path model: fitted to the hub's stored history (defaults without one), `volatility` set."""
    step = (
        calibrate_paths(market.history.starts, market.history.prices)
        if market.history
        else PathsStep(n_paths=1)
    )
    if plan.volatility is not None:
        step = step.model_copy(update={"sigma": plan.volatility})
    return step


@dataclass(frozen=True, slots=True)
class PpaRun:
    """A valued PPA: the market, the valuation, its P90-volume NPV, the waterfall, and with paths the spread.

    `distribution` is the NPV over the Monte Carlo paths and `risk` each
    source's own spread over paths of its own (both None without paths).
    """

    plan: PpaPlan
    market: PpaMarket
    valuation: Valuation
    p90_npv: float
    waterfall: tuple[WaterfallStep, ...]
    distribution: PpaDistribution | None
    risk: RiskDecomposition | None


def run_ppa(plan: PpaPlan, inputs: Sequence[Input], paths: int | None = None) -> PpaRun:
    """Value the plan's contract on the read histories; simulate `paths` (default the plan's) when > 0.

    Paths beyond `INLINE_PATHS` are refused here (422 naming `paths`): they run as the
    `ppa_simulate` job.
    """
    n = plan.paths if paths is None else paths
    if n > INLINE_PATHS:
        raise bad_parameter(
            "paths",
            f"paths: {n:,} is more than one request draws ({INLINE_PATHS:,}); submit it as a `ppa_simulate` "
            "job (POST /v1/jobs with kind ppa_simulate)",
        )
    market = ppa_market(plan, inputs)
    contract, discount, side = plan.contract, plan.discount, plan.side
    settle_at: SettleAt = "node" if plan.node is not None else "hub"
    basis = market.price - market.hub
    try:
        valuation = value_ppa(contract, market.starts, market.price, market.mwh, discount, side=side)
        p90_volume = market.mwh * plan.volume.p_level(0.9, plan.term_years)
        p90 = value_ppa(contract, market.starts, market.price, p90_volume, discount, side=side).npv
        steps = waterfall(
            contract,
            market.starts,
            market.hub,
            market.mwh,
            discount,
            basis=basis,
            settle_at=settle_at,
            side=side,
        )
        distribution = risk = None
        if n > 0:
            model = path_model(plan, market)
            distribution = simulate_ppa(
                contract,
                market.starts,
                market.hub,
                market.mwh,
                discount,
                model=model,
                n_paths=n,
                seed=plan.seed,
                volume_sd=plan.volume,
                price_volume_correlation=plan.price_volume_correlation,
                basis=basis,
                basis_sd=plan.basis_sd,
                settle_at=settle_at,
                side=side,
            )
            risk = risk_decomposition(
                contract,
                market.starts,
                market.hub,
                market.mwh,
                discount,
                model=model,
                n_paths=n,
                seed=plan.seed,
                volume_sd=plan.volume,
                basis=basis,
                basis_sd=plan.basis_sd,
                settle_at=settle_at,
                side=side,
            )
    except PpaError as exc:
        raise refused(exc) from None
    return PpaRun(plan, market, valuation, p90, steps, distribution, risk)


def refused(exc: PpaError) -> ApiError:
    """A domain refusal as a 422 naming the field the message starts with (else the contract)."""
    field, _, rest = str(exc).partition(": ")
    known = field in PpaRequest.model_fields
    return bad_parameter(
        field if known else "contract", str(exc) if known or not rest else f"contract: {exc}"
    )
