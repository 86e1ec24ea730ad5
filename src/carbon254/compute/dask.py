"""The `dask://host:port` executor: a job's tasks on a Dask distributed cluster.

Tasks go to the scheduler a few per worker thread at a time, so stopping
cancels little work, the scheduler never holds a whole job's inputs, and
results are gathered as they finish. Every run gives its tasks fresh keys:
the cluster can never answer a new run from results an earlier run left
behind, while a task whose worker died keeps its key and is rerun by the
scheduler elsewhere, which is safe because task functions are pure. Each
input's outcome is yielded exactly once whatever the cluster retried.
"""

from __future__ import annotations

import itertools
import queue
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any, TypeVar

from distributed import Client, Future

from carbon254.compute.base import TaskFailure, TaskOutcome

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
        in_flight: dict[str, tuple[str, Future[Any]]] = {}
        pending = iter(inputs)
        limit, sized_at = self._limit(), time.monotonic()

        def top_up() -> None:
            for key, value in itertools.islice(pending, max(0, limit - len(in_flight))):
                dask_key = f"{name}-{key}-{token}"
                future = client.submit(fn, value, key=dask_key, pure=False)
                in_flight[dask_key] = (key, future)
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
                    batch = [finished.get(timeout=_POLL_S)]
                except queue.Empty:
                    continue
                # Everything else finished by now comes along, so one round trip gathers them all.
                while not finished.empty():
                    batch.append(finished.get())
                # A key can be notified twice (finished, lost with its worker, recomputed): report it once.
                entries = [in_flight.pop(str(done.key)) for done in batch if str(done.key) in in_flight]
                top_up()  # the workers get new tasks while this batch's results travel
                for index, outcome in enumerate(_outcomes(client, entries)):
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


def _outcomes(client: Client, entries: list[tuple[str, Future[Any]]]) -> list[TaskOutcome[Any]]:
    """The outcomes of finished futures, the successful ones' outputs gathered in one round trip."""
    ready = [(key, future) for key, future in entries if future.status == "finished"]
    outcomes: list[TaskOutcome[Any]] = []
    if ready:
        try:
            outputs: list[Any] = client.gather([future for _, future in ready])  # type: ignore[no-untyped-call]
        except Exception:
            # One was lost with its worker and failed when recomputed: take them one by one.
            outcomes.extend(_outcome(key, future) for key, future in ready)
        else:
            pairs = zip(ready, outputs, strict=True)
            outcomes.extend(TaskOutcome(key=key, output=output) for (key, _), output in pairs)
    outcomes.extend(_outcome(key, future) for key, future in entries if future.status != "finished")
    return outcomes


def _outcome(key: str, future: Future[Any]) -> TaskOutcome[Any]:
    # `result` waits when the worker holding a finished result died before it was gathered:
    # the scheduler recomputes it, because this client still holds the future.
    try:
        return TaskOutcome(key=key, output=future.result())
    except CancelledError:
        return TaskOutcome(
            key=key,
            failure=TaskFailure(
                kind="CancelledError",
                message="the Dask cluster cancelled the task (scheduler restarted or client reconnected)",
                traceback="",
            ),
        )
    except Exception as exc:
        remote = future.traceback()  # type: ignore[no-untyped-call]
        text = "".join(traceback.format_exception(type(exc), exc, remote))
        return TaskOutcome(
            key=key, failure=TaskFailure(kind=type(exc).__name__, message=str(exc), traceback=text)
        )
