"""Run 254Carbon's benchmarks and (re)write BENCHMARKS.md.

    python benchmarks/run.py [--full] [--only write,read,...,jobs] [--rebuild] [--profile]

Every figure comes with its target (from the issue "The spine", on a 2-core
machine), pass/fail, and its ratio to a named baseline measured in the same
run. The 17.52M-row store the read, HTTP and size benchmarks share is built
once and cached under `benchmarks/.work` (`--rebuild` forces a fresh build).
`--full` adds the real-scale store (18,601 locations over the seven ISOs,
162.9M rows). Results of benchmarks not run this time are kept from earlier
runs (in `benchmarks/results.json`, committed beside BENCHMARKS.md so a fresh checkout keeps
them) and marked with the run they come from.

`parse` times the ISO parsers against gridstatus on the same payloads. gridstatus
0.37.0 needs pandas 2, the locked environment has pandas 3, so `parse` runs in an
environment of its own, `.venv-bench` (the Reproduce section of BENCHMARKS.md
says how to make it); without gridstatus `parse` reports ours alone.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import resource
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Any

import bench_battery
import bench_curves
import bench_demo
import bench_forecast
import bench_http
import bench_jobs
import bench_layer
import bench_parse
import bench_ppa
import bench_read
import bench_risk
import bench_sdk
import bench_service
import bench_size
import bench_spreads
import bench_write
from dataset import DEFAULT_SCALE, Context
from measure import ROOT, WORK, Note, Outcome, Result, enable_profiling, log

BENCHES: dict[str, ModuleType] = {
    m.NAME: m
    for m in (
        bench_write,
        bench_read,
        bench_http,
        bench_size,
        bench_demo,
        bench_parse,
        bench_service,
        bench_sdk,
        bench_spreads,
        bench_layer,
        bench_jobs,
        bench_curves,
        bench_battery,
        bench_risk,
        bench_ppa,
        bench_forecast,
    )
}
REPORT = ROOT / "BENCHMARKS.md"
STATE = ROOT / "benchmarks" / "results.json"
STATE_FORMAT = 2
NOISY_SHARE = 0.10  # above this share of CPU used by others, the run is flagged as noisy
NOISY = " **Noisy run: absolute figures are inflated; the ratios hold up better.**"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="also run at real scale (162.9M rows)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached stores and baselines")
    parser.add_argument(
        "--profile", action="store_true", help="write cProfile reports to benchmarks/.work/profiles"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    args.names = names
    return args


def command_line() -> str:
    """The command as typed, with the interpreter shown relative to the repository when inside it."""
    argv = list(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    exe = Path(argv[0])
    if exe.is_absolute() and exe.is_relative_to(ROOT):
        argv[0] = exe.relative_to(ROOT).as_posix()
    script = Path(argv[1]) if len(argv) > 1 else None
    if script is not None and script.is_absolute() and script.is_relative_to(ROOT):
        argv[1] = script.relative_to(ROOT).as_posix()
    return shlex.join(argv)


def machine() -> dict[str, Any]:
    """Facts about the machine and the software measured."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": model,
        "ram_gib": round(mem_kib / 1024**2, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in ("duckdb", "pyarrow", "polars", "numpy", "fastapi", "uvicorn")},
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine since boot, CPU seconds used by this process and its
    waited-for children), for telling how much of the run's CPU went to other processes."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in fields]
    # user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait
    busy = sum(ticks) - ticks[3] - ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    return busy / hz, ours


def load_state() -> dict[str, Any]:
    """Results of earlier runs, or an empty state."""
    if STATE.exists():
        state: dict[str, Any] = json.loads(STATE.read_text())
        if state.get("format") == STATE_FORMAT:
            return state
    return {"format": STATE_FORMAT, "runs": {}, "results": [], "notes": []}


def merge(
    state: dict[str, Any], run_id: str, run: dict[str, Any], results: list[Result], notes: list[Note]
) -> dict[str, Any]:
    """Replace earlier rows and notes of each (benchmark, scale) measured now; keep the rest; drop
    runs nothing refers to any more."""
    fresh = {(r.bench, r.scale) for r in results} | {(n.bench, n.scale) for n in notes}
    order = {name: i for i, name in enumerate([*BENCHES, "store"])}

    def key(doc: dict[str, Any]) -> tuple[int, bool, bool]:
        return order.get(doc["bench"], 99), doc["scale"] != DEFAULT_SCALE.slug, doc["run"] != run_id

    rows = [r for r in state["results"] if (r["bench"], r["scale"]) not in fresh]
    rows += [{**r.to_json(), "run": run_id} for r in results]
    kept_notes = [n for n in state["notes"] if (n["bench"], n["scale"]) not in fresh]
    kept_notes += [{**asdict(n), "run": run_id} for n in notes]
    runs = {**state["runs"], run_id: run}
    used = {d["run"] for d in rows + kept_notes}
    return {
        "format": STATE_FORMAT,
        "runs": {k: v for k, v in runs.items() if k in used},
        "results": sorted(rows, key=key),
        "notes": sorted(kept_notes, key=key),
    }


def fmt_value(value: float, unit: str) -> str:
    """A figure with its unit, at a sensible precision."""
    if unit == "rows/s":
        return f"{value / 1e6:.2f} M rows/s"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "MB/M rows":
        return f"{value:.2f} MB / M rows"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "$/MWh":
        return f"{value:.3f} $/MWh"
    return f"{value:.3g} {unit}"


def render(state: dict[str, Any]) -> str:
    """BENCHMARKS.md from the merged state."""
    runs: dict[str, dict[str, Any]] = state["runs"]
    run_ids = sorted(runs, key=lambda k: runs[k]["date"])
    number = {rid: i + 1 for i, rid in enumerate(run_ids)}
    several = len(run_ids) > 1
    lines = [
        "# Benchmarks",
        "",
        "Written by `benchmarks/run.py` — rerun it rather than editing this file. Targets are from the "
        'issues "The spine", for (m) "Jobs, distributed compute and the download center" and for (n) '
        '"Forward curves and the scenario engine", for (o) "Battery storage analytics", for "Risk '
        'engine: VaR, Expected Shortfall, stress tests, VaR backtesting", for (p) "PPA valuation '
        'workbench" and for (q) "Price forecasting" (2-core machine). '
        "Every figure has a baseline measured in the same run; "
        "**ratio = figure ÷ baseline figure** (machines are noisy, so read the ratios first).",
        "",
        "## Results",
        "",
    ]
    head = ["Benchmark", "Stat", "Figure", "Target", "Result", "Baseline", "Baseline figure", "Ratio"]
    if several:
        head.append("Run")
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for doc in state["results"]:
        r = Result.from_json({k: v for k, v in doc.items() if k != "run"})
        target = "—"
        verdict = "—"
        if r.target is not None:
            target = f"{'≥' if r.target.op == '>=' else '≤'} {fmt_value(r.target.value, r.unit)}"
            verdict = "pass" if r.passed else "**FAIL**"
        cells = [
            r.label,
            r.statistic,
            fmt_value(r.figure, r.unit),
            target,
            verdict,
            r.baseline,
            fmt_value(r.baseline_figure, r.unit),
            f"{r.ratio:.2f}×",
        ]
        if several:
            cells.append(str(number[doc["run"]]))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Run" + ("s" if several else ""), ""]
    for rid in run_ids:
        run = runs[rid]
        m = run["machine"]
        versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        prefix = f"{number[rid]}. " if several else "- "
        lines.append(
            f"{prefix}`{run['command']}` — {run['date']}, wall time {run['wall_s'] / 60:.1f} min"
            + (" (**profiled: figures inflated by cProfile**)" if run.get("profiled") else "")
            + f"; {m['usable_cores']} of {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, "
            f"{m['os']}, Python {m['python']}, {versions}. Noise: other processes used "
            f"{m.get('other_cpu_share', float('nan')):.0%} of the machine's CPU time during the run "
            f"(1-min load average {m['load_at_start'][0]} at start, "
            f"{m.get('load_at_end', [float('nan')])[0]} at end)."
            + (NOISY if m.get("other_cpu_share", 0.0) > NOISY_SHARE else "")
        )
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        ".venv/bin/python benchmarks/run.py                    # all but parse, 30 min (+1 to build)",
        ".venv/bin/python benchmarks/run.py --full             # about 5 min (+4 min to build once)",
        ".venv/bin/python benchmarks/run.py --only read,http   # a subset; other rows are kept",
        ".venv-bench/bin/python benchmarks/run.py --only parse # ISO parsers vs gridstatus, about 2 min",
        ".venv/bin/python benchmarks/run.py --only service     # the service under load, about 4 min",
        ".venv/bin/python benchmarks/run.py --only sdk         # the Python SDK vs requests + JSON, 1 min",
        ".venv/bin/python benchmarks/run.py --only spreads     # /v1/spreads vs 2 × /v1/lmp + pandas, 1 min",
        ".venv/bin/python benchmarks/run.py --only layer       # /v1/lmp now vs before the layer, 2 min",
        ".venv/bin/python benchmarks/run.py --only jobs        # jobs, fan-out and 10M-row exports, 6 min",
        ".venv/bin/python benchmarks/run.py --only curves      # curve fit, HPFC and a sweep vs CVXPY, 20 s",
        ".venv/bin/python benchmarks/run.py --only battery     # battery LPs and a 1,000-node screen, 4 min",
        ".venv/bin/python benchmarks/run.py --only risk        # Monte Carlo and historical VaR vs pandas",
        ".venv/bin/python benchmarks/run.py --only ppa         # a 20-year solar PPA, 1,000 paths, 1 min",
        ".venv/bin/python benchmarks/run.py --only forecast    # PJM day-ahead backtests, sub-hourly, 20 min",
        "```",
        "",
        "`--rebuild` rebuilds the cached stores under `benchmarks/.work` (otherwise rebuilt only when their "
        "parameters or the store, schema or simulator code change); `--profile` writes cProfile reports "
        "to `benchmarks/.work/profiles` (and slows the run down). The benchmarks run in the README's "
        "test environment (`.venv`), except `parse`: its baseline, gridstatus 0.37.0, needs pandas 2 "
        "(the lock has pandas 3) and is never a runtime dependency, so it has an environment of its own: "
        "`python3 -m venv .venv-bench && .venv-bench/bin/pip install -c requirements.lock -e '.[dev]' && "
        ".venv-bench/bin/pip install -e '.[bench]'`. "
        "`service` drives load with `wrk` (Debian package "
        "`wrk`) and needs Redis on 127.0.0.1:6379 for its Redis rows.",
        "",
        "## What the conditions mean",
        "",
        "- **Data.** One year (2023, 8,760 hours) of simulated hourly day-ahead LMPs written through "
        "`store.write` in the simulator's batches (≤ 2M rows). Default: PJM with 2,000 locations, "
        "17,520,000 rows. `--full`: all seven ISOs at their real node counts, 18,601 locations, "
        "162,944,760 rows. A query asks for one location over the whole year (8,760 rows); 200 random "
        "locations (fixed seed), p50/p99 by linear interpolation.",
        "- **Warm:** one store object (one DuckDB connection, Parquet metadata cached) after one warm-up "
        "pass over the same 200 locations.",
        "- **Cold:** a brand-new store object for every query (fresh in-memory DuckDB, empty metadata "
        "cache) in the same process; only the read is timed. The OS page cache is warm.",
        "- **Disk-cold:** as cold, and the OS page cache is dropped (`sync; echo 3 > "
        "/proc/sys/vm/drop_caches`) before every query, so the files come from disk.",
        "- **Baselines:** the store's rows in a DuckDB native table (`CREATE TABLE AS SELECT … ORDER BY "
        "iso, market, location, interval_start`), queried with `WHERE iso, market, location = ? AND "
        "interval_start` in range; one connection when warm, a new one per query when cold. Store and "
        "baseline take turns in blocks of 20 queries, so both see the same noise.",
        "- **HTTP:** a real `uvicorn --factory carbon254.service.app:create_app` process (one worker, "
        "access log off) on 127.0.0.1, one persistent `httpx.Client`; a request is timed until its whole "
        "body is in. Baseline: the warm in-process `store.read` of the same locations, taking turns in "
        "blocks of 20 with the requests.",
        "- **Service:** (g) cached and (h) uncached `GET /v1/lmp` and (i) stream latency, each with the "
        "embedded backends and with Redis, authentication required (an API key per request); load from "
        "another process on 127.0.0.1. With 64 connections in a closed loop latency is 64 / throughput by "
        "construction, so (g) reports throughput closed-loop and latency paced at 1,500 req/s. Details "
        "in the `benchmarks/bench_service.py` docstring.",
        "- **Parse:** per ISO, the largest real file in `shared/data/iso` and, where that is tiny or "
        "missing, a full-size payload generated in the ISO's native layout (made-up names and prices, "
        "NOT a real file). Ours: `report.parse(bytes)` on each file of the payload. Baseline: gridstatus "
        "0.37.0's public LMP method for the same report on the same bytes, its network fetches answered "
        "from memory. Rows are canonical rows (one per location and interval); median of 5 samples, the "
        "two taking turns, each sample after one untimed warm-up call; target ≥ 5× gridstatus (shown in "
        "rows/s). Details in "
        "`benchmarks/bench_parse.py`.",
        "- **SDK:** (j) one year × 50 PJM locations of hourly LMPs (438,000 rows) into a pandas "
        "DataFrame from the (c) service process: `Client.lmp` (Arrow IPC) against `requests` following "
        "the JSON pages, then `pandas.DataFrame` with parsed timestamps; taking turns, median of 5. "
        "Details in `benchmarks/bench_sdk.py`.",
        "- **Spreads:** (k) one PJM node minus WESTERN HUB over the (b) year (8,760 hourly spreads) with "
        "`stats=true`, as Arrow, from the (c) service process with no result cache; baseline: the two "
        "`GET /v1/lmp` Arrow requests a user would make, merged, subtracted and summarised in pandas; "
        "200 nodes, taking turns in blocks of 20. Details in `benchmarks/bench_spreads.py`.",
        "- **Layer:** (l) the same `GET /v1/lmp` requests (uncached Arrow over the (b) year; cached "
        "JSON over one month) to the current service and to the service as it was before the "
        "application layer (commit 448916e, exported with `git archive` and served beside it), taking "
        "turns in blocks of 20; ratio = now ÷ before. Details in `benchmarks/bench_layer.py`.",
        "- **Jobs:** (m) submit to running: a no-op job submitted to an idle worker, until its task "
        "starts on the executor (20 jobs); fan-out: one job of 1,000 CPU tasks of ~10 ms against "
        "`pool.map` in a warm plain `concurrent.futures` pool of 2 processes (and `client.map` on the "
        "same Dask `LocalCluster` of 2 workers), taking turns 5 times; export: 10,000,000 LMP rows of "
        "the (b) store (every PJM location, the first 5,000 hours of 2023) by a warm `carbon254 jobs "
        "worker` process, submit to success, peak memory summed over the worker and its pool "
        "processes; baseline `carbon254 query --output` of the same rows. Details in "
        "`benchmarks/bench_jobs.py`.",
        "- **Curves:** (n) fit: `fit_monthly_curve` on 60 overlapping, consistent quotes of one PJM hub "
        "(BOM, 18 months, 8 quarters, 4 seasons, 5 calendars; 73 months), median of 25 after one warm-up; "
        "baseline: the same QP (quartic pieces, roughness objective, continuity, end and quote "
        "constraints) built and solved in CVXPY with its default solver, median of 5, same prices to "
        "1e-4. HPFC: `build_hpfc` of 10 years hourly (87,648 hours) with shape factors from two years of "
        "history, median of 20; baseline: the same weighted least-squares HPFC in CVXPY. Sweep: 1,000 "
        "points (shift x gas x volatility) applied to a 10-year hourly hub curve and summarised per year, "
        "split over 2 warm spawned processes; baseline: re-fitting each point's HPFC in CVXPY (5 points "
        "timed, × 1,000). Details in `benchmarks/bench_curves.py`.",
        "- **Battery:** (o) prices: one simulated ERCOT year (2023, seed 254, `carbon254.simulate`): "
        "HB_HOUSTON's day-ahead LMP (8,760 hours), the day-ahead REGUP, REGDN, RRS and NSPIN capacity "
        "prices and its 5-minute real-time LMP (105,120 intervals); the screen reads the (b) store. "
        "Battery: 100 MW / 400 MWh, 85% round trip, half full at the start and the end, 2 $/MWh "
        "discharged of degradation, qualified for 100 MW of each reserve product, NSPIN 90 MW (regulation "
        "deployed a tenth of the time; 1 h sustained, NSPIN 4 h). AS: `dispatch.optimize` of the year "
        "with the four products, median of 5; baseline: the same function on energy alone. 5-minute: "
        "`dispatch.optimize` of the real-time year, median of 3; baseline: the same LP in CVXPY solved "
        "by HiGHS, once, without the charge-or-discharge binaries (a lower bound for CVXPY). Screen: a "
        "`battery_screen` job of 1,000 of the store's locations (fixed seed) over 2023 on a worker "
        "over `local://` with 2 processes, submit to succeeded, after a warm-up job; baseline: the "
        "per-node arbitrage LP as a straightforward CVXPY model (HiGHS through CVXPY, building "
        "included, 5 nodes timed) × 1,000 ÷ 2. Per node: one task of the screen run in process, store "
        "read included, against that CVXPY model. Details in `benchmarks/bench_battery.py`.",
        "- **Risk:** synthetic seeded books of hub forwards (ERCOT, PJM and other hubs; onpeak, offpeak or "
        "atc; one to three months; -50 to +50 MW) on monthly block factors whose daily changes come from a "
        "five-driver factor model; exposures built outside the timings. Monte Carlo: `monte_carlo_var` of "
        "1,000 positions over 50 factors, Gaussian copula, sample covariance of 500 days, 100,000 paths, "
        "99% VaR and ES, median of 5; baseline: the same in pandas (`DataFrame.cov`, "
        "`multivariate_normal` draws, a paths x positions P&L frame summed per path, `quantile`), median "
        "of 3, VaRs within 3%. Historical: `historical_var` of 10,000 positions over 100 factors and 1,250 "
        "days, median of 9; baseline: a days x positions P&L frame in pandas, summed, `quantile`, equal "
        "to 1e-9. Memory: tracemalloc peak of one call above its inputs. Details in "
        "`benchmarks/bench_risk.py`.",
        "- **PPA:** (p) a 200 MW single-axis solar plant in West Texas (`solar_profile`, 0.5%/yr "
        "degradation) under a 20-year virtual collar (floor 22, cap 48 $/MWh, 7% discount) on a synthetic "
        "ERCOT West hub curve of 2026-2045 (175,320 hours). `simulate_ppa` with 1,000 paths of the "
        "scenario engine's path model (kappa 0.5/day, sigma 4, 6 jumps a year), 5% annual volume sd "
        "correlated -0.3 with price, 2 threads, in a spawned process, median of 3; peak resident memory "
        "of that process against its memory before the first run. Baseline: per path, one engine path, "
        "an hourly pandas DataFrame, the collar settled, grouped by month, discounted (5 paths timed, "
        "× 1,000). Details in `benchmarks/bench_ppa.py`.",
        "- **Forecast:** (q) the EPF PJM dataset (`shared/data/epf/PJM.csv`, Lago et al. 2021): COMED "
        "day-ahead prices with system and zonal load forecasts; test 2016-12-27 to 2018-12-24 (728 days), "
        "each day forecast from the prices before it. `best` (mean of LEAR, 1456-day window refit daily, "
        "and LightGBM refit every 7 days), the other LEAR windows, XGBoost and the neural network are "
        "backtested on 2 processes; MAE against the published LEAR ensemble (3.013) and DNN ensemble "
        "(2.779); the accuracy table (MAE, rMAE, sMAPE, RMSE per model) follows the notes. "
        "Fit times at the test start against scikit-learn's "
        "LassoLarsIC + Lasso per hour (LEAR) and XGBoost (LightGBM). Sub-hourly: update + forecast of 12 "
        "five-minute intervals per new interval on simulated ERCOT RT prices, against 12 scikit-learn "
        "LinearRegression predictions. Details in `benchmarks/bench_forecast.py`.",
        "",
        "## Notes",
        "",
        "- A p99 over 200 queries is about the third-slowest query, so one hiccup of this shared 2-core VM "
        "moves it; compare the ratios, and see the noise figure of the run above.",
    ]
    tables = []
    for note in state["notes"]:
        suffix = f" (run {number[note['run']]})" if several else ""
        if "\n" in note["text"]:
            # A note of several lines is a table of its own (a title line, then Markdown rows).
            title, _, table = note["text"].partition("\n")
            tables += ["", f"### {title}{suffix}", "", table]
        else:
            lines.append(f"- {note['text']}{suffix}")
    lines += tables
    lines.append("")
    return "\n".join(lines)


@contextmanager
def exclusive_run() -> Iterator[None]:
    """Hold `benchmarks/.work/run.lock` for the run: two runs at once would share the cached stores
    and spoil each other's timings, so a second run waits for the first."""
    WORK.mkdir(parents=True, exist_ok=True)
    fd = os.open(WORK / "run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another benchmark run holds benchmarks/.work/run.lock; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def main(argv: list[str]) -> int:
    """Run the chosen benchmarks, merge with earlier results, write BENCHMARKS.md; 1 if a target failed."""
    args = parse_args(argv)
    with exclusive_run():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """The run itself (with the run lock held)."""
    started = time.perf_counter()
    busy0, ours0 = cpu_seconds()
    if args.profile:
        enable_profiling(WORK / "profiles")
    info = machine()
    log(f"running {', '.join(args.names)}{' (full)' if args.full else ''} on {info['usable_cores']} cores")
    ctx = Context(full=args.full, rebuild=args.rebuild)
    results: list[Result] = []
    notes: list[Note] = []
    for name in args.names:
        log(f"=== {name}")
        outcome: Outcome = BENCHES[name].run(ctx)
        results += outcome.results
        notes += outcome.notes
    for built in ctx.built_stores():
        b = built.build
        when = "in this run" if built.built_now else "by an earlier run (cached)"
        notes.append(
            Note(
                "store",
                built.scale.slug,
                f"store {built.scale.slug} was built {when}: {built.rows:,} rows in {b['wall_s']:.0f} s "
                f"(simulator {b['simulate_s']:.0f} s, store.write {b['write_s']:.0f} s = "
                f"{b['write_rows_per_s'] / 1e6:.2f} M rows/s over {int(b['batches'])} batches).",
            )
        )
    wall = time.perf_counter() - started
    busy1, ours1 = cpu_seconds()
    cores = info["usable_cores"]
    others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (wall * cores)
    info["other_cpu_share"] = round(others, 3)
    info["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    date = datetime.now(UTC).replace(microsecond=0)
    run_id = date.strftime("%Y%m%dT%H%M%SZ")
    run = {
        "date": date.strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line(),
        "wall_s": wall,
        "machine": info,
        "profiled": args.profile,
    }
    state = merge(load_state(), run_id, run, results, notes)
    STATE.write_text(json.dumps(state, indent=1))
    REPORT.write_text(render(state))
    log(f"wrote {REPORT.relative_to(ROOT)} in {wall / 60:.1f} min")
    failed = [r for r in results if r.passed is False]
    for r in results:
        verdict = {None: "", True: "  pass", False: "  FAIL"}[r.passed]
        print(
            f"{r.label} [{r.statistic}]: {fmt_value(r.figure, r.unit)}; {r.ratio:.2f}× {r.baseline}{verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
