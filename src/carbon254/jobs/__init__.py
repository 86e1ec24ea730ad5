"""Jobs: long work as registered kinds, fanned out over an executor, checkpointed, with progress.

A kind (`JobKind`) is registered once by name; `JobState.submit` queues a
job of it for a tenant; `Worker` processes claim queued jobs, plan them into
tasks, run the tasks on the executor `CARBON254_COMPUTE` names, checkpoint
each outcome and finish the job. Cancelled, failed or orphaned jobs resume
from their checkpoints. Plain Python: the surfaces build on it.
"""

from __future__ import annotations

from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult, artifact_prefix
from carbon254.jobs.models import JobRecord, JobStatus, Progress, TaskRecord, TaskStatus
from carbon254.jobs.registry import DuplicateJobKind, JobRegistry, UnknownJobKind, lookup, register, registry
from carbon254.jobs.state import InvalidTransition, JobError, JobState, UnknownJob

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
