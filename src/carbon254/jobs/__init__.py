"""Jobs: long work as registered kinds, fanned out over an executor, checkpointed, with progress.

A kind (`JobKind`) is registered once by name; `JobState.submit` queues a
job of it for a tenant; `Worker` processes claim queued jobs, plan them into
tasks, run the tasks on the executor `CARBON254_COMPUTE` names, checkpoint
each outcome and finish the job. Cancelled, failed or orphaned jobs resume
from their checkpoints. Plain Python: the surfaces build on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult, artifact_prefix
from carbon254.jobs.models import JobRecord, JobStatus, Progress, TaskRecord, TaskStatus
from carbon254.jobs.registry import DuplicateJobKind, JobRegistry, UnknownJobKind, lookup, register, registry

if TYPE_CHECKING:
    from carbon254.jobs.state import InvalidTransition, JobError, JobState, UnknownJob

# The job state (SQLAlchemy, the metadata database, Alembic) loads on first use: a task's
# process imports its kind, which imports this package, and needs none of it.
_STATE_NAMES = frozenset({"InvalidTransition", "JobError", "JobState", "UnknownJob"})


def __getattr__(name: str) -> Any:
    if name in _STATE_NAMES:
        from carbon254.jobs import state

        return getattr(state, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DuplicateJobKind",
    "EntitlementCheck",
    "InvalidTransition",
    "JobContext",
    "JobError",
    "JobKind",
    "JobRecord",
    "JobRegistry",
    "JobResult",
    "JobState",
    "JobStatus",
    "Progress",
    "TaskRecord",
    "TaskStatus",
    "UnknownJob",
    "UnknownJobKind",
    "artifact_prefix",
    "lookup",
    "register",
    "registry",
]
