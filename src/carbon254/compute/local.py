"""`local://`: tasks on a pool of worker processes on this machine, one per core by default.

The pool survives a worker process dying (killed, out of memory): the broken
pool is replaced by a new one and every task that was in flight on it runs
again (tasks are pure, so a rerun gives the same answer). A task that keeps
killing its worker is given up after `max_retries` losses, reported as a
failure, so one poisonous input cannot loop forever.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from carbon254.compute.base import TaskFailure, TaskOutcome
from carbon254.compute.batches import Pace, Ran, batch_outcomes, run_batch

logger = logging.getLogger("carbon254.compute")

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")

# Tasks kept in flight per process: enough that a process never waits for its next
# task while this process checkpoints outcomes (with 2, millisecond tasks left the pool
# idle in between), few enough that stopping is prompt and the queue holds little memory.
IN_FLIGHT_PER_WORKER = 4
# How often `stop` is polled while no task finishes (the interface asks for at least every second).
STOP_POLL_S = 0.25
# How often a pool process checks that the process that started it is still alive.
PARENT_CHECK_S = 1.0
MAX_RETRIES = 3


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS reports it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _exit_with_parent(parent_pid: int) -> None:
    """Pool process initializer: ignore Ctrl+C, and exit when the process that started the pool is gone.

    Ctrl+C in a terminal reaches the whole process group; the parent decides
    what it means (`carbon254 export` cancels its job), and a pool process
    killed by it would only be restarted. A pool process whose parent was
    killed (SIGKILL gives it no chance to shut the pool down) would otherwise
    wait on its queue forever.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="carbon254-parent-watch", daemon=True).start()


class LocalExecutor:
    """Runs tasks on `processes` worker processes of this machine (default: one per available core).

    Processes are started with `spawn`, so a task runs in a clean interpreter
    whatever threads or connections the calling process holds; they are
    started once and reused by every `run` until `close`.
    """

    def __init__(
        self,
        processes: int | None = None,
        *,
        in_flight_per_worker: int = IN_FLIGHT_PER_WORKER,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        if processes is not None and processes < 1:
            raise ValueError(f"a local executor needs at least 1 process, not {processes}")
        self._processes = processes or available_cores()
        self._url = "local://" if processes is None else f"local://?processes={processes}"
        self._in_flight = max(1, in_flight_per_worker) * self._processes
        self._max_retries = max_retries
        self._context = multiprocessing.get_context("spawn")
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """`local://`, with the process count when one was asked for."""
        return self._url

    @property
    def workers(self) -> int:
        """How many worker processes run tasks at once."""
        return self._processes

    def _current_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self._processes,
                    mp_context=self._context,
                    initializer=_exit_with_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def run(
        self,
        fn: Callable[[InputT], OutputT],
        inputs: Sequence[tuple[str, InputT]],
        *,
        stop: Callable[[], bool],
    ) -> Iterator[TaskOutcome[OutputT]]:
        """Run `fn` on every `(key, input)` and yield outcomes as they finish (see `Executor.run`).

        Short tasks travel in batches (`carbon254.compute.batches`), so that handing them out
        and collecting them costs this process little beside their work.
        """
        waiting: deque[tuple[str, InputT]] = deque(inputs)
        in_flight: dict[Future[list[Ran[OutputT]]], list[tuple[str, InputT]]] = {}
        losses: dict[str, int] = {}
        pace = Pace()
        try:
            while waiting or in_flight:
                if stop():
                    return
                pool = self._current_pool()
                broken = False
                while waiting and len(in_flight) < self._in_flight:
                    batch = [waiting.popleft() for _ in range(min(pace.size, len(waiting)))]
                    try:
                        future = pool.submit(run_batch, fn, [task_input for _, task_input in batch])
                    except BrokenProcessPool:
                        waiting.extendleft(reversed(batch))
                        broken = True
                        break
                    in_flight[future] = batch
                if not broken:
                    finished, _ = wait(list(in_flight), timeout=STOP_POLL_S, return_when=FIRST_COMPLETED)
                    for future in finished:
                        batch = in_flight.pop(future)
                        outcomes = _outcomes(batch, future, pace)
                        if outcomes is None:
                            broken = True
                            for key, task_input in reversed(batch):
                                losses[key] = losses.get(key, 0) + 1
                                if losses[key] > self._max_retries:
                                    yield _lost(key, losses[key])
                                else:
                                    waiting.appendleft((key, task_input))
                            continue
                        for outcome in outcomes:
                            yield outcome
                            if stop():
                                return
                if broken:
                    # Every future of a broken pool fails; they all run again on the new one.
                    for future, batch in list(in_flight.items()):
                        if future.done() and _outcomes(batch, future, None) is not None:
                            continue
                        in_flight.pop(future)
                        waiting.extendleft(reversed(batch))
                    logger.warning(
                        "a local worker process died; restarting the pool and rerunning %d task(s)",
                        len(waiting),
                    )
                    self._replace_pool(pool)
        finally:
            for future in in_flight:
                future.cancel()

    def close(self) -> None:
        """Cancel queued tasks and stop the worker processes (waiting for running tasks); idempotent."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _outcomes(
    batch: list[tuple[str, Any]], future: Future[list[Ran[Any]]], pace: Pace | None
) -> list[TaskOutcome[Any]] | None:
    """The finished batch's outcomes in order, or None when its process died (it must run again)."""
    try:
        ran = future.result()
    except BrokenProcessPool:
        return None
    except Exception as exc:
        # The batch never ran (its input or function would not pickle): each task fails with it.
        text = "".join(traceback.format_exception(exc))
        failure = TaskFailure(type(exc).__name__, str(exc), text)
        return [TaskOutcome(key=key, failure=failure) for key, _ in batch]
    return batch_outcomes([key for key, _ in batch], ran, pace)


def _lost(key: str, losses: int) -> TaskOutcome[Any]:
    message = f"the worker process running it died {losses} times"
    return TaskOutcome(key=key, failure=TaskFailure("WorkerLost", message, message))
