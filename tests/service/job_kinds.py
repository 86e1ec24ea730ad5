"""A job kind for the service's job tests, importable by the local pool's processes.

`tally` plans one task per integer below `n` (each sleeping `sleep_s`
seconds and giving back its integer); its finish stores an `export.csv` of
`size` bytes when `size` is positive. Only tenants entitled to the `tally`
feature may run it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel, Field

from carbon254.jobs import EntitlementCheck, JobContext, JobKind, JobRegistry, JobResult


class TallyRequest(BaseModel):
    n: int = Field(ge=1)
    sleep_s: float = 0.0
    size: int = 0


class TallyInput(BaseModel):
    i: int
    sleep_s: float


class TallyOutput(BaseModel):
    i: int


def plan(request: TallyRequest, context: JobContext) -> Sequence[tuple[str, TallyInput]]:
    return [(f"t{i:04d}", TallyInput(i=i, sleep_s=request.sleep_s)) for i in range(request.n)]


def count(task: TallyInput) -> TallyOutput:
    time.sleep(task.sleep_s)
    return TallyOutput(i=task.i)


def artifact_bytes(size: int) -> bytes:
    """The artifact a `size`-byte tally stores: every byte value in turn."""
    return bytes(i % 251 for i in range(size))


def finish(request: TallyRequest, outputs: Sequence[TallyOutput], context: JobContext) -> JobResult:
    artifacts = {}
    if request.size > 0:
        key = f"{context.artifact_prefix}export.csv"
        context.objects.put(key, artifact_bytes(request.size))
        artifacts["export"] = key
    return JobResult(summary={"total": sum(o.i for o in outputs)}, artifacts=artifacts)


def entitled(request: TallyRequest, entitlements: EntitlementCheck) -> str | None:
    return None if entitlements.allows_feature("tally") else "this tenant may not run tally jobs"


TALLY: JobKind[TallyRequest, TallyInput, TallyOutput] = JobKind(
    name="tally",
    request=TallyRequest,
    task_input=TallyInput,
    task_output=TallyOutput,
    plan=plan,
    task=count,
    finish=finish,
    description="Sum of 0..n-1, one task each, with an optional file.",
    entitled=entitled,
)


def kinds() -> JobRegistry:
    registry = JobRegistry()
    registry.register(TALLY)
    return registry
