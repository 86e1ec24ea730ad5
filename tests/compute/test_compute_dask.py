"""The Dask executor against a real `LocalCluster` on 127.0.0.1: two worker processes, one thread each."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dask_tasks
import pytest
from distributed import Client, LocalCluster

from carbon254.compute.base import Executor
from carbon254.compute.dask import DaskExecutor, scheduler_address


def _cluster() -> LocalCluster:
    # A free port for the scheduler's HTTP routes: without an address they take the fixed 8787, which
    # another cluster on this machine may hold.
    return LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )


def _dask_url(cluster: LocalCluster) -> str:
    return str(cluster.scheduler_address).replace("tcp://", "dask://")


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """One cluster for the module's tests that leave it as they found it."""
    with _cluster() as running:
        yield running


@pytest.fixture
def executor(cluster: LocalCluster) -> Iterator[DaskExecutor]:
    """A fresh connection to the module's cluster."""
    opened = DaskExecutor(_dask_url(cluster))
    try:
        yield opened
    finally:
        opened.close()


def _never() -> bool:
    return False


def test_it_is_an_executor_of_the_cluster_it_was_opened_on(
    executor: DaskExecutor, cluster: LocalCluster
) -> None:
    as_interface: Executor = executor
    assert as_interface.url == _dask_url(cluster)
    assert as_interface.workers == 2


def test_every_input_yields_its_right_answer_once(executor: DaskExecutor) -> None:
    inputs = [(f"n{i}", i) for i in range(200)]
    outcomes = list(executor.run(dask_tasks.square, inputs, stop=_never))
    assert Counter(outcome.key for outcome in outcomes) == Counter(key for key, _ in inputs)
    assert {outcome.key: outcome.output for outcome in outcomes} == {f"n{i}": i * i for i in range(200)}
    assert all(outcome.failure is None for outcome in outcomes)


def test_no_inputs_yield_nothing(executor: DaskExecutor) -> None:
    assert list(executor.run(dask_tasks.square, [], stop=_never)) == []


def test_duplicate_keys_are_refused(executor: DaskExecutor) -> None:
    with pytest.raises(ValueError, match="unique"):
        list(executor.run(dask_tasks.square, [("a", 1), ("a", 2)], stop=_never))


def test_a_task_that_raises_reports_its_failure_and_the_others_go_on(executor: DaskExecutor) -> None:
    outcomes = {
        o.key: o
        for o in executor.run(dask_tasks.square_or_fail, [(f"n{i}", i) for i in range(10)], stop=_never)
    }
    assert sorted(outcomes) == sorted(f"n{i}" for i in range(10))
    for i in range(0, 10, 2):
        assert outcomes[f"n{i}"].output == i * i and outcomes[f"n{i}"].failure is None
    for i in range(1, 10, 2):
        failure = outcomes[f"n{i}"].failure
        assert outcomes[f"n{i}"].output is None and failure is not None
        assert (failure.kind, failure.message) == ("ValueError", f"odd input {i}")
        # The worker's traceback: it names the task function where it raised.
        assert "square_or_fail" in failure.traceback and "ValueError: odd input" in failure.traceback


def test_a_repeat_run_computes_again_rather_than_reusing_old_results(
    executor: DaskExecutor, tmp_path: Path
) -> None:
    inputs = [(f"n{i}", (i, str(tmp_path), 0.0)) for i in range(6)]
    first = {o.key: o.output for o in executor.run(dask_tasks.slow_square, inputs, stop=_never)}
    second = {o.key: o.output for o in executor.run(dask_tasks.slow_square, inputs, stop=_never)}
    assert first == second == {f"n{i}": i * i for i in range(6)}
    assert Counter(x for _, x in dask_tasks.starts(str(tmp_path))) == {i: 2 for i in range(6)}


def test_stop_cancels_the_tasks_not_yet_started(
    executor: DaskExecutor, cluster: LocalCluster, tmp_path: Path
) -> None:
    inputs = [(f"n{i}", (i, str(tmp_path), 0.2)) for i in range(40)]
    yielded: list[str] = []
    polls_after_stop = 0

    def stop() -> bool:
        nonlocal polls_after_stop
        if len(yielded) >= 3:
            polls_after_stop += 1
            return True
        return False

    for outcome in executor.run(dask_tasks.slow_square, inputs, stop=stop):
        yielded.append(outcome.key)
    assert len(yielded) == 3 and polls_after_stop == 1
    # Wait for the cluster to settle: the tasks already running finish, the cancelled ones never start.
    with Client(cluster, set_as_default=False) as client:
        deadline = time.monotonic() + 30
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(client.processing().values())
    started = dask_tasks.starts(str(tmp_path))
    # At most the yielded ones plus those in flight when stop came (4 per worker thread).
    assert 3 <= len(started) <= 3 + 4 * 2
    assert len(started) < len(inputs)


def test_abandoning_the_iterator_cancels_what_is_in_flight(
    executor: DaskExecutor, cluster: LocalCluster, tmp_path: Path
) -> None:
    inputs = [(f"n{i}", (i, str(tmp_path), 0.2)) for i in range(40)]
    outcomes = executor.run(dask_tasks.slow_square, inputs, stop=_never)
    next(outcomes)
    outcomes.close()
    with Client(cluster, set_as_default=False) as client:
        deadline = time.monotonic() + 30
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(client.processing().values())
    assert len(dask_tasks.starts(str(tmp_path))) <= 1 + 4 * 2


def test_a_killed_worker_loses_no_task_and_repeats_no_outcome(tmp_path: Path) -> None:
    """SIGKILL a worker process while it runs a task: the scheduler reruns it, each key yields once."""
    victim = 5
    inputs = [(f"n{i}", (i, str(tmp_path), victim)) for i in range(30)]
    marker = tmp_path / "victim.pid"
    killed: list[int] = []
    with _cluster() as cluster, Client(cluster, set_as_default=False) as client:
        worker_pids = set(client.run(os.getpid).values())
        assert len(worker_pids) == 2

        def kill_the_victims_worker() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                text = marker.read_text() if marker.exists() else ""
                if text:
                    pid = int(text)
                    assert pid in worker_pids
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.02)

        killer = threading.Thread(target=kill_the_victims_worker, daemon=True)
        killer.start()
        executor = DaskExecutor(_dask_url(cluster))
        try:
            outcomes = list(executor.run(dask_tasks.square_blocking_once, inputs, stop=_never))
        finally:
            executor.close()
        killer.join()
        # The nanny restarts the killed worker: the cluster is whole again, under a new pid.
        assert killed and killed[0] not in set(client.run(os.getpid).values())
    assert Counter(outcome.key for outcome in outcomes) == Counter(key for key, _ in inputs)
    assert all(outcome.failure is None for outcome in outcomes)
    assert {o.key: o.output for o in outcomes} == {f"n{i}": i * i for i in range(30)}
    started = dask_tasks.starts(str(tmp_path))
    # The victim started twice: in the killed worker, then in the other one.
    assert next(pid for pid, x in started if x == victim) == killed[0]
    assert sum(1 for _, x in started if x == victim) == 2


@pytest.mark.parametrize(
    ("url", "address"),
    [("dask://127.0.0.1:8786", "tcp://127.0.0.1:8786"), (" dask://sched:1 ", "tcp://sched:1")],
)
def test_dask_urls_name_the_scheduler(url: str, address: str) -> None:
    assert scheduler_address(url) == address


@pytest.mark.parametrize(
    "url", ["tcp://127.0.0.1:8786", "dask://127.0.0.1", "dask://:8786", "dask://h:port", "local://"]
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"dask://host:port"):
        scheduler_address(url)


def test_a_closed_executor_refuses_work_and_closes_twice(cluster: LocalCluster) -> None:
    executor = DaskExecutor(_dask_url(cluster))
    executor.close()
    executor.close()
    with pytest.raises(RuntimeError, match="closed"):
        list(executor.run(dask_tasks.square, [("a", 1)], stop=_never))
