"""Job kinds for the job tests, importable by pool and worker processes (task functions are module-level).

`squares` plans one task per integer below `n`; each task writes a marker file
`<key>.<attempt>` (the first free attempt number) before it works, so a test
counts how often each task really ran, across processes.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from carbon254.jobs import JobContext, JobKind, JobRegistry, JobResult


class SquaresRequest(BaseModel):
    n: int
    markers: str
    sleep_s: float = 0.0
    fail_on: int | None = None
    die_on: int | None = None  # this task's first attempt kills its own process


class SquareInput(BaseModel):
    i: int
    markers: str
    sleep_s: float
    fail_on: int | None
    die_on: int | None


class SquareOutput(BaseModel):
    square: int


def task_key(i: int) -> str:
    return f"t{i:04d}"


def mark(markers: str, key: str) -> int:
    """Create `<key>.<attempt>` with the first free attempt number (atomic across processes); returns it."""
    attempt = 1
    while True:
        try:
            fd = os.open(Path(markers) / f"{key}.{attempt}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            attempt += 1
            continue
        os.close(fd)
        return attempt


def runs(markers: Path, key: str) -> int:
    """How many times the task `key` started."""
    return len(list(markers.glob(f"{key}.*")))


def plan(request: SquaresRequest, context: JobContext) -> Sequence[tuple[str, SquareInput]]:
    return [
        (
            task_key(i),
            SquareInput(
                i=i,
                markers=request.markers,
                sleep_s=request.sleep_s,
                fail_on=request.fail_on,
                die_on=request.die_on,
            ),
        )
        for i in range(request.n)
    ]


def square(task: SquareInput) -> SquareOutput:
    attempt = mark(task.markers, task_key(task.i))
    if task.die_on == task.i and attempt == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(task.sleep_s)
    if task.fail_on == task.i:
        raise ValueError(f"cannot square {task.i}")
    return SquareOutput(square=task.i * task.i)


def always_die(markers: str) -> int:
    """A task whose process dies every time it runs."""
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def finish(request: SquaresRequest, outputs: Sequence[SquareOutput], context: JobContext) -> JobResult:
    return JobResult(
        summary={"total": sum(o.square for o in outputs), "squares": [o.square for o in outputs]},
        artifacts={},
    )


SQUARES: JobKind[SquaresRequest, SquareInput, SquareOutput] = JobKind(
    name="squares",
    request=SquaresRequest,
    task_input=SquareInput,
    task_output=SquareOutput,
    plan=plan,
    task=square,
    finish=finish,
    description="Squares of 0..n-1, one task each.",
)


def registry() -> JobRegistry:
    kinds = JobRegistry()
    kinds.register(SQUARES)
    return kinds


def expected_total(n: int) -> int:
    return sum(i * i for i in range(n))


class NodeError(Exception):
    """An exception that does not unpickle from its message alone (its constructor wants two values)."""

    def __init__(self, node: str, reason: str) -> None:
        super().__init__(f"{node}: {reason}")
        self.node = node


def refuse_node(task: SquareInput) -> SquareOutput:
    """Fail every task with a `NodeError`."""
    raise NodeError(f"NODE{task.i}", "no prices")
