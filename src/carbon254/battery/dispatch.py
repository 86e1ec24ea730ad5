"""Perfect-foresight dispatch: energy arbitrage co-optimized with ancillary-service reserves (HiGHS).

One LP over the horizon. Per interval t of h hours: charge c_t and
discharge d_t (MW), the state of charge s_t after the interval (MWh) and an
award r_kt (MW) for every reserve product k the battery is qualified for:

    s_t = s_{t-1} + eta_c h (c_t + sum_k a_k^down r_kt) - h / eta_d (d_t + sum_k a_k^up r_kt)
    d_t - c_t + sum_{k raises} r_kt <= P_discharge        (room to inject more)
    c_t - d_t + sum_{k lowers} r_kt <= P_charge           (room to withdraw more)
    s_t and s_{t-1} - sum_{k raises} D_k r_kt / eta_d >= SOC floor
    s_t and s_{t-1} + sum_{k lowers} D_k eta_c r_kt <= SOC ceiling

where a_k is the product's expected deployment (split evenly both ways for
symmetric regulation) and D_k the hours an award must be sustainable. The
objective is energy revenue (deployed energy included, at the energy price)
plus reserve capacity payments, less the degradation cost of discharged
energy. Cycle limits cap the discharged energy per day, per year (pro rata)
and over the horizon.

With efficiencies below one the LP never charges and discharges at once
where the price is positive (it would burn energy for nothing). Where a
price is zero or negative it may (being paid to consume, burning is
profitable), which no battery can do: then the problem is solved again as
a MILP with a charge-or-discharge binary on those intervals only, which is
exact because no optimum does both at a positive price.

HiGHS is called through `highspy` rather than SciPy so that a
`DispatchSolver` keeps its model between price series: a fleet screen
re-solves the same battery on node after node, each warm-started from the
previous node's basis (about 3-4 times faster than a cold solve).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from carbon254.battery.asset import Battery, BatteryError
from carbon254.battery.market import MarketPrices, ReserveDirection, ReserveProduct, Stamps
from carbon254.battery.schedule import AUX, DEGRADATION, ENERGY, Schedule, or_zeros

Floats = npt.NDArray[np.float64]

# Below this (MW) a charge and a discharge in one interval count as not simultaneous: solver noise.
SIMULTANEOUS_MW = 1e-6
US_PER_DAY = 86_400_000_000
HOURS_PER_YEAR = 8760.0
# A schedule within this relative gap of the LP bound is taken as optimal: 1e-6 of a year's revenue is cents.
MIP_GAP = 1e-6
# The MILP runs on horizons up to this many intervals (a month of hours), for at most this long.
MILP_MAX_INTERVALS = 2_000
MILP_SECONDS = 10.0
# The most LP re-solves that fix simultaneous intervals to one direction.
SEPARATION_ROUNDS = 50


@dataclass(frozen=True, slots=True)
class _Reserve:
    """A qualified reserve product's coefficients in the LP."""

    product: ReserveProduct
    limit_mw: float
    up: float  # deployed energy discharged per MW of award per hour
    down: float  # deployed energy charged per MW of award per hour


class DispatchSolver:
    """The dispatch LP of one battery on one grid of intervals, re-solved for one price series after another.

    `interval_start` (µs UTC) and `interval_hours` fix the grid (and so the
    daily cycle windows); `products` the reserve products prices will carry,
    in order (those the battery is not qualified for are left out of the
    model). `free_end` lets the last state of charge end anywhere within
    the SOC bounds instead of at the battery's final SOC (a rolling
    horizon's window); `fixed_awards` holds each named product's award (MW
    per interval) where an earlier market set it (real-time dispatch under
    day-ahead reserve awards). Raises `BatteryError` when the battery cannot
    hold a qualified product's award for its duration.
    """

    def __init__(
        self,
        battery: Battery,
        interval_start: Stamps,
        interval_hours: float,
        products: tuple[ReserveProduct, ...] = (),
        *,
        free_end: bool = False,
        fixed_awards: Mapping[str, Floats] | None = None,
    ) -> None:
        self.battery = battery
        self.interval_start = np.asarray(interval_start, dtype=np.int64)
        self.interval_hours = float(interval_hours)
        self.products = products
        self.reserves = tuple(
            _qualified(battery, product) for product in products if battery.reserve_limit_mw(product.name) > 0
        )
        self._n = len(self.interval_start)
        if self._n == 0:
            raise BatteryError("prices: need at least one interval")
        self._matrix, self._row_lower, self._row_upper = _constraints(self)
        self._col_lower, self._col_upper = _bounds(self, free_end, fixed_awards or {})
        self._highs: highspy.Highs | None = None

    def solve(self, prices: MarketPrices, *, energy_stream: str = ENERGY) -> Schedule:
        """The optimal schedule for `prices` (on this solver's grid and products), with its cash by stream.

        Raises `BatteryError` when the prices are on another grid or carry
        other products, or when no schedule reaches the final state of
        charge within the horizon.
        """
        self._check(prices)
        reserve_prices = {r.product.name: r.prices for r in prices.reserves}
        rho = [reserve_prices[r.product.name] for r in self.reserves]
        cost = self._cost(prices.energy, rho)
        x = self._solve_lp(cost)
        integer = bool(self._simultaneous(x).any())
        gap = 0.0
        if integer:
            x, gap = self._separate(x, cost)
        return self._schedule(x, prices, integer, gap, energy_stream)

    # -- the model ----------------------------------------------------------------------------

    def _column(self, x: Floats, block: int) -> Floats:
        n = self._n
        return np.asarray(x[block * n : (block + 1) * n])

    def _cost(self, energy: Floats, rho: list[Floats]) -> Floats:
        """The objective's coefficients (minimized): minus revenue plus degradation, per column."""
        h, deg = self.interval_hours, self.battery.degradation_cost
        blocks = [energy * h, -energy * h + deg * h, np.zeros(self._n)]
        for reserve, price in zip(self.reserves, rho, strict=True):
            blocks.append(-price * h - energy * h * (reserve.up - reserve.down) + deg * h * reserve.up)
        return np.concatenate(blocks)

    def _simultaneous(self, x: Floats) -> npt.NDArray[np.bool_]:
        return (self._column(x, 0) > SIMULTANEOUS_MW) & (self._column(x, 1) > SIMULTANEOUS_MW)

    def _solve_lp(self, cost: Floats) -> Floats:
        if self._highs is None:
            self._highs = _highs()
            self._highs.passModel(self._lp(cost))
        else:
            # Same model, new prices: HiGHS starts from the previous optimal basis.
            self._highs.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        return self._run(self._highs)

    def _separate(self, relaxed: Floats, cost: Floats) -> tuple[Floats, float]:
        """A schedule that never charges and discharges at once, and its distance from the LP bound.

        The LP did both somewhere (burning energy at a negative price). Each
        such interval is fixed to its larger flow (charge-only or
        discharge-only, by its effect on the state of charge) and the LP is
        solved again, warm, until it does both nowhere: a handful of solves,
        feasible, and on a year of ERCOT real-time prices the MILP optimum
        every month tried (tests/battery). The LP's revenue overstates what
        is possible (it burns energy), so the gap to it is an upper bound on
        what is lost. When that exceeds `MIP_GAP` on a horizon of at most
        `MILP_MAX_INTERVALS`, the MILP (a charge-or-discharge binary on every
        interval ever fixed, started from this schedule, for at most
        `MILP_SECONDS`) proves optimality or finds better; longer horizons
        keep the separated schedule and report the bound's gap, as a MILP
        over a year of 5-minute intervals does not finish. Returns the
        schedule and its relative gap (0 when proved optimal).
        """
        highs = self._highs
        assert highs is not None  # _solve_lp made it
        n = self._n
        bound = float(cost @ relaxed)
        x: Floats | None = relaxed
        fixed = np.zeros(n, dtype=bool)
        charge_only = np.zeros(n, dtype=bool)
        try:
            for _ in range(SEPARATION_ROUNDS):
                assert x is not None
                both = self._simultaneous(x)
                if not both.any():
                    break
                b = self.battery
                stored = self._column(x, 0) * b.charge_efficiency
                released = self._column(x, 1) / b.discharge_efficiency
                charge_only[both] = stored[both] >= released[both]
                fixed |= both
                x = self._fixed_run(highs, fixed, charge_only)
                if x is None:
                    # This round's choice boxed the battery in (reserve awards held fixed can need
                    # room that only the other direction leaves): try the other direction there.
                    charge_only[both] = ~charge_only[both]
                    x = self._fixed_run(highs, fixed, charge_only)
                if x is None:
                    break
            else:
                x = None
        finally:
            # The model goes back to its own bounds for the next price series.
            columns = np.arange(2 * n, dtype=np.int32)
            highs.changeColsBounds(2 * n, columns, self._col_lower[: 2 * n], self._col_upper[: 2 * n])
        if x is None:
            # Fixing directions interval by interval found nothing feasible (reserve awards held fixed
            # can leave one direction feasible only where it would not be chosen greedily): a binary on
            # every interval, and the MILP decides them all.
            found = self._solve_milp(cost, np.arange(n), None)
            if found is None:
                raise BatteryError(
                    "no feasible schedule that keeps charging and discharging in separate intervals "
                    f"within {MILP_SECONDS:g} s of search (the LP alone does both at once)"
                )
            x, gap = found
            return x, max(gap, _relative_gap(float(cost @ x), bound)) if gap > 0 else gap
        gap = _relative_gap(float(cost @ x), bound)
        if gap > MIP_GAP and n <= MILP_MAX_INTERVALS:
            proved = self._solve_milp(cost, np.flatnonzero(fixed), x)
            if proved is not None:
                x, gap = proved
        return x, gap

    def _fixed_run(
        self, highs: highspy.Highs, fixed: npt.NDArray[np.bool_], charge_only: npt.NDArray[np.bool_]
    ) -> Floats | None:
        """Re-solve with every fixed interval charge-only or discharge-only; None if that is infeasible."""
        n = self._n
        columns = np.arange(2 * n, dtype=np.int32)
        highs.changeColsBounds(2 * n, columns, self._col_lower[: 2 * n], self._col_upper[: 2 * n])
        _zero_columns(highs, np.flatnonzero(fixed & ~charge_only))  # no charging there
        _zero_columns(highs, np.flatnonzero(fixed & charge_only) + n)  # no discharging there
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(highs.getSolution().col_value, dtype=np.float64)

    def _solve_milp(
        self, cost: Floats, binaries: npt.NDArray[np.intp], start: Floats | None
    ) -> tuple[Floats, float] | None:
        """The MILP with a binary u_j on each interval of `binaries`: c_j <= P_c u_j, d_j <= P_d (1 - u_j).

        Started from `start` when given (feasible, with no simultaneous
        flows) and stopped after `MILP_SECONDS`. Binaries elsewhere are not needed: the
        MILP is a relaxation of the whole problem, so a solution of it that
        does both nowhere is optimal for the whole, within the MILP's gap.
        Returns that solution and gap, or None when it found none better.
        """
        n, m, cols = self._n, len(binaries), len(cost)
        b = self.battery
        rows = np.arange(m)
        pick_c = sp.csr_matrix((np.ones(m), (rows, binaries)), shape=(m, cols))
        pick_d = sp.csr_matrix((np.ones(m), (rows, n + binaries)), shape=(m, cols))
        u = sp.identity(m, format="csr")
        matrix = sp.vstack(
            [
                sp.hstack([self._matrix, sp.csr_matrix((self._matrix.shape[0], m))]),
                sp.hstack([pick_c, -b.charge_limit_mw * u]),
                sp.hstack([pick_d, b.power_mw * u]),
            ],
            format="csc",
        )
        lp = _lp(
            matrix,
            np.concatenate([cost, np.zeros(m)]),
            np.concatenate([self._col_lower, np.zeros(m)]),
            np.concatenate([self._col_upper, np.ones(m)]),
            np.concatenate([self._row_lower, np.full(2 * m, -highspy.kHighsInf)]),
            np.concatenate([self._row_upper, np.zeros(m), np.full(m, b.power_mw)]),
        )
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * cols + [highspy.HighsVarType.kInteger] * m
        highs = _highs()
        highs.setOptionValue("presolve", "choose")  # branch and bound relies on it
        highs.setOptionValue("mip_rel_gap", MIP_GAP)
        highs.setOptionValue("time_limit", MILP_SECONDS)
        highs.passModel(lp)
        if start is not None:
            charging = (self._column(start, 0)[binaries] > SIMULTANEOUS_MW).astype(np.float64)
            solution = highspy.HighsSolution()
            solution.col_value = np.concatenate([start, charging])
            highs.setSolution(solution)
        highs.run()
        info = highs.getInfo()
        if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
            return None
        x = np.asarray(highs.getSolution().col_value, dtype=np.float64)[:cols]
        if self._simultaneous(x).any() or (start is not None and float(cost @ x) > float(cost @ start)):
            return None
        return x, max(0.0, float(info.mip_gap))

    def _lp(self, cost: Floats) -> highspy.HighsLp:
        return _lp(self._matrix, cost, self._col_lower, self._col_upper, self._row_lower, self._row_upper)

    def _run(self, highs: highspy.Highs) -> Floats:
        highs.run()
        status = highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            b = self.battery
            path = f"from {b.initial_soc_mwh} MWh to {b.end_soc_mwh} MWh within {self._n} intervals"
            reason = highs.modelStatusToString(status)
            raise BatteryError(
                f"no feasible schedule: the battery cannot go {path} under its limits ({reason})"
            )
        return np.asarray(highs.getSolution().col_value, dtype=np.float64)

    def _schedule(
        self, x: Floats, prices: MarketPrices, integer: bool, gap: float, energy_stream: str
    ) -> Schedule:
        h = self.interval_hours
        c, d, s = self._column(x, 0), self._column(x, 1), self._column(x, 2)
        # Solver noise below a microwatt would read as a dispatch in the tables.
        c, d = np.where(c > SIMULTANEOUS_MW, c, 0.0), np.where(d > SIMULTANEOUS_MW, d, 0.0)
        awards = {
            r.product.name: np.clip(self._column(x, 3 + i), 0.0, None) for i, r in enumerate(self.reserves)
        }
        up = sum((r.up * awards[r.product.name] * h for r in self.reserves), np.zeros(self._n))
        down = sum((r.down * awards[r.product.name] * h for r in self.reserves), np.zeros(self._n))
        schedule = Schedule(
            interval_start=self.interval_start,
            interval_hours=h,
            charge_mw=c,
            discharge_mw=d,
            soc_mwh=s,
            cash={},
            reserve_mw=awards,
            deployed_up_mwh=np.asarray(up, dtype=np.float64) if self.reserves else None,
            deployed_down_mwh=np.asarray(down, dtype=np.float64) if self.reserves else None,
            integer=integer,
            bound_gap=gap,
        )
        return settle(schedule, prices, self.battery, energy_stream)

    def _check(self, prices: MarketPrices) -> None:
        if len(prices) != self._n or prices.interval_hours != self.interval_hours:
            raise BatteryError(
                f"prices: {len(prices)} intervals of {prices.interval_hours} h; this solver's grid has "
                f"{self._n} of {self.interval_hours} h"
            )
        if not np.array_equal(prices.interval_start, self.interval_start):
            raise BatteryError("prices: interval starts differ from this solver's grid")
        if prices.products != self.products:
            names = ", ".join(p.name for p in prices.products) or "none"
            raise BatteryError(f"prices: reserve products {names} differ from this solver's")


def optimize(prices: MarketPrices, battery: Battery, *, energy_stream: str = ENERGY) -> Schedule:
    """The perfect-foresight schedule of `battery` over `prices`: energy and every qualified reserve.

    Energy prices are $/MWh and reserve prices $/MW-h on the grid of
    `prices`; a product counts when the battery has a reserve limit for it
    (`Battery.reserve_limits`). `energy_stream` names the energy cash in the
    result (`energy`, or `da_energy`/`rt_energy` for a two-settlement run).
    Raises `BatteryError` for an infeasible final state of charge or a
    reserve the battery cannot hold for its duration.
    """
    solver = DispatchSolver(battery, prices.interval_start, prices.interval_hours, prices.products)
    return solver.solve(prices, energy_stream=energy_stream)


def settle(
    schedule: Schedule, prices: MarketPrices, battery: Battery, energy_stream: str = ENERGY
) -> Schedule:
    """`schedule` with its cash worked out at `prices` (on its grid): what the schedule earns there.

    Energy (dispatch and deployed reserve energy) at the energy price
    ($/MWh), each award at its product's price ($/MW-h), the auxiliary load
    at the energy price, degradation per MWh discharged. A rolling horizon
    settles what it planned on forecasts at the prices that came.
    """
    h, energy = schedule.interval_hours, prices.energy
    up = or_zeros(schedule.deployed_up_mwh, len(schedule))
    down = or_zeros(schedule.deployed_down_mwh, len(schedule))
    cash: dict[str, Floats] = {
        energy_stream: energy * ((schedule.discharge_mw - schedule.charge_mw) * h + up - down)
    }
    reserve_prices = {r.product.name: r.prices for r in prices.reserves}
    for name, award in schedule.reserve_mw.items():
        cash[name] = reserve_prices[name] * award * h
    cash[AUX] = -energy * battery.aux_load_mw * h
    cash[DEGRADATION] = -battery.degradation_cost * schedule.discharged_mwh
    return dataclasses.replace(schedule, cash=cash)


def _qualified(battery: Battery, product: ReserveProduct) -> _Reserve:
    """A product's LP coefficients; BatteryError when its award cannot be held for its duration."""
    limit = battery.reserve_limit_mw(product.name)
    room = battery.usable_energy_mwh
    need = limit * product.duration_h / (battery.discharge_efficiency if product.direction.raises else 1.0)
    if need > room * (1 + 1e-9):
        most = room / product.duration_h * (battery.discharge_efficiency if product.direction.raises else 1.0)
        raise BatteryError(
            f"reserve_limits: {product.name} at {limit:g} MW must be sustainable for "
            f"{product.duration_h:g} h ({need:.4g} MWh), but the battery's usable energy is {room:g} MWh: "
            f"at most {most:.4g} MW"
        )
    a = product.deployment
    if product.direction is ReserveDirection.BOTH:
        return _Reserve(product, limit, a / 2, a / 2)
    if product.direction is ReserveDirection.UP:
        return _Reserve(product, limit, a, 0.0)
    return _Reserve(product, limit, 0.0, a)


def _bounds(model: DispatchSolver, free_end: bool, fixed: Mapping[str, Floats]) -> tuple[Floats, Floats]:
    """Column bounds: power limits, SOC bounds (the last at the final SOC unless free), reserve limits."""
    b, n = model.battery, model._n
    lower = [np.zeros(n), np.zeros(n), np.full(n, b.min_soc_mwh)]
    upper = [np.full(n, b.charge_limit_mw), np.full(n, b.power_mw), np.full(n, b.soc_ceiling)]
    for reserve in model.reserves:
        award = fixed.get(reserve.product.name)
        if award is None:
            lower.append(np.zeros(n))
            upper.append(np.full(n, reserve.limit_mw))
        else:
            held = np.clip(np.asarray(award, dtype=np.float64), 0.0, reserve.limit_mw)
            lower.append(held)
            upper.append(held)
    lo, hi = np.concatenate(lower), np.concatenate(upper)
    if not free_end:
        lo[3 * n - 1] = hi[3 * n - 1] = b.end_soc_mwh
    return lo, hi


def _constraints(model: DispatchSolver) -> tuple[sp.csc_matrix, Floats, Floats]:
    """The rows of the LP (see the module docstring) as one sparse matrix with row bounds."""
    b, n, h = model.battery, model._n, model.interval_hours
    eta_c, eta_d = b.charge_efficiency, b.discharge_efficiency
    inf = highspy.kHighsInf
    eye = sp.identity(n, format="csr")
    lag = sp.eye(n, k=-1, format="csr")
    zero = sp.csr_matrix((n, n))
    raises = [r for r in model.reserves if r.product.direction.raises]
    lowers = [r for r in model.reserves if r.product.direction.lowers]

    def row(c: sp.spmatrix, d: sp.spmatrix, s: sp.spmatrix, reserve: list[sp.spmatrix]) -> sp.spmatrix:
        return sp.hstack([c, d, s, *reserve], format="csr")

    blocks: list[sp.spmatrix] = []
    lower: list[Floats] = []
    upper: list[Floats] = []

    def add(block: sp.spmatrix, lo: Floats, hi: Floats) -> None:
        blocks.append(block)
        lower.append(lo)
        upper.append(hi)

    # SOC balance: s_t - s_{t-1} - eta_c h (c_t + down r) + h / eta_d (d_t + up r) = initial (t = 0) or 0.
    balance_rhs = np.zeros(n)
    balance_rhs[0] = b.initial_soc_mwh
    add(
        row(
            -eta_c * h * eye,
            (h / eta_d) * eye,
            eye - lag,
            [(h * (r.up / eta_d - r.down * eta_c)) * eye for r in model.reserves],
        ),
        balance_rhs,
        balance_rhs,
    )
    if raises:
        add(
            row(-eye, eye, zero, [eye if r in raises else zero for r in model.reserves]),
            np.full(n, -inf),
            np.full(n, b.power_mw),
        )
        held = [(r.product.duration_h / eta_d) * eye if r in raises else zero for r in model.reserves]
        start_floor = np.full(n, b.min_soc_mwh)
        start_floor[0] -= b.initial_soc_mwh
        add(row(zero, zero, eye, [-m for m in held]), np.full(n, b.min_soc_mwh), np.full(n, inf))
        add(row(zero, zero, lag, [-m for m in held]), start_floor, np.full(n, inf))
    if lowers:
        add(
            row(eye, -eye, zero, [eye if r in lowers else zero for r in model.reserves]),
            np.full(n, -inf),
            np.full(n, b.charge_limit_mw),
        )
        room = [(r.product.duration_h * eta_c) * eye if r in lowers else zero for r in model.reserves]
        start_ceiling = np.full(n, b.soc_ceiling)
        start_ceiling[0] -= b.initial_soc_mwh
        add(row(zero, zero, eye, room), np.full(n, -inf), np.full(n, b.soc_ceiling))
        add(row(zero, zero, lag, room), np.full(n, -inf), start_ceiling)
    for window, cap in _cycle_windows(model):
        # Discharged energy at the terminals (dispatch and up deployment) within the window.
        w = sp.csr_matrix(window.astype(np.float64)[None, :] * h)
        add(
            sp.hstack(
                [sp.csr_matrix((1, n)), w, sp.csr_matrix((1, n)), *[r.up * w for r in model.reserves]],
                format="csr",
            ),
            np.array([-inf]),
            np.array([cap]),
        )
    return sp.vstack(blocks, format="csc"), np.concatenate(lower), np.concatenate(upper)


def _cycle_windows(model: DispatchSolver) -> Iterator[tuple[npt.NDArray[np.bool_], float]]:
    """Each cycle limit as (intervals it covers, most MWh discharged in them)."""
    b, n = model.battery, model._n
    energy = b.energy_mwh
    if b.daily_cycles is not None:
        day = model.interval_start // US_PER_DAY
        for value in np.unique(day):
            yield day == value, b.daily_cycles * energy
    horizon_h = n * model.interval_hours
    if b.annual_cycles is not None:
        yield np.ones(n, dtype=bool), b.annual_cycles * energy * horizon_h / HOURS_PER_YEAR
    if b.max_cycles is not None:
        yield np.ones(n, dtype=bool), b.max_cycles * energy


def _zero_columns(highs: highspy.Highs, columns: npt.NDArray[np.intp]) -> None:
    if len(columns):
        zeros = np.zeros(len(columns))
        highs.changeColsBounds(len(columns), columns.astype(np.int32), zeros, zeros)


def _relative_gap(value: float, bound: float) -> float:
    """How far a minimized objective `value` is above its `bound`, relative to the bound (>= 0)."""
    return max(0.0, value - bound) / max(abs(bound), 1.0)


def _lp(
    matrix: sp.csc_matrix,
    cost: Floats,
    col_lower: Floats,
    col_upper: Floats,
    row_lower: Floats,
    row_upper: Floats,
) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    return lp


def _highs() -> highspy.Highs:
    """A silent single-threaded HiGHS instance (the job pool runs one per core)."""
    with _stdout_silenced():
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
        highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    # Max-value scaling and no presolve: a year of hourly energy with four reserves takes 38,600 dual
    # simplex iterations instead of 52,800 with HiGHS's defaults (presolve finds little to remove in
    # this LP, and its reductions cost the simplex more than they save); energy alone, the same.
    highs.setOptionValue("simplex_scale_strategy", 4)
    highs.setOptionValue("presolve", "off")
    return highs


@contextlib.contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Send the C library's stdout to /dev/null for a moment.

    highspy prints its banner from C++ when an instance is made, before any
    option can turn logging off; on the CLI that line would corrupt
    `--format json`.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
