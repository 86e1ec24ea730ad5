"""The executor interface: run one pure task function over many inputs, somewhere.

An `Executor` is where a job's tasks run: this machine's worker processes
(`local://`) or a Dask cluster (`dask://host:port`). The job runner hands it
a module-level function and keyed inputs and reads outcomes back as they
finish, in any order; nothing else in the code knows which executor is in
use. Task functions are pure (the same input gives the same output), so an
executor may run a task again after losing the process or worker that ran
it: a retry can never change an answer, and the runner records each key's
outcome once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")


@dataclass(frozen=True, slots=True)
class TaskFailure:
    """Why a task raised: the exception's type and message (for users), and its traceback (for logs)."""

    kind: str
    message: str
    traceback: str


@dataclass(frozen=True, slots=True)
class TaskOutcome(Generic[OutputT]):
    """One finished task: its key and either its output or its failure (exactly one is set)."""

    key: str
    output: OutputT | None = None
    failure: TaskFailure | None = None


class Executor(Protocol):
    """Runs task functions on a pool of workers; opened from `CARBON254_COMPUTE` by `open_executor`."""

    @property
    def url(self) -> str:
        """The compute URL this executor was opened from (`local://`, `dask://host:port`)."""
        ...

    @property
    def workers(self) -> int:
        """How many tasks it runs at once now (processes, or Dask worker threads)."""
        ...

    def run(
        self,
        fn: Callable[[InputT], OutputT],
        inputs: Sequence[tuple[str, InputT]],
        *,
        stop: Callable[[], bool],
    ) -> Iterator[TaskOutcome[OutputT]]:
        """Run `fn` on every `(key, input)` and yield each outcome as it finishes, in any order.

        `fn` must be a module-level function and inputs and outputs picklable.
        A task whose worker dies is run again elsewhere; a task that raises
        yields a `TaskOutcome` with `failure` set and the others go on.
        `stop` is polled between outcomes (and at least every second): once
        it returns True, tasks not yet started are cancelled and the iterator
        ends after yielding nothing more. Keeps at most a few tasks per worker
        in flight, so stopping is prompt and memory bounded.
        """
        ...

    def close(self) -> None:
        """Release the workers (local) or the connection to the cluster (Dask); idempotent."""
        ...
