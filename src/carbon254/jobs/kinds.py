"""Job kinds: how long work declares itself, once, to run on any executor.

A kind is a name, a typed request model and three functions:

* `plan(request, context)` splits the job into keyed task inputs (per node,
  per month, per batch of paths). It runs once per job, in the runner; the
  plan is stored with the job, so a resumed job runs exactly the same tasks.
* `task(input)` does one task. It is a module-level, pure function of its
  input (picklable both ways): the executor may run it on another process or
  machine, and may run it again after losing a worker, so it must give the
  same output every time and write any artifact under a key derived from its
  input (`TaskInput.artifact_prefix`), never under a fresh random name.
* `finish(request, outputs, context)` combines the task outputs, in plan
  order, into the job's result: a small JSON summary and the keys of its
  artifacts in the object store.

A domain never talks to Dask, the pool or the object store itself: its kind's
functions receive what they need through `JobContext` and the task inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

RequestT = TypeVar("RequestT", bound=BaseModel)
InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a finished job leaves: a small JSON summary and its artifacts' object-store keys by name."""

    summary: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobKind(Generic[RequestT, InputT, OutputT]):
    """One registered kind of long work (see the module docstring for the contract of each function).

    `task_input` and `task_output` are the Pydantic models of a task's input
    and output: the runner stores inputs with the plan and outputs with each
    checkpoint as their JSON. `entitled(request, identity)` returns the reason
    the identity may not run this request, or None when it may.
    """

    name: str
    request: type[RequestT]
    task_input: type[InputT]
    task_output: type[OutputT]
    plan: Callable[[RequestT, Any], Sequence[tuple[str, InputT]]]
    task: Callable[[InputT], OutputT]
    finish: Callable[[RequestT, Sequence[OutputT], Any], JobResult]
    description: str = ""
