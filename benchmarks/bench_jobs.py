"""(m) Jobs: submit-to-running latency, fan-out overhead, and the 10-million-row export.

- Submit to running: a no-op job (one task that records when it started) is
  submitted to a worker that waits idle, as the service's workers do; the
  figure is the time from the submit call to the task starting on the
  executor, over `NOOP_SAMPLES` jobs, on `local://` and on a Dask
  `LocalCluster` of 2 worker processes. Baseline: a no-op submitted to a warm
  plain `concurrent.futures.ProcessPoolExecutor`.
- Fan-out: one job of `SPIN_TASKS` CPU tasks of about `SPIN_TASK_MS` each
  (chained SHA-256), from submit to succeeded, against `pool.map` of the same
  function over the same inputs in a warm plain pool of as many processes
  (target: the job takes at most 10% longer), and on the Dask cluster against
  `client.map` of the same tasks there; the three take turns.
- Export: 10,000,000 LMP rows of the (b) store (every PJM location, the
  first 5,000 hours of 2023) exported to Parquet and to CSV by a job on a
  `carbon254 jobs worker` process (`local://`, one pool process per core),
  warmed by a one-day export first; the figure runs from the submit to the
  job's success as read from the metadata database. Peak memory is the
  largest sum of resident memory over the worker and its pool processes,
  sampled every 20 ms during the job. Baseline: `carbon254 query --output` of
  the same rows to a file of the same format (a whole process, start-up
  included), timed and sampled the same way.
"""

from __future__ import annotations

import os
import signal
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
# The job and the plain pool take turns this many times; the machine's speed drifts between runs.
FAN_OUT_RUNS = 5
PROCESSES = 2
OVERHEAD_TARGET = 1.10
EXPORT_ROWS = 10_000_000
EXPORT_QUERY = {"iso": "PJM", "market": "DAM", "start": "2023-01-01", "end": "2023-07-28T08:00Z"}
EXPORT_RUNS = 5
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
    def open(executor: Executor) -> Iterator[Harness]:
        """A harness in a fresh temporary directory."""
        with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
            directory = Path(tmp)
            settings = Settings(
                data_dir=directory,
                object_store=f"file://{directory / 'objects'}",
                max_range_days=400,
            )
            db = MetadataDatabase(f"sqlite:///{directory / 'metadata.db'}")
            kinds = JobRegistry()
            for kind in (NOOP, SPIN):
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
    out: Outcome,
    label: str,
    executor: Executor,
    pool: ProcessPoolExecutor,
    rounds: int,
    native: Callable[[int], float] | None = None,
) -> tuple[float, float | None]:
    """Submit-to-running and fan-out rows for one executor, each against the plain pool in turn.

    `native`, when given, times the same fan-out done directly on the
    executor's own engine (sample number -> seconds); it takes its turn after
    the job and the plain pool in every round. Returns the job's median
    seconds and `native`'s.
    """
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
            f"(m) submit to running, a no-op job, {label}",
            "p50",
            _ms(ours),
            "ms",
            "a no-op submitted to a warm plain concurrent.futures process pool",
            _ms(plain),
            "× the plain pool's latency",
        )
    )
    job_times, plain_times, native_times = [], [], []
    with Harness.open(executor) as harness:
        for sample in range(FAN_OUT_RUNS):
            settle()
            done, seconds = harness.run(SPIN.name, {"tasks": SPIN_TASKS, "rounds": rounds})
            settle()
            plain_seconds, plain_total = _plain_fan_out(pool, rounds)
            if done.result is None or done.result.summary["total"] != plain_total:
                raise RuntimeError("the job's total differs from the plain pool's")
            job_times.append(seconds)
            plain_times.append(plain_seconds)
            if native is not None:
                settle()
                native_times.append(native(sample))
    job_s, plain_s = statistics.median(job_times), statistics.median(plain_times)
    log(f"jobs {label}: {SPIN_TASKS} tasks in {job_s:.2f} s; plain pool {plain_s:.2f} s")
    out.results.append(
        Result(
            NAME,
            f"(m) {SPIN_TASKS:,} tasks of ~{SPIN_TASK_MS:.0f} ms as one job, {label}",
            f"median of {FAN_OUT_RUNS}",
            job_s,
            "s",
            f"pool.map of the same tasks in a warm plain concurrent.futures pool of {PROCESSES} processes",
            plain_s,
            "× the plain pool's time",
            target=Target("<=", plain_s * OVERHEAD_TARGET) if native is None else None,
        )
    )
    return job_s, statistics.median(native_times) if native_times else None


@contextmanager
def _plain_dask_fan_out(address: str, rounds: int) -> Iterator[Callable[[int], float]]:
    """A function timing `client.map` and `gather` of the spin tasks on the cluster (seconds)."""
    from distributed import Client

    client = Client(address.replace("dask://", "tcp://"), set_as_default=False)  # type: ignore[no-untyped-call]

    def fan_out(sample: int) -> float:
        t0 = time.perf_counter()
        futures = client.map(
            plain_spin,
            range(SPIN_TASKS),
            [rounds] * SPIN_TASKS,
            key=[f"spin-{sample}-{i}" for i in range(SPIN_TASKS)],
        )
        client.gather(futures)  # type: ignore[no-untyped-call]
        seconds = time.perf_counter() - t0
        client.cancel(futures)  # type: ignore[no-untyped-call]
        return seconds

    try:
        yield fan_out
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


class TreeMemory:
    """Samples the resident memory of a process and its descendants every `RSS_SAMPLE_S` seconds.

    `peak` is the largest sum seen since the last `reset`: a process tree's
    memory at one moment, not the sum of each process's own peak.
    """

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _total(self) -> int:
        total = 0
        try:
            members = [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            total = self._total()
            with self._lock:
                self._peak = max(self._peak, total)

    def reset(self) -> None:
        """Start a new peak from the tree's memory now."""
        with self._lock:
            self._peak = self._total()

    @property
    def peak(self) -> int:
        """The largest sum of resident bytes since the last `reset`."""
        with self._lock:
            return self._peak

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()


def _query_run(data_dir: Path, target: Path) -> tuple[float, int]:
    """`carbon254 query --output` of the export's rows: wall seconds and the process tree's peak bytes."""
    command = [
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
    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    memory = TreeMemory(process.pid)
    _, stderr = process.communicate()
    seconds = time.perf_counter() - t0
    memory.close()
    if process.returncode != 0:
        raise RuntimeError(f"carbon254 query failed: {stderr.decode()[-2000:]}")
    return seconds, memory.peak


@contextmanager
def _jobs_worker(data_dir: Path, directory: Path) -> Iterator[tuple[JobState, TreeMemory]]:
    """A `carbon254 jobs worker` process over the store in `data_dir`, with its metadata and objects
    in `directory`; the job state it reads, and its memory."""
    env = {
        **os.environ,
        "CARBON254_METADATA_URL": f"sqlite:///{directory / 'metadata.db'}",
        "CARBON254_OBJECT_STORE": f"file://{directory / 'objects'}",
        "CARBON254_MAX_RANGE_DAYS": "400",
        "CARBON254_JOB_POLL_S": "0.02",
        "CARBON254_JOB_SWEEP_S": "0",
    }
    db = MetadataDatabase(env["CARBON254_METADATA_URL"])
    log_file = (directory / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "carbon254.cli", "jobs", "worker", "--data-dir", str(data_dir)],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    memory = TreeMemory(process.pid)
    try:
        yield JobState(db), memory
    finally:
        memory.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log_file.close()
        db.close()


def _export_job(state: JobState, request: dict[str, Any]) -> tuple[JobRecord, float]:
    """Submit an export and wait for the worker process to finish it; the job and seconds from submit."""
    body = EXPORT.request.model_validate(request).model_dump(mode="json")
    t0 = time.perf_counter()
    job = state.submit("bench", EXPORT.name, body)
    while not (done := state.get(job.id)).status.finished:
        time.sleep(0.02)
    seconds = time.perf_counter() - t0
    if done.status is not JobStatus.SUCCEEDED or done.result is None:
        raise RuntimeError(f"export job ended {done.status.value}: {done.error}")
    return done, seconds


def _export_rows(out: Outcome, data_dir: Path) -> None:
    for fmt in ("parquet", "csv"):
        export_s, export_peak, query_s, query_peak = [], [], [], []
        with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
            directory = Path(tmp)
            with _jobs_worker(data_dir, directory) as (state, memory):
                # Warm: the pool has started all its processes (3 tasks) and they have imported the kind.
                _export_job(state, {**EXPORT_QUERY, "end": "2023-01-22", "format": fmt})
                for _ in range(EXPORT_RUNS):
                    settle()
                    memory.reset()
                    done, seconds = _export_job(state, {**EXPORT_QUERY, "format": fmt})
                    assert done.result is not None
                    if done.result.summary["rows"] != EXPORT_ROWS:
                        raise RuntimeError(f"the export wrote {done.result.summary['rows']:,} rows")
                    export_s.append(seconds)
                    export_peak.append(memory.peak)
                    settle()
                    seconds, peak = _query_run(data_dir, directory / f"rows.{fmt}")
                    query_s.append(seconds)
                    query_peak.append(peak)
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
                f"(m) export of 10M LMP rows to {fmt.upper()} as a job on a warm `carbon254 jobs worker`",
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
                f"(m) export of 10M LMP rows to {fmt.upper()}: peak memory of the worker and its pool",
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
                with _plain_dask_fan_out(address, rounds) as native:
                    job_s, native_s = _executor_rows(out, label, dask, pool, rounds, native)
            finally:
                dask.close()
            if native_s is None:
                raise RuntimeError("the plain Dask fan-out was not timed")
            log(f"jobs {label}: plain client.map of the same tasks {native_s:.2f} s")
            out.results.append(
                Result(
                    NAME,
                    f"(m) {SPIN_TASKS:,} tasks of ~{SPIN_TASK_MS:.0f} ms as one job, {label}, job overhead",
                    f"median of {FAN_OUT_RUNS}",
                    job_s,
                    "s",
                    "client.map and gather of the same tasks on the same cluster",
                    native_s,
                    "× plain Dask's time",
                    target=Target("<=", native_s * OVERHEAD_TARGET),
                )
            )
    finally:
        pool.shutdown()
    scale = ctx.scales[0]
    _export_rows(out, ctx.store(scale).directory)
    return out
