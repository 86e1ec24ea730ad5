"""An `export` kind whose tasks are slow and small, so a test can interrupt an export while it runs.

Importable by the pool's processes (the task is module-level).
"""

from __future__ import annotations

import dataclasses
import functools
import time

from carbon254.exports import EXPORT, ExportPart, ExportTask
from carbon254.exports.kind import plan, run_task
from carbon254.jobs import JobRegistry

TASK_S = 0.3


def slow_task(task: ExportTask) -> ExportPart:
    """`run_task`, after a pause."""
    time.sleep(TASK_S)
    return run_task(task)


def slow_registry(rows_per_task: int) -> JobRegistry:
    """A registry whose `export` plans tasks of `rows_per_task` rows, each run by `slow_task`."""
    kinds = JobRegistry()
    kinds.register(
        dataclasses.replace(EXPORT, task=slow_task, plan=functools.partial(plan, rows_per_task=rows_per_task))
    )
    return kinds
