"""The `battery_screen` kind with slow tasks, so a test can cancel a job between its tasks."""

from __future__ import annotations

import time
from dataclasses import replace

from carbon254.screening import BATTERY_SCREEN, ScreenBatch, ScreenTask
from carbon254.screening.kind import run_task

TASK_DELAY_S = 0.3


def slow_task(task: ScreenTask) -> ScreenBatch:
    """`run_task` after a pause: the same output, later."""
    time.sleep(TASK_DELAY_S)
    return run_task(task)


SLOW_SCREEN = replace(BATTERY_SCREEN, task=slow_task)
