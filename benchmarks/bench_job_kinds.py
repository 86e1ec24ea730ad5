"""Job kinds the jobs benchmark runs: a no-op (one task that says when it started) and a CPU spin.

They live in a module of their own so that pool processes and Dask workers,
which import a task's function by its module, find them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from pydantic import BaseModel

from carbon254.jobs import JobKind
from carbon254.jobs.kinds import JobContext, JobResult


class NoopRequest(BaseModel):
    """Nothing to do."""


class NoopInput(BaseModel):
    """The only task's input."""


class Started(BaseModel):
    """When the task started, wall-clock seconds since the epoch (comparable across local processes)."""

    at: float


def noop_plan(request: NoopRequest, context: JobContext) -> Sequence[tuple[str, NoopInput]]:
    """One task."""
    return [("0", NoopInput())]


def noop_task(task: NoopInput) -> Started:
    """Say when it ran."""
    return Started(at=time.time())


def noop_finish(request: NoopRequest, outputs: Sequence[Started], context: JobContext) -> JobResult:
    """The task's start time as the summary."""
    return JobResult(summary={"started": outputs[0].at})


NOOP: JobKind[NoopRequest, NoopInput, Started] = JobKind(
    name="bench_noop",
    request=NoopRequest,
    task_input=NoopInput,
    task_output=Started,
    plan=noop_plan,
    task=noop_task,
    finish=noop_finish,
)


class SpinRequest(BaseModel):
    """`tasks` tasks of `rounds` SHA-256 rounds each."""

    tasks: int
    rounds: int


class SpinInput(BaseModel):
    """One task: its number and its rounds."""

    i: int
    rounds: int


class SpinOutput(BaseModel):
    """The first byte of the task's last digest (so the work cannot be skipped)."""

    value: int


def spin(i: int, rounds: int) -> int:
    """`rounds` chained SHA-256 digests of `i`: CPU work of a fixed size; the last digest's first byte."""
    digest = i.to_bytes(8, "little")
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest[0]


def spin_plan(request: SpinRequest, context: JobContext) -> Sequence[tuple[str, SpinInput]]:
    """One task per number."""
    return [(str(i), SpinInput(i=i, rounds=request.rounds)) for i in range(request.tasks)]


def spin_task(task: SpinInput) -> SpinOutput:
    """Spin."""
    return SpinOutput(value=spin(task.i, task.rounds))


def plain_spin(i: int, rounds: int) -> int:
    """The same work for the plain process pool (no models)."""
    return spin(i, rounds)


def spin_finish(request: SpinRequest, outputs: Sequence[SpinOutput], context: JobContext) -> JobResult:
    """The sum of the tasks' values, to check against the plain pool's."""
    return JobResult(summary={"total": sum(o.value for o in outputs)})


SPIN: JobKind[SpinRequest, SpinInput, SpinOutput] = JobKind(
    name="bench_spin",
    request=SpinRequest,
    task_input=SpinInput,
    task_output=SpinOutput,
    plan=spin_plan,
    task=spin_task,
    finish=spin_finish,
)
