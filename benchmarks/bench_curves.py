"""(n) Forward curves and scenarios: the monthly fit, the 10-year HPFC and a 1,000-scenario sweep.

Each against a straightforward CVXPY formulation of the same work, measured
in the same run (`bench_curves_fit`, `bench_curves_hpfc`, `bench_scenarios`
hold the cases and baselines):

* the maximum smoothness fit of 60 overlapping quotes (target <= 50 ms)
  against the same QP built and solved in CVXPY;
* the HPFC of ten years hourly for one hub (target <= 1 s) against the same
  weighted least-squares HPFC in CVXPY;
* a 1,000-point sweep (shift x gas x volatility) on a 10-year hourly curve,
  on 2 processes (target <= 10 s on 2 cores), against re-fitting each
  point's HPFC in CVXPY (per point, extrapolated to the sweep from a sample).
"""

from __future__ import annotations

import bench_curves_fit
import bench_curves_hpfc
import bench_scenarios
from dataset import Context
from measure import Outcome, Result, Target, log

NAME = "curves"
FIT_TARGET_MS = 50.0
HPFC_TARGET_S = 1.0
SWEEP_TARGET_S = 10.0


def run(ctx: Context) -> Outcome:
    """The three rows, each with its CVXPY baseline and target."""
    out = Outcome()
    log("curves: fitting 60 quotes, ours and CVXPY")
    fit = bench_curves_fit.measure()
    out.results.append(
        Result(
            NAME,
            f"(n) monthly curve fit from {fit.quotes} quotes ({fit.months} months, overlapping contracts)",
            f"median of {bench_curves_fit.OURS_RUNS}",
            fit.ours_s * 1e3,
            "ms",
            f"the same QP in CVXPY, default solver (median of {bench_curves_fit.CVXPY_RUNS})",
            fit.cvxpy_s * 1e3,
            "× CVXPY's time",
            target=Target("<=", FIT_TARGET_MS),
        )
    )
    log("curves: ten years of HPFC, ours and CVXPY")
    hpfc = bench_curves_hpfc.measure()
    out.results.append(
        Result(
            NAME,
            f"(n) HPFC, 10 years hourly for one hub ({hpfc.hours:,} hours)",
            f"median of {bench_curves_hpfc.RUNS}",
            hpfc.ours_s * 1e3,
            "ms",
            "the same weighted least-squares HPFC in CVXPY, default solver",
            hpfc.cvxpy_s * 1e3,
            "× CVXPY's time",
            target=Target("<=", HPFC_TARGET_S * 1e3),
        )
    )
    log("curves: a 1,000-scenario sweep on one and two processes, and the CVXPY re-fit")
    sweep = bench_scenarios.measure()
    out.results.append(
        Result(
            NAME,
            f"(n) {sweep.points:,}-scenario sweep on a 10-year hourly curve, 2 processes",
            "one run",
            sweep.two_processes_s,
            "s",
            f"re-fitting each point's HPFC in CVXPY ({sweep.cvxpy_points} points timed, × {sweep.points:,})",
            sweep.cvxpy_per_point_s * sweep.points,
            "× CVXPY's time",
            target=Target("<=", SWEEP_TARGET_S),
        )
    )
    out.note(
        NAME,
        "",
        f"The sweep took {sweep.one_process_s:.2f} s in one process and "
        f"{sweep.two_processes_with_start_s:.2f} s on two counting the pool's start; each point is "
        "~2 ms of memory-bound NumPy over 87,648 hours, so a second core adds little.",
    )
    return out
