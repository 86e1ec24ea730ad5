"""(o) Battery storage: co-optimization with ancillary services, a year of 5-minute arbitrage, a fleet screen.

Prices. The first two rows use one simulated ERCOT year (2023, seed 254,
`carbon254.simulate`, as `carbon254 simulate` stores it): the day-ahead LMP
of HB_HOUSTON (8,760 hours, $/MWh), the day-ahead capacity prices of
REGUP, REGDN, RRS and NSPIN ($/MW-h) and the hub's 5-minute real-time LMP
(105,120 intervals). The screen reads the (b) store: simulated PJM
day-ahead LMPs of 2023 at 2,000 locations. The battery is 100 MW / 400 MWh,
85% round trip (each way its root), starting and ending half full, with a
degradation cost of 2 $/MWh discharged.

- AS co-optimization: `carbon254.battery.dispatch.optimize` of the year of
  hourly energy and the four reserve products (the battery qualified for
  100 MW of each, NSPIN 90 MW: regulation deployed a tenth of the time,
  RRS rarely, NSPIN never; sustainable for 1 h, NSPIN 4 h), median of `AS_RUNS`
  (target <= 1.5 s). Baseline: the energy-only optimum of the same prices
  with the same function, timed the same way: what co-optimizing four
  products costs on top.
- 5-minute arbitrage: `dispatch.optimize` of the year of 5-minute energy
  prices (105,120 intervals), median of `RT5_RUNS` (target <= 15 s; the
  real-time price turns negative, so the charge-or-discharge binaries come
  in on those intervals). Baseline: the same LP written in CVXPY and solved
  by HiGHS through CVXPY, timed once; without the binaries, so a lower
  bound on what CVXPY would take for the same problem.
- Fleet screen: a `battery_screen` job of 1,000 of the store's locations
  (drawn with a fixed seed) over the year, submitted to a worker on
  `local://` with 2 processes, from submit to succeeded, after a warm-up
  job; one run (target <= 2 min). Baseline: the per-node problem (energy
  arbitrage, one year hourly) as a straightforward CVXPY model (variables,
  constraints and objective written as a user would, solved by HiGHS
  through CVXPY), `CVXPY_NODES` nodes timed, building included, times
  1,000 nodes over 2 processes.
- Per node: one task of the screen run in this process (its store read
  included), per node, against the CVXPY model's solve of one node (model
  building included, prices already in memory).
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cvxpy
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.battery import Battery
from carbon254.battery.dispatch import optimize
from carbon254.battery.market import MarketPrices, ReserveDirection, ReservePrices, ReserveProduct
from carbon254.compute import LocalExecutor
from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.jobs import JobContext, JobRegistry, JobState, JobStatus
from carbon254.jobs.worker import Worker
from carbon254.metadata import MetadataDatabase
from carbon254.objects import open_object_store
from carbon254.schema import Dataset
from carbon254.screening import BATTERY_SCREEN, ScreenRequest
from carbon254.screening import kind as screen_kind
from carbon254.simulate import SimulationConfig, simulate
from carbon254.store import open_store
from dataset import DEFAULT_SCALE, SEED, YEAR_END, YEAR_START, Context, sample_locations
from measure import Outcome, Result, Target, log

Floats = npt.NDArray[np.float64]
# CVXPY's stubs leave most atoms (hstack, sum) untyped: use it untyped.
cp: Any = cvxpy

NAME = "battery"
AS_TARGET_S = 1.5
RT5_TARGET_S = 15.0
SCREEN_TARGET_S = 120.0
AS_RUNS = 5
RT5_RUNS = 3
SCREEN_NODES = 1_000
PROCESSES = 2
CVXPY_NODES = 5
HUB = "HB_HOUSTON"
BATTERY = {"power_mw": 100.0, "energy_mwh": 400.0, "round_trip_efficiency": 0.85, "degradation_cost": 2.0}
# ERCOT's products as the optimizer sees them: direction, hours an award must last, share deployed.
PRODUCTS = (
    ReserveProduct("REGUP", ReserveDirection.UP, 1.0, 0.1),
    ReserveProduct("REGDN", ReserveDirection.DOWN, 1.0, 0.1),
    ReserveProduct("RRS", ReserveDirection.UP, 1.0, 0.01),
    ReserveProduct("NSPIN", ReserveDirection.UP, 4.0, 0.0),
)
# MW the battery may be awarded of each: its power, but NSPIN's four hours at 100 MW would need
# more than the 400 MWh it holds after losses.
RESERVE_LIMITS = (("REGUP", 100.0), ("REGDN", 100.0), ("RRS", 100.0), ("NSPIN", 90.0))


def battery(reserves: bool) -> Battery:
    """The benchmark's battery, qualified for every product (`RESERVE_LIMITS`) when `reserves`."""
    one_way = math.sqrt(BATTERY["round_trip_efficiency"])
    limits = RESERVE_LIMITS if reserves else ()
    return Battery(
        power_mw=BATTERY["power_mw"],
        energy_mwh=BATTERY["energy_mwh"],
        charge_efficiency=one_way,
        discharge_efficiency=one_way,
        initial_soc_mwh=BATTERY["energy_mwh"] / 2,
        degradation_cost=BATTERY["degradation_cost"],
        reserve_limits=limits,
    )


@dataclass(frozen=True, slots=True)
class ErcotYear:
    """One simulated ERCOT year at the hub: hourly day-ahead prices with reserves, and 5-minute RT prices."""

    day_ahead: MarketPrices
    real_time: MarketPrices


def _series(table: pa.Table, column: str, value: str) -> pa.Table:
    return table.filter(pc.equal(table.column(column), value)).sort_by("interval_start")


def _starts(table: pa.Table) -> npt.NDArray[np.int64]:
    return np.asarray(table.column("interval_start").cast(pa.int64()).to_numpy(), dtype=np.int64)


def ercot_year() -> ErcotYear:
    """The simulated ERCOT 2023 prices the first two rows use (see the module docstring)."""
    config = SimulationConfig(
        start=YEAR_START,
        end=YEAR_END,
        isos=(Iso.ERCOT,),
        nodes=1,
        markets=("DAM", "RT5"),
        datasets=(Dataset.LMP, Dataset.AS_PRICE),
        seed=SEED,
    )
    lmp: dict[str, list[pa.Table]] = {}
    reserves: list[pa.Table] = []
    for dataset, table in simulate(config):
        if dataset is Dataset.LMP:
            lmp.setdefault(table.column("market")[0].as_py(), []).append(_series(table, "location", HUB))
        elif table.column("market")[0].as_py() == "DAM":
            reserves.append(table)
    da = pa.concat_tables(lmp["DAM"]).sort_by("interval_start")
    rt = pa.concat_tables(lmp["RT5"]).sort_by("interval_start")
    products = pa.concat_tables(reserves)
    priced = []
    for product in PRODUCTS:
        rows = _series(products, "product", product.name)
        if not np.array_equal(_starts(rows), _starts(da)):
            raise RuntimeError(f"{product.name} prices are not on the energy prices' hours")
        priced.append(ReservePrices(product, rows.column("price").to_numpy()))
    day_ahead = MarketPrices(_starts(da), 1.0, da.column("lmp").to_numpy(), tuple(priced))
    real_time = MarketPrices(_starts(rt), 1 / 12, rt.column("lmp").to_numpy())
    return ErcotYear(day_ahead, real_time)


def _timed(run: Callable[[], object], runs: int) -> float:
    """The median seconds of `runs` calls of `run`."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cvxpy_arbitrage(prices: Floats, hours: float, asset: Battery) -> tuple[float, float]:
    """The arbitrage LP as a user would write it in CVXPY, solved by HiGHS: (seconds, net revenue $)."""
    t0 = time.perf_counter()
    n = len(prices)
    charge = cp.Variable(n, nonneg=True)
    discharge = cp.Variable(n, nonneg=True)
    soc = cp.Variable(n)
    previous = cp.hstack([np.array([asset.initial_soc_mwh]), soc[:-1]])
    constraints = [
        soc
        == previous
        + asset.charge_efficiency * hours * charge
        - hours / asset.discharge_efficiency * discharge,
        charge <= asset.charge_limit_mw,
        discharge <= asset.power_mw,
        soc >= asset.min_soc_mwh,
        soc <= asset.soc_ceiling,
        soc[n - 1] == asset.end_soc_mwh,
    ]
    revenue = prices @ (discharge - charge) * hours - asset.degradation_cost * hours * cp.sum(discharge)
    problem = cp.Problem(cp.Maximize(revenue), constraints)
    problem.solve(solver=cp.HIGHS)
    seconds = time.perf_counter() - t0
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"CVXPY ended {problem.status}")
    return seconds, float(problem.value)


def _check_same(ours: float, theirs: float, what: str) -> None:
    """Both formulations must find the same optimum (to a millionth), or the comparison means nothing."""
    if not math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-3):
        raise RuntimeError(f"{what}: ours earns {ours:,.4f} $, CVXPY {theirs:,.4f} $")


def _net(prices: MarketPrices, asset: Battery) -> float:
    return float(optimize(prices, asset).net_revenue)


@dataclass(frozen=True, slots=True)
class Screened:
    """The fleet screen's wall time (submit to succeeded) and what it ranked."""

    seconds: float
    ranked: int
    tasks: int


def _screen_job(data_dir: Path, locations: list[str], end: datetime = YEAR_END) -> Screened:
    """A `battery_screen` job of `locations`, on a worker over `local://` with `PROCESSES` processes."""
    with tempfile.TemporaryDirectory(prefix="bench-screen-") as tmp:
        directory = Path(tmp)
        settings = Settings(
            data_dir=data_dir,
            object_store=f"file://{directory / 'objects'}",
            metadata_url=f"sqlite:///{directory / 'metadata.db'}",
        )
        db = MetadataDatabase(settings.metadata_database_url())
        kinds = JobRegistry()
        kinds.register(BATTERY_SCREEN)
        executor = LocalExecutor(PROCESSES)
        objects = open_object_store(settings.object_store, data_dir=data_dir, s3_endpoint=None)
        try:
            state = JobState(db)
            worker = Worker(state, executor, kinds, objects=objects, settings=settings)
            request = {
                **BATTERY,
                "iso": "PJM",
                "locations": locations[:8],
                "start": YEAR_START.isoformat(),
                "end": datetime(2023, 1, 8, tzinfo=UTC).isoformat(),
            }
            # Warm: the pool's processes have started and imported the kind.
            for body in (request, {**request, "locations": locations, "end": end.isoformat()}):
                t0 = time.perf_counter()
                stored = ScreenRequest.model_validate(body).model_dump(mode="json")
                job = state.submit("bench", BATTERY_SCREEN.name, stored)
                worker.run_once(job_id=job.id)
                seconds = time.perf_counter() - t0
                done = state.get(job.id)
                if done.status is not JobStatus.SUCCEEDED or done.result is None:
                    raise RuntimeError(f"the screen ended {done.status.value}: {done.error}")
                summary = done.result.summary
            return Screened(seconds, int(summary["ranked"]), len(state.tasks(done.id)))
        finally:
            executor.close()
            db.close()


def _per_node(data_dir: Path, locations: list[str]) -> tuple[float, list[tuple[Floats, float]]]:
    """Seconds per node of one task of the screen run here (store read included); each node's prices
    and the net revenue ($) the task found for it."""
    settings = Settings(data_dir=data_dir)
    objects = open_object_store(settings.object_store, data_dir=data_dir, s3_endpoint=None)
    context = JobContext("bench", "bench", settings, objects, "jobs/bench/")
    window = {"start": YEAR_START.isoformat(), "end": YEAR_END.isoformat()}
    body = {**BATTERY, **window, "iso": "PJM", "locations": locations}
    (_, task), *rest = screen_kind.plan(ScreenRequest.model_validate(body), context)
    if rest:
        raise RuntimeError(f"{len(locations)} nodes made {1 + len(rest)} tasks, not one")
    screen_kind.run_task(task)  # warm: imports, the store's first open
    t0 = time.perf_counter()
    batch = screen_kind.run_task(task)
    seconds = (time.perf_counter() - t0) / len(locations)
    store = open_store(data_dir)
    try:
        table = store.read(Dataset.LMP, "PJM", "DAM", locations, YEAR_START, YEAR_END)
    finally:
        store.close()
    found = []
    for node in batch.nodes:
        if node.net_revenue is None:
            raise RuntimeError(f"node {node.location} was skipped: {node.skipped}")
        found.append((_series(table, "location", node.location).column("lmp").to_numpy(), node.net_revenue))
    return seconds, found


def run(ctx: Context) -> Outcome:
    """The four rows (see the module docstring)."""
    out = Outcome()
    log("battery: simulating the ERCOT year (hub energy, four reserve products, 5-minute RT)")
    year = ercot_year()
    with_reserves, energy_only = battery(True), battery(False)
    da_energy = MarketPrices(year.day_ahead.interval_start, 1.0, year.day_ahead.energy)

    log("battery: a year of hourly energy and four reserve products, and energy alone")
    stacked = _net(year.day_ahead, with_reserves)
    alone = _net(da_energy, energy_only)
    if stacked < alone - 1e-6:
        raise RuntimeError(f"co-optimizing earns {stacked:,.0f} $, less than energy alone {alone:,.0f} $")
    as_s = _timed(lambda: optimize(year.day_ahead, with_reserves), AS_RUNS)
    energy_s = _timed(lambda: optimize(da_energy, energy_only), AS_RUNS)
    out.results.append(
        Result(
            NAME,
            f"(o) one year hourly energy + 4 AS products (REGUP, REGDN, RRS, NSPIN), one node "
            f"({len(year.day_ahead):,} hours)",
            f"median of {AS_RUNS}",
            as_s,
            "s",
            f"energy alone on the same prices, same function (median of {AS_RUNS})",
            energy_s,
            "× energy alone",
            target=Target("<=", AS_TARGET_S),
        )
    )

    log(f"battery: a year of 5-minute energy arbitrage ({len(year.real_time):,} intervals), ours and CVXPY")
    rt_schedule = optimize(year.real_time, energy_only)
    rt_s = _timed(lambda: optimize(year.real_time, energy_only), RT5_RUNS)
    cvxpy_rt_s, _ = cvxpy_arbitrage(year.real_time.energy, 1 / 12, energy_only)
    out.results.append(
        Result(
            NAME,
            f"(o) one year of 5-minute RT energy arbitrage ({len(year.real_time):,} intervals)",
            f"median of {RT5_RUNS}",
            rt_s,
            "s",
            "the LP in CVXPY, solved by HiGHS through CVXPY, without the binaries (one run)",
            cvxpy_rt_s,
            "× CVXPY's time",
            target=Target("<=", RT5_TARGET_S),
        )
    )

    built = ctx.store(DEFAULT_SCALE)
    locations = [name for _, name in sample_locations(built, SCREEN_NODES)]
    nodes_per_task = screen_kind.nodes_per_task(len(year.day_ahead))
    log(f"battery: one screen task of {nodes_per_task} nodes here, and {CVXPY_NODES} nodes in CVXPY")
    per_node_s, nodes = _per_node(built.directory, locations[:nodes_per_task])
    cvxpy_times = []
    for prices, ours in nodes[:CVXPY_NODES]:
        seconds, theirs = cvxpy_arbitrage(prices, 1.0, energy_only)
        _check_same(ours, theirs, "a screened node")
        cvxpy_times.append(seconds)
    cvxpy_node_s = statistics.median(cvxpy_times)
    out.results.append(
        Result(
            NAME,
            "(o) fleet screen per node: one year hourly energy arbitrage, one screen task run here",
            f"{nodes_per_task} nodes, store read included",
            per_node_s * 1e3,
            "ms",
            f"a straightforward CVXPY model, HiGHS through CVXPY (median of {CVXPY_NODES} nodes, building "
            "included)",
            cvxpy_node_s * 1e3,
            "× CVXPY's time",
        )
    )

    log(f"battery: screening {SCREEN_NODES:,} PJM nodes over 2023 as a job on {PROCESSES} processes")
    screened = _screen_job(built.directory, locations)
    if screened.ranked != SCREEN_NODES:
        raise RuntimeError(f"the screen ranked {screened.ranked:,} of {SCREEN_NODES:,} nodes")
    out.results.append(
        Result(
            NAME,
            f"(o) fleet screen: {SCREEN_NODES:,} nodes × one year hourly energy arbitrage, "
            f"`battery_screen` job on local:// with {PROCESSES} processes",
            "one run",
            screened.seconds,
            "s",
            f"the CVXPY model's time per node × {SCREEN_NODES:,} nodes ÷ {PROCESSES} processes",
            cvxpy_node_s * SCREEN_NODES / PROCESSES,
            "× CVXPY's time",
            target=Target("<=", SCREEN_TARGET_S),
        )
    )
    out.note(
        NAME,
        "",
        f"Battery: co-optimizing the four reserve products earned {stacked:,.0f} $ against {alone:,.0f} $ "
        f"from energy alone; the 5-minute year needed the charge-or-discharge binaries: "
        f"{'yes' if rt_schedule.integer else 'no'}; the screen ran {screened.tasks} tasks of "
        f"{nodes_per_task} nodes.",
    )
    return out
