"""Job kinds: how long work declares itself, once, to run on any executor.

A kind is a name, a typed request model and three functions:

* `plan(request, context)` splits the job into keyed task inputs (per node,
  per month, per batch of paths). It runs once per job, in the runner; the
  plan is stored with the job, so a resumed job runs exactly the same tasks.
* `task(input)` does one task. It is a module-level, pure function of its
  input (picklable both ways): the executor may run it on another process or
  machine, and may run it again after losing a worker, so it must give the
  same output every time and write any artifact under a key derived from its
  input (the plan copies `JobContext.artifact_prefix` into the inputs that
  write artifacts), never under a fresh random name.
* `finish(request, outputs, context)` combines the task outputs, in plan
  order, into the job's result: a small JSON summary and the keys of its
  artifacts in the object store.

A domain never talks to Dask, the pool or the object store itself: its kind's
functions receive what they need through `JobContext` and the task inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from carbon254.objects.base import ObjectStore

if TYPE_CHECKING:
    from carbon254.config import Settings
    from carbon254.store.base import Store

RequestT = TypeVar("RequestT", bound=BaseModel)
InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a finished job leaves: a small JSON summary and its artifacts' object-store keys by name."""

    summary: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What `plan` and `finish` may use: the job's id and tenant, the settings and the object store.

    `artifact_prefix` (`jobs/<id>/`) is the job's own corner of the object
    store: every artifact it writes has a key under it, so deleting a job's
    artifacts is deleting that prefix.
    """

    job_id: str
    tenant: str
    settings: Settings
    objects: ObjectStore
    artifact_prefix: str


def artifact_prefix(job_id: str) -> str:
    """The object-store prefix of one job's artifacts (`jobs/<id>/`)."""
    return f"jobs/{job_id}/"


class EntitlementCheck(Protocol):
    """What a kind's `entitled` hook may ask of the caller's entitlements (ISO datasets and features)."""

    def allows_data(self, iso: str, dataset: str) -> bool:
        """Whether rows of `dataset` of `iso` may be read."""
        ...

    def allows_feature(self, feature: str) -> bool:
        """Whether the analytics `feature` may be used."""
        ...


@dataclass(frozen=True, slots=True)
class JobKind(Generic[RequestT, InputT, OutputT]):
    """One registered kind of long work (see the module docstring for the contract of each function).

    `task_input` and `task_output` are the Pydantic models of a task's input
    and output: the runner stores inputs with the plan and outputs with each
    checkpoint as their JSON. `entitled(request, entitlements)` returns the
    reason a tenant with those entitlements may not run this request, or None
    when it may; a kind without the hook is open to every tenant.
    `check(request, store, settings)` raises (the application layer's
    `ApiError`) for a request that could never run, such as an unknown
    location, so a surface refuses it at submit instead of queuing a job
    bound to fail; it reads the store's catalog, never its rows.
    """

    name: str
    request: type[RequestT]
    task_input: type[InputT]
    task_output: type[OutputT]
    plan: Callable[[RequestT, JobContext], Sequence[tuple[str, InputT]]]
    task: Callable[[InputT], OutputT]
    finish: Callable[[RequestT, Sequence[OutputT], JobContext], JobResult]
    description: str = ""
    entitled: Callable[[RequestT, EntitlementCheck], str | None] | None = None
    check: Callable[[RequestT, Store, Settings], None] | None = None

    def refusal(self, request: RequestT, entitlements: EntitlementCheck) -> str | None:
        """Why a tenant with `entitlements` may not run `request` of this kind, or None when it may."""
        return None if self.entitled is None else self.entitled(request, entitlements)
