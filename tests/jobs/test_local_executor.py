"""The local:// executor: outcomes as they finish, failures with tracebacks, stop, a killed pool process."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_kinds import SquareInput, SquareOutput, always_die, refuse_node, runs, square, task_key

from carbon254.application.errors import ApiError
from carbon254.compute import InvalidComputeUrl, LocalExecutor, check_compute_url, open_executor
from carbon254.compute.batches import BATCH_S
from carbon254.compute.local import IN_FLIGHT_PER_WORKER


@pytest.fixture(scope="module")
def executor() -> Iterator[LocalExecutor]:
    pool = LocalExecutor(2)
    yield pool
    pool.close()


def _inputs(markers: Path, n: int, **options: object) -> list[tuple[str, SquareInput]]:
    base: dict[str, object] = {"markers": str(markers), "sleep_s": 0.0, "fail_on": None, "die_on": None}
    base.update(options)
    return [(task_key(i), SquareInput.model_validate({"i": i, **base})) for i in range(n)]


def test_every_task_yields_its_output_once(executor: LocalExecutor, markers: Path) -> None:
    outcomes = list(executor.run(square, _inputs(markers, 20), stop=lambda: False))
    assert sorted(o.key for o in outcomes) == [task_key(i) for i in range(20)]
    assert all(o.failure is None for o in outcomes)
    assert {o.key: o.output for o in outcomes}[task_key(7)] == SquareOutput(square=49)
    assert all(runs(markers, task_key(i)) == 1 for i in range(20))


def test_a_raising_task_is_a_failure_with_its_traceback_and_the_others_go_on(
    executor: LocalExecutor, markers: Path
) -> None:
    outcomes = {o.key: o for o in executor.run(square, _inputs(markers, 6, fail_on=3), stop=lambda: False)}
    assert len(outcomes) == 6
    failure = outcomes[task_key(3)].failure
    assert failure is not None and outcomes[task_key(3)].output is None
    assert failure.kind == "ValueError" and failure.message == "cannot square 3"
    assert "sample_kinds.py" in failure.traceback and "raise ValueError" in failure.traceback
    assert outcomes[task_key(5)].output == SquareOutput(square=25)


def test_an_exception_that_cannot_unpickle_is_still_the_tasks_own_failure(
    executor: LocalExecutor, markers: Path
) -> None:
    # Raised as is, such an exception would break the pool and read as a worker dying, again and again.
    outcomes = list(executor.run(refuse_node, _inputs(markers, 3), stop=lambda: False))
    assert sorted(o.key for o in outcomes) == [task_key(i) for i in range(3)]
    for outcome in outcomes:
        assert outcome.failure is not None
        assert outcome.failure.kind == "NodeError"
        assert outcome.failure.message.endswith(": no prices")
        assert "raise NodeError" in outcome.failure.traceback


def test_api_errors_cross_processes_whole() -> None:
    error = ApiError(404, "not_found", "unknown zone 'ZZ'", "zones", ["ZA"], {"X-Check": "1"})
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.status_code, copy.code, copy.message, copy.parameter, copy.suggestions, copy.headers) == (
        404,
        "not_found",
        "unknown zone 'ZZ'",
        "zones",
        ["ZA"],
        {"X-Check": "1"},
    )
    assert str(copy) == "unknown zone 'ZZ'"


def test_stop_ends_the_run_and_unstarted_tasks_never_run(executor: LocalExecutor, markers: Path) -> None:
    seen: list[str] = []
    outcomes = executor.run(square, _inputs(markers, 200, sleep_s=0.02), stop=lambda: len(seen) >= 3)
    for outcome in outcomes:
        seen.append(outcome.key)
    assert len(seen) == 3
    started = len(list(markers.iterdir()))
    # At most the bounded in-flight window had been handed out (batches of 20 ms tasks hold 2).
    assert started <= 3 + IN_FLIGHT_PER_WORKER * executor.workers * max(1, int(BATCH_S / 0.02))
    assert started < 200


def test_short_tasks_travel_in_batches_and_each_still_has_its_own_outcome(
    executor: LocalExecutor, markers: Path
) -> None:
    outcomes = list(executor.run(square, _inputs(markers, 400, fail_on=250), stop=lambda: False))
    assert sorted(o.key for o in outcomes) == sorted(task_key(i) for i in range(400))
    failed = [o for o in outcomes if o.failure is not None]
    assert [o.key for o in failed] == [task_key(250)]
    outputs = {o.key: o.output for o in outcomes if o.failure is None}
    assert outputs == {task_key(i): SquareOutput(square=i * i) for i in range(400) if i != 250}


def test_a_killed_pool_process_is_replaced_and_its_tasks_run_again(markers: Path) -> None:
    pool = LocalExecutor(2)
    try:
        outcomes = list(pool.run(square, _inputs(markers, 12, die_on=4, sleep_s=0.05), stop=lambda: False))
        assert sorted(o.key for o in outcomes) == [task_key(i) for i in range(12)]
        assert all(o.failure is None for o in outcomes)
        assert runs(markers, task_key(4)) == 2
        # The pool works on after the loss.
        again = list(pool.run(square, _inputs(markers, 2), stop=lambda: False))
        assert len(again) == 2
    finally:
        pool.close()


def test_a_task_that_always_kills_its_process_is_given_up_as_a_failure(markers: Path) -> None:
    pool = LocalExecutor(1, max_retries=1)
    try:
        outcomes = list(pool.run(always_die, [("k", str(markers))], stop=lambda: False))
    finally:
        pool.close()
    assert len(outcomes) == 1 and outcomes[0].failure is not None
    assert outcomes[0].failure.kind == "WorkerLost" and "died 2 times" in outcomes[0].failure.message


def test_open_executor_reads_the_compute_url() -> None:
    local = open_executor("local://?processes=2")
    try:
        assert isinstance(local, LocalExecutor) and local.workers == 2
        assert local.url == "local://?processes=2"
    finally:
        local.close()
    assert check_compute_url(" dask://127.0.0.1:8786 ") == "dask://127.0.0.1:8786"
    for bad in (
        "spark://x",
        "local://?processes=0",
        "local://?threads=2",
        "dask://nohost",
        "local://somewhere",
    ):
        with pytest.raises(InvalidComputeUrl):
            check_compute_url(bad)
