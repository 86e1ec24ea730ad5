"""The `dask://host:port` executor: a job's tasks on a Dask distributed cluster.

Tasks go to the scheduler a few per worker thread at a time (short ones in
batches, `carbon254.compute.batches`), so stopping cancels little work, the
scheduler never holds a whole job's inputs, and results are gathered as they
finish. Every run gives its tasks fresh keys:
the cluster can never answer a new run from results an earlier run left
behind, while a task whose worker died keeps its key and is rerun by the
scheduler elsewhere, which is safe because task functions are pure. Each
input's outcome is yielded exactly once whatever the cluster retried.
"""

from __future__ import annotations

import queue
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any, TypeVar

from distributed import Client, Future

from carbon254.compute.base import TaskFailure, TaskOutcome
from carbon254.compute.batches import Pace, batch_outcomes, run_batch

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")

SCHEME = "dask://"

# How often `stop` is polled while no task finishes, and the cluster's size is looked up again.
_POLL_S = 0.5
_RESIZE_S = 1.0


def scheduler_address(url: str) -> str:
    """The scheduler's TCP address of a `dask://host:port` URL; ValueError for anything else."""
    text = url.strip()
    host, _, port = text.removeprefix(SCHEME).rpartition(":")
    if not text.startswith(SCHEME) or not host or not port.isdigit() or "/" in host:
        raise ValueError(f"Dask compute URL {url!r} must be dask://host:port (the scheduler's address)")
    return f"tcp://{host}:{port}"


class DaskExecutor:
    """Runs task functions on the Dask cluster whose scheduler is at `dask://host:port`."""

    def __init__(self, address: str, *, tasks_per_worker: int = 4, connect_timeout_s: float = 10.0) -> None:
        """Connect to the scheduler (OSError if it does not answer within `connect_timeout_s` seconds).

        `tasks_per_worker` bounds the tasks submitted and not yet finished,
        per worker thread: enough to keep workers busy between round trips,
        few enough that stopping is prompt and memory bounded.
        """
        if tasks_per_worker < 1:
            raise ValueError(f"tasks_per_worker must be at least 1, not {tasks_per_worker}")
        self._url = address.strip()
        self._tasks_per_worker = tasks_per_worker
        # distributed's API is untyped; the calls below are checked against its documentation.
        self._client: Client | None = Client(  # type: ignore[no-untyped-call]
            scheduler_address(address), timeout=connect_timeout_s, set_as_default=False
        )

    @property
    def url(self) -> str:
        """The `dask://host:port` URL this executor was opened from."""
        return self._url

    @property
    def workers(self) -> int:
        """Worker threads in the cluster now (Dask workers times their threads)."""
        threads: dict[str, int] = self._connected().nthreads()  # type: ignore[no-untyped-call]
        return sum(threads.values())

    def _connected(self) -> Client:
        if self._client is None:
            raise RuntimeError(f"the Dask executor for {self._url} is closed")
        return self._client

    def run(
        self,
        fn: Callable[[InputT], OutputT],
        inputs: Sequence[tuple[str, InputT]],
        *,
        stop: Callable[[], bool],
    ) -> Iterator[TaskOutcome[OutputT]]:
        """Run `fn` on every `(key, input)` on the cluster; yield each outcome once, as it finishes.

        A task that raises yields its failure (exception type, message and
        the worker's traceback); one that the cluster gives up on (its
        workers kept dying) yields a `KilledWorker` failure. `stop` is polled
        between outcomes and at least every half second; once it is True the
        tasks in flight are cancelled and nothing more is yielded.
        """
        keys = [key for key, _ in inputs]
        if len(set(keys)) != len(keys):
            raise ValueError("task keys must be unique within a run")
        client = self._connected()
        token = uuid.uuid4().hex[:12]
        name = getattr(fn, "__name__", "task")
        finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        # Dask key -> the keys of the batch it runs, and its future.
        in_flight: dict[str, tuple[list[str], Future[Any]]] = {}
        pending = deque(inputs)
        pace = Pace()
        limit, sized_at = self._limit(), time.monotonic()

        def top_up() -> None:
            while pending and len(in_flight) < limit:
                batch = [pending.popleft() for _ in range(min(pace.size, len(pending)))]
                # A batch is named by its first task: unique within the run, the same if rerun.
                dask_key = f"{name}-{batch[0][0]}-{token}"
                future = client.submit(run_batch, fn, [value for _, value in batch], key=dask_key, pure=False)
                in_flight[dask_key] = ([key for key, _ in batch], future)
                future.add_done_callback(finished.put)  # type: ignore[no-untyped-call]

        try:
            while True:
                if stop():
                    return
                if time.monotonic() - sized_at >= _RESIZE_S:
                    limit, sized_at = self._limit(), time.monotonic()
                top_up()
                if not in_flight:
                    return
                try:
                    done = [finished.get(timeout=_POLL_S)]
                except queue.Empty:
                    continue
                # Everything else finished by now comes along, so one round trip gathers them all.
                while not finished.empty():
                    done.append(finished.get())
                # A key can be notified twice (finished, lost with its worker, recomputed): report it once.
                entries = [in_flight.pop(str(future.key)) for future in done if str(future.key) in in_flight]
                top_up()  # the workers get new tasks while these results travel
                for index, outcome in enumerate(_outcomes(client, entries, pace)):
                    if index and stop():
                        return
                    yield outcome
        finally:
            if in_flight:
                client.cancel([future for _, future in in_flight.values()])  # type: ignore[no-untyped-call]

    def _limit(self) -> int:
        # A cluster with no workers yet still gets work queued, which waits for them on the scheduler.
        return max(1, self.workers) * self._tasks_per_worker

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running); idempotent."""
        client, self._client = self._client, None
        if client is not None:
            client.close()  # type: ignore[no-untyped-call]


def _outcomes(
    client: Client, entries: list[tuple[list[str], Future[Any]]], pace: Pace
) -> list[TaskOutcome[Any]]:
    """The outcomes of finished batches, the successful ones' results gathered in one round trip."""
    ready = [(keys, future) for keys, future in entries if future.status == "finished"]
    outcomes: list[TaskOutcome[Any]] = []
    if ready:
        try:
            results: list[Any] = client.gather([future for _, future in ready])  # type: ignore[no-untyped-call]
        except Exception:
            # One was lost with its worker and failed when recomputed: take them one by one.
            for keys, future in ready:
                outcomes.extend(_batch_outcomes(keys, future, pace))
        else:
            for (keys, _), ran in zip(ready, results, strict=True):
                outcomes.extend(batch_outcomes(keys, ran, pace))
    for keys, future in entries:
        if future.status != "finished":
            outcomes.extend(_batch_outcomes(keys, future, pace))
    return outcomes


def _batch_outcomes(keys: list[str], future: Future[Any], pace: Pace) -> list[TaskOutcome[Any]]:
    """A batch's outcomes from its future alone: its tasks' results, or its failure for each task.

    `result` waits when the worker holding a finished result died before it
    was gathered: the scheduler recomputes it, because this client still
    holds the future.
    """
    try:
        ran = future.result()
    except CancelledError:
        failure = TaskFailure(
            kind="CancelledError",
            message="the Dask cluster cancelled the task (scheduler restarted or client reconnected)",
            traceback="",
        )
    except Exception as exc:
        remote = future.traceback()  # type: ignore[no-untyped-call]
        text = "".join(traceback.format_exception(type(exc), exc, remote))
        failure = TaskFailure(kind=type(exc).__name__, message=str(exc), traceback=text)
    else:
        return batch_outcomes(keys, ran, pace)
    return [TaskOutcome(key=key, failure=failure) for key in keys]
