"""Energy arbitrage with perfect foresight: the most a battery could have earned from a price series.

One LP over the horizon (HiGHS, through SciPy): charge c_t and discharge d_t
(MW) and the state of charge s_t (MWh, at the end of interval t), with

    s_t = s_{t-1} + eta_c c_t h - d_t h / eta_d,   s_{-1} = initial,  s_{T-1} = final,

power and SOC bounds, an optional cap on discharged energy (cycles) and
maximizing sum_t p_t (d_t - c_t) h - degradation x sum_t d_t h. With
efficiencies below one and prices above zero the LP never charges and
discharges at once (it would lose energy for nothing); where a price is
negative it may (burning energy is paid), so then the same problem is
solved as a MILP with a charge-or-discharge binary per interval, and the
result never does both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from carbon254.battery.asset import Battery, BatteryError

Floats = npt.NDArray[np.float64]
# Below this (MW) a charge and a discharge in one interval count as not simultaneous: solver noise.
SIMULTANEOUS_MW = 1e-6


@dataclass(frozen=True, slots=True)
class Dispatch:
    """An optimal schedule: charge and discharge (MW) and SOC after each interval (MWh), and its revenue ($).

    `revenue` is sum price x (discharge - charge) x hours; `degradation` the
    cost of discharged energy ($); `integer` says whether the charge-or-
    discharge binaries were needed (the LP did both at once: negative prices).
    """

    charge_mw: Floats
    discharge_mw: Floats
    soc_mwh: Floats
    revenue: float
    degradation: float
    integer: bool

    @property
    def net_revenue(self) -> float:
        """Revenue less degradation cost ($)."""
        return self.revenue - self.degradation


def optimize_arbitrage(prices: Floats, interval_hours: float, battery: Battery) -> Dispatch:
    """The perfect-foresight energy arbitrage schedule of `battery` over `prices` ($/MWh per interval).

    `interval_hours` is every interval's length (0.25 for 15 minutes).
    Raises `BatteryError` for an empty or non-finite series, or when the
    final state of charge cannot be reached within the horizon.
    """
    p = np.asarray(prices, dtype=np.float64)
    if p.ndim != 1 or len(p) == 0:
        raise BatteryError("prices: need at least one interval")
    if not np.isfinite(p).all():
        raise BatteryError(f"prices: interval {int(np.argmin(np.isfinite(p)))} is not a finite price")
    if not (np.isfinite(interval_hours) and interval_hours > 0):
        raise BatteryError(f"interval_hours: {interval_hours!r} must be positive")
    c, d, s = _solve(p, interval_hours, battery, integer=False)
    integer = bool(((c > SIMULTANEOUS_MW) & (d > SIMULTANEOUS_MW)).any())
    if integer:  # only ever with negative prices: paid to burn energy, the LP does both at once
        c, d, s = _solve(p, interval_hours, battery, integer=True)
    h = interval_hours
    return Dispatch(
        charge_mw=c,
        discharge_mw=d,
        soc_mwh=s,
        revenue=float(np.sum(p * (d - c)) * h),
        degradation=float(battery.degradation_cost * d.sum() * h),
        integer=integer,
    )


def _solve(p: Floats, h: float, b: Battery, *, integer: bool) -> tuple[Floats, Floats, Floats]:
    """Solve the LP (or, with `integer`, the MILP with a charge-or-discharge binary per interval)."""
    n = len(p)
    eta_c, eta_d = b.charge_efficiency, b.discharge_efficiency
    # Variables: c (n), d (n), s (n)[, u (n): 1 while charging].
    cost = np.concatenate([p * h, -p * h + b.degradation_cost * h, np.zeros(n)])
    eye = sp.identity(n, format="csr")
    lag = sp.eye(n, k=-1, format="csr")
    # s_t - s_{t-1} - eta_c h c_t + h / eta_d d_t = (initial if t == 0 else 0)
    balance = sp.hstack([-eta_c * h * eye, (h / eta_d) * eye, eye - lag], format="csr")
    rhs = np.zeros(n)
    rhs[0] = b.initial_soc_mwh
    rows = [balance]
    lower, upper = [rhs], [rhs]
    if b.max_cycles is not None:
        rows.append(
            sp.hstack([sp.csr_matrix((1, n)), h * sp.csr_matrix(np.ones((1, n))), sp.csr_matrix((1, n))])
        )
        lower.append(np.array([0.0]))
        upper.append(np.array([b.max_cycles * b.energy_mwh]))
    lo = np.concatenate([np.zeros(2 * n), np.full(n, b.min_soc_mwh)])
    hi = np.concatenate([np.full(n, b.charge_limit_mw), np.full(n, b.power_mw), np.full(n, b.soc_ceiling)])
    lo[-1] = hi[-1] = b.end_soc_mwh
    kinds = np.zeros(3 * n)
    if integer:
        cost = np.concatenate([cost, np.zeros(n)])
        zeros = sp.csr_matrix((n, n))
        # c_t <= P_c u_t and d_t <= P_d (1 - u_t)
        rows = [sp.hstack([r, sp.csr_matrix((r.shape[0], n))], format="csr") for r in rows]
        rows.append(sp.hstack([eye, zeros, zeros, -b.charge_limit_mw * eye], format="csr"))
        rows.append(sp.hstack([zeros, eye, zeros, b.power_mw * eye], format="csr"))
        lower += [np.full(n, -np.inf), np.full(n, -np.inf)]
        upper += [np.zeros(n), np.full(n, b.power_mw)]
        lo, hi = np.concatenate([lo, np.zeros(n)]), np.concatenate([hi, np.ones(n)])
        kinds = np.concatenate([kinds, np.ones(n)])
    result = milp(
        cost,
        constraints=LinearConstraint(
            sp.vstack(rows, format="csr"), np.concatenate(lower), np.concatenate(upper)
        ),
        bounds=Bounds(lo, hi),
        integrality=kinds,
    )
    if result.x is None:
        path = f"from {b.initial_soc_mwh} MWh to {b.end_soc_mwh} MWh within {n} intervals"
        raise BatteryError(f"no feasible schedule: the battery cannot go {path} ({result.message})")
    x = np.asarray(result.x)
    return x[:n], x[n : 2 * n], x[2 * n : 3 * n]
