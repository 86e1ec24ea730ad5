"""(j) Jobs: submit-to-running latency, fan-out overhead, and the 10-million-row export.

- Submit to running: a no-op job (one task that records when it started) is
  submitted to a worker that waits idle, as the service's workers do; the
  figure is the time from the submit call to the task starting on the
  executor, over `NOOP_SAMPLES` jobs, on `local://` and on a Dask
  `LocalCluster` of 2 worker processes. Baseline: a no-op submitted to a warm
  plain `concurrent.futures.ProcessPoolExecutor`.
- Fan-out: one job of `SPIN_TASKS` CPU tasks of about `SPIN_TASK_MS` each
  (chained SHA-256), from submit to succeeded, against `pool.map` of the same
  function over the same inputs in a warm plain pool of as many processes
  (target: the job takes at most 10% longer), and on the Dask cluster.
- Export: 10,000,000 LMP rows of the (b) store (every PJM location, the
  first 5,000 hours of 2023) exported to Parquet and to CSV by a job on a warm
  `local://` worker, as the service runs it, in a process of its own; peak
  memory is the largest sum of resident memory over that process and its pool
  processes, sampled every 20 ms. Baseline: `carbon254 query --output` of the
  same rows to a file of the same format, timed and sampled the same way.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil

from bench_job_kinds import NOOP, SPIN, plain_spin, spin
from carbon254.compute import LocalExecutor
from carbon254.compute.base import Executor
from carbon254.compute.dask import DaskExecutor
from carbon254.config import Settings
from carbon254.exports import EXPORT
from carbon254.jobs import JobRecord, JobRegistry, JobState, JobStatus
from carbon254.jobs.worker import Worker
from carbon254.metadata import MetadataDatabase
from carbon254.objects import open_object_store
from dataset import Context
from measure import Outcome, Result, Target, human_bytes, log, settle

NAME = "jobs"
NOOP_SAMPLES = 20
SPIN_TASKS = 1_000
SPIN_TASK_MS = 10.0
PROCESSES = 2
OVERHEAD_TARGET = 1.10
EXPORT_ROWS = 10_000_000
EXPORT_QUERY = {"iso": "PJM", "market": "DAM", "start": "2023-01-01", "end": "2023-07-28T08:00Z"}
EXPORT_RUNS = 3
PARQUET_TARGET_ROWS_S = 2_000_000
PEAK_TARGET_BYTES = 1 << 30
RSS_SAMPLE_S = 0.02


def _rounds_for(ms: float) -> int:
    """SHA-256 rounds that take about `ms` milliseconds on this machine (the median of 5 timings)."""
    probe = 20_000
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        spin(0, probe)
        times.append(time.perf_counter() - t0)
    return max(1, round(probe * ms / 1e3 / statistics.median(times)))


@dataclass
class Harness:
    """A job state in a SQLite file, the benchmark's kinds and a worker over `executor`."""

    directory: Path
    executor: Executor
    state: JobState
    worker: Worker

    @staticmethod
    @contextmanager
    def open(executor: Executor, data_dir: Path | None = None) -> Iterator[Harness]:
        """A harness in a fresh temporary directory (data dir `data_dir` for exports)."""
        with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
            directory = Path(tmp)
            settings = Settings(
                data_dir=data_dir or directory,
                object_store=f"file://{directory / 'objects'}",
                max_range_days=400,
            )
            db = MetadataDatabase(f"sqlite:///{directory / 'metadata.db'}")
            kinds = JobRegistry()
            for kind in (NOOP, SPIN, EXPORT):
                kinds.register(kind)
            state = JobState(db)
            objects = open_object_store(settings.object_store, data_dir=settings.data_dir, s3_endpoint=None)
            worker = Worker(state, executor, kinds, objects=objects, settings=settings)
            try:
                yield Harness(directory, executor, state, worker)
            finally:
                db.close()

    def run(self, kind: str, request: dict[str, Any]) -> tuple[JobRecord, float]:
        """Submit a job and run it on this thread's worker; the finished job and seconds from submit."""
        t0 = time.perf_counter()
        job = self.state.submit("bench", kind, request)
        report = self.worker.run_once()
        seconds = time.perf_counter() - t0
        done = self.state.get(job.id)
        if report is None or done.status is not JobStatus.SUCCEEDED:
            raise RuntimeError(f"{kind} job ended {done.status.value}: {done.error}")
        return done, seconds

    def submit_to_running(self, samples: int) -> list[float]:
        """Seconds from submit to the no-op task starting, with the worker idle in its loop."""
        thread = threading.Thread(target=self.worker.run, daemon=True)
        thread.start()
        latencies = []
        try:
            for _ in range(samples):
                time.sleep(0.2)  # the worker is back waiting for work
                submitted = time.time()
                job = self.state.submit("bench", NOOP.name, {})
                # The figure comes from the task's own clock: polling slowly here only keeps this
                # thread from competing with the worker's.
                while not (done := self.state.get(job.id)).status.finished:
                    time.sleep(0.05)
                if done.result is None:
                    raise RuntimeError(f"no-op job ended {done.status.value}: {done.error}")
                latencies.append(float(done.result.summary["started"]) - submitted)
        finally:
            self.worker.stop()
            thread.join(30)
        return latencies


def _plain_pool() -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn"))
    list(pool.map(plain_spin, range(PROCESSES * 4), [1] * (PROCESSES * 4)))  # start and warm every process
    return pool


def _plain_submit_to_running(pool: ProcessPoolExecutor, samples: int) -> list[float]:
    latencies = []
    for _ in range(samples):
        time.sleep(0.2)
        submitted = time.time()
        latencies.append(pool.submit(time.time).result() - submitted)
    return latencies


def _plain_fan_out(pool: ProcessPoolExecutor, rounds: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    total = sum(pool.map(plain_spin, range(SPIN_TASKS), [rounds] * SPIN_TASKS))
    return time.perf_counter() - t0, total


def _ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1e3


def _executor_rows(
    out: Outcome, label: str, executor: Executor, pool: ProcessPoolExecutor, rounds: int
) -> float:
    """Submit-to-running and fan-out rows for one executor, each against the plain pool in turn."""
    with Harness.open(executor) as harness:
        harness.run(NOOP.name, {})  # the executor's processes are up and have imported the kinds
        harness.run(SPIN.name, {"tasks": 10, "rounds": rounds})
        settle()
        ours = harness.submit_to_running(NOOP_SAMPLES)
    plain = _plain_submit_to_running(pool, NOOP_SAMPLES)
    log(f"jobs {label}: submit to running p50 {_ms(ours):.1f} ms; plain pool {_ms(plain):.1f} ms")
    out.results.append(
        Result(
            NAME,
            f"(j) submit to running, a no-op job, {label}",
            "p50",
            _ms(ours),
            "ms",
            "a no-op submitted to a warm plain concurrent.futures process pool",
            _ms(plain),
            "× the plain pool's latency",
        )
    )
    job_times, plain_times = [], []
    with Harness.open(executor) as harness:
        for _ in range(3):
            settle()
            done, seconds = harness.run(SPIN.name, {"tasks": SPIN_TASKS, "rounds": rounds})
            plain_seconds, plain_total = _plain_fan_out(pool, rounds)
            if done.result is None or done.result.summary["total"] != plain_total:
                raise RuntimeError("the job's total differs from the plain pool's")
            job_times.append(seconds)
            plain_times.append(plain_seconds)
    job_s, plain_s = statistics.median(job_times), statistics.median(plain_times)
    log(f"jobs {label}: {SPIN_TASKS} tasks in {job_s:.2f} s; plain pool {plain_s:.2f} s")
    out.results.append(
        Result(
            NAME,
            f"(j) {SPIN_TASKS:,} tasks of ~{SPIN_TASK_MS:.0f} ms as one job, {label}",
            "median of 3",
            job_s,
            "s",
            f"pool.map of the same tasks in a warm plain concurrent.futures pool of {PROCESSES} processes",
            plain_s,
            "× the plain pool's time",
            target=Target("<=", plain_s * OVERHEAD_TARGET) if label.startswith("local") else None,
        )
    )
    return job_s


def _plain_dask_fan_out(address: str, rounds: int) -> float:
    """Seconds for `client.map` and `gather` of the spin tasks on the cluster, median of 3."""
    from distributed import Client

    client = Client(address.replace("dask://", "tcp://"), set_as_default=False)  # type: ignore[no-untyped-call]
    try:
        times = []
        for run in range(3):
            settle()
            t0 = time.perf_counter()
            futures = client.map(
                plain_spin,
                range(SPIN_TASKS),
                [rounds] * SPIN_TASKS,
                key=[f"spin-{run}-{i}" for i in range(SPIN_TASKS)],
            )
            client.gather(futures)  # type: ignore[no-untyped-call]
            times.append(time.perf_counter() - t0)
        return statistics.median(times)
    finally:
        client.close()  # type: ignore[no-untyped-call]


@contextmanager
def _dask_cluster() -> Iterator[str]:
    from distributed import LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=PROCESSES,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    try:
        yield str(cluster.scheduler_address).replace("tcp://", "dask://")
    finally:
        cluster.close()


def _tree_peak(process: subprocess.Popen[bytes]) -> Callable[[], int]:
    """Sample the resident memory of `process` and its descendants until it ends; a getter of the peak."""
    peak = [0]

    def sample() -> None:
        try:
            root = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while process.poll() is None:
            total = 0
            try:
                for member in (root, *root.children(recursive=True)):
                    try:
                        total += member.memory_info().rss
                    except psutil.NoSuchProcess:
                        continue
            except psutil.NoSuchProcess:
                break
            peak[0] = max(peak[0], total)
            time.sleep(RSS_SAMPLE_S)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def get() -> int:
        thread.join()
        return peak[0]

    return get


def _measured(command: list[str]) -> tuple[float, int, str]:
    """Run `command`; its wall seconds, the peak resident bytes of its process tree, and its stdout."""
    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = _tree_peak(process)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - t0
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed: {stderr.decode()[-2000:]}")
    return seconds, peak(), stdout.decode()


def export_child(fmt: str, data_dir: Path) -> None:
    """In a process of its own: warm a `local://` worker, then export the rows and print the timing."""
    executor = LocalExecutor()
    try:
        with Harness.open(executor, data_dir) as harness:
            harness.run(NOOP.name, {})
            done, seconds = harness.run(EXPORT.name, {**EXPORT_QUERY, "format": fmt})
            assert done.result is not None
            print(json.dumps({"seconds": seconds, **done.result.summary}))
    finally:
        executor.close()


def _export_rows(out: Outcome, data_dir: Path) -> None:
    for fmt in ("parquet", "csv"):
        export_s, export_peak, query_s, query_peak = [], [], [], []
        with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
            target = Path(tmp) / f"rows.{fmt}"
            for _ in range(EXPORT_RUNS):
                settle()
                _, peak, stdout = _measured(
                    [sys.executable, str(Path(__file__)), "--export", fmt, str(data_dir)]
                )
                summary = json.loads(stdout.strip().splitlines()[-1])
                if summary["rows"] != EXPORT_ROWS:
                    raise RuntimeError(f"the export wrote {summary['rows']:,} rows, not {EXPORT_ROWS:,}")
                export_s.append(summary["seconds"])
                export_peak.append(peak)
                settle()
                seconds, peak, _ = _measured(
                    [
                        sys.executable,
                        "-m",
                        "carbon254.cli",
                        "query",
                        "--data-dir",
                        str(data_dir),
                        *(f"--{key.replace('_', '-')}={value}" for key, value in EXPORT_QUERY.items()),
                        "--output",
                        str(target),
                    ]
                )
                query_s.append(seconds)
                query_peak.append(peak)
                target.unlink()
        rate = EXPORT_ROWS / statistics.median(export_s)
        base_rate = EXPORT_ROWS / statistics.median(query_s)
        log(
            f"jobs export {fmt}: {rate / 1e6:.2f} M rows/s, peak {human_bytes(max(export_peak))}; "
            f"query --output {base_rate / 1e6:.2f} M rows/s, peak {human_bytes(max(query_peak))}"
        )
        baseline = f"`carbon254 query --output rows.{fmt}` of the same rows (a whole process)"
        out.results.append(
            Result(
                NAME,
                f"(j) export of 10M LMP rows to {fmt.upper()} as a job, warm local:// worker",
                f"median of {EXPORT_RUNS}",
                rate,
                "rows/s",
                baseline,
                base_rate,
                "× the baseline's rows/s",
                target=Target(">=", PARQUET_TARGET_ROWS_S) if fmt == "parquet" else None,
            )
        )
        out.results.append(
            Result(
                NAME,
                f"(j) export of 10M LMP rows to {fmt.upper()}: peak memory of the worker and its pool",
                f"max of {EXPORT_RUNS}",
                max(export_peak) / 2**20,
                "MiB",
                baseline,
                max(query_peak) / 2**20,
                "× the baseline's peak",
                target=Target("<=", PEAK_TARGET_BYTES / 2**20),
            )
        )


def run(ctx: Context) -> Outcome:
    """Submit-to-running and fan-out on `local://` and Dask, then the 10M-row exports (default scale)."""
    out = Outcome()
    rounds = _rounds_for(SPIN_TASK_MS)
    log(f"jobs: {rounds:,} SHA-256 rounds take about {SPIN_TASK_MS:.0f} ms here")
    pool = _plain_pool()
    try:
        local = LocalExecutor(PROCESSES)
        try:
            _executor_rows(out, f"local:// ({PROCESSES} processes)", local, pool, rounds)
        finally:
            local.close()
        with _dask_cluster() as address:
            dask = DaskExecutor(address)
            label = f"Dask LocalCluster ({PROCESSES} workers)"
            try:
                job_s = _executor_rows(out, label, dask, pool, rounds)
            finally:
                dask.close()
            plain_s = _plain_dask_fan_out(address, rounds)
            log(f"jobs {label}: plain client.map of the same tasks {plain_s:.2f} s")
            out.results.append(
                Result(
                    NAME,
                    f"(j) {SPIN_TASKS:,} tasks of ~{SPIN_TASK_MS:.0f} ms as one job, {label}, job overhead",
                    "median of 3",
                    job_s,
                    "s",
                    "client.map and gather of the same tasks on the same cluster",
                    plain_s,
                    "× plain Dask's time",
                    target=Target("<=", plain_s * OVERHEAD_TARGET),
                )
            )
    finally:
        pool.shutdown()
    scale = ctx.scales[0]
    _export_rows(out, ctx.store(scale).directory)
    return out


if __name__ == "__main__":
    # `bench_jobs.py --export FORMAT DATA_DIR`: the export's own process (see `_export_rows`).
    if len(sys.argv) == 4 and sys.argv[1] == "--export":
        export_child(sys.argv[2], Path(sys.argv[3]))
    else:
        raise SystemExit(f"usage: {Path(__file__).name} --export FORMAT DATA_DIR (run.py runs the rest)")
