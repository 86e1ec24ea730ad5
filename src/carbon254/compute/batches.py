"""Tasks handed to a worker in batches: each runs alone, its exception kept as text, its time measured.

Both executors send `run_batch(fn, inputs)` instead of `fn` itself. A batch
of one is the usual case; short tasks travel several at a time (`Pace`), so
that sending and collecting a task costs the job's process, the scheduler and
the network little beside its work. A task's exception comes back as
`Raised`: an exception the parent cannot unpickle (one whose constructor
takes other arguments than its message) would otherwise break a local pool
and read as a dead worker, hiding the task's own error.
"""

from __future__ import annotations

import ctypes
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from carbon254.compute.base import TaskFailure, TaskOutcome

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")

# Seconds a batch of short tasks should run, and the most tasks in one (see `Pace`).
BATCH_S = 0.05
MAX_BATCH = 16
# Seconds a batch runs before its process gives freed memory back to the OS after it.
RELEASE_AFTER_S = 0.1
# glibc's malloc_trim: returns the C heap's free pages to the OS (absent on other C libraries).
_MALLOC_TRIM: Callable[[int], int] | None = getattr(ctypes.CDLL(None), "malloc_trim", None)


@dataclass(frozen=True, slots=True)
class Raised:
    """A task's exception, as text: it always pickles back, whatever the exception held."""

    kind: str
    message: str
    traceback: str


# A task's seconds and its output, or its exception as `Raised`.
Ran = tuple[float, OutputT | Raised]


def release_memory() -> None:
    """Hand the memory freed by tasks back to the OS: Arrow's pool and the C heap keep it otherwise.

    A worker process lives for many tasks; without this it keeps the
    high-water mark of every task it ran (an export task's read leaves ~60 MB
    behind), and a pool of them holds far more than any one task needs.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def run_batch(fn: Callable[[InputT], OutputT], inputs: list[InputT]) -> list[Ran[OutputT]]:
    """Run each input through `fn` in turn, in this (worker) process; every task's seconds and result.

    A batch that ran `RELEASE_AFTER_S` or longer gives its freed memory back
    afterwards (short tasks allocate little, and the release would cost them
    more).
    """
    ran: list[Ran[OutputT]] = []
    started = time.monotonic()
    for task_input in inputs:
        begun = time.monotonic()
        output: OutputT | Raised
        try:
            output = fn(task_input)
        except Exception as exc:
            output = Raised(type(exc).__name__, str(exc), "".join(traceback.format_exception(exc)))
        ran.append((time.monotonic() - begun, output))
    if time.monotonic() - started >= RELEASE_AFTER_S:
        release_memory()
    return ran


def batch_outcomes(
    keys: Sequence[str], ran: Sequence[Ran[Any]], pace: Pace | None = None
) -> list[TaskOutcome[Any]]:
    """The outcome of each task of a batch that ran, in order; each task's seconds go to `pace`."""
    outcomes: list[TaskOutcome[Any]] = []
    for key, (seconds, output) in zip(keys, ran, strict=True):
        if pace is not None:
            pace.observe(seconds)
        if isinstance(output, Raised):
            failure = TaskFailure(output.kind, output.message, output.traceback)
            outcomes.append(TaskOutcome(key=key, failure=failure))
        else:
            outcomes.append(TaskOutcome(key=key, output=output))
    return outcomes


class Pace:
    """How many tasks go to a worker at once: enough that a batch runs about `BATCH_S` seconds.

    Tasks of `BATCH_S` or more go one by one; shorter ones are batched, up
    to `MAX_BATCH`, once their first outcomes tell how long they take (a
    running mean).
    """

    def __init__(self) -> None:
        self._mean_s: float | None = None

    def observe(self, seconds: float) -> None:
        """Fold one task's duration into the mean."""
        self._mean_s = seconds if self._mean_s is None else 0.9 * self._mean_s + 0.1 * seconds

    @property
    def size(self) -> int:
        """Tasks in the next batch."""
        if self._mean_s is None:
            return 1
        return max(1, min(MAX_BATCH, int(BATCH_S / max(self._mean_s, 1e-6))))
